package emulator

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// waitCtx bounds a wait that only fails when the emulator is broken.
func waitCtx(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestErrorFaults(t *testing.T) {
	s := start(t, Config{})
	body := chatBody("kimi-k2.6", "", `,"stream":true`)
	for _, tc := range []struct {
		fault      Fault
		status     int
		errType    string
		contains   string
		retryAfter string
	}{
		{Fault{Kind: RateLimit, RetryAfter: 2}, 429, "rate_limit_reached_error", "request reached organization max RPM: 3, please try again after 2 seconds", "2"},
		{Fault{Kind: RateLimit}, 429, "rate_limit_reached_error", "please try again after 0 seconds", ""},
		{Fault{Kind: Overload}, 429, "engine_overloaded_error", "The engine is currently overloaded", ""},
		{Fault{Kind: Quota}, 429, "exceeded_current_quota_error", "You exceeded your current token quota", ""},
		{Fault{Kind: ServerError}, 500, "server_error", "", ""},
		{Fault{Kind: ServerError, Status: 503}, 503, "server_error", "", ""},
		{Fault{Kind: FaultKind(99)}, 500, "server_error", "unknown fault kind FaultKind(99)", ""},
	} {
		t.Run(tc.fault.Kind.String(), func(t *testing.T) {
			s.Inject(tc.fault)
			resp, b := do(t, s, "POST", "/chat/completions", body)
			e := decode[errorResp](t, b)
			if resp.StatusCode != tc.status || e.Error.Type != tc.errType || !strings.Contains(e.Error.Message, tc.contains) {
				t.Errorf("got %d %s", resp.StatusCode, b)
			}
			if got := resp.Header.Get("Retry-After"); got != tc.retryAfter {
				t.Errorf("Retry-After %q, want %q", got, tc.retryAfter)
			}
			if resp.Header.Get("Msh-Request-Id") == "" {
				t.Error("no Msh-Request-Id on the error")
			}
			// One request only: the next one is answered.
			if resp, b := do(t, s, "POST", "/chat/completions", body); resp.StatusCode != 200 {
				t.Errorf("the fault outlived its one request: %d %s", resp.StatusCode, b)
			}
		})
	}
}

func TestFaultTimesAndOrder(t *testing.T) {
	s := start(t, Config{})
	s.Inject(Fault{Kind: RateLimit, Times: 2})
	s.Inject(Fault{Kind: Overload})
	body := chatBody("kimi-k2-turbo-preview", "", "")
	// Other endpoints do not take chat faults.
	if resp, _ := do(t, s, "GET", "/models", ""); resp.StatusCode != 200 {
		t.Errorf("models got a chat fault: %d", resp.StatusCode)
	}
	var got []string
	for range 4 {
		_, b := do(t, s, "POST", "/chat/completions", body)
		typ := decode[errorResp](t, b).Error.Type
		if typ == "" {
			typ = "ok"
		}
		got = append(got, typ)
	}
	want := []string{"rate_limit_reached_error", "rate_limit_reached_error", "engine_overloaded_error", "ok"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("got %v, want %v", got, want)
	}
}

// openStream starts a streamed chat and returns the live response.
func openStream(t *testing.T, ctx context.Context, c *http.Client, base, body string) *http.Response {
	t.Helper()
	req, _ := http.NewRequestWithContext(ctx, "POST", base+"/chat/completions", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+testKey)
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	if resp.StatusCode != 200 {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("status %d: %s", resp.StatusCode, b)
	}
	return resp
}

// streamFaultCases runs against a loopback server and the offline client.
func streamFaultCases(t *testing.T, client *http.Client, base string, e *Emulator) {
	long := strings.Repeat("abcd", 20) // 20 chunks of 4 bytes
	e.SetReply(func(*ChatRequest) Reply { return Reply{Content: long} })
	body := chatBody("kimi-k2-turbo-preview", "", `,"stream":true`)

	for _, after := range []int{0, 3, 1000} {
		e.Inject(Fault{Kind: CutStream, AfterChunks: after})
		resp := openStream(t, waitCtx(t), client, base, body)
		ev, err := events(resp.Body)
		if !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Errorf("CutStream after %d: read ended with %v, want an unexpected EOF", after, err)
		}
		c := collect(t, ev)
		wantContent := min(after, 20) * 4
		if c.done || len(c.content) == 0 || len(c.content[0]) != wantContent || c.finish[0] != "" {
			t.Errorf("CutStream after %d: done=%v content %d bytes finish %q", after, c.done, len(c.content[0]), c.finish[0])
		}
	}

	e.Inject(Fault{Kind: StreamError, AfterChunks: 2})
	resp := openStream(t, waitCtx(t), client, base, body)
	ev, err := events(resp.Body)
	if err != nil {
		t.Errorf("StreamError: the stream must end cleanly, got %v", err)
	}
	if len(ev) != 4 || ev[len(ev)-1] == "[DONE]" {
		t.Fatalf("StreamError: events %q", ev)
	}
	var last struct {
		Error struct{ Type, Message string }
	}
	if err := json.Unmarshal([]byte(ev[3]), &last); err != nil || last.Error.Type != "server_error" || last.Error.Message == "" {
		t.Errorf("StreamError: last event %s", ev[3])
	}

	// A cut non-streamed request is a dropped connection.
	e.Inject(Fault{Kind: CutStream})
	req, _ := http.NewRequest("POST", base+"/chat/completions", strings.NewReader(chatBody("kimi-k2-turbo-preview", "", "")))
	req.Header.Set("Authorization", "Bearer "+testKey)
	if resp, err := client.Do(req); err == nil {
		resp.Body.Close()
		t.Error("CutStream on a non-streamed request: got a response")
	}
}

