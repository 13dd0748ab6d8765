package history

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
)

func TestFork(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	orig := mustCreate(t, s, Conversation{Title: "Plan", Model: "kimi-k2.6", System: "be brief"})
	mustAppend(t, s, orig.ID,
		Message{Role: "user", Content: "one"},
		Message{Role: "assistant", Content: "1", ReasoningContent: "r", PromptTokens: 3, CompletionTokens: 1, Model: "kimi-k2.6",
			ToolCalls: json.RawMessage(`[{"id":"c","type":"function","function":{"name":"f","arguments":"{}"}}]`)},
		Message{Role: "user", Content: "two"},
		Message{Role: "assistant", Content: "2"})

	fork, err := s.Fork(ctx, orig.ID, 2, "")
	if err != nil {
		t.Fatal(err)
	}
	if fork.ID == orig.ID || fork.Title != "Plan (fork)" || fork.Model != "kimi-k2.6" || fork.System != "be brief" || fork.MessageCount != 2 {
		t.Errorf("fork = %+v", fork)
	}
	_, om, _ := s.Get(ctx, orig.ID)
	_, fm, err := s.Get(ctx, fork.ID)
	if err != nil || len(fm) != 2 || len(om) != 4 {
		t.Fatalf("fork has %d messages, original %d: %v", len(fm), len(om), err)
	}
	for i := range fm {
		a, b := fm[i], om[i]
		if a.ID == b.ID || a.ConversationID != fork.ID || a.Role != b.Role || a.Content != b.Content || a.ReasoningContent != b.ReasoningContent ||
			string(a.ToolCalls) != string(b.ToolCalls) || a.PromptTokens != b.PromptTokens || a.Model != b.Model || !a.CreatedAt.Equal(b.CreatedAt) {
			t.Errorf("message %d copied as %+v, from %+v", i+1, a, b)
		}
	}
	// The copy is searchable like any message.
	if hits, err := s.Search(ctx, "one", 10); err != nil || len(hits) != 2 {
		t.Errorf("search found %d hits, want the original and the fork: %v", len(hits), err)
	}
	ftsIntegrity(t, s)

	named, err := s.Fork(ctx, orig.ID, 4, "Plan B")
	if err != nil || named.Title != "Plan B" || named.MessageCount != 4 {
		t.Errorf("fork with a title: %+v %v", named, err)
	}
	for _, n := range []int{0, 5, -1} {
		var re *RangeError
		if _, err := s.Fork(ctx, orig.ID, n, ""); !errors.As(err, &re) || re.Count != 4 {
			t.Errorf("Fork at %d: %v", n, err)
		}
	}
	if _, err := s.Fork(ctx, "nosuch00", 1, ""); !errors.Is(err, ErrNotFound) {
		t.Errorf("Fork of a missing conversation: %v", err)
	}
}

func TestRename(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	c := mustCreate(t, s, Conversation{Title: "old"})
	got, err := s.Rename(ctx, c.ID, "new name")
	if err != nil || got.Title != "new name" || !got.UpdatedAt.Equal(c.UpdatedAt) {
		t.Errorf("Rename = %+v, %v", got, err)
	}
	if r, err := s.Resolve(ctx, "new name"); err != nil || r.ID != c.ID {
		t.Errorf("the new title does not resolve: %v", err)
	}
	ftsIntegrity(t, s)
	if _, err := s.Rename(ctx, "nosuch00", "x"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Rename of a missing conversation: %v", err)
	}
}

func TestMarkReplaced(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	c := mustCreate(t, s, Conversation{})
	mustAppend(t, s, c.ID, Message{Role: "user", Content: "one"}, Message{Role: "assistant", Content: "1"},
		Message{Role: "user", Content: "two"}, Message{Role: "assistant", Content: "2"})
	_, msgs, _ := s.Get(ctx, c.ID)
	n, err := s.MarkReplaced(ctx, c.ID, msgs[2].ID)
	if err != nil || n != 2 {
		t.Fatalf("MarkReplaced = %d, %v", n, err)
	}
	_, msgs, _ = s.Get(ctx, c.ID)
	var marks []bool
	for _, m := range msgs {
		marks = append(marks, m.Replaced)
	}
	if len(msgs) != 4 || marks[0] || marks[1] || !marks[2] || !marks[3] {
		t.Errorf("replaced marks = %v", marks)
	}
	// A fork keeps the marks; a second call marks nothing more.
	fork, err := s.Fork(ctx, c.ID, 4, "")
	if err != nil {
		t.Fatal(err)
	}
	if _, fm, _ := s.Get(ctx, fork.ID); !fm[3].Replaced || fm[1].Replaced {
		t.Errorf("the fork's marks: %+v", fm)
	}
	if n, _ := s.MarkReplaced(ctx, c.ID, msgs[0].ID); n != 2 {
		t.Errorf("marked %d more, want the 2 unmarked", n)
	}
	if _, err := s.MarkReplaced(ctx, "nosuch00", 1); !errors.Is(err, ErrNotFound) {
		t.Errorf("MarkReplaced of a missing conversation: %v", err)
	}
}
