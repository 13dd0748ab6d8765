package tokens

import (
	"encoding/json"
	"math"
	"strconv"
	"strings"
	"testing"

	"github.com/moonchat/moonchat/cmd/cli"
	"github.com/moonchat/moonchat/internal/clitest"
	"github.com/moonchat/moonchat/pkg/config"
	"github.com/moonchat/moonchat/pkg/emulator"
	"github.com/moonchat/moonchat/pkg/iostreams"
)

const testKey = "sk-tokens-test-0123456789"

func serve(t *testing.T, models []emulator.Model) *emulator.Server {
	t.Helper()
	return clitest.Serve(t, emulator.Config{APIKey: testKey, Models: models})
}

// io describes the streams of a run: a terminal on stdout or not, and what stdin is.
type streams struct {
	tty   bool
	stdin string
	piped bool // stdin is a pipe; otherwise a terminal
}

func run(t *testing.T, s streams, args ...string) clitest.Result {
	t.Helper()
	st := clitest.NewStreams(s.stdin)
	st.IO.SetStdinPipeOrFile(s.piped)
	st.IO.SetStdinTTY(!s.piped)
	st.IO.SetStdoutTTY(s.tty)
	return st.Run(t, NewCmdTokens(cli.New(st.IO), nil), args...)
}

// want is the emulator's count for these messages.
func want(msgs ...emulator.Message) int { return emulator.CountTokens(msgs) }

func user(s string) emulator.Message { return emulator.Message{Role: "user", Content: s} }

// estimates returns the bodies of the estimate-token-count requests.
func estimates(srv *emulator.Server) []map[string]any {
	var out []map[string]any
	for _, r := range srv.Requests() {
		if r.Path == "/v1/tokenizers/estimate-token-count" {
			out = append(out, r.JSON())
		}
	}
	return out
}

func TestPipedPrintsTheNumber(t *testing.T) {
	srv := serve(t, nil)
	r := run(t, streams{piped: true, stdin: "line one\nline two\n"}, "summarize", "this")
	if r.Err != nil {
		t.Fatal(r.Err)
	}
	n := want(user("summarize this\n\nline one\nline two\n"))
	if r.Out != strconv.Itoa(n)+"\n" || r.ErrOut != "" {
		t.Errorf("stdout %q, stderr %q; want %d", r.Out, r.ErrOut, n)
	}
	bodies := estimates(srv)
	if len(bodies) != 1 || bodies[0]["model"] != "kimi-k2.6" {
		t.Fatalf("estimate requests: %v", bodies)
	}
	msgs := bodies[0]["messages"].([]any)
	if c := msgs[0].(map[string]any)["content"]; c != "summarize this\n\nline one\nline two\n" {
		t.Errorf("counted %q", c)
	}
}

func TestTerminalLine(t *testing.T) {
	serve(t, nil)
	prompt := strings.Repeat("abcdefgh ", 600) // 2 tokens a word in the emulator
	r := run(t, streams{tty: true}, "-m", "moonshot-v1-8k", prompt)
	if r.Err != nil {
		t.Fatal(r.Err)
	}
	n := want(user(prompt))
	wantLine := cli.FormatInt(n) + " tokens · 14.7% of moonshot-v1-8k's 8,192 · ≈ USD 0.00024 as input\n"
	if n != 1204 || r.Out != wantLine {
		t.Errorf("stdout = %q, want %q (n = %d)", r.Out, wantLine, n)
	}
}

func TestSystemPromptIsCounted(t *testing.T) {
	srv := serve(t, nil)
	r := run(t, streams{}, "-s", "You are terse.", "hi")
	if r.Err != nil {
		t.Fatal(r.Err)
	}
	n := want(emulator.Message{Role: "system", Content: "You are terse."}, user("hi"))
	if r.Out != strconv.Itoa(n)+"\n" {
		t.Errorf("stdout = %q, want %d", r.Out, n)
	}
	msgs := estimates(srv)[0]["messages"].([]any)
	if len(msgs) != 2 || msgs[0].(map[string]any)["role"] != "system" {
		t.Errorf("messages = %v", msgs)
	}
}

func TestTerminalStdinIsNeverRead(t *testing.T) {
	srv := serve(t, nil)
	r := run(t, streams{stdin: "typed ahead"})
	if cli.ExitCode(r.Err) != cli.ExitUsage || !strings.Contains(r.Err.Error(), "no prompt") {
		t.Fatalf("err = %v", r.Err)
	}
	if len(srv.Requests()) != 0 {
		t.Error("a request was sent without a prompt")
	}
}

func TestJSON(t *testing.T) {
	serve(t, nil)
	r := run(t, streams{tty: true}, "--json", "-m", "kimi-k2.6", "hello world")
	if r.Err != nil {
		t.Fatal(r.Err)
	}
	var got struct {
		Model         string   `json:"model"`
		Tokens        int      `json:"tokens"`
		ContextLength int      `json:"context_length"`
		Percent       *float64 `json:"percent"`
		Fits          bool     `json:"fits"`
		Auto          bool     `json:"auto"`
		InputCost     *struct {
			Amount   float64 `json:"amount"`
			Currency string  `json:"currency"`
		} `json:"input_cost"`
	}
	if err := json.Unmarshal([]byte(r.Out), &got); err != nil {
		t.Fatalf("not JSON: %v: %s", err, r.Out)
	}
	n := want(user("hello world"))
	if got.Model != "kimi-k2.6" || got.Tokens != n || got.ContextLength != 262144 || got.Percent == nil ||
		*got.Percent != 100*float64(n)/262144 || !got.Fits || got.Auto || got.InputCost == nil ||
		got.InputCost.Currency != "USD" || math.Abs(got.InputCost.Amount-float64(n)*0.95/1e6) > 1e-12 {
		t.Errorf("JSON = %s", r.Out)
	}
}

