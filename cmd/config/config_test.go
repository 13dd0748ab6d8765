package configcmd

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/moonchat/moonchat/cmd/cli"
	"github.com/moonchat/moonchat/internal/clitest"
	"github.com/moonchat/moonchat/pkg/config"
	"github.com/moonchat/moonchat/pkg/emulator"
	"github.com/moonchat/moonchat/pkg/iostreams"
	"github.com/moonchat/moonchat/pkg/moonshot"
)

const testKey = "sk-config-test-0123456789abcdef"

func readFile(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// streams describes a run's terminal: which streams are terminals, and what stdin holds.
type streams struct {
	tty      bool // stdout and stderr are terminals
	stdinTTY bool
	stdin    string
}

func run(t *testing.T, s streams, args ...string) clitest.Result {
	t.Helper()
	st := clitest.NewStreams(s.stdin)
	st.IO.SetStdoutTTY(s.tty)
	st.IO.SetStderrTTY(s.tty)
	st.IO.SetStdinTTY(s.stdinTTY)
	st.IO.SetStdinPipeOrFile(!s.stdinTTY)
	return st.Run(t, NewCmdConfig(cli.New(st.IO), nil), args...)
}

func mustRun(t *testing.T, s streams, args ...string) clitest.Result {
	t.Helper()
	r := run(t, s, args...)
	if r.Err != nil {
		t.Fatalf("config %s: %v", strings.Join(args, " "), r.Err)
	}
	return r
}

func TestPath(t *testing.T) {
	path := clitest.Isolate(t)
	if r := mustRun(t, streams{}, "path"); r.Out != path+"\n" {
		t.Errorf("path = %q, want %q", r.Out, path)
	}
	// It works with a broken file, and with a broken environment: it is how to find the file.
	clitest.WriteFile(t, path, "model: [\n")
	t.Setenv("MOONCHAT_TEMPERATURE", "hot")
	if r := mustRun(t, streams{}, "path"); r.Out != path+"\n" {
		t.Errorf("path with a broken file = %q", r.Out)
	}
	other := filepath.Join(t.TempDir(), "elsewhere.yaml")
	t.Setenv("MOONCHAT_CONFIG", other)
	if r := mustRun(t, streams{}, "path"); r.Out != other+"\n" {
		t.Errorf("MOONCHAT_CONFIG not honoured: %q", r.Out)
	}
}

// listed decodes `config list --json` into key → entry.
func listed(t *testing.T, r clitest.Result) map[string]map[string]any {
	t.Helper()
	if r.Err != nil {
		t.Fatal(r.Err)
	}
	var items []map[string]any
	if err := json.Unmarshal([]byte(r.Out), &items); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, r.Out)
	}
	out := map[string]map[string]any{}
	for _, it := range items {
		out[it["key"].(string)] = it
	}
	return out
}

func TestPrecedenceThroughTheCommand(t *testing.T) {
	tests := []struct {
		name       string
		file, env  string // region in the file, in MOONCHAT_REGION
		flag       string // --region
		want       string
		wantOrigin string
		wantSource string // FILE:n stands for the path and line n
	}{
		{"default", "", "", "", "global", "default", ""},
		{"file over default", "cn", "", "", "cn", "file", "FILE:2"},
		{"env over file", "cn", "global", "", "global", "env", "MOONCHAT_REGION"},
		{"flag over env and file", "cn", "global", "cn", "cn", "flag", ""},
		{"flag over default", "", "", "cn", "cn", "flag", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := clitest.Isolate(t)
			if tt.file != "" {
				clitest.WriteFile(t, path, "# mine\nregion: "+tt.file+"\n")
			}
			t.Setenv("MOONCHAT_REGION", tt.env)
			args := []string{"list", "--json"}
			if tt.flag != "" {
				args = append(args, "--region", tt.flag)
			}
			got := listed(t, run(t, streams{}, args...))["region"]
			wantSource := strings.Replace(tt.wantSource, "FILE", path, 1)
			if got["value"] != tt.want || got["origin"] != tt.wantOrigin || got["source"] != wantSource {
				t.Errorf("region = %v; want %s from %s (%s)", got, tt.want, tt.wantOrigin, wantSource)
			}
			if got["type"] != "enum" || got["default"] != "global" {
				t.Errorf("type and default: %v", got)
			}
			// get agrees with list.
			if r := mustRun(t, streams{}, append([]string{"get", "region"}, args[2:]...)...); r.Out != tt.want+"\n" {
				t.Errorf("get region = %q", r.Out)
			}
		})
	}
}

