package chat

import (
	"strings"
	"testing"
)

// Numbers no request can carry, and a --max-continues that would send thousands of billed
// requests, are usage errors (exit 2) naming the flag; nothing is sent.
func TestFlagBounds(t *testing.T) {
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"--temperature", "NaN"}, "--temperature must be a number, not NaN"},
		{[]string{"--temperature", "Inf"}, "--temperature must be a number, not +Inf"},
		{[]string{"--temperature=-Inf"}, "--temperature must be a number, not -Inf"},
		{[]string{"--top-p", "nan"}, "--top-p must be a number, not NaN"},
		{[]string{"--max-continues", "1000000"}, "--max-continues must be 0 to 20"},
		{[]string{"--max-continues", "-1"}, "--max-continues must be 0 to 20"},
	} {
		e := newTestEnv(t)
		r := e.run(append([]string{"-m", "moonshot-v1-8k"}, append(tt.args, "hi")...)...)
		if r.code != 2 || !strings.Contains(r.stderr, tt.want) {
			t.Errorf("%v: exit %d, stderr %q; want 2 and %q", tt.args, r.code, r.stderr, tt.want)
		}
		if n := len(e.srv.ChatBodies()); n != 0 {
			t.Errorf("%v: %d requests sent", tt.args, n)
		}
	}
	e := newTestEnv(t)
	if r := e.run("-m", "kimi-k2-turbo-preview", "--max-continues", "20", "--temperature", "0.3", "hi"); r.code != 0 {
		t.Errorf("--max-continues 20: exit %d: %s", r.code, r.stderr)
	}
}
