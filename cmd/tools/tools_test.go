package tools

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/moonchat/moonchat/cmd/cli"
	"github.com/moonchat/moonchat/internal/clitest"
	"github.com/moonchat/moonchat/internal/mcptest"
	"github.com/moonchat/moonchat/pkg/emulator"
	"github.com/moonchat/moonchat/pkg/iostreams"
)

const testKey = "sk-tools-test-0123456789"

func TestMain(m *testing.M) { mcptest.Main(m) }

func run(t *testing.T, tty bool, args ...string) clitest.Result {
	t.Helper()
	s := clitest.NewStreams("")
	s.IO.SetStdoutTTY(tty)
	s.IO.SetStderrTTY(tty)
	return s.Run(t, NewCmdTools(cli.New(s.IO), nil), append([]string{"list"}, args...)...)
}

func TestFlagParsing(t *testing.T) {
	path := clitest.Isolate(t)
	clitest.WriteFile(t, path, "mcp_servers:\n  files:\n    command: x\n")
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
	clitest.Serve(t, emulator.Config{APIKey: testKey})

	r := run(t, false, "--tool", "moonshot/base64:latest", "--tool", "moonshot/date")
	want := "base64_encode\tmoonshot/base64:latest\tEncode UTF-8 text as standard base64.\n" +
		"base64_decode\tmoonshot/base64:latest\tDecode standard base64 into text.\n" +
		"date\tmoonshot/date:latest\tGet the current date and time, optionally in a given IANA time zone.\n"
	if r.Err != nil || r.Out != want {
		t.Errorf("piped:\n%s\n%v", r.Out, r.Err)
	}
	r = run(t, true, "--tool", "moonshot/date")
	if r.Err != nil || !strings.HasPrefix(r.Out, "TOOL  SOURCE                DESCRIPTION\ndate  moonshot/date:latest  Get the current") {
		t.Errorf("terminal:\n%s\n%v", r.Out, r.Err)
	}
	r = run(t, false, "--json", "--tool", "moonshot/fetch")
	var got []map[string]any
	if err := json.Unmarshal([]byte(r.Out), &got); err != nil || len(got) != 1 || got[0]["source"] != "formula" ||
		got[0]["formula"] != "moonshot/fetch:latest" || got[0]["parameters"].(map[string]any)["type"] != "object" {
		t.Errorf("json: %s %v", r.Out, err)
	}
	r = run(t, false, "--tool", "moonshot/memory")
	var ue *cli.UsageError
	if !errors.As(r.Err, &ue) || !strings.Contains(r.Err.Error(), "there is no formula moonshot/memory:latest") {
		t.Errorf("unknown formula: %v", r.Err)
	}
	// --offline needs no key.
	t.Setenv("MOONSHOT_API_KEY", "")
	if r := run(t, false, "--offline", "--tool", "moonshot/web-search"); r.Err != nil || !strings.HasPrefix(r.Out, "web_search\t") {
		t.Errorf("offline: %q %v", r.Out, r.Err)
	}
}

func TestMCPTools(t *testing.T) {
	path := clitest.Isolate(t)
	echo := mcptest.EchoServer(t)
	clitest.WriteFile(t, path, "mcp_servers:\n  a:\n    command: "+echo+"\n  b:\n    command: "+echo+"\n"+
		"  broken:\n    command: "+filepath.Join(t.TempDir(), "missing")+"\n")

	// One server: its tools, with their source; nothing on stderr.
	r := run(t, false, "--mcp", "a")
	if r.Err != nil || r.ErrOut != "" || !strings.Contains(r.Out, "echo\tmcp:a\tSend the text back.\x1b]52;c;cHduZWQ=\a\x1b[31m\n") {
		t.Errorf("piped (byte-exact):\n%q\n%q %v", r.Out, r.ErrOut, r.Err)
	}
	// On a terminal the description's escape sequences do not reach it, nor their bodies
	// (a clipboard write, OSC 52, is removed whole).
	r = run(t, true, "--mcp", "a")
	if r.Err != nil || strings.Contains(r.Out, "\x1b") || !strings.Contains(r.Out, "echo   mcp:a   Send the text back.\n") {
		t.Errorf("terminal:\n%q %v", r.Out, r.Err)
	}
	// Every server: the tools of those that start, a line for the one that does not, exit 1,
	// and a warning for the names both a and b declare.
	r = run(t, false)
	var ee *cli.ExitError
	if !errors.As(r.Err, &ee) || ee.Code != 1 || ee.Err != nil {
		t.Errorf("err = %v", r.Err)
	}
	if !strings.Contains(r.ErrOut, "moonchat: MCP server broken: cannot run") {
		t.Errorf("stderr:\n%s", r.ErrOut)
	}
	if !strings.Contains(r.ErrOut, `warning: the function "echo" from mcp:b clashes with the one from mcp:a`) {
		t.Errorf("no clash warning:\n%s", r.ErrOut)
	}
	if !strings.Contains(r.Out, "echo\tmcp:a\t") || !strings.Contains(r.Out, "echo\tmcp:b\t") {
		t.Errorf("stdout:\n%s", r.Out)
	}
	// The servers' stderr went to their logs, and they were stopped.
	log, err := os.ReadFile(filepath.Join(os.Getenv("XDG_CACHE_HOME"), "moonchat", "mcp", "a.log"))
	if err != nil || !strings.Contains(string(log), "echoserver: starting") || !strings.Contains(string(log), "the server exited") {
		t.Errorf("a.log:\n%s %v", log, err)
	}
}

func TestNoTools(t *testing.T) {
	clitest.Isolate(t)
	r := run(t, false)
	if r.Err != nil || r.Out != "" || !strings.Contains(r.ErrOut, "No tools: give an official tool with --tool URI") {
		t.Errorf("%q %q %v", r.Out, r.ErrOut, r.Err)
	}
	if r := run(t, false, "--json"); r.Err != nil || r.Out != "[]\n" {
		t.Errorf("json: %q %v", r.Out, r.Err)
	}
}