func TestUnknownModelContext(t *testing.T) {
	// A model the built-in table does not know: the server's listing gives its context.
	models := append(emulator.DefaultModels(), emulator.Model{ID: "acme-custom-1", ContextLength: 1000})
	serve(t, models)
	r := run(t, streams{}, "--json", "-m", "acme-custom-1", strings.Repeat("x", 4000))
	if r.Err != nil {
		t.Fatal(r.Err)
	}
	var got map[string]any
	if err := json.Unmarshal([]byte(r.Out), &got); err != nil {
		t.Fatal(err)
	}
	if got["context_length"] != 1000.0 || got["fits"] != false || got["input_cost"] != nil || got["percent"] != 100.4 {
		t.Errorf("JSON = %s", r.Out)
	}
	r = run(t, streams{tty: true}, "-m", "acme-custom-1", strings.Repeat("x", 4000))
	if !strings.HasSuffix(r.Out, "of acme-custom-1's 1,000 · too long for this model\n") {
		t.Errorf("terminal line = %q", r.Out)
	}
}

func TestAutoPicksTheFirstModelWithRoom(t *testing.T) {
	srv := serve(t, nil)
	t.Setenv("MOONCHAT_AUTO_MODELS", "moonshot-v1-8k,moonshot-v1-32k,kimi-k2.6")
	short := run(t, streams{}, "--json", "-m", "auto", "hi")
	long := run(t, streams{}, "--json", "-m", "auto", strings.Repeat("word ", 9000))
	for _, r := range []clitest.Result{short, long} {
		if r.Err != nil {
			t.Fatal(r.Err)
		}
	}
	var s, l map[string]any
	if json.Unmarshal([]byte(short.Out), &s) != nil || json.Unmarshal([]byte(long.Out), &l) != nil {
		t.Fatalf("not JSON: %q %q", short.Out, long.Out)
	}
	if s["model"] != "moonshot-v1-8k" || s["auto"] != true || l["model"] != "moonshot-v1-32k" || l["fits"] != true {
		t.Errorf("short: %v\nlong: %v", s, l)
	}
	var asked []any
	for _, b := range estimates(srv) {
		asked = append(asked, b["model"])
	}
	if len(asked) != 3 || asked[0] != "moonshot-v1-8k" || asked[1] != "moonshot-v1-8k" || asked[2] != "moonshot-v1-32k" {
		t.Errorf("models counted with: %v", asked)
	}
	// The configured model may be auto too.
	t.Setenv("MOONCHAT_MODEL", "auto")
	if r := run(t, streams{tty: true}, "hi"); !strings.Contains(r.Out, "of moonshot-v1-8k's 8,192 (-m auto)") {
		t.Errorf("configured auto: %q", r.Out)
	}
}

func TestOfflineNeedsNoKey(t *testing.T) {
	clitest.Isolate(t)
	t.Setenv("MOONSHOT_API_BASE", "http://127.0.0.1:1/v1") // fails if used
	r := run(t, streams{}, "--offline", "hello")
	if r.Err != nil || r.Out != strconv.Itoa(want(user("hello")))+"\n" {
		t.Errorf("offline: %v, %q", r.Err, r.Out)
	}
}

func TestErrors(t *testing.T) {
	serve(t, nil)
	r := run(t, streams{}, "-m", "no-such-model", "hi")
	if cli.ExitCode(r.Err) != cli.ExitRejected || r.Out != "" {
		t.Errorf("unknown model: %v (exit %d), stdout %q", r.Err, cli.ExitCode(r.Err), r.Out)
	}
	t.Setenv("MOONSHOT_API_KEY", "")
	if r := run(t, streams{}, "hi"); cli.ExitCode(r.Err) != cli.ExitAuth {
		t.Errorf("missing key: %v", r.Err)
	}
	t.Setenv("MOONSHOT_API_KEY", testKey)
	if r := run(t, streams{}, "--json", "-m", "", "hi"); r.Err != nil || !strings.Contains(r.Out, `"model":"kimi-k2.6"`) {
		t.Errorf("-m \"\": %v, %s", r.Err, r.Out)
	}
	if r := run(t, streams{}, "-m", "two words", "hi"); cli.ExitCode(r.Err) != cli.ExitUsage {
		t.Errorf("bad -m: %v", r.Err)
	}
}

func TestFlags(t *testing.T) {
	clitest.Isolate(t)
	ios, _, _, _ := iostreams.Test()
	var got *Options
	cmd := NewCmdTokens(cli.New(ios), func(o *Options) error { got = o; return nil })
	cmd.SetArgs([]string{"-m", "kimi-k2.5", "-s", "sys", "--json", "--offline", "--region", "cn", "a", "b"})
	if err := cmd.Execute(); err != nil {
		t.Fatal(err)
	}
	if got.Model != "kimi-k2.5" || got.System != "sys" || !got.JSON || !got.Offline || strings.Join(got.Prompt, " ") != "a b" {
		t.Errorf("options = %+v", got)
	}
	if v := got.Config.Value("region"); v.Raw != "cn" || v.Origin != config.OriginFlag {
		t.Errorf("region = %+v", v)
	}
}
