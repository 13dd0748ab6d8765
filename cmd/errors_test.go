package cmd

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/moonchat/moonchat/cmd/cli"
	"github.com/moonchat/moonchat/internal/errfixture"
)

// failFirst puts a server in front of the harness's emulator that answers the first times
// chat requests with the documented error name, then lets the emulator answer. It returns
// the number of chat requests that reached the front.
func (h *harness) failFirst(name string, times int) *atomic.Int32 {
	h.t.Helper()
	return h.failFirstWith(errfixture.Named(h.t, name), times)
}

// failFirstWith is failFirst with the answer f.
func (h *harness) failFirstWith(f errfixture.Answer, times int) *atomic.Int32 {
	h.t.Helper()
	up, err := url.Parse(h.srv.URL)
	if err != nil {
		h.t.Fatal(err)
	}
	proxy := httputil.NewSingleHostReverseProxy(&url.URL{Scheme: up.Scheme, Host: up.Host})
	var chats atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if filepath.Base(r.URL.Path) == "completions" && int(chats.Add(1)) <= times {
			f.Write(w)
			return
		}
		proxy.ServeHTTP(w, r)
	}))
	h.t.Cleanup(srv.Close)
	h.t.Setenv("MOONSHOT_API_BASE", srv.URL+up.Path)
	return &chats
}

// TestDocumentedErrorExitCodes runs chat against Moonshot's documented error answers: the exit
// code, the retries and what stderr says.
func TestDocumentedErrorExitCodes(t *testing.T) {
	for _, tt := range []struct {
		name, fixture string
		times         int // the fixture answers this many chat requests, then the emulator does
		code          int
		requests      int
		stderr        string
	}{
		{"two 429s then success", "429-engine_overloaded_error", 2, 0, 3, ""},
		{"quota is never retried", "429-exceeded_current_quota_error", 5, 4, 1, "moonchat balance"},
		{"overload after retries", "429-engine_overloaded_error", 5, 75, 3, "engine_overloaded_error"},
		// The harness waits at most 5 ms between retries: a server asking for 20 s is not
		// asked again before then.
		{"rate limit asking for longer than moonchat waits", "429-rate_limit-rpm", 5, 75, 1,
			"please try again after 20 seconds (request id req-429-rate_limit-rpm)\n  hint: Moonshot asks to wait 20 s before the next request"},
		{"content filter names itself", "400-content_filter", 1, 5, 1,
			"content_filter: The request was rejected because it was considered high risk (request id req-400-content_filter)\n  hint: Moonshot's content filter"},
		{"missing reasoning names the message", "400-reasoning-content-missing", 1, 5, 1, "hint: the assistant tool-call turn at message 3"},
		{"wrong key", "401-incorrect_api_key_error", 1, 3, 1, "hint: the key comes from $MOONSHOT_API_KEY; check it"},
		{"retired model", "404-retired-model", 1, 5, 1, "use kimi-k2.6: -m kimi-k2.6"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			chats := h.failFirst(tt.fixture, tt.times)
			r := h.run("chat", "-m", "kimi-k2.6", "hello")
			if r.code != tt.code || int(chats.Load()) != tt.requests || !strings.Contains(r.stderr, tt.stderr) {
				t.Fatalf("exit %d (want %d), %d requests (want %d), stderr %q", r.code, tt.code, chats.Load(), tt.requests, r.stderr)
			}
			if strings.Contains(r.stderr, testKey) {
				t.Fatal("the API key was printed")
			}
		})
	}
}

// TestLongServerWaitIsNotCutShort: with moonchat's own limit (30 s between retries), a 429 that
// asks for two minutes ends the command at once, exit 75, saying how long to wait, instead of
// coming back after 30 s to be refused again.
func TestLongServerWaitIsNotCutShort(t *testing.T) {
	h := newHarness(t)
	rpm := errfixture.Named(t, "429-rate_limit-rpm")
	rpm.Body = json.RawMessage(strings.Replace(string(rpm.Body), "after 20 seconds", "after 120 seconds", 1))
	chats := h.failFirstWith(rpm, 5)
	r := h.runWith(func(f *cli.Factory) { f.MaxRetryDelay = 0 }, "chat", "-m", "kimi-k2.6", "--max-retries", "3", "hello")
	want := "  hint: Moonshot asks to wait 120 s before the next request (moonchat retries only after waits of up to 30 s); try again later\n"
	if r.code != cli.ExitTemporary || chats.Load() != 1 || !strings.HasSuffix(r.stderr, want) || r.stdout != "" {
		t.Fatalf("exit %d, %d requests, stdout %q, stderr:\n%s", r.code, chats.Load(), r.stdout, r.stderr)
	}
}
