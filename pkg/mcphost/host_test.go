package mcphost

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/moonchat/moonchat/pkg/converse"
)

func TestStdioServerToolsAndCalls(t *testing.T) {
	t.Setenv("MOONSHOT_API_KEY", "sk-must-not-leak")
	t.Setenv("MOONCHAT_API_KEY", "sk-must-not-leak-either")
	logs := t.TempDir()
	h := newHost(t, map[string]ServerConfig{
		"echo": {Command: echoServer(t), Env: map[string]string{"GREETING": "hello from config"}},
	}, Options{LogDir: logs, MaxResultBytes: 1000})
	ctx := context.Background()

	tools, err := h.Tools(ctx)
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]Tool{}
	for _, tl := range tools {
		if tl.Server != "echo" {
			t.Errorf("tool %s has source %q", tl.Name, tl.Server)
		}
		byName[tl.Name] = tl
	}
	for _, n := range []string{"echo", "big", "slow", "fail", "env", "crash", "spawn", "noisy"} {
		if _, ok := byName[n]; !ok {
			t.Errorf("tool %s missing from %v", n, tools)
		}
	}
	var schema map[string]any
	if err := json.Unmarshal(byName["echo"].InputSchema, &schema); err != nil || schema["type"] != "object" {
		t.Errorf("echo schema = %s", byName["echo"].InputSchema)
	}
	d := byName["echo"].Declaration()
	if d.Type != "function" || d.Function.Name != "echo" || string(d.Function.Parameters) != string(byName["echo"].InputSchema) {
		t.Errorf("declaration = %+v", d)
	}

	call := func(tool, args string) *Result {
		t.Helper()
		r, err := h.Call(ctx, "echo", tool, args)
		if err != nil {
			t.Fatalf("%s(%s): %v", tool, args, err)
		}
		return r
	}
	if r := call("echo", `{"text":"hi there"}`); r.IsError || r.Content() != "hi there" || r.Truncated {
		t.Errorf("echo = %+v", r)
	}
	if r := call("fail", ``); !r.IsError || r.Content() != "error: the disk is on fire" {
		t.Errorf("fail = %+v", r)
	}
	if r := call("echo", `[1,2]`); !r.IsError || !strings.Contains(r.Text, "not a JSON object") {
		t.Errorf("bad arguments = %+v", r)
	}
	if r := call("nope", `{}`); !r.IsError || !strings.Contains(r.Text, "nope") {
		t.Errorf("unknown tool = %+v", r)
	}
	// The secret is stripped; the configured variable arrives.
	if r := call("env", `{"name":"MOONSHOT_API_KEY"}`); r.Text != "<unset>" {
		t.Errorf("MOONSHOT_API_KEY reached the server: %q", r.Text)
	}
	if r := call("env", `{"name":"MOONCHAT_API_KEY"}`); r.Text != "<unset>" {
		t.Errorf("MOONCHAT_API_KEY reached the server: %q", r.Text)
	}
	if r := call("env", `{"name":"GREETING"}`); r.Text != "hello from config" {
		t.Errorf("GREETING = %q", r.Text)
	}

	// A long result is cut on a rune boundary, with a marker, within the cap.
	r := call("big", `{"bytes":5000}`)
	if !r.Truncated || len(r.Text) > 1000 || r.Bytes != 5000 ||
		!strings.HasSuffix(r.Text, "bytes shown]") || !strings.Contains(r.Text, "of 5000 bytes") || !strings.HasPrefix(r.Text, "éé") {
		t.Errorf("big: truncated=%v len=%d bytes=%d tail=%q", r.Truncated, len(r.Text), r.Bytes, r.Text[max(0, len(r.Text)-60):])
	}
	if strings.ContainsRune(r.Text, '\uFFFD') {
		t.Error("the cut split a rune")
	}

	// Started once for all of the above, its stderr in the log, not on our terminal. The log is
	// complete once the host is closed.
	if err := h.Close(); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(logs, "echo.log"))
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(data), "moonchat starts"); n != 1 {
		t.Errorf("the server started %d times:\n%s", n, data)
	}
	if !strings.Contains(string(data), "echoserver: starting") {
		t.Errorf("stderr is not in the log:\n%s", data)
	}
	if fi, err := os.Stat(filepath.Join(logs, "echo.log")); err == nil && fi.Mode().Perm()&0o077 != 0 {
		t.Errorf("log mode %v", fi.Mode().Perm())
	}
}

func TestCallTimeoutAndCancel(t *testing.T) {
	// The limit is long enough for a loaded machine to answer the echo call below within it
	// (the slow tool never answers, so the limit is also how long this test waits).
	h := newHost(t, map[string]ServerConfig{"echo": {Command: echoServer(t)}}, Options{CallTimeout: time.Second})
	_, err := h.Call(context.Background(), "echo", "slow", `{}`)
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "echo/slow gave no answer within 1s") {
		t.Fatalf("err = %v", err)
	}
	// The server is still usable after a timed-out call.
	if r, err := h.Call(context.Background(), "echo", "echo", `{"text":"still here"}`); err != nil || r.Text != "still here" {
		t.Fatalf("after the timeout: %+v, %v", r, err)
	}

	if err := cancelledCall(h); !errors.Is(err, context.Canceled) {
		t.Errorf("canceled call: %v", err)
	}
}