func TestStreamFaultsLoopback(t *testing.T) {
	s := start(t, Config{ChunkSize: 4})
	streamFaultCases(t, http.DefaultClient, s.URL, s.Emulator())
}

func TestStreamFaultsOffline(t *testing.T) {
	e := NewHandler(Config{ChunkSize: 4, APIKey: testKey})
	streamFaultCases(t, e.Client(), OfflineBaseURL, e)
}

// abandon reads the first event of a stream that cannot have finished, closes
// it, and checks that the emulator counts the abandoned request.
func abandon(t *testing.T, client *http.Client, base string, e *Emulator, body string) {
	t.Helper()
	resp := openStream(t, waitCtx(t), client, base, body)
	first := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(resp.Body).ReadString('\n')
		first <- line
	}()
	select {
	case line := <-first:
		if !strings.Contains(line, `"role":"assistant"`) {
			t.Fatalf("first line %q", line)
		}
	case <-waitCtx(t).Done():
		t.Fatal("the first chunk was not delivered while the handler was still streaming")
	}
	before := e.Canceled()
	resp.Body.Close()
	if err := e.WaitCanceled(waitCtx(t), before+1); err != nil {
		t.Fatalf("the abandoned stream was not counted: %v", err)
	}
}

// TestDelayAndSlow: with an hour between chunks the handler is provably
// still running when the first chunk arrives; closing the body abandons it.
func TestDelayAndSlow(t *testing.T) {
	body := chatBody("kimi-k2-turbo-preview", "", `,"stream":true`)
	s := start(t, Config{Delay: time.Hour})
	abandon(t, http.DefaultClient, s.URL, s.Emulator(), body)

	s = start(t, Config{})
	s.Inject(Fault{Kind: Slow, Delay: time.Hour})
	abandon(t, http.DefaultClient, s.URL, s.Emulator(), body)
	// Slow hit one request only.
	if _, c := stream(t, s, body); !c.done {
		t.Error("the request after Slow did not complete")
	}
}

// TestOfflineStreamsIncrementally: the offline transport hands each event to
// the reader as it is written (io.Pipe), not when the handler returns.
func TestOfflineStreamsIncrementally(t *testing.T) {
	e := NewHandler(Config{APIKey: testKey, Delay: time.Hour})
	abandon(t, e.Client(), OfflineBaseURL, e, chatBody("kimi-k2.6", "", `,"stream":true`))
}

