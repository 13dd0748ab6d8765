package cmd

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/moonchat/moonchat/cmd/cli"
	"github.com/moonchat/moonchat/internal/clitest"
	"github.com/moonchat/moonchat/internal/vt"
	"github.com/moonchat/moonchat/pkg/emulator"
	"github.com/moonchat/moonchat/pkg/history"
	"github.com/moonchat/moonchat/pkg/moonshot"
)

// hostile is the fixture of every string from outside.
const hostile = vt.Hostile

// hostileUpstream is the emulator with hostile model ids, plus an error body quoting hostile
// text for any chat request whose prompt says "fail".
func hostileUpstream(t *testing.T) *httptest.Server {
	models := append(emulator.DefaultModels(), emulator.Model{ID: "kimi-" + hostile, ContextLength: 8192})
	emu := emulator.NewHandler(emulator.Config{APIKey: testKey, Models: models})
	emu.SetReply(func(req *emulator.ChatRequest) emulator.Reply {
		if strings.Contains(req.LastUserText(), "tools") {
			return emulator.Reply{ToolCalls: []emulator.ToolCall{{Name: "get" + hostile, Arguments: `{"q":"` + hostile + `"}`}}}
		}
		return emulator.Reply{Content: "# Title " + hostile + "\n\nSome **bold " + hostile + "** text.\n\n```go\nx := \"" + hostile + "\"\n```\n",
			Reasoning: "Thinking " + hostile}
	})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// A file name that no multipart upload carries, as another tool or the web console
		// could have set it.
		if r.Method == http.MethodGet && strings.HasSuffix(r.URL.Path, "/files") {
			list, _ := json.Marshal(map[string]any{"object": "list", "data": []map[string]any{{"id": "file-evil",
				"object": "file", "bytes": 1, "created_at": 1767225600, "filename": "evil" + hostile + ".txt",
				"purpose": "file-extract", "status": "ok"}}})
			w.Header().Set("Content-Type", "application/json")
			w.Write(list)
			return
		}
		if r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/chat/completions") {
			body, _ := io.ReadAll(r.Body)
			if bytes.Contains(body, []byte("fail")) {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusBadRequest)
				msg, _ := json.Marshal(map[string]any{"error": map[string]string{
					"message": "Invalid request: " + hostile, "type": "invalid_request_error"}})
				w.Write(msg)
				return
			}
			r.Body = io.NopCloser(bytes.NewReader(body))
		}
		emu.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// TestNoForeignEscapeReachesATerminal walks the terminal output of every command that prints
