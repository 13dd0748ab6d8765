package chat

import (
	"strings"
	"testing"

	"github.com/moonchat/moonchat/internal/clitest"
)

func TestTitle(t *testing.T) {
	e := newTestEnv(t)
	c := seed(t, e, "--title", "  Kyoto trip ", "Plan three days in Kyoto")
	if c.Title != "Kyoto trip" {
		t.Errorf("title = %q", c.Title)
	}
	// The title finds it; a continuation keeps it, or takes a new one.
	if r := e.run("--conversation", "Kyoto trip", "Add Nara"); r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	if r := e.run("-c", "--title", "Kyoto and Nara", "And Osaka?"); r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	convs := clitest.Conversations(t)
	if len(convs) != 1 || convs[0].Title != "Kyoto and Nara" || len(convs[0].Msgs) != 6 {
		t.Errorf("saved %d conversations: %+v", len(convs), convs)
	}
	// Without --title the automatic title stays the first line of the first prompt.
	if c := seed(t, e, "First line\nsecond line"); c.Title != "First line" {
		t.Errorf("automatic title = %q", c.Title)
	}
	for _, args := range [][]string{{"--title", " ", "hi"}, {"--title", "a\nb", "hi"}, {"--title", "x", "--no-save", "hi"}} {
		if r := e.run(args...); r.code != 2 || !strings.Contains(r.stderr, "--title") {
			t.Errorf("%q: exit %d, %s", args, r.code, r.stderr)
		}
	}
	if n := len(e.srv.ChatBodies()); n != 4 {
		t.Errorf("%d requests; the refused ones must send none", n)
	}
}