func TestListOrigin(t *testing.T) {
	path := clitest.Isolate(t)
	clitest.WriteFile(t, path, "model: moonshot-v1-8k\ntemperature: 0.3\n")
	t.Setenv("MOONSHOT_API_KEY", testKey)
	t.Setenv("MOONCHAT_MODEL", "kimi-k2.5")

	// Piped: tab-separated key, value, origin, source.
	r := mustRun(t, streams{}, "list", "--origin", "--api-base", "http://127.0.0.1:9/v1")
	want := map[string]string{
		"api_key":     "api_key\tsk-…cdef\tenv\tMOONSHOT_API_KEY",
		"api_base":    "api_base\thttp://127.0.0.1:9/v1\tflag\t",
		"model":       "model\tkimi-k2.5\tenv\tMOONCHAT_MODEL",
		"temperature": "temperature\t0.3\tfile\t" + path + ":2",
		"format":      "format\tauto\tdefault\t",
		"max_tokens":  "max_tokens\t\tdefault\t",
	}
	lines := strings.Split(strings.TrimSuffix(r.Out, "\n"), "\n")
	if len(lines) != len(config.Keys()) {
		t.Fatalf("%d lines for %d keys:\n%s", len(lines), len(config.Keys()), r.Out)
	}
	for _, line := range lines {
		key, _, _ := strings.Cut(line, "\t")
		if w, ok := want[key]; ok && line != w {
			t.Errorf("%q, want %q", line, w)
		}
	}
	if strings.Contains(r.Out, testKey) {
		t.Error("the API key was shown")
	}

	// On a terminal: an aligned table with a header.
	r = mustRun(t, streams{tty: true}, "list", "--origin")
	lines = strings.Split(r.Out, "\n")
	if strings.Join(strings.Fields(lines[0]), " ") != "KEY VALUE ORIGIN" {
		t.Errorf("header = %q", lines[0])
	}
	valueCol := strings.Index(lines[0], "VALUE")
	for _, l := range lines[1 : len(lines)-1] {
		if l[valueCol-2:valueCol] != "  " {
			t.Errorf("not aligned: %q", l)
		}
	}
	if !strings.Contains(r.Out, "file ("+path+":2)") || !strings.Contains(r.Out, "env (MOONCHAT_MODEL)") {
		t.Errorf("origins missing:\n%s", r.Out)
	}
}

func TestListPlainAndReveal(t *testing.T) {
	path := clitest.Isolate(t)
	clitest.WriteFile(t, path, "api_key: "+testKey+"\nproxy: http://bob:hunter2@proxy.example:3128\n")
	r := mustRun(t, streams{}, "list")
	if !strings.HasPrefix(r.Out, "api_key=sk-…cdef\napi_base=\nregion=global\nmodel=kimi-k2.6\n") {
		t.Errorf("list:\n%s", r.Out)
	}
	if strings.Contains(r.Out, testKey) || strings.Contains(r.Out, "hunter2") || !strings.Contains(r.Out, "proxy=http://bob:xxxxx@proxy.example:3128\n") {
		t.Errorf("secrets shown:\n%s", r.Out)
	}
	r = mustRun(t, streams{}, "list", "--reveal")
	if !strings.Contains(r.Out, "api_key="+testKey+"\n") || !strings.Contains(r.Out, "hunter2") {
		t.Errorf("--reveal hid a secret:\n%s", r.Out)
	}
	if got := listed(t, run(t, streams{}, "list", "--json"))["api_key"]; got["value"] != "sk-…cdef" {
		t.Errorf("--json shows api_key as %v", got["value"])
	}
}