func TestUnknownServerAndStartFailure(t *testing.T) {
	h := newHost(t, map[string]ServerConfig{
		"missing": {Command: filepath.Join(t.TempDir(), "no-such-server")},
		"false":   {Command: echoServer(t), Args: []string{"-http", "not-an-address"}},
	}, Options{StartTimeout: 10 * time.Second})
	if _, err := h.Call(context.Background(), "other", "x", ""); err == nil || !strings.Contains(err.Error(), `no MCP server named "other"`) || !strings.Contains(err.Error(), "false, missing") {
		t.Errorf("unknown server: %v", err)
	}
	_, err := h.Tools(context.Background(), "missing")
	if err == nil || !strings.Contains(err.Error(), "cannot run") {
		t.Errorf("missing command: %v", err)
	}
	// A server that exits at once: the error names it and points at its log.
	_, err = h.Tools(context.Background(), "false")
	if err == nil || !strings.Contains(err.Error(), "MCP server false") || !strings.Contains(err.Error(), "false.log") {
		t.Errorf("server that exits: %v", err)
	}
	// The failure is remembered for the run, not retried on every call.
	_, again := h.Tools(context.Background(), "false")
	if again == nil || again.Error() != err.Error() {
		t.Errorf("second attempt: %v", again)
	}
}

func TestStreamableHTTPServer(t *testing.T) {
	url := httpEchoServer(t, "s3cret")
	h := newHost(t, map[string]ServerConfig{
		"remote": {URL: url, Headers: map[string]string{"Authorization": "Bearer s3cret"}},
		"nokey":  {URL: url},
	}, Options{})
	tools, err := h.Tools(context.Background(), "remote")
	if err != nil {
		t.Fatal(err)
	}
	if len(tools) < 5 || tools[0].Server != "remote" {
		t.Errorf("tools = %+v", tools)
	}
	r, err := h.Call(context.Background(), "remote", "echo", `{"text":"over http"}`)
	if err != nil || r.Text != "over http" {
		t.Errorf("echo over HTTP: %+v, %v", r, err)
	}
	if _, err := h.Tools(context.Background(), "nokey"); err == nil || !strings.Contains(err.Error(), "MCP server nokey") {
		t.Errorf("without the header: %v", err)
	}
	// One failing server does not hide the tools of the others.
	tools, err = h.Tools(context.Background(), "nokey", "remote")
	if err == nil || strings.Contains(err.Error(), "remote") || len(tools) < 5 || tools[0].Server != "remote" {
		t.Errorf("partial listing: %d tools, %v", len(tools), err)
	}
	if err := h.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	if _, err := h.Call(context.Background(), "remote", "echo", `{}`); !errors.Is(err, ErrClosed) {
		t.Errorf("after Close: %v", err)
	}
}