// text from outside, with every string from the upstream and the history hostile, and fails
// on any escape sequence or control character moonchat did not write itself.
func TestNoForeignEscapeReachesATerminal(t *testing.T) {
	srv := hostileUpstream(t)
	clitest.Isolate(t)
	t.Setenv("MOONSHOT_API_BASE", srv.URL+"/v1")
	t.Setenv("MOONSHOT_API_KEY", testKey)
	h := &harness{t: t, tty: true}

	var c history.Conversation
	clitest.WriteHistory(t, func(ctx context.Context, store *history.Store) {
		var err error
		c, err = store.Create(ctx, history.Conversation{Title: "title " + hostile, Model: "kimi-" + hostile, System: "system " + hostile})
		if err != nil {
			t.Fatal(err)
		}
		calls, _ := json.Marshal([]moonshot.ToolCall{{ID: "c1", Type: "function",
			Function: moonshot.FunctionCall{Name: "tool" + hostile, Arguments: hostile}}})
		if err := store.Append(ctx, c.ID,
			history.Message{Role: "user", Content: "question " + hostile},
			history.Message{Role: "assistant", Content: "answer " + hostile, ToolCalls: calls},
			history.Message{Role: "tool", Name: "tool" + hostile, ToolCallID: "c1", Content: "result " + hostile},
			history.Message{Role: hostile, Content: "odd role " + hostile},
		); err != nil {
			t.Fatal(err)
		}
		// A second conversation with the same title makes the title ambiguous: the error lists both.
		if _, err := store.Create(ctx, history.Conversation{Title: "title " + hostile}); err != nil {
			t.Fatal(err)
		}
	})
	tools := writeFile(t, "tools.json", []byte(`[{"type":"function","function":{"name":"get","parameters":{"type":"object"}}}]`))

	dumb := func(f *cli.Factory) { f.IOStreams.SetEnv("TERM", "dumb") }
	noColor := func(f *cli.Factory) { f.IOStreams.SetEnv("NO_COLOR", "1") }
	for _, tc := range []struct {
		name      string
		configure func(*cli.Factory)
		args      []string
		code      int
	}{
		{"chat rendered, reasoning shown", nil, []string{"chat", "-m", "kimi-k2-thinking", "--show-reasoning", "hi " + hostile}, 0},
		{"chat rendered, thinking line", nil, []string{"chat", "-m", "kimi-k2-thinking", "--no-save", "hi"}, 0},
		{"chat TERM=dumb", dumb, []string{"chat", "-m", "kimi-k2-thinking", "--show-reasoning", "--no-save", "hi"}, 0},
		{"chat --raw", nil, []string{"chat", "-m", "kimi-k2-turbo-preview", "--raw", "--no-save", "hi"}, 0},
		{"chat several answers", nil, []string{"chat", "-m", "kimi-k2-turbo-preview", "-n", "2", "--no-save", "hi"}, 0},
		{"chat tool calls", nil, []string{"chat", "-m", "kimi-k2-turbo-preview", "--no-save", "--tools", tools, "tools"}, 0},
		{"chat upstream error", nil, []string{"chat", "-m", "kimi-k2-turbo-preview", "--no-save", "fail"}, -1},
		{"models", nil, []string{"models"}, 0},
		{"files list", nil, []string{"files", "list"}, 0},
		{"history list", nil, []string{"history", "list"}, 0},
		{"history search", nil, []string{"history", "search", "pwn"}, 0},
		{"history search, no colour", noColor, []string{"history", "search", "pwn"}, 0},
		{"history show", nil, []string{"history", "show", c.ID}, 0},
		{"history show TERM=dumb", dumb, []string{"history", "show", c.ID}, 0},
		{"history export", nil, []string{"history", "export", c.ID}, 0},
		{"history show, ambiguous title", nil, []string{"history", "show", "title " + hostile}, -1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h.t = t
			r := h.runWith(tc.configure, tc.args...)
			if tc.code >= 0 && r.code != tc.code {
				t.Fatalf("exit %d, want %d; stderr %q", r.code, tc.code, r.stderr)
			}
			if tc.code < 0 && r.code == 0 {
				t.Fatalf("exit 0, want a failure; stdout %q", r.stdout)
			}
			all := r.stdout + r.stderr
			if !strings.Contains(all, "pwn") {
				t.Fatalf("the hostile text was not printed at all: stdout %q stderr %q", r.stdout, r.stderr)
			}
			if bad := vt.ForeignControl(r.stdout); bad != "" {
				t.Errorf("stdout holds %q:\n%q", bad, r.stdout)
			}
			if bad := vt.ForeignControl(r.stderr); bad != "" {
				t.Errorf("stderr holds %q:\n%q", bad, r.stderr)
			}
			// An argument quoted back (%q) shows its ESC as \x1b: its body is not stray text.
			if body := vt.HostileBody(strings.ReplaceAll(all, strconv.Quote("title "+hostile), "")); body != "" {
				t.Errorf("a sequence's body %q is shown as text: stdout %q stderr %q", body, r.stdout, r.stderr)
			}
		})
	}
}

// The same text piped is byte-exact: the sanitizer is for terminals only.
func TestHostileTextPipedIsByteExact(t *testing.T) {
	srv := hostileUpstream(t)
	clitest.Isolate(t)
	t.Setenv("MOONSHOT_API_BASE", srv.URL+"/v1")
	t.Setenv("MOONSHOT_API_KEY", testKey)
	h := &harness{t: t}
	r := h.run("chat", "-m", "kimi-k2-turbo-preview", "--no-save", "hi")
	if r.code != 0 || !strings.Contains(r.stdout, "**bold "+hostile+"**") {
		t.Fatalf("exit %d, stdout %q", r.code, r.stdout)
	}
	r = h.run("models")
	if !strings.Contains(r.stdout, "kimi-"+hostile+"\n") {
		t.Fatalf("piped models %q", r.stdout)
	}
}

// TestUndecodableAnswerExits75 runs commands against a server that answers 200 with a body
// that is not JSON: the upstream misbehaved, so the exit status is 75, as for a stream cut
// short, and the message names the problem.
func TestUndecodableAnswerExits75(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"available_balance": 1, "data": [`)
	}))
	defer srv.Close()
	h := newHarness(t)
	t.Setenv("MOONSHOT_API_BASE", srv.URL+"/v1")
	for _, args := range [][]string{
		{"balance"},
		{"models"},
		{"chat", "--no-stream", "--no-save", "-m", "kimi-k2.6", "hi"},
	} {
		r := h.run(args...)
		if r.code != cli.ExitTemporary || !strings.Contains(r.stderr, "could not decode the response") {
			t.Errorf("%q: exit %d, want %d; stderr %q", args, r.code, cli.ExitTemporary, r.stderr)
		}
	}
}