func TestSetGetUnsetRoundTrip(t *testing.T) {
	path := clitest.Isolate(t)
	mustRun(t, streams{}, "set", "model", "kimi-k2.5")
	mustRun(t, streams{}, "set", "temperature", "0.3")
	if got := readFile(t, path); got != "model: kimi-k2.5\ntemperature: 0.3\n" {
		t.Errorf("file = %q", got)
	}
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if perm := info.Mode().Perm(); perm != 0o600 {
		t.Errorf("mode = %o, want 600", perm)
	}
	if r := mustRun(t, streams{}, "get", "model"); r.Out != "kimi-k2.5\n" || r.ErrOut != "" {
		t.Errorf("get model = %q, stderr %q", r.Out, r.ErrOut)
	}
	// Messages are for people: only on a terminal, and only on stderr.
	r := mustRun(t, streams{tty: true}, "unset", "model")
	if r.Out != "" || r.ErrOut != "Removed model from "+path+"\n" {
		t.Errorf("unset: stdout %q, stderr %q", r.Out, r.ErrOut)
	}
	if r := mustRun(t, streams{}, "get", "model"); r.Out != "kimi-k2.6\n" {
		t.Errorf("after unset, get model = %q (the default)", r.Out)
	}
	if got := readFile(t, path); got != "temperature: 0.3\n" {
		t.Errorf("file = %q", got)
	}
	if r := mustRun(t, streams{tty: true}, "unset", "model"); r.ErrOut != "model was not set in "+path+"\n" {
		t.Errorf("second unset: %q", r.ErrOut)
	}
	if r := mustRun(t, streams{tty: true}, "set", "save_history", "no"); r.ErrOut != "Set save_history to false in "+path+"\n" {
		t.Errorf("set message: %q", r.ErrOut)
	}
	// An unset key prints nothing (and says so on a terminal).
	if r := mustRun(t, streams{}, "get", "max_tokens"); r.Out != "" || r.ErrOut != "" {
		t.Errorf("get max_tokens = %q, %q", r.Out, r.ErrOut)
	}
	if r := mustRun(t, streams{tty: true}, "get", "max_tokens"); r.Out != "" || r.ErrOut != "max_tokens is not set\n" {
		t.Errorf("get max_tokens on a terminal = %q, %q", r.Out, r.ErrOut)
	}
}

func TestGetAPIKeyIsMasked(t *testing.T) {
	path := clitest.Isolate(t)
	clitest.WriteFile(t, path, "api_key: "+testKey+"\n")
	for _, s := range []streams{{}, {tty: true}} {
		if r := mustRun(t, s, "get", "api_key"); r.Out != "sk-…cdef\n" {
			t.Errorf("get api_key = %q", r.Out)
		}
	}
	if r := mustRun(t, streams{}, "get", "api_key", "--reveal"); r.Out != testKey+"\n" {
		t.Errorf("get api_key --reveal = %q", r.Out)
	}
	r := mustRun(t, streams{tty: true}, "set", "api_key", "sk-another-key-0123456789wxyz")
	if strings.Contains(r.ErrOut, "sk-another") || !strings.Contains(r.ErrOut, "sk-…wxyz") {
		t.Errorf("set api_key showed the key: %q", r.ErrOut)
	}
}

func TestErrorsExit2(t *testing.T) {
	path := clitest.Isolate(t)
	tests := []struct {
		args []string
		msg  string
	}{
		{[]string{"set", "temperature", "hot"}, `temperature: "hot" is not a number`},
		{[]string{"set", "region", "mars"}, `"mars" is not one of global, cn`},
		{[]string{"set", "modle", "x"}, `unknown key "modle" (did you mean "model"?)`},
		{[]string{"get", "max-tokens"}, `did you mean "max_tokens"?`},
		{[]string{"unset", "wrapp"}, `did you mean "wrap"?`},
		{[]string{"get"}, "config get needs a key"},
		{[]string{"get", "a", "b"}, "config get needs a key"},
		{[]string{"set"}, "config set needs a key and a value"},
		{[]string{"set", "api_key", "sk-with space"}, "contains spaces"},
		{[]string{"list", "--region", "mars"}, "--region: "},
	}
	for _, tt := range tests {
		r := run(t, streams{}, tt.args...)
		if cli.ExitCode(r.Err) != cli.ExitUsage || !strings.Contains(r.Err.Error(), tt.msg) {
			t.Errorf("config %v: %v (exit %d), want %q", tt.args, r.Err, cli.ExitCode(r.Err), tt.msg)
		}
		if strings.Contains(r.Err.Error(), "sk-with") {
			t.Errorf("the rejected key was echoed: %v", r.Err)
		}
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Error("a failed command created the config file")
	}
}

