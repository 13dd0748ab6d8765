package moonshot_test

import (
	"context"
	"errors"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/moonchat/moonchat/internal/hostile"
	"github.com/moonchat/moonchat/pkg/moonshot"
)

func hostileClient(t *testing.T, srv *httptest.Server, name string) *moonshot.Client {
	t.Helper()
	c, err := moonshot.NewClient(moonshot.Options{APIKey: key, BaseURL: srv.URL + "/" + name + "/v1", MaxRetries: intp(0)})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// streamAll reads a whole stream as a command does, and returns what it kept.
func streamAll(t *testing.T, c *moonshot.Client) (content string, usage *moonshot.Usage, usageIgnored bool, err error) {
	t.Helper()
	s, err := c.ChatStream(context.Background(), req("kimi-k2.6"))
	if err != nil {
		return "", nil, false, err
	}
	defer s.Close()
	acc := moonshot.Accumulator{N: 1}
	for s.Next() {
		if err := acc.Add(s.Current()); err != nil {
			return acc.Content(), acc.Usage(), s.UsageIgnored(), err
		}
	}
	return acc.Content(), acc.Usage(), s.UsageIgnored(), s.Err()
}

func wantUnexpected(t *testing.T, err error, mention string) {
	t.Helper()
	var apiErr *moonshot.APIError
	if !errors.As(err, &apiErr) || apiErr.Type != moonshot.ErrTypeUnexpectedOutput {
		t.Fatalf("error = %v, want an unexpected_output APIError", err)
	}
	if !moonshot.IsTemporary(err) {
		t.Errorf("%v is not temporary (exit 75)", err)
	}
	if !strings.Contains(err.Error(), mention) {
		t.Errorf("error %q does not mention %q", err, mention)
	}
}

func TestHostileIndexesKeepThePartialAnswer(t *testing.T) {
	srv := httptest.NewServer(&hostile.Server{})
	defer srv.Close()
	for name, mention := range map[string]string{hostile.NegativeIndex: "choice index -1", hostile.HugeIndex: "choice index 3000000"} {
		t.Run(name, func(t *testing.T) {
			c := hostileClient(t, srv, name)
			content, _, _, err := streamAll(t, c)
			wantUnexpected(t, err, mention)
			if content != hostile.Content {
				t.Errorf("partial answer = %q, want %q", content, hostile.Content)
			}
			_, err = c.ChatCompletion(context.Background(), req("kimi-k2.6"))
			wantUnexpected(t, err, mention)
		})
	}
}

func TestAccumulatorRefusesIndexesOutOfRange(t *testing.T) {
	five := 5
	tests := []struct {
		n     int
		chunk moonshot.ChatCompletionChunk
	}{
		{1, moonshot.ChatCompletionChunk{Choices: []moonshot.ChunkChoice{{Index: -1}}}},
		{1, moonshot.ChatCompletionChunk{Choices: []moonshot.ChunkChoice{{Index: 1}}}},
		{0, moonshot.ChatCompletionChunk{Choices: []moonshot.ChunkChoice{{Index: 2_000_000_000}}}},
		{1, moonshot.ChatCompletionChunk{Choices: []moonshot.ChunkChoice{{Delta: moonshot.Delta{ToolCalls: []moonshot.ToolCall{{Index: intp(-3)}}}}}}},
		{1, moonshot.ChatCompletionChunk{Choices: []moonshot.ChunkChoice{{Delta: moonshot.Delta{ToolCalls: []moonshot.ToolCall{{Index: &five}, {Index: intp(1 << 30)}}}}}}},
	}
	for i, tt := range tests {
		acc := moonshot.Accumulator{N: tt.n}
		if err := acc.Add(&moonshot.ChatCompletionChunk{Choices: []moonshot.ChunkChoice{{Delta: moonshot.Delta{Content: "kept"}}}}); err != nil {
			t.Fatal(err)
		}
		err := acc.Add(&tt.chunk)
		wantUnexpected(t, err, "index")
		if got := acc.Result(); len(got.Choices) != 1 || got.Choices[0].Message.Content != "kept" || len(got.Choices[0].Message.ToolCalls) != 0 {
			t.Errorf("case %d: the refused chunk changed the answer: %+v", i, got.Choices)
		}
	}
}

func TestGzipBombIsCappedAfterDecompression(t *testing.T) {
	srv := httptest.NewServer(&hostile.Server{BombBytes: 256 << 20})
	defer srv.Close()
	c := hostileClient(t, srv, hostile.GzipBomb)
	var err error
	n := hostile.Allocated(func() { _, _, _, err = streamAll(t, c) })
	wantUnexpected(t, err, "8 MB")
	if n > 96<<20 {
		t.Errorf("a 256 MB stream line allocated %d MB", n>>20)
	}
	n = hostile.Allocated(func() { _, err = c.ChatCompletion(context.Background(), req("kimi-k2.6")) })
	wantUnexpected(t, err, "32 MB")
	if n > 160<<20 {
		t.Errorf("a 256 MB completion allocated %d MB", n>>20)
	}
	n = hostile.Allocated(func() { _, err = c.Models(context.Background()) })
	wantUnexpected(t, err, "32 MB")
	if n > 160<<20 {
		t.Errorf("a 256 MB model list allocated %d MB", n>>20)
	}
}

func TestHugeStreamLineIsCapped(t *testing.T) {
	srv := httptest.NewServer(&hostile.Server{HugeLineBytes: 12 << 20})
	defer srv.Close()
	_, _, _, err := streamAll(t, hostileClient(t, srv, hostile.HugeLine))
	wantUnexpected(t, err, "8 MB")

	// A line just under the cap is still an answer: several MB lines must not fail.
	srv2 := httptest.NewServer(&hostile.Server{HugeLineBytes: 7 << 20})
	defer srv2.Close()
	content, _, _, err := streamAll(t, hostileClient(t, srv2, hostile.HugeLine))
	if err != nil || len(content) != 7<<20 {
		t.Fatalf("7 MB line: %d bytes, %v", len(content), err)
	}
}

func TestAbsurdUsageIsIgnoredNotTheContent(t *testing.T) {
	srv := httptest.NewServer(&hostile.Server{})
	defer srv.Close()
	c := hostileClient(t, srv, hostile.AbsurdUsage)
	content, usage, ignored, err := streamAll(t, c)
	if err != nil {
		t.Fatalf("stream: %v", err)
	}
	if content != hostile.Content || usage != nil || !ignored {
		t.Errorf("content %q, usage %+v, ignored %v; want the whole content, no usage, ignored", content, usage, ignored)
	}
	comp, err := c.ChatCompletion(context.Background(), req("kimi-k2.6"))
	if err != nil {
		t.Fatalf("completion: %v", err)
	}
	if comp.Choices[0].Message.Content != hostile.Content || comp.Usage != nil || !comp.UsageIgnored {
		t.Errorf("completion %+v: want the content, no usage, UsageIgnored", comp)
	}
}

func TestHTMLIsNamedPlainly(t *testing.T) {
	srv := httptest.NewServer(&hostile.Server{})
	defer srv.Close()
	c := hostileClient(t, srv, hostile.HTML)
	host := strings.TrimPrefix(srv.URL, "http://")
	_, _, _, err := streamAll(t, c)
	wantUnexpected(t, err, "the server at "+host+" answered with an HTML page, not the API")
	_, err = c.Models(context.Background())
	wantUnexpected(t, err, "HTML page")
}

func TestCompletionAnsweringAStreamIsAccepted(t *testing.T) {
	srv := httptest.NewServer(&hostile.Server{})
	defer srv.Close()
	c := hostileClient(t, srv, hostile.JSONCompletion)
	s, err := c.ChatStream(context.Background(), req("kimi-k2.6"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	acc := moonshot.Accumulator{N: 1}
	for s.Next() {
		if err := acc.Add(s.Current()); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Err(); err != nil {
		t.Fatalf("stream: %v", err)
	}
	got := acc.Result()
	if got.Choices[0].Message.Content != hostile.Content || got.Choices[0].FinishReason != "stop" || got.Usage == nil || got.Usage.TotalTokens != 8 {
		t.Errorf("answer = %+v, want the completion's content, stop and usage", got)
	}
}

// A server that streams small events for ever fills no memory: past MaxAnswerBytes the
// accumulator refuses, and what it has is kept.
func TestAnswerSizeIsCapped(t *testing.T) {
	var acc moonshot.Accumulator
	piece := strings.Repeat("月", 1<<18) // 768 KB
	chunk := &moonshot.ChatCompletionChunk{Choices: []moonshot.ChunkChoice{{Delta: moonshot.Delta{Content: piece}}}}
	var err error
	added := 0
	for err == nil && added < 2*moonshot.MaxAnswerBytes {
		if err = acc.Add(chunk); err == nil {
			added += len(piece)
		}
	}
	wantUnexpected(t, err, "64 MB")
	if got := len(acc.Content()); got != added || got > moonshot.MaxAnswerBytes {
		t.Errorf("kept %d bytes, added %d", got, added)
	}
}