func TestEverythingServer(t *testing.T) {
	cfg := everything(t)
	t.Setenv("MOONSHOT_API_KEY", "sk-must-not-leak")
	h := newHost(t, map[string]ServerConfig{"everything": cfg}, Options{})
	tools, err := h.Tools(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, tl := range tools {
		names[tl.Name] = true
		if tl.Server != "everything" || tl.Description == "" {
			t.Errorf("tool %+v", tl)
		}
	}
	for _, n := range []string{"echo", "get-sum", "get-env", "get-tiny-image"} {
		if !names[n] {
			t.Errorf("%s is missing from %v", n, names)
		}
	}
	ctx := context.Background()
	if r, err := h.Call(ctx, "everything", "echo", `{"message":"moon"}`); err != nil || r.IsError || r.Text != "Echo: moon" {
		t.Errorf("echo: %+v, %v", r, err)
	}
	if r, err := h.Call(ctx, "everything", "get-sum", `{"a":2,"b":40}`); err != nil || !strings.Contains(r.Text, "is 42") {
		t.Errorf("get-sum: %+v, %v", r, err)
	}
	// Invalid arguments: the server refuses, the model reads why.
	if r, err := h.Call(ctx, "everything", "get-sum", `{"a":"two"}`); err != nil || !r.IsError {
		t.Errorf("get-sum with bad arguments: %+v, %v", r, err)
	}
	// Images are described, not inlined.
	if r, err := h.Call(ctx, "everything", "get-tiny-image", `{}`); err != nil || !strings.Contains(r.Text, "[image image/png,") {
		t.Errorf("get-tiny-image: %+v, %v", r, err)
	}
	if r, err := h.Call(ctx, "everything", "get-env", `{}`); err != nil || strings.Contains(r.Text, "sk-must-not-leak") || !strings.Contains(r.Text, "PATH") {
		t.Errorf("get-env leaked the key or failed: %v", err)
	}
	if err := h.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
}

// A failed result is cut so that its Content, "error: " included, fits the cap: the engine
// caps the Content again and must find nothing to cut, or the model would read two markers.
func TestFailedResultFitsTheCap(t *testing.T) {
	h := newHost(t, map[string]ServerConfig{"echo": {Command: echoServer(t)}}, Options{MaxResultBytes: 1000})
	r, err := h.Call(context.Background(), "echo", "fail", `{"bytes":5000}`)
	if err != nil {
		t.Fatal(err)
	}
	c := r.Content()
	if !r.IsError || !r.Truncated || r.Bytes != 5000 || len(c) > 1000 || !strings.HasPrefix(c, "error: ") {
		t.Fatalf("fail: error=%v truncated=%v bytes=%d content %d bytes", r.IsError, r.Truncated, r.Bytes, len(c))
	}
	if again, cut := converse.CapToolResult(c, 1000); cut || again != c {
		t.Errorf("the engine would cut the result again:\n%s", again[max(0, len(again)-100):])
	}
	if n := strings.Count(c, "[truncated by moonchat:"); n != 1 {
		t.Errorf("%d markers in %q", n, c[max(0, len(c)-100):])
	}
}

func TestServerEnv(t *testing.T) {
	got := serverEnv([]string{"PATH=/bin", "MOONSHOT_API_KEY=sk-1", "MOONCHAT_API_KEY=sk-2", "HOME=/h"},
		map[string]string{"HOME": "/other", "TOKEN": "t"})
	if strings.Join(got, " ") != "PATH=/bin HOME=/other TOKEN=t" {
		t.Errorf("env = %v", got)
	}
	// A key the user configures explicitly for a server is theirs to give.
	got = serverEnv([]string{"MOONSHOT_API_KEY=sk-1"}, map[string]string{"MOONSHOT_API_KEY": "sk-for-this-server"})
	if strings.Join(got, " ") != "MOONSHOT_API_KEY=sk-for-this-server" {
		t.Errorf("env = %v", got)
	}
}

func TestValidate(t *testing.T) {
	for _, tc := range []struct {
		cfg  ServerConfig
		want string
	}{
		{ServerConfig{Command: "npx", Args: []string{"-y", "x"}}, ""},
		{ServerConfig{URL: "https://mcp.example.com/mcp", Headers: map[string]string{"Authorization": "Bearer x"}}, ""},
		{ServerConfig{}, "set command"},
		{ServerConfig{Command: "a", URL: "http://x"}, "not both"},
		{ServerConfig{URL: "ftp://x"}, "http:// or https://"},
		{ServerConfig{URL: "/relative"}, "absolute"},
		{ServerConfig{URL: "http://x", Args: []string{"a"}}, "args and env apply to a command"},
		{ServerConfig{Command: "a", Headers: map[string]string{"A": "b"}}, "headers apply to a url"},
		{ServerConfig{Command: "npx -y x"}, ""},
		{ServerConfig{Command: " npx"}, "surrounding spaces"},
		{ServerConfig{Command: "a", Env: map[string]string{"A=B": "c"}}, "not valid"},
		{ServerConfig{URL: "http://x", Headers: map[string]string{"X": "a\r\nB: c"}}, "line break"},
	} {
		err := tc.cfg.Validate()
		if (tc.want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("%+v: %v, want %q", tc.cfg, err, tc.want)
		}
	}
	if err := ValidName("files"); err != nil {
		t.Error(err)
	}
	for _, bad := range []string{"", "a b", "../x", "-x", strings.Repeat("a", 65), "a/b"} {
		if ValidName(bad) == nil {
			t.Errorf("ValidName(%q) accepted", bad)
		}
	}
	if ep := (ServerConfig{URL: "https://user:pw@mcp.example.com/mcp?key=secret"}).Endpoint(); ep != "https://mcp.example.com/mcp" {
		t.Errorf("Endpoint leaks credentials: %s", ep)
	}
}

func TestAllowList(t *testing.T) {
	a, err := NewAllowList([]string{"files/read_file", "git/*", "echo"})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		server, tool string
		want         bool
	}{
		{"files", "read_file", true},
		{"files", "write_file", false},
		{"git", "commit", true},
		{"any", "echo", true},
		{"other", "read_file", false},
	} {
		if got := a.Allows(tc.server, tc.tool); got != tc.want {
			t.Errorf("Allows(%s, %s) = %v", tc.server, tc.tool, got)
		}
	}
	a.Always("files", "write_file")
	if !a.Allows("files", "write_file") || a.Allows("other", "write_file") {
		t.Error("Always is not per server and tool")
	}
	for _, bad := range []string{"", "*", "*/*", "a b", "files/", "/x", "files/a/b", "files/re*"} {
		if _, err := NewAllowList([]string{bad}); err == nil {
			t.Errorf("entry %q accepted", bad)
		}
	}
}