func TestBrokenFile(t *testing.T) {
	path := clitest.Isolate(t)
	const broken = "model: kimi-k2.6\nregion: mars\n"
	clitest.WriteFile(t, path, broken)
	for _, args := range [][]string{{"list"}, {"get", "model"}, {"set", "model", "x"}, {"unset", "model"}, {"list", "--origin"}} {
		r := run(t, streams{}, args...)
		want := path + ":2: region: \"mars\" is not one of global, cn"
		if cli.ExitCode(r.Err) != cli.ExitUsage || r.Err.Error() != want {
			t.Errorf("config %v: %v (exit %d), want %q", args, r.Err, cli.ExitCode(r.Err), want)
		}
		if r.Out != "" {
			t.Errorf("config %v printed %q", args, r.Out)
		}
	}
	if got := readFile(t, path); got != broken {
		t.Errorf("the broken file was rewritten: %q", got)
	}
	if _, hint := cli.Describe(run(t, streams{}, "list").Err, ""); hint != "fix the file with `moonchat config edit`" {
		t.Errorf("hint = %q", hint)
	}
	clitest.WriteFile(t, path, "model: kimi-k2.6\n  bad: [\n")
	if r := run(t, streams{}, "list"); cli.ExitCode(r.Err) != cli.ExitUsage || !strings.HasPrefix(r.Err.Error(), path+":2: ") {
		t.Errorf("YAML syntax error: %v", r.Err)
	}
}

func TestSetReadsTheValue(t *testing.T) {
	path := clitest.Isolate(t)
	// Piped: a password manager's output, with its newline.
	r := mustRun(t, streams{stdin: testKey + "\n"}, "set", "api_key")
	if got := readFile(t, path); got != "api_key: "+testKey+"\n" {
		t.Errorf("file = %q", got)
	}
	if strings.Contains(r.Out+r.ErrOut, testKey) {
		t.Error("the key was printed")
	}
	if r := run(t, streams{stdin: "a\nb\n"}, "set", "model"); cli.ExitCode(r.Err) != cli.ExitUsage || !strings.Contains(r.Err.Error(), "several lines") {
		t.Errorf("two lines: %v", r.Err)
	}
	if r := run(t, streams{stdin: ""}, "set", "model"); cli.ExitCode(r.Err) != cli.ExitUsage || !strings.Contains(r.Err.Error(), "empty value") {
		t.Errorf("nothing piped: %v", r.Err)
	}
	// On a terminal: the key is asked for without echo, other values with.
	r = mustRun(t, streams{tty: true, stdinTTY: true, stdin: "sk-typed-0123456789abcdefgh\n"}, "set", "api_key")
	if !strings.HasPrefix(r.ErrOut, "Value of api_key (input hidden): \n") || strings.Contains(r.ErrOut, "sk-typed") {
		t.Errorf("stderr = %q", r.ErrOut)
	}
	if v := mustRun(t, streams{}, "get", "api_key", "--reveal"); v.Out != "sk-typed-0123456789abcdefgh\n" {
		t.Errorf("stored key = %q", v.Out)
	}
	r = mustRun(t, streams{tty: true, stdinTTY: true, stdin: "kimi-k2.5\n"}, "set", "model")
	if !strings.HasPrefix(r.ErrOut, "Value of model: ") {
		t.Errorf("stderr = %q", r.ErrOut)
	}
	if v := mustRun(t, streams{}, "get", "model"); v.Out != "kimi-k2.5\n" {
		t.Errorf("model = %q", v.Out)
	}
}

func TestSetNotesOverride(t *testing.T) {
	clitest.Isolate(t)
	t.Setenv("MOONCHAT_MODEL", "kimi-k3")
	r := mustRun(t, streams{}, "set", "model", "kimi-k2.6")
	if r.ErrOut != "moonchat: note: $MOONCHAT_MODEL is set and takes precedence over the config file for model\n" {
		t.Errorf("stderr = %q", r.ErrOut)
	}
}

func TestHelpListsEveryKey(t *testing.T) {
	clitest.Isolate(t)
	ios, _, _, _ := iostreams.Test()
	long := strings.Join(strings.Fields(NewCmdConfig(cli.New(ios), nil).Long), " ")
	for _, k := range config.Keys() {
		head := k.Name + " (" + k.Type
		if k.Type == config.TypeEnum {
			head = k.Name + " (" + strings.Join(k.Enum, "|")
		}
		if k.Default != "" {
			head += ", default " + k.Default
		}
		if !strings.Contains(long, head+")") || !strings.Contains(long, strings.Join(strings.Fields(k.Description), " ")) {
			t.Errorf("help does not document %s as %q with its description", k.Name, head+")")
		}
		for _, env := range k.Env {
			if !strings.Contains(long, env) {
				t.Errorf("help does not name %s for %s", env, k.Name)
			}
		}
	}
	for _, line := range strings.Split(NewCmdConfig(cli.New(ios), nil).Long, "\n") {
		if len(line) > 80 {
			t.Errorf("help line longer than 80 columns: %q", line)
		}
	}
}