func TestHangCountsCancel(t *testing.T) {
	loop := start(t, Config{})
	offline := NewHandler(Config{APIKey: testKey})
	for _, tc := range []struct {
		name   string
		client *http.Client
		base   string
		e      *Emulator
	}{
		{"loopback", http.DefaultClient, loop.URL, loop.Emulator()},
		{"offline", offline.Client(), OfflineBaseURL, offline},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.e.Inject(Fault{Kind: Hang})
			n := len(tc.e.Requests()) + 1
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			errc := make(chan error, 1)
			go func() {
				req, _ := http.NewRequestWithContext(ctx, "POST", tc.base+"/chat/completions", strings.NewReader(chatBody("kimi-k2.6", "", "")))
				req.Header.Set("Authorization", "Bearer "+testKey)
				resp, err := tc.client.Do(req)
				if err == nil {
					resp.Body.Close()
				}
				errc <- err
			}()
			if err := tc.e.WaitRequests(waitCtx(t), n); err != nil {
				t.Fatal(err)
			}
			if tc.e.Canceled() != 0 {
				t.Fatal("canceled before the client gave up")
			}
			cancel()
			if err := <-errc; !errors.Is(err, context.Canceled) {
				t.Errorf("client error %v, want context.Canceled", err)
			}
			if err := tc.e.WaitCanceled(waitCtx(t), 1); err != nil {
				t.Fatalf("Canceled() = %d: %v", tc.e.Canceled(), err)
			}
		})
	}
}

func TestOfflineClient(t *testing.T) {
	c := OfflineClient(Config{})
	if !strings.HasSuffix(OfflineBaseURL, "/v1") || !strings.HasSuffix(strings.Split(OfflineBaseURL, "/")[2], ".invalid") {
		t.Errorf("OfflineBaseURL %q must be a /v1 URL on a .invalid host", OfflineBaseURL)
	}
	resp, b := doWith(t, c, OfflineBaseURL, "POST", "/chat/completions", chatBody("kimi-k2.6", `[{"role":"user","content":"hello there"}]`, ""), "any-key")
	if resp.StatusCode != 200 || resp.Header.Get("Msh-Request-Id") == "" || resp.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("%d %v %s", resp.StatusCode, resp.Header, b)
	}
	m := decode[wireCompletion](t, b).Choices[0].Message
	if *m.Content != offlineBanner+"\n\nYou said: hello there\n" || m.ReasoningContent != "The user wants an offline answer." {
		t.Errorf("offline answer %s", b)
	}
	// Errors travel as on the network.
	resp, b = doWith(t, c, OfflineBaseURL, "GET", "/models", "", "")
	if resp.StatusCode != 401 || decode[errorResp](t, b).Error.Type != "invalid_authentication_error" {
		t.Errorf("no key: %d %s", resp.StatusCode, b)
	}
	// A whole stream.
	resp = openStream(t, waitCtx(t), c, OfflineBaseURL, chatBody("kimi-k2-turbo-preview", "", `,"stream":true`))
	ev, err := events(resp.Body)
	if err != nil || ev[len(ev)-1] != "[DONE]" || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Errorf("offline stream: %v %q", err, ev)
	}
}

func TestOfflineHandlerPanicIsAnError(t *testing.T) {
	e := NewHandler(Config{Reply: func(*ChatRequest) Reply { panic("broken reply") }})
	req, _ := http.NewRequest("POST", OfflineBaseURL+"/chat/completions", strings.NewReader(chatBody("kimi-k2.6", "", "")))
	req.Header.Set("Authorization", "Bearer k")
	resp, err := e.Client().Do(req)
	if err == nil {
		resp.Body.Close()
		t.Fatal("a panicking handler produced a response")
	}
	if !strings.Contains(err.Error(), "broken reply") {
		t.Errorf("error %v", err)
	}
}
