package tools

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/moonchat/moonchat/cmd/cli"
	"github.com/moonchat/moonchat/pkg/config"
	"github.com/moonchat/moonchat/pkg/emulator"
	"github.com/moonchat/moonchat/pkg/iostreams"
)

const testKey = "sk-tools-test-0123456789"

// isolate keeps the developer's config, cache and environment out of the test and returns
// the config file's path.
func isolate(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	t.Setenv("XDG_CONFIG_HOME", filepath.Join(dir, "config"))
	t.Setenv("XDG_CACHE_HOME", filepath.Join(dir, "cache"))
	t.Setenv("HOME", dir)
	t.Setenv("MOONCHAT_CONFIG", "")
	for _, k := range config.Keys() {
		for _, name := range k.Env {
			t.Setenv(name, "")
		}
	}
	return filepath.Join(dir, "config", "moonchat", "config.yaml")
}

func writeConfig(t *testing.T, path, text string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
}

// echoPath is pkg/mcphost's test MCP server (made with the official Go SDK), built once by
// TestMain: before any test points XDG_CACHE_HOME, and with it Go's build cache, elsewhere.
var echoPath string

func echoServer(t *testing.T) string {
	t.Helper()
	if echoPath == "" {
		t.Fatal("the echo server was not built")
	}
	return echoPath
}

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "tools-echo-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	exe := filepath.Join(dir, "echoserver")
	if runtime.GOOS == "windows" {
		exe += ".exe"
	}
	if out, err := exec.Command("go", "build", "-o", exe, "../../pkg/mcphost/testdata/echoserver").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "building the echo server: %v\n%s", err, out)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	echoPath = exe
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

type result struct {
	out, errOut string
	err         error
}

func run(t *testing.T, tty bool, args ...string) result {
	t.Helper()
	ios, _, out, errOut := iostreams.Test()
	ios.SetStdoutTTY(tty)
	ios.SetStderrTTY(tty)
	cmd := NewCmdTools(cli.New(ios), nil)
	cmd.SetArgs(append([]string{"list"}, args...))
	cmd.SetOut(&bytes.Buffer{})
	cmd.SetErr(&bytes.Buffer{})
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	err := cmd.ExecuteContext(ctx)
	return result{out.String(), errOut.String(), err}
}

func TestFlagParsing(t *testing.T) {
	path := isolate(t)
	writeConfig(t, path, "mcp_servers:\n  files:\n    command: x\n")
	parse := func(args ...string) (*ListOptions, error) {
		ios, _, _, _ := iostreams.Test()
		var got *ListOptions
		cmd := NewCmdTools(cli.New(ios), func(o *ListOptions) error { got = o; return nil })
		cmd.SetArgs(append([]string{"list"}, args...))
		cmd.SetOut(&bytes.Buffer{})
		cmd.SetErr(&bytes.Buffer{})
		return got, cmd.Execute()
	}
	o, err := parse("--tool", "moonshot/fetch", "--tool", "moonshot/date:latest", "--mcp", "files", "--json")
	if err != nil {
		t.Fatal(err)
	}
	if len(o.Formulas) != 2 || o.Formulas[0].String() != "moonshot/fetch:latest" || strings.Join(o.Servers, ",") != "files" || !o.JSON {
		t.Errorf("options = %+v", o)
	}
	for args, want := range map[string]string{
		"--tool moonshot":  `--tool: formula "moonshot": no namespace`,
		"--mcp nope":       `--mcp: no MCP server named "nope" (configured: files in ` + path + ":1)",
		"--tool a/b extra": "takes no arguments",
	} {
		_, err := parse(strings.Fields(args)...)
		var ue *cli.UsageError
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want %q", args, err, want)
		} else if want != "takes no arguments" && !errors.As(err, &ue) {
			t.Errorf("%s: %T is not a usage error", args, err)
		}
	}
}

