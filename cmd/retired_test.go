package cmd

import (
	"strings"
	"testing"

	"github.com/moonchat/moonchat/pkg/emulator"
)

// TestRetiredModelNoticeOnceAndSent: a retired id prints one notice naming the replacement,
// and the request is still sent (the server decides).
func TestRetiredModelNoticeOnceAndSent(t *testing.T) {
	h := newHarness(t)
	r := h.run("chat", "-m", "kimi-k2.5", "hi")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	notice := "kimi-k2.5 was retired by Moonshot on 2026-08-31 (a date from third parties); use kimi-k2.6 instead"
	if strings.Count(r.stderr, notice) != 1 || strings.Count(r.stderr, "retired") != 1 {
		t.Errorf("want one notice %q, stderr %q", notice, r.stderr)
	}
	if n := len(h.chatBodies()); n != 1 {
		t.Errorf("%d requests sent", n)
	}
	if r := h.run("chat", "-m", "kimi-k2.6", "hi"); strings.Contains(r.stderr, "retired") {
		t.Errorf("a current model got a notice: %q", r.stderr)
	}
}

// TestRetiredModel404Hint: Moonshot answers a retired id with 404 resource_not_found_error;
// the hint names the replacement. An id that was never known keeps the generic hint.
func TestRetiredModel404Hint(t *testing.T) {
	var current []emulator.Model
	for _, m := range emulator.DefaultModels() {
		if strings.HasPrefix(m.ID, "kimi-k3") || strings.HasPrefix(m.ID, "kimi-k2.7") || m.ID == "kimi-k2.6" {
			current = append(current, m)
		}
	}
	srv := emulator.StartTB(t, emulator.Config{APIKey: testKey, Models: current})
	h := newHarness(t)
	t.Setenv("MOONSHOT_API_BASE", srv.URL)

	r := h.run("chat", "-m", "moonshot-v1-8k", "hi")
	if r.code != 5 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	r.saysAll(t,
		"moonchat: 404 resource_not_found_error: Not found the model moonshot-v1-8k or Permission denied",
		"hint: moonshot-v1-8k was retired by Moonshot on 2026-08-31 (a date from third parties); use kimi-k2.6 with --no-thinking: -m kimi-k2.6, or `moonchat config set model kimi-k2.6`",
	)
	r = h.run("chat", "-m", "kimi-k9-nonesuch", "hi")
	if r.code != 5 || !strings.Contains(r.stderr, "hint: list the models your key can use with `moonchat models`") {
		t.Errorf("unknown model: exit %d, stderr %q", r.code, r.stderr)
	}
}