func TestCompletion(t *testing.T) {
	clitest.Isolate(t)
	ios, _, _, _ := iostreams.Test()
	root := NewCmdConfig(cli.New(ios), nil)
	sub := func(name string) *cobra.Command {
		for _, c := range root.Commands() {
			if c.Name() == name {
				return c
			}
		}
		t.Fatalf("no subcommand %s", name)
		return nil
	}
	complete := func(name string, args []string, prefix string) []string {
		c := sub(name)
		got, dir := c.ValidArgsFunction(c, args, prefix)
		if dir != cobra.ShellCompDirectiveNoFileComp {
			t.Errorf("%s: directive %v", name, dir)
		}
		return got
	}
	keys := complete("get", nil, "")
	if len(keys) != len(config.Keys()) || !strings.HasPrefix(keys[0], "api_key\t") {
		t.Errorf("keys = %q", keys)
	}
	if got := complete("set", nil, "max"); len(got) != 2 || !strings.HasPrefix(got[0], "max_tokens\t") || !strings.HasPrefix(got[1], "max_retries\t") {
		t.Errorf("max… = %q", got)
	}
	if got := complete("set", []string{"region"}, ""); strings.Join(got, ",") != "global,cn" {
		t.Errorf("region values = %q", got)
	}
	if got := complete("set", []string{"save_history"}, "f"); strings.Join(got, ",") != "false" {
		t.Errorf("save_history values = %q", got)
	}
	if got := complete("set", []string{"model"}, ""); len(got) != 0 {
		t.Errorf("model values = %q", got)
	}
	if got := complete("unset", []string{"model"}, ""); len(got) != 0 {
		t.Errorf("unset takes one key, completed %q", got)
	}
}

func TestFlagParsing(t *testing.T) {
	clitest.Isolate(t)
	ios, _, _, _ := iostreams.Test()
	var got *Options
	parse := func(args ...string) *Options {
		t.Helper()
		got = nil
		cmd := NewCmdConfig(cli.New(ios), func(o *Options) error { got = o; return nil })
		cmd.SetArgs(args)
		cmd.SetOut(&bytes.Buffer{})
		cmd.SetErr(&bytes.Buffer{})
		if err := cmd.Execute(); err != nil {
			t.Fatalf("%v: %v", args, err)
		}
		return got
	}
	if o := parse("set", "model"); o.Action != "set" || o.Key != "model" || o.HasValue {
		t.Errorf("set model: %+v", o)
	}
	if o := parse("set", "model", ""); !o.HasValue || o.Value != "" {
		t.Errorf("set model '': %+v", o)
	}
	if o := parse("list", "--origin", "--reveal", "--json", "--proxy", "socks5h://127.0.0.1:1080"); !o.Origin || !o.Reveal || !o.JSON ||
		o.Config.Value("proxy").Origin != config.OriginFlag {
		t.Errorf("list flags: %+v", o)
	}
	if o := parse("path"); o.Config != nil {
		t.Error("path loaded the config: it must work when the file is broken")
	}
	if o := parse("init", "--no-verify"); !o.NoVerify || o.Action != "init" {
		t.Errorf("init: %+v", o)
	}
}

// serve starts an emulator that accepts testKey and points the API base at it (but sets no key).
func serve(t *testing.T) *emulator.Server {
	t.Helper()
	srv := emulator.StartTB(t, emulator.Config{APIKey: testKey})
	t.Setenv("MOONSHOT_API_BASE", srv.URL)
	return srv
}