func TestFormulaTools(t *testing.T) {
	isolate(t)
	srv, err := emulator.Start(emulator.Config{APIKey: testKey})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	t.Setenv("MOONSHOT_API_BASE", srv.URL)
	t.Setenv("MOONSHOT_API_KEY", testKey)

	r := run(t, false, "--tool", "moonshot/base64:latest", "--tool", "moonshot/date")
	want := "base64_encode\tmoonshot/base64:latest\tEncode UTF-8 text as standard base64.\n" +
		"base64_decode\tmoonshot/base64:latest\tDecode standard base64 into text.\n" +
		"date\tmoonshot/date:latest\tGet the current date and time, optionally in a given IANA time zone.\n"
	if r.err != nil || r.out != want {
		t.Errorf("piped:\n%s\n%v", r.out, r.err)
	}
	r = run(t, true, "--tool", "moonshot/date")
	if r.err != nil || !strings.HasPrefix(r.out, "TOOL  SOURCE                DESCRIPTION\ndate  moonshot/date:latest  Get the current") {
		t.Errorf("terminal:\n%s\n%v", r.out, r.err)
	}
	r = run(t, false, "--json", "--tool", "moonshot/fetch")
	var got []map[string]any
	if err := json.Unmarshal([]byte(r.out), &got); err != nil || len(got) != 1 || got[0]["source"] != "formula" ||
		got[0]["formula"] != "moonshot/fetch:latest" || got[0]["parameters"].(map[string]any)["type"] != "object" {
		t.Errorf("json: %s %v", r.out, err)
	}
	r = run(t, false, "--tool", "moonshot/memory")
	var ue *cli.UsageError
	if !errors.As(r.err, &ue) || !strings.Contains(r.err.Error(), "there is no formula moonshot/memory:latest") {
		t.Errorf("unknown formula: %v", r.err)
	}
	// --offline needs no key.
	t.Setenv("MOONSHOT_API_KEY", "")
	if r := run(t, false, "--offline", "--tool", "moonshot/web-search"); r.err != nil || !strings.HasPrefix(r.out, "web_search\t") {
		t.Errorf("offline: %q %v", r.out, r.err)
	}
}

func TestMCPTools(t *testing.T) {
	path := isolate(t)
	echo := echoServer(t)
	writeConfig(t, path, "mcp_servers:\n  a:\n    command: "+echo+"\n  b:\n    command: "+echo+"\n"+
		"  broken:\n    command: "+filepath.Join(t.TempDir(), "missing")+"\n")

	// One server: its tools, with their source; nothing on stderr.
	r := run(t, false, "--mcp", "a")
	if r.err != nil || r.errOut != "" || !strings.Contains(r.out, "echo\tmcp:a\tSend the text back.\x1b]52;c;cHduZWQ=\a\x1b[31m\n") {
		t.Errorf("piped (byte-exact):\n%q\n%q %v", r.out, r.errOut, r.err)
	}
	// On a terminal the description's escape sequences do not reach it, nor their bodies
	// (a clipboard write, OSC 52, is removed whole).
	r = run(t, true, "--mcp", "a")
	if r.err != nil || strings.Contains(r.out, "\x1b") || !strings.Contains(r.out, "echo   mcp:a   Send the text back.\n") {
		t.Errorf("terminal:\n%q %v", r.out, r.err)
	}
	// Every server: the tools of those that start, a line for the one that does not, exit 1,
	// and a warning for the names both a and b declare.
	r = run(t, false)
	var ee *cli.ExitError
	if !errors.As(r.err, &ee) || ee.Code != 1 || ee.Err != nil {
		t.Errorf("err = %v", r.err)
	}
	if !strings.Contains(r.errOut, "moonchat: MCP server broken: cannot run") {
		t.Errorf("stderr:\n%s", r.errOut)
	}
	if !strings.Contains(r.errOut, `warning: the function "echo" from mcp:b clashes with the one from mcp:a`) {
		t.Errorf("no clash warning:\n%s", r.errOut)
	}
	if !strings.Contains(r.out, "echo\tmcp:a\t") || !strings.Contains(r.out, "echo\tmcp:b\t") {
		t.Errorf("stdout:\n%s", r.out)
	}
	// The servers' stderr went to their logs, and they were stopped.
	log, err := os.ReadFile(filepath.Join(os.Getenv("XDG_CACHE_HOME"), "moonchat", "mcp", "a.log"))
	if err != nil || !strings.Contains(string(log), "echoserver: starting") || !strings.Contains(string(log), "the server exited") {
		t.Errorf("a.log:\n%s %v", log, err)
	}
}

func TestNoTools(t *testing.T) {
	isolate(t)
	r := run(t, false)
	if r.err != nil || r.out != "" || !strings.Contains(r.errOut, "No tools: give an official tool with --tool URI") {
		t.Errorf("%q %q %v", r.out, r.errOut, r.err)
	}
	if r := run(t, false, "--json"); r.err != nil || r.out != "[]\n" {
		t.Errorf("json: %q %v", r.out, r.err)
	}
}
