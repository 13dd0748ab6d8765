package roles

import (
	"strings"
	"testing"

	"github.com/moonchat/moonchat/cmd/cli"
	"github.com/moonchat/moonchat/internal/clitest"
)

func run(t *testing.T, tty bool, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	s := clitest.NewStreams("")
	s.IO.SetStdoutTTY(tty)
	s.IO.SetStderrTTY(tty)
	r := s.Run(t, NewCmdRoles(cli.New(s.IO), nil), args...)
	return r.Out, r.ErrOut, r.Err
}

func TestList(t *testing.T) {
	path := clitest.Isolate(t)
	if out, errOut, err := run(t, true, "list"); err != nil || out != "" || !strings.HasPrefix(errOut, "no roles yet") {
		t.Errorf("no roles: %q %q %v", out, errOut, err)
	}
	conf := "roles:\n  shell: |\n    One command.\n    Nothing else.\n  reviewer:\n    system: You review Go code.\n    model: kimi-k2.6\n    temperature: 0.3\n    thinking: false\n"
	clitest.WriteFile(t, path, conf)
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
