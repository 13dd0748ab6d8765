package moonshot_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/moonchat/moonchat/internal/errfixture"
	"github.com/moonchat/moonchat/pkg/emulator"
	"github.com/moonchat/moonchat/pkg/moonshot"
)

const key = "sk-client-test"

func start(t *testing.T) *emulator.Server {
	t.Helper()
	return emulator.StartTB(t, emulator.Config{APIKey: key})
}

func newClient(t *testing.T, srv *emulator.Server, mutate ...func(*moonshot.Options)) *moonshot.Client {
	t.Helper()
	o := moonshot.Options{APIKey: key, BaseURL: srv.URL + "/", UserAgent: "moonchat/test",
		RetryBaseDelay: time.Millisecond, MaxRetryDelay: 5 * time.Millisecond}
	for _, m := range mutate {
		m(&o)
	}
	c, err := moonshot.NewClient(o)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func f64(v float64) *float64 { return &v }
func intp(v int) *int        { return &v }

func req(model string) *moonshot.ChatRequest {
	return &moonshot.ChatRequest{Model: model, Messages: []moonshot.Message{moonshot.TextMessage("user", "hello")}}
}

// TestFixesAreNeeded proves the emulator strict and the fixes sufficient: each request is
// rejected as written and accepted once fixed.
func TestFixesAreNeeded(t *testing.T) {
	weather := moonshot.Tool{Type: "function", Function: &moonshot.FunctionDef{Name: "get_weather",
		Parameters: json.RawMessage(`{"type":"object","properties":{"city":{"type":"string"}}}`)}}
	// withTool asks model for the weather tool, with choice.
	withTool := func(model string, choice moonshot.ToolChoice) func() *moonshot.ChatRequest {
		return func() *moonshot.ChatRequest {
			r, c := req(model), choice // a copy each call: the fixes may change the request
			r.Tools, r.ToolChoice = []moonshot.Tool{weather}, &c
			return r
		}
	}
	tests := []struct {
		name string
		req  func() *moonshot.ChatRequest
	}{
		{"temperature 1.5", func() *moonshot.ChatRequest { r := req("kimi-k2-turbo-preview"); r.Temperature = f64(1.5); return r }},
		{"temperature 0.1 with n 2", func() *moonshot.ChatRequest {
			r := req("moonshot-v1-8k")
			r.Temperature, r.N = f64(0.1), intp(2)
			return r
		}},
		{"moonshot-v1 default temperature with n 2", func() *moonshot.ChatRequest { r := req("moonshot-v1-8k"); r.N = intp(2); return r }},
		{"required on legacy", withTool("moonshot-v1-8k", moonshot.ToolChoice{Mode: "required"})},
		{"required on thinking", withTool("kimi-k2-thinking", moonshot.ToolChoice{Mode: "required"})},
		{"required on k2.6 thinking", withTool("kimi-k2.6", moonshot.ToolChoice{Mode: "required"})},
		{"named choice on k2.6 thinking", withTool("kimi-k2.6", moonshot.ToolChoice{Function: "get_weather"})},
		{"temperature on k2.6", func() *moonshot.ChatRequest { r := req("kimi-k2.6"); r.Temperature = f64(0.7); return r }},
		{"top_p on k3", func() *moonshot.ChatRequest { r := req("kimi-k3"); r.TopP = f64(0.5); return r }},
		{"n 2 on k2.5", func() *moonshot.ChatRequest { r := req("kimi-k2.5"); r.N = intp(2); return r }},
		{"thinking on legacy", func() *moonshot.ChatRequest {
			r := req("moonshot-v1-8k")
			r.Thinking = &moonshot.Thinking{Type: "enabled"}
			return r
		}},
		{"reasoning_effort on k2.6", func() *moonshot.ChatRequest { r := req("kimi-k2.6"); r.ReasoningEffort = "low"; return r }},
		{"missing reasoning_content on a thinking tool turn", func() *moonshot.ChatRequest {
			r := req("kimi-k2-thinking")
			r.Tools = []moonshot.Tool{weather}
			r.Messages = append(r.Messages,
				moonshot.Message{Role: "assistant", Content: moonshot.Text(""), ToolCalls: []moonshot.ToolCall{{ID: "get_weather_0", Type: "function", Function: moonshot.FunctionCall{Name: "get_weather", Arguments: `{"city":"Paris"}`}}}},
				moonshot.Message{Role: "tool", ToolCallID: "get_weather_0", Name: "get_weather", Content: moonshot.Text("sunny")})
			return r
		}},
		{"functions", func() *moonshot.ChatRequest {
			r := req("moonshot-v1-8k")
			r.Functions = json.RawMessage(`[{"name":"get_weather","parameters":{"type":"object","properties":{"city":{"type":"string"}}}}]`)
			return r
		}},
	}
	srv := start(t)
	fixed := newClient(t, srv)
	raw := newClient(t, srv, func(o *moonshot.Options) { o.DisableFixes = true; o.MaxRetries = intp(0) })
	ctx := context.Background()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := raw.ChatCompletion(ctx, tt.req())
			var apiErr *moonshot.APIError
			if !errors.As(err, &apiErr) || apiErr.StatusCode != 400 {
				t.Fatalf("unfixed request not rejected with 400: %v", err)
			}
			if !moonshot.IsRejected(err) {
				t.Fatal("a 400 must classify as rejected")
			}
			resp, err := fixed.ChatCompletion(ctx, tt.req())
			if err != nil {
				t.Fatalf("fixed request rejected: %v", err)
			}
			if len(resp.Adjustments) == 0 {
				t.Fatal("no adjustment reported")
			}
			stream, err := fixed.ChatStream(ctx, tt.req())
			if err != nil {
				t.Fatalf("fixed stream rejected: %v", err)
			}
			for stream.Next() {
			}
			if err := stream.Err(); err != nil {
				t.Fatal(err)
			}
			stream.Close()
		})
	}
}

