package historycmd

import (
	"context"
	"strings"
	"testing"

	"github.com/moonchat/moonchat/cmd/cli"
	"github.com/moonchat/moonchat/pkg/history"
)

func TestRename(t *testing.T) {
	fx := newFixture(t)
	c := fx.seed(history.Conversation{Model: "kimi-k2.6"}, history.Message{Role: "user", Content: "plan a trip"})
	r := fx.mustRun(terminal, "rename", c.ID[:4], "Kyoto", "trip")
	if r.stdout != "" || r.stderr != "Renamed "+c.ID+" to \"Kyoto trip\"\n" {
		t.Errorf("stdout %q, stderr %q", r.stdout, r.stderr)
	}
	got, _, err := fx.store.Get(context.Background(), c.ID)
	if err != nil || got.Title != "Kyoto trip" {
		t.Errorf("title = %q, %v", got.Title, err)
	}
	// The new title is a name for it.
	if r := fx.mustRun(piped, "rename", "Kyoto trip", "Nara"); r.stdout != "" || r.stderr != "" {
		t.Errorf("piped rename printed %q %q", r.stdout, r.stderr)
	}
	for _, args := range [][]string{{"rename", c.ID}, {"rename", c.ID, " "}, {"rename", c.ID, "two\nlines"}, {"rename", "zz99", "x"}} {
		if err := fx.run(piped, args...).err; cli.ExitCode(err) != cli.ExitUsage {
			t.Errorf("history %q: %v", args, err)
		}
	}
}

func TestFork(t *testing.T) {
	fx := newFixture(t)
	c := fx.seed(history.Conversation{Model: "kimi-k2.6", System: "be brief"},
		history.Message{Role: "user", Content: "one"}, history.Message{Role: "assistant", Content: "1"},
		history.Message{Role: "user", Content: "two"}, history.Message{Role: "assistant", Content: "2"})
	r := fx.mustRun(piped, "fork", c.ID, "--at", "2")
	id := strings.TrimSpace(r.stdout)
	if r.stderr != "" || id == c.ID || len(id) != len(c.ID) {
		t.Fatalf("stdout %q, stderr %q", r.stdout, r.stderr)
	}
	ctx := context.Background()
	fork, msgs, err := fx.store.Get(ctx, id)
	if err != nil || len(msgs) != 2 || msgs[1].Content != "1" || fork.Title != "one (fork)" || fork.System != "be brief" || fork.Model != "kimi-k2.6" {
		t.Fatalf("fork %+v %+v %v", fork, msgs, err)
	}
	if _, orig, _ := fx.store.Get(ctx, c.ID); len(orig) != 4 {
		t.Errorf("the original has %d messages", len(orig))
	}
	// All of it by default, a title when asked, a note on a terminal.
	r = fx.mustRun(terminal, "fork", c.ID, "--title", "Plan B")
	id = strings.TrimSpace(r.stdout)
	if !strings.Contains(r.stderr, "Forked "+c.ID+" at message 4 of 4 into "+id+` "Plan B"`) {
		t.Errorf("stderr %q", r.stderr)
	}
	if f, msgs, _ := fx.store.Get(ctx, id); f.Title != "Plan B" || len(msgs) != 4 {
		t.Errorf("fork %+v with %d messages", f, len(msgs))
	}
	for _, args := range [][]string{{"fork", c.ID, "--at", "5"}, {"fork", c.ID, "--at", "0"}, {"fork", "zz99"}, {"fork", c.ID, "--title", ""}} {
		if err := fx.run(piped, args...).err; cli.ExitCode(err) != cli.ExitUsage {
			t.Errorf("history %q: %v", args, err)
		}
	}
	if err := fx.run(piped, "fork", c.ID, "--at", "5").err; !strings.Contains(err.Error(), "it has messages 1 to 4") {
		t.Errorf("--at 5: %v", err)
	}
}

func TestShowMarksAReplacedExchange(t *testing.T) {
	fx := newFixture(t)
	c := fx.seed(history.Conversation{},
		history.Message{Role: "user", Content: "first try"}, history.Message{Role: "assistant", Content: "first answer"},
		history.Message{Role: "user", Content: "second try"}, history.Message{Role: "assistant", Content: "second answer"})
	ctx := context.Background()
	_, msgs, _ := fx.store.Get(ctx, c.ID)
	if _, err := fx.store.MarkReplaced(ctx, c.ID, msgs[2].ID); err != nil {
		t.Fatal(err)
	}
	r := fx.mustRun(piped, "show", c.ID)
	note := "[replaced: /edit last asked an edited question instead; later turns do not include this exchange]"
	if !strings.HasSuffix(r.stdout, "second answer\n"+note+"\n") || strings.Count(r.stdout, note) != 1 {
		t.Errorf("show:\n%s", r.stdout)
	}
	if r := fx.mustRun(piped, "show", "--json", c.ID); strings.Count(r.stdout, `"replaced": true`) != 2 {
		t.Errorf("show --json:\n%s", r.stdout)
	}
}