func TestInit(t *testing.T) {
	path := clitest.Isolate(t)
	srv := serve(t)
	// Key, then an invalid platform, then cn, then Enter for the default model.
	r := mustRun(t, streams{tty: true, stdinTTY: true, stdin: testKey + "\nmars\ncn\n\n"}, "init")
	if got := readFile(t, path); !strings.HasSuffix(got, "\n\napi_key: "+testKey+"\nregion: cn\n") || !strings.HasPrefix(got, "# moonchat configuration") {
		t.Errorf("file:\n%s", got)
	}
	if strings.Contains(r.Out+r.ErrOut, testKey) {
		t.Error("the key was echoed")
	}
	if r.Out != "" {
		t.Errorf("stdout = %q", r.Out)
	}
	for _, want := range []string{
		"Moonshot API key (input hidden): \n",
		"Platform: global (platform.moonshot.ai, USD) or cn (platform.moonshot.cn, CNY) [global]: ",
		`region: "mars" is not one of global, cn; try again`,
		"Default model [kimi-k2.6]: ",
		"The key works on " + strings.TrimSuffix(strings.TrimPrefix(srv.URL, "http://"), "/v1") + ": 20 models available",
		"Wrote " + path,
	} {
		if !strings.Contains(r.ErrOut, want) {
			t.Errorf("stderr does not show %q:\n%s", want, r.ErrOut)
		}
	}
	info, err := os.Stat(path)
	if err != nil || info.Mode().Perm() != 0o600 {
		t.Errorf("mode: %v %v", info, err)
	}
	if len(srv.Requests()) != 1 || srv.Requests()[0].Header.Get("Authorization") != "Bearer "+testKey {
		t.Error("the key was not checked with the typed key")
	}

	// A second run: Enter keeps every current value.
	before := readFile(t, path)
	r = mustRun(t, streams{stdinTTY: true, stdin: "\n\n\n"}, "init")
	if !strings.Contains(r.ErrOut, "Enter keeps sk-…cdef") || !strings.Contains(r.ErrOut, "[cn]: ") {
		t.Errorf("current values not offered:\n%s", r.ErrOut)
	}
	if got := readFile(t, path); got != before {
		t.Errorf("Enter changed the file:\n%s", got)
	}
}

func TestInitRejectedKeyWritesNothing(t *testing.T) {
	path := clitest.Isolate(t)
	srv := serve(t)
	// Three refused keys (each with Enter for the platform): the setup stops.
	const wrong = "sk-wrong-0123456789abcdef\n\n"
	r := run(t, streams{stdinTTY: true, stdin: wrong + wrong + wrong}, "init")
	if cli.ExitCode(r.Err) != cli.ExitAuth {
		t.Fatalf("exit %d: %v", cli.ExitCode(r.Err), r.Err)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Error("a rejected key was written")
	}
	if n := strings.Count(r.ErrOut, "Moonshot API key (input hidden)"); n != 3 {
		t.Errorf("the key was asked %d times:\n%s", n, r.ErrOut)
	}
	// The explanation, then "Nothing was written." last, and no other error after it.
	explain := strings.LastIndex(r.ErrOut, "The key was refused: ")
	nothing := strings.Index(r.ErrOut, "Nothing was written.")
	if explain < 0 || nothing < explain || !strings.HasSuffix(r.ErrOut, "Nothing was written.\n") {
		t.Errorf("stderr = %q", r.ErrOut)
	}
	// The advice fits the wizard: the API base of the environment decides here, not the
	// platform answer, and it says so.
	if !strings.Contains(r.ErrOut, "Requests go to "+srv.URL+" (api_base, from $MOONSHOT_API_BASE), whatever the platform answer") ||
		strings.Contains(r.ErrOut, "--region") {
		t.Errorf("advice: %q", r.ErrOut)
	}
	var ee *cli.ExitError
	if !errors.As(r.Err, &ee) || ee.Err != nil {
		t.Errorf("the root would print more after the explanation: %v", r.Err)
	}

	// A refused key, then the right one: the setup goes on.
	r = mustRun(t, streams{stdinTTY: true, stdin: wrong + testKey + "\n\n\n"}, "init")
	if !strings.Contains(r.ErrOut, "Try again (2 of 3).") || !strings.HasSuffix(readFile(t, path), "\napi_key: "+testKey+"\n") {
		t.Errorf("stderr = %q", r.ErrOut)
	}

	// --no-verify skips the check.
	mustRun(t, streams{stdinTTY: true, stdin: "sk-wrong-0123456789abcdef\n\n\n"}, "init", "--no-verify")
	if got := readFile(t, path); !strings.HasSuffix(got, "\napi_key: sk-wrong-0123456789abcdef\n") {
		t.Errorf("file:\n%s", got)
	}
}