func TestRequestHeadersAndBaseURL(t *testing.T) {
	srv := start(t)
	c := newClient(t, srv)
	if _, err := c.ChatCompletion(context.Background(), req("kimi-k2.6")); err != nil {
		t.Fatal(err)
	}
	r := srv.Requests()[0]
	if r.Path != "/v1/chat/completions" {
		t.Fatalf("path %q (trailing slash of the base not trimmed?)", r.Path)
	}
	if r.Header.Get("Authorization") != "Bearer "+key || r.Header.Get("User-Agent") != "moonchat/test" {
		t.Fatalf("headers %v", r.Header)
	}
}

func TestSettingsResolution(t *testing.T) {
	t.Setenv(moonshot.EnvAPIBase, "")
	t.Setenv(moonshot.EnvAPIKey, "")
	c, _ := moonshot.NewClient(moonshot.Options{})
	if c.BaseURL() != moonshot.GlobalBaseURL || c.HasAPIKey() {
		t.Fatalf("defaults: %s %v", c.BaseURL(), c.HasAPIKey())
	}
	c, _ = moonshot.NewClient(moonshot.Options{Region: "cn"})
	if c.BaseURL() != moonshot.ChinaBaseURL {
		t.Fatal(c.BaseURL())
	}
	t.Setenv(moonshot.EnvAPIBase, "http://env.example/v1")
	t.Setenv(moonshot.EnvAPIKey, "sk-env")
	c, _ = moonshot.NewClient(moonshot.Options{Region: "cn"})
	if c.BaseURL() != "http://env.example/v1" || !c.HasAPIKey() {
		t.Fatalf("env: %s", c.BaseURL())
	}
	c, _ = moonshot.NewClient(moonshot.Options{BaseURL: "http://explicit.example/v1/"})
	if c.BaseURL() != "http://explicit.example/v1" {
		t.Fatal(c.BaseURL())
	}
	t.Setenv(moonshot.EnvAPIBase, "")
	if _, err := moonshot.NewClient(moonshot.Options{Region: "mars"}); err == nil {
		t.Fatal("unknown region accepted")
	}
	if _, err := moonshot.NewClient(moonshot.Options{BaseURL: "ftp://x"}); err == nil {
		t.Fatal("non-http base accepted")
	}
}

func TestMissingKeyFailsBeforeAnyRequest(t *testing.T) {
	srv := start(t)
	t.Setenv(moonshot.EnvAPIKey, "")
	c := newClient(t, srv, func(o *moonshot.Options) { o.APIKey = "" })
	_, err := c.ChatCompletion(context.Background(), req("kimi-k2.6"))
	if !moonshot.IsAuth(err) || len(srv.Requests()) != 0 {
		t.Fatalf("err %v, %d requests", err, len(srv.Requests()))
	}
}

