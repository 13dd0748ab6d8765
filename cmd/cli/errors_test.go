package cli

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/moonchat/moonchat/internal/errfixture"
	"github.com/moonchat/moonchat/pkg/moonshot"
)

// replay answers every request with the fixture.
func replay(t *testing.T, f errfixture.Answer) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { f.Write(w) }))
	t.Cleanup(srv.Close)
	return srv.URL + "/v1"
}

// askFixture sends one request with the given retries. onRetry, when set, sees each retry's
// wait, and the request is canceled there: the test never sleeps.
func askFixture(t *testing.T, base string, retries int, onRetry func(time.Duration)) error {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	opts := moonshot.Options{APIKey: "sk-fixture", BaseURL: base, MaxRetries: &retries, MaxRetryDelay: time.Minute}
	if onRetry != nil {
		opts.OnRetry = func(_ int, d time.Duration, _ error) { onRetry(d); cancel() }
	}
	c, err := moonshot.NewClient(opts)
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.ChatCompletion(ctx, &moonshot.ChatRequest{Model: "kimi-k2.6", Messages: []moonshot.Message{moonshot.TextMessage("user", "hi")}})
	return err
}

// TestDocumentedErrors replays every error answer Moonshot documents through the client and
// checks the exit code, the hint, whether it is retried, and the wait the server asked for.
func TestDocumentedErrors(t *testing.T) {
	for name, f := range errfixture.All(t) {
		t.Run(name, func(t *testing.T) {
			base := replay(t, f)
			err := askFixture(t, base, 0, nil)
			var apiErr *moonshot.APIError
			if !errors.As(err, &apiErr) {
				t.Fatalf("not an APIError: %v", err)
			}
			var body struct {
				Error struct{ Type, Message string }
			}
			_ = json.Unmarshal(f.Body, &body)
			if apiErr.StatusCode != f.Status || apiErr.Type != body.Error.Type || apiErr.Message != body.Error.Message || apiErr.RequestID != "req-"+name {
				t.Errorf("parsed %+v", apiErr)
			}
			if code := ExitCode(err); code != f.Expect.Exit {
				t.Errorf("exit %d, want %d", code, f.Expect.Exit)
			}
			msg, hint := Describe(err, "global")
			if !strings.Contains(msg, body.Error.Type) || !strings.Contains(msg, body.Error.Message) {
				t.Errorf("message %q does not name the error", msg)
			}
			if f.Expect.Hint == "" && hint != "" || !strings.Contains(hint, f.Expect.Hint) {
				t.Errorf("hint %q, want one with %q", hint, f.Expect.Hint)
			}

			// One retry allowed: the wait it would take is reported, then the test cancels it.
			var waits []time.Duration
			_ = askFixture(t, base, 1, func(d time.Duration) { waits = append(waits, d) })
			if retried := len(waits) > 0; retried != f.Expect.Retried {
				t.Fatalf("retried %v, want %v", retried, f.Expect.Retried)
			}
			if f.Expect.WaitSeconds > 0 && waits[0] != time.Duration(f.Expect.WaitSeconds*float64(time.Second)) {
				t.Errorf("waited %v, the server asked for %vs", waits[0], f.Expect.WaitSeconds)
			}
		})
	}
}

func TestWaitTextRoundsUp(t *testing.T) {
	for d, want := range map[time.Duration]string{
		1500 * time.Millisecond: "2 s", 30 * time.Second: "30 s", 2 * time.Minute: "120 s",
		121 * time.Second: "3 min", 2 * time.Hour: "120 min", 2*time.Hour + time.Second: "3 h", 24 * time.Hour: "24 h",
	} {
		if got := waitText(d); got != want {
			t.Errorf("waitText(%v) = %q, want %q", d, got, want)
		}
	}
}