func TestInitRefusalAdviceNamesThePlatformQuestion(t *testing.T) {
	clitest.Isolate(t)
	// With no API base set, the platform answer decides where the key is checked, and the
	// advice is about that answer. (A test can reach a local server only through api_base,
	// so this case is checked on the explanation itself.)
	ios, _, _, errOut := iostreams.Test()
	cfg, err := config.Load()
	if err != nil {
		t.Fatal(err)
	}
	explainRefusal(&Options{IO: ios, Config: cfg}, &moonshot.APIError{StatusCode: 401, Type: "invalid_authentication_error", Message: "Invalid Authentication"})
	got := errOut.String()
	if !strings.HasPrefix(got, "The key was refused: ") || !strings.Contains(got, "choose cn at the platform question if your key is from platform.moonshot.cn") ||
		strings.Contains(got, "MOONSHOT_API_KEY") || strings.Contains(got, "--region") {
		t.Errorf("advice = %q", got)
	}
}

func TestInitUnreachableAPIStillSaves(t *testing.T) {
	path := clitest.Isolate(t)
	t.Setenv("MOONSHOT_API_BASE", "http://127.0.0.1:1/v1")
	t.Setenv("MOONCHAT_MAX_RETRIES", "0")
	r := mustRun(t, streams{stdinTTY: true, stdin: testKey + "\n\nkimi-k2.5\n"}, "init")
	if !strings.Contains(r.ErrOut, "could not check the key") || !strings.Contains(r.ErrOut, "saving it anyway") {
		t.Errorf("stderr = %q", r.ErrOut)
	}
	if got := readFile(t, path); !strings.HasSuffix(got, "\napi_key: "+testKey+"\nmodel: kimi-k2.5\n") {
		t.Errorf("file:\n%s", got)
	}
}

func TestInitNeedsTerminal(t *testing.T) {
	path := clitest.Isolate(t)
	r := run(t, streams{stdin: testKey + "\n"}, "init")
	if cli.ExitCode(r.Err) != cli.ExitUsage || !strings.Contains(r.Err.Error(), "needs a terminal") {
		t.Errorf("err = %v", r.Err)
	}
	if r.ErrOut != "" {
		t.Errorf("prompted without a terminal: %q", r.ErrOut)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Error("file written")
	}
	// Input that ends early writes nothing either.
	r = run(t, streams{stdinTTY: true, stdin: testKey + "\n"}, "init", "--no-verify")
	if cli.ExitCode(r.Err) != cli.ExitUsage || !strings.Contains(r.Err.Error(), "nothing was written") {
		t.Errorf("short input: %v", r.Err)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Error("file written after short input")
	}
}

func TestSetModelIsChecked(t *testing.T) {
	srv := clitest.Serve(t, emulator.Config{APIKey: testKey,
		Models: append(emulator.DefaultModels(), emulator.Model{ID: "kimi-k9-preview", ContextLength: 1 << 20})})
	path := filepath.Join(os.Getenv("XDG_CONFIG_HOME"), "moonchat", "config.yaml")
	// A model of the table needs no request; one the server lists is asked about and kept.
	mustRun(t, streams{}, "set", "model", "kimi-k2.5")
	if n := len(srv.Requests()); n != 0 {
		t.Errorf("a model of the table cost %d requests", n)
	}
	mustRun(t, streams{}, "set", "model", "kimi-k9-preview")
	if got := readFile(t, path); !strings.Contains(got, "model: kimi-k9-preview\n") {
		t.Errorf("file:\n%s", got)
	}
	// An unknown one is refused, and the file keeps the model it had.
	r := run(t, streams{}, "set", "model", "gpt-4o")
	if cli.ExitCode(r.Err) != cli.ExitUsage || !strings.Contains(r.Err.Error(), `unknown model "gpt-4o"`) {
		t.Errorf("set model gpt-4o: %v (exit %d)", r.Err, cli.ExitCode(r.Err))
	}
	if got := readFile(t, path); !strings.Contains(got, "model: kimi-k9-preview\n") {
		t.Errorf("the refused model changed the file:\n%s", got)
	}
	// A retired one is kept with a note, without a request: the server decides, as for -m.
	before := len(srv.Requests())
	if r := mustRun(t, streams{}, "set", "model", "kimi-thinking-preview"); !strings.Contains(r.ErrOut, "note: kimi-thinking-preview was retired by Moonshot") {
		t.Errorf("set a retired model: %q", r.ErrOut)
	}
	if len(srv.Requests()) != before {
		t.Errorf("a retired model of the table cost a request")
	}
}