func TestRetryPolicy(t *testing.T) {
	tests := []struct {
		name     string
		fault    emulator.Fault
		wantErr  func(error) bool
		requests int
	}{
		{"two rate limits then success", emulator.Fault{Kind: emulator.RateLimit, Times: 2}, nil, 3},
		{"overload retried until the budget ends", emulator.Fault{Kind: emulator.Overload, Times: 3}, moonshot.IsTemporary, 3},
		{"5xx retried", emulator.Fault{Kind: emulator.ServerError, Status: 502, Times: 1}, nil, 2},
		{"quota never retried", emulator.Fault{Kind: emulator.Quota, Times: 3}, moonshot.IsQuota, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := start(t)
			srv.Inject(tt.fault)
			c := newClient(t, srv)
			stream, err := c.ChatStream(context.Background(), req("kimi-k2.6"))
			if err == nil {
				for stream.Next() {
				}
				err = stream.Err()
				stream.Close()
			}
			if tt.wantErr == nil && err != nil || tt.wantErr != nil && !tt.wantErr(err) {
				t.Fatalf("err = %v", err)
			}
			if n := len(srv.Requests()); n != tt.requests {
				t.Fatalf("%d requests, want %d", n, tt.requests)
			}
		})
	}
}

func TestRetryHonoursServerWait(t *testing.T) {
	srv := start(t)
	srv.Inject(emulator.Fault{Kind: emulator.RateLimit, RetryAfter: 7})
	var waits []time.Duration
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	c := newClient(t, srv, func(o *moonshot.Options) {
		o.MaxRetryDelay = 10 * time.Second
		// The wait is seen, and the request canceled there: the test never sleeps.
		o.OnRetry = func(_ int, wait time.Duration, _ error) { waits = append(waits, wait); cancel() }
	})
	if _, err := c.ChatCompletion(ctx, req("kimi-k2.6")); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v", err)
	}
	// Exactly the 7 s asked for: the server's wait was read, not a backoff.
	if len(waits) != 1 || waits[0] != 7*time.Second {
		t.Fatalf("waits = %v", waits)
	}
}

// TestNoRetryBeforeTheServersTime: a server that asks for a longer wait than the client's
// limit is not asked again early; its error comes back at once with the wait it asked for,
// whether the wait is in Retry-After or only in the message.
func TestNoRetryBeforeTheServersTime(t *testing.T) {
	// Moonshot's documented rpm answer, asking for 120 s instead of 20, and no Retry-After.
	rpm := errfixture.Named(t, "429-rate_limit-rpm")
	rpm.Body = json.RawMessage(strings.Replace(string(rpm.Body), "after 20 seconds", "after 120 seconds", 1))
	var fixtureHits atomic.Int32
	fixture := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		fixtureHits.Add(1)
		rpm.Write(w)
	}))
	defer fixture.Close()
	emu := start(t)
	for name, tc := range map[string]struct {
		base   string
		inject func()
		hits   func() int
	}{
		"Retry-After": {emu.URL + "/", func() { emu.Inject(emulator.Fault{Kind: emulator.RateLimit, RetryAfter: 120, Times: 3}) },
			func() int { return len(emu.Requests()) }},
		"in the message": {fixture.URL + "/v1", func() {}, func() int { return int(fixtureHits.Load()) }},
	} {
		t.Run(name, func(t *testing.T) {
			tc.inject()
			retried := false
			c, err := moonshot.NewClient(moonshot.Options{APIKey: key, BaseURL: tc.base, MaxRetryDelay: 30 * time.Second,
				OnRetry: func(int, time.Duration, error) { retried = true }})
			if err != nil {
				t.Fatal(err)
			}
			_, err = c.ChatCompletion(context.Background(), req("kimi-k2.6"))
			var long *moonshot.WaitTooLongError
			if !errors.As(err, &long) || long.Wait != 120*time.Second || long.Limit != 30*time.Second {
				t.Fatalf("err = %#v", err)
			}
			var apiErr *moonshot.APIError
			if !moonshot.IsTemporary(err) || !errors.As(err, &apiErr) || apiErr.StatusCode != 429 || err.Error() != apiErr.Error() {
				t.Errorf("the server's error is not what comes back: %v", err)
			}
			if n := tc.hits(); retried || n != 1 {
				t.Errorf("%d requests (retried %v), want 1", n, retried)
			}
		})
	}
}

func TestNoRetryAfterFirstByte(t *testing.T) {
	srv := start(t)
	srv.Inject(emulator.Fault{Kind: emulator.CutStream, AfterChunks: 1})
	c := newClient(t, srv)
	stream, err := c.ChatStream(context.Background(), req("kimi-k2-turbo-preview"))
	if err != nil {
		t.Fatal(err)
	}
	for stream.Next() {
	}
	var apiErr *moonshot.APIError
	if !errors.As(stream.Err(), &apiErr) || apiErr.Type != moonshot.ErrTypeIncompleteStream {
		t.Fatalf("err = %v", stream.Err())
	}
	if len(srv.Requests()) != 1 {
		t.Fatalf("%d requests: a started stream was retried", len(srv.Requests()))
	}
}

