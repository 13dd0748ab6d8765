package converse_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/moonchat/moonchat/pkg/converse"
	"github.com/moonchat/moonchat/pkg/emulator"
	"github.com/moonchat/moonchat/pkg/moonshot"
)

// fiberTurn is a turn whose model (the emulator) calls moonshot/date:latest's "date" and then
// answers with what the tool said, while the formula endpoint is fiber: a fixture server that
// plays the failures Moonshot's endpoint can have.
func fiberTurn(t *testing.T, fiber http.HandlerFunc, timeout time.Duration) (*converse.Turn, *moonshot.Client) {
	t.Helper()
	chat, _ := newClient(t, emulator.Config{Reply: callingModel("date", "{}")})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != "/v1/formulas/moonshot/date:latest/fibers" {
			t.Errorf("unexpected %s %s", r.Method, r.URL.Path)
			http.NotFound(w, r)
			return
		}
		// Read to the end, so that the server notices when the client goes (the timeout case).
		_, _ = io.Copy(io.Discard, r.Body)
		fiber(w, r)
	}))
	t.Cleanup(srv.Close)
	formulas, err := moonshot.NewClient(moonshot.Options{APIKey: "sk-test", BaseURL: srv.URL + "/v1",
		HTTPClient: srv.Client(), Timeout: timeout, RetryBaseDelay: time.Millisecond, MaxRetryDelay: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	f, _ := moonshot.ParseFormula("moonshot/date:latest")
	set := &moonshot.FormulaSet{}
	if err := set.Add(f, []moonshot.Tool{{Type: "function", Function: &moonshot.FunctionDef{Name: "date",
		Parameters: []byte(`{"type":"object","properties":{}}`)}}}); err != nil {
		t.Fatal(err)
	}
	return &converse.Turn{
		Request: &moonshot.ChatRequest{Model: "kimi-k2-turbo-preview", Tools: set.Tools(),
			Messages: []moonshot.Message{moonshot.TextMessage("user", "what day is it")}},
		Tools: &converse.Formulas{Client: formulas, Set: set},
	}, chat
}

func errorBody(status int, typ, message string) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = w.Write([]byte(`{"error":{"type":"` + typ + `","message":"` + message + `"}}`))
	}
}

// A formula call that fails on Moonshot's side is a failed result the model reads and answers
// from, as an MCP tool's failure is, not the end of the answer.
func TestFormulaCallFailureIsAResult(t *testing.T) {
	hostile := `\u001b]52;c;cHduZWQ=\u0007\u001b[2J` + strings.Repeat("x", 100<<10)
	for _, tc := range []struct {
		name    string
		fiber   http.HandlerFunc
		timeout time.Duration
		says    string
	}{
		{"502 with escapes", errorBody(http.StatusBadGateway, "server_error", hostile), 0, "HTTP 502"},
		{"500 HTML page", func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(http.StatusInternalServerError)
			_, _ = w.Write([]byte("<html>\x1b[31m" + strings.Repeat("down ", 50<<10) + "</html>"))
		}, 0, "HTTP 500"},
		{"429 throttled", errorBody(http.StatusTooManyRequests, "rate_limit_reached_error", "slow down"), 0, "429"},
		{"connection dropped", func(w http.ResponseWriter, _ *http.Request) {
			conn, _, err := w.(http.Hijacker).Hijack()
			if err == nil {
				conn.Close()
			}
		}, 0, "no answer from Moonshot"},
		{"timeout", func(_ http.ResponseWriter, r *http.Request) { <-r.Context().Done() },
			50 * time.Millisecond, "no answer from Moonshot"},
		{"over the cap", func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(`{"status":"succeeded","context":{"output":"`))
			_, _ = w.Write([]byte(strings.Repeat("a", moonshot.MaxFiberBytes)))
			_, _ = w.Write([]byte(`"}}`))
		}, 0, "not one the API sends"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			turn, chat := fiberTurn(t, tc.fiber, tc.timeout)
			res := (&converse.Engine{Client: chat}).Run(context.Background(), turn, converse.Discard{})
			if res.Err != nil {
				t.Fatalf("the answer ended: %v", res.Err)
			}
			if len(res.ToolSteps) != 1 {
				t.Fatalf("%d steps", len(res.ToolSteps))
			}
			r := res.ToolSteps[0].Result
			if !r.Failed || !strings.HasPrefix(r.Content, "error: the call of the official tool moonshot/date:latest failed: ") ||
				!strings.Contains(r.Content, tc.says) {
				t.Errorf("result failed=%v %q", r.Failed, r.Content)
			}
			if len(r.Content) > 200 || strings.ContainsAny(r.Content, "\x1b\x07") {
				t.Errorf("the result is not bounded or carries escapes (%d bytes): %q", len(r.Content), r.Content[:min(len(r.Content), 200)])
			}
			// The model read it and answered.
			if got := res.Completion.Choices[0].Message.Content; got != "The tool said: "+r.Content {
				t.Errorf("answer %q", got)
			}
		})
	}
}

// What no model can fix still ends the answer, with the error the exit-code mapper reads.
func TestFormulaAuthAndQuotaEndTheAnswer(t *testing.T) {
	for _, tc := range []struct {
		name  string
		fiber http.HandlerFunc
		is    func(error) bool
	}{
		{"401", errorBody(http.StatusUnauthorized, "invalid_authentication_error", "Invalid Authentication"), moonshot.IsAuth},
		{"403", errorBody(http.StatusForbidden, "permission_denied_error", "no"), moonshot.IsAuth},
		{"quota", errorBody(http.StatusTooManyRequests, "exceeded_current_quota_error", "Your account is suspended"), moonshot.IsQuota},
	} {
		t.Run(tc.name, func(t *testing.T) {
			turn, chat := fiberTurn(t, tc.fiber, 0)
			res := (&converse.Engine{Client: chat}).Run(context.Background(), turn, converse.Discard{})
			if res.Err == nil || !tc.is(res.Err) {
				t.Fatalf("err = %v", res.Err)
			}
		})
	}
}
