package roles

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/moonchat/moonchat/cmd/cli"
	"github.com/moonchat/moonchat/pkg/iostreams"
)

func run(t *testing.T, tty bool, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	ios, _, out, errOut := iostreams.Test()
	ios.SetStdoutTTY(tty)
	ios.SetStderrTTY(tty)
	cmd := NewCmdRoles(cli.New(ios), nil)
	cmd.SetArgs(args)
	cmd.SetOut(&bytes.Buffer{})
	cmd.SetErr(&bytes.Buffer{})
	err = cmd.Execute()
	return out.String(), errOut.String(), err
}

func TestList(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("XDG_CONFIG_HOME", dir)
	t.Setenv("MOONCHAT_CONFIG", "")
	t.Setenv("HOME", dir)
	if out, errOut, err := run(t, true, "list"); err != nil || out != "" || !strings.HasPrefix(errOut, "no roles yet") {
		t.Errorf("no roles: %q %q %v", out, errOut, err)
	}
	path := filepath.Join(dir, "moonchat", "config.yaml")
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	conf := "roles:\n  shell: |\n    One command.\n    Nothing else.\n  reviewer:\n    system: You review Go code.\n    model: kimi-k2.6\n    temperature: 0.3\n    thinking: false\n"
	if err := os.WriteFile(path, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	out, _, err := run(t, true, "list")
	want := "NAME      MODEL      SYSTEM PROMPT\n" +
		"reviewer  kimi-k2.6  You review Go code. (temperature 0.3, no thinking)\n" +
		"shell     -          One command.\n"
	if err != nil || out != want {
		t.Errorf("terminal:\n%s\nwant:\n%s (%v)", out, want, err)
	}
	out, _, _ = run(t, false, "list")
	if out != "reviewer\tkimi-k2.6\tYou review Go code. (temperature 0.3, no thinking)\nshell\t-\tOne command.\n" {
		t.Errorf("piped: %q", out)
	}
	out, _, _ = run(t, false, "list", "--json")
	if !strings.Contains(out, `"name": "reviewer"`) || !strings.Contains(out, `"temperature": 0.3`) || !strings.Contains(out, `"thinking": false`) ||
		!strings.Contains(out, `"system": "One command.\nNothing else.\n"`) {
		t.Errorf("--json: %s", out)
	}
}