func TestCancelStopsRetryWait(t *testing.T) {
	srv := start(t)
	srv.Inject(emulator.Fault{Kind: emulator.RateLimit, RetryAfter: 60})
	c := newClient(t, srv, func(o *moonshot.Options) { o.MaxRetryDelay = time.Hour })
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() {
		_, err := c.ChatCompletion(ctx, req("kimi-k2.6"))
		done <- err
	}()
	if err := srv.WaitRequests(context.Background(), 1); err != nil {
		t.Fatal(err)
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v", err)
	}
}

func TestAttemptTimeout(t *testing.T) {
	srv := start(t)
	srv.Inject(emulator.Fault{Kind: emulator.Hang, Times: 2})
	c := newClient(t, srv, func(o *moonshot.Options) { o.Timeout = 50 * time.Millisecond; o.MaxRetries = intp(1) })
	_, err := c.ChatStream(context.Background(), req("kimi-k2.6"))
	if !errors.Is(err, context.DeadlineExceeded) || !moonshot.IsTemporary(err) {
		t.Fatalf("err = %v", err)
	}
	if len(srv.Requests()) != 2 {
		t.Fatalf("%d requests, want 2 (a timed-out attempt is retried)", len(srv.Requests()))
	}
}

func TestStreamShapeFromEmulator(t *testing.T) {
	srv := start(t)
	srv.SetReply(func(*emulator.ChatRequest) emulator.Reply {
		return emulator.Reply{Content: "Bonjour", Reasoning: "The user greets me."}
	})
	c := newClient(t, srv)
	r := req("kimi-k2.6")
	r.StreamOptions = &moonshot.StreamOptions{IncludeUsage: true}
	stream, err := c.ChatStream(context.Background(), r)
	if err != nil {
		t.Fatal(err)
	}
	defer stream.Close()
	var acc moonshot.Accumulator
	sawReasoningFirst, sawContent := false, false
	for stream.Next() {
		ch := stream.Current()
		acc.Add(ch)
		for _, c := range ch.Choices {
			if c.Delta.ReasoningContent != "" && !sawContent {
				sawReasoningFirst = true
			}
			if c.Delta.Content != "" {
				sawContent = true
			}
		}
	}
	if err := stream.Err(); err != nil {
		t.Fatal(err)
	}
	res := acc.Result()
	if !sawReasoningFirst || res.Choices[0].Message.Content != "Bonjour" || res.Choices[0].Message.ReasoningContent != "The user greets me." {
		t.Fatalf("result %+v", res.Choices[0].Message)
	}
	if u := acc.Usage(); u == nil || u.PromptTokens == 0 || u.CompletionTokens == 0 {
		t.Fatalf("usage %+v", u)
	}
	if stream.RequestID() == "" {
		t.Fatal("no request id")
	}
}

func TestModelsTokensBalance(t *testing.T) {
	srv := start(t)
	c := newClient(t, srv)
	ctx := context.Background()
	models, err := c.Models(ctx)
	if err != nil || len(models) == 0 {
		t.Fatal(err)
	}
	found := false
	for _, m := range models {
		if m.ID == "kimi-k2.6" && m.ContextLength == 262144 && m.SupportsReasoning {
			found = true
		}
	}
	if !found {
		t.Fatalf("kimi-k2.6 missing or without metadata: %+v", models)
	}
	msgs := []moonshot.Message{moonshot.TextMessage("user", strings.Repeat("token ", 100))}
	n, err := c.EstimateTokens(ctx, "moonshot/kimi-k2.6", msgs)
	if err != nil {
		t.Fatal(err)
	}
	want := emulator.CountTokens([]emulator.Message{{Role: "user", Content: strings.Repeat("token ", 100)}})
	if n != want {
		t.Fatalf("tokens %d, want %d", n, want)
	}
	bal, err := c.Balance(ctx)
	if err != nil || bal.AvailableBalance <= 0 {
		t.Fatalf("balance %+v %v", bal, err)
	}
}

func TestErrorCarriesRequestID(t *testing.T) {
	srv := start(t)
	c := newClient(t, srv)
	_, err := c.ChatCompletion(context.Background(), req("no-such-model"))
	var apiErr *moonshot.APIError
	if !errors.As(err, &apiErr) || apiErr.StatusCode != http.StatusNotFound || apiErr.Type != moonshot.ErrTypeNotFound || apiErr.RequestID == "" {
		t.Fatalf("err = %#v", err)
	}
	if !strings.Contains(apiErr.Error(), "request id") {
		t.Fatal(apiErr.Error())
	}
}
