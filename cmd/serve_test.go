package cmd

import (
	"strings"
	"testing"
)

// `moonchat serve` through the root, as a user runs it: exposing the proxy beyond this machine
// without a master key is a usage error (exit 2) that says what to do, before anything listens.
func TestServeRefusesToExposeWithoutMasterKey(t *testing.T) {
	h := newHarness(t)
	t.Setenv("MOONCHAT_MASTER_KEY", "")
	t.Setenv("LITELLM_MASTER_KEY", "")
	r := h.run("serve", "--offline", "--host", "0.0.0.0", "--port", "0")
	if r.code != 2 {
		t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
	}
	if !strings.Contains(r.stderr, "refusing to listen on 0.0.0.0 without a master key") || !strings.Contains(r.stderr, "hint: set MOONCHAT_MASTER_KEY") {
		t.Fatalf("stderr %q", r.stderr)
	}
	if r.stdout != "" {
		t.Fatalf("stdout %q", r.stdout)
	}
	if r := h.run("serve", "--port", "-1"); r.code != 2 {
		t.Fatalf("--port -1: exit %d", r.code)
	}
}
