package chat

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/moonchat/moonchat/internal/clitest"
)

func TestRoleFlag(t *testing.T) {
	e := newTestEnv(t)
	clitest.WriteFile(t, filepath.Join(os.Getenv("XDG_CONFIG_HOME"), "moonchat", "config.yaml"),
		"roles:\n  k3:\n    system: Be terse.\n    model: kimi-k3\n    reasoning_effort: low\n")
	if r := e.run("-r", "k3", "hi"); r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	b := e.srv.ChatBodies()[0]
	if b["model"] != "kimi-k3" || b["reasoning_effort"] != "low" || contents(e.lastMessages())[0] != "system: Be terse." {
		t.Errorf("request: %v %v %q", b["model"], b["reasoning_effort"], contents(e.lastMessages()))
	}
	// A flag wins over the role: -s and --reasoning-effort here.
	if r := e.run("-r", "k3", "-s", "Be kind.", "--reasoning-effort", "high", "hi"); r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	if b := e.srv.ChatBodies()[1]; b["model"] != "kimi-k3" || b["reasoning_effort"] != "high" || contents(e.lastMessages())[0] != "system: Be kind." {
		t.Errorf("request with flags: %v %v %q", b["model"], b["reasoning_effort"], contents(e.lastMessages()))
	}
	// The role's model obeys the same checks as -m: kimi-k3 always thinks.
	if r := e.run("-r", "k3", "--no-thinking", "hi"); r.code != 2 || !strings.Contains(r.stderr, "kimi-k3") {
		t.Errorf("--no-thinking with a kimi-k3 role: exit %d, %s", r.code, r.stderr)
	}
	if r := e.run("-r", "nosuch", "hi"); r.code != 2 || !strings.Contains(r.stderr, `no role "nosuch"; the roles are k3`) {
		t.Errorf("unknown role: exit %d, %s", r.code, r.stderr)
	}
	if n := len(e.srv.ChatBodies()); n != 2 {
		t.Errorf("%d requests; refused ones must send none", n)
	}
}
