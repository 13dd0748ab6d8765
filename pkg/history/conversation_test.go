package history

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"
)

func mustCreate(t *testing.T, s *Store, c Conversation) Conversation {
	t.Helper()
	got, err := s.Create(context.Background(), c)
	if err != nil {
		t.Fatalf("Create(%+v): %v", c, err)
	}
	return got
}

func mustAppend(t *testing.T, s *Store, id string, msgs ...Message) {
	t.Helper()
	if err := s.Append(context.Background(), id, msgs...); err != nil {
		t.Fatalf("Append(%s): %v", id, err)
	}
}

func countRows(t *testing.T, s *Store, query string, args ...any) int {
	t.Helper()
	var n int
	if err := s.db.QueryRow(query, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestCreateGeneratesShortUniqueIDs(t *testing.T) {
	s := newStore(t)
	idShape := regexp.MustCompile(`^[0-9a-f]{8}$`)
	seen := map[string]bool{}
	for range 50 {
		c := mustCreate(t, s, Conversation{})
		if !idShape.MatchString(c.ID) {
			t.Fatalf("id %q is not 8 lowercase hex characters", c.ID)
		}
		if seen[c.ID] {
			t.Fatalf("duplicate id %q", c.ID)
		}
		seen[c.ID] = true
	}
}

func TestCreateKeepsGivenFields(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	created := time.Date(2026, 3, 1, 12, 30, 45, 123456789, time.FixedZone("CST", 8*3600))
	c := mustCreate(t, s, Conversation{ID: "abc123", Title: "t", Model: "kimi-k2", System: "be brief", CreatedAt: created})
	if c.ID != "abc123" || !c.CreatedAt.Equal(created) || !c.UpdatedAt.Equal(created) {
		t.Errorf("Create returned %+v", c)
	}
	got, msgs, err := s.Get(ctx, "abc123")
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != 0 || !reflect.DeepEqual(got, c) {
		t.Errorf("Get = %+v, %v; Create returned %+v", got, msgs, c)
	}
	if _, err := s.Create(ctx, Conversation{ID: "abc123"}); err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Errorf("duplicate id: err = %v", err)
	}
	for _, bad := range []string{"ABC", "a b", "a*", "ab?", strings.Repeat("a", 65)} {
		if _, err := s.Create(ctx, Conversation{ID: bad}); err == nil {
			t.Errorf("Create accepted id %q", bad)
		}
	}
}

// Every Message field survives a save and a load.
func TestMessageRoundTrip(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	c := mustCreate(t, s, Conversation{Model: "kimi-k2-thinking"})
	at := time.Date(2026, 5, 4, 3, 2, 1, 987654321, time.UTC)
	toolCalls := json.RawMessage(`[{"index":0,"id":"get_weather_0","type":"function","function":{"name":"get_weather","arguments":"{\"city\": \"Paris\"}"}}]`)
	in := []Message{
		{Role: "user", Content: "Weather in Paris?", CreatedAt: at},
		{
			Role: "assistant", Content: "", ReasoningContent: "The user wants weather; call the tool.",
			ToolCalls: toolCalls, PromptTokens: 213, CompletionTokens: 50, CachedTokens: 90,
			FinishReason: "tool_calls", Model: "kimi-k2-thinking", CreatedAt: at.Add(time.Second),
		},
		{Role: "tool", Name: "get_weather", ToolCallID: "get_weather_0", Content: `{"temp":21}`, CreatedAt: at.Add(2 * time.Second)},
		{
			Role: "assistant", Content: "It is 21°C and", ReasoningContent: "Answer briefly.",
			FinishReason: "", Interrupted: true, Incomplete: true, Model: "kimi-k2-thinking",
			PromptTokens: 1, CompletionTokens: 2, CachedTokens: 3, CreatedAt: at.Add(3 * time.Second),
		},
	}
	mustAppend(t, s, c.ID, in...)
	_, got, err := s.Get(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(in) {
		t.Fatalf("got %d messages, want %d", len(got), len(in))
	}
	for i := range in {
		want := in[i]
		want.ID = got[i].ID
		want.ConversationID = c.ID
		if !reflect.DeepEqual(got[i], want) {
			t.Errorf("message %d:\n got %+v\nwant %+v", i, got[i], want)
		}
		if i > 0 && got[i].ID <= got[i-1].ID {
			t.Errorf("message ids not increasing: %d then %d", got[i-1].ID, got[i].ID)
		}
	}
	if got[0].ToolCalls != nil {
		t.Errorf("message without tool calls came back with %q", got[0].ToolCalls)
	}
}

func TestAppendKeepsOrderAndBumpsUpdatedAt(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	old := time.Now().Add(-time.Hour).UTC()
	c := mustCreate(t, s, Conversation{CreatedAt: old})
	var want []string
	for i := range 5 {
		// Zero CreatedAt means "now": order must come from insertion, not time.
		a, b := "q"+string(rune('a'+i)), "a"+string(rune('a'+i))
		mustAppend(t, s, c.ID, Message{Role: "user", Content: a}, Message{Role: "assistant", Content: b})
		want = append(want, a, b)
	}
	got, msgs, err := s.Get(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	var contents []string
	for _, m := range msgs {
		contents = append(contents, m.Content)
		if m.CreatedAt.Before(old) || m.CreatedAt.Location() != time.UTC {
			t.Errorf("message CreatedAt = %v", m.CreatedAt)
		}
	}
	if !reflect.DeepEqual(contents, want) {
		t.Errorf("order = %v, want %v", contents, want)
	}
	if !got.UpdatedAt.After(old) || !got.CreatedAt.Equal(old) {
		t.Errorf("times after Append: created %v updated %v (created at %v)", got.CreatedAt, got.UpdatedAt, old)
	}
	if got.MessageCount != 10 {
		t.Errorf("MessageCount = %d, want 10", got.MessageCount)
	}
}

func TestAppendSetsTitleFromFirstPrompt(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	c := mustCreate(t, s, Conversation{})
	mustAppend(t, s, c.ID,
		Message{Role: "system", Content: "You are terse."},
		Message{Role: "user", Content: "\n  Explain   WAL mode\nin SQLite please"},
		Message{Role: "assistant", Content: "Sure."})
	mustAppend(t, s, c.ID, Message{Role: "user", Content: "another question"})
	got, _, err := s.Get(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Title != "Explain WAL mode" {
		t.Errorf("title = %q", got.Title)
	}

	titled := mustCreate(t, s, Conversation{Title: "chosen"})
	mustAppend(t, s, titled.ID, Message{Role: "user", Content: "prompt"})
	if got, _, _ := s.Get(ctx, titled.ID); got.Title != "chosen" {
		t.Errorf("Append replaced a given title with %q", got.Title)
	}
}

func TestAppendErrors(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	err := s.Append(ctx, "deadbeef", Message{Role: "user", Content: "x"})
	if !errors.Is(err, ErrNotFound) || err.Error() != `no conversation matches "deadbeef"` {
		t.Errorf("Append to unknown conversation: %v", err)
	}
	c := mustCreate(t, s, Conversation{})
	if err := s.Append(ctx, c.ID, Message{Role: "", Content: "x"}); err == nil {
		t.Error("Append accepted a message without a role")
	}
	err = s.Append(ctx, c.ID, Message{Role: "user", Content: "ok"}, Message{Role: "assistant", ToolCalls: json.RawMessage(`[{`)})
	if err == nil {
		t.Error("Append accepted invalid tool_calls JSON")
	}
	// The batch is one transaction: nothing of a rejected batch is kept.
	if n := countRows(t, s, `SELECT count(*) FROM messages`); n != 0 {
		t.Errorf("%d messages stored by failed Appends", n)
	}
}

func TestAppendIsAtomic(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	c := mustCreate(t, s, Conversation{})
	// Make the second insert fail inside the transaction.
	if _, err := s.db.Exec(`CREATE TRIGGER reject BEFORE INSERT ON messages WHEN new.content = 'boom'
		BEGIN SELECT RAISE(ABORT, 'rejected'); END`); err != nil {
		t.Fatal(err)
	}
	if err := s.Append(ctx, c.ID, Message{Role: "user", Content: "first"}, Message{Role: "assistant", Content: "boom"}); err == nil {
		t.Fatal("Append succeeded past a failing insert")
	}
	if n := countRows(t, s, `SELECT count(*) FROM messages`); n != 0 {
		t.Errorf("%d messages kept from a failed Append", n)
	}
	if got, _, _ := s.Get(ctx, c.ID); got.Title != "" {
		t.Errorf("failed Append set title %q", got.Title)
	}
}

func TestResolve(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	base := time.Now().Add(-time.Hour)
	mustCreate(t, s, Conversation{ID: "ab12cd34", Title: "Rust lifetimes", CreatedAt: base})
	mustCreate(t, s, Conversation{ID: "ab99ff00", Title: "Go generics", CreatedAt: base.Add(time.Minute)})
	mustCreate(t, s, Conversation{ID: "cd000000", Title: "weekend plans", CreatedAt: base.Add(2 * time.Minute)})
	mustCreate(t, s, Conversation{ID: "ef000001", Title: "weekend plans", CreatedAt: base.Add(3 * time.Minute)})
	mustCreate(t, s, Conversation{ID: "ef000002", Title: "日本語のタイトル", CreatedAt: base.Add(4 * time.Minute)})

	found := []struct{ ref, want string }{
		{"ab12cd34", "ab12cd34"},       // full id
		{"cd", "cd000000"},             // two-character prefix
		{"ab12", "ab12cd34"},           // longer prefix
		{"AB99", "ab99ff00"},           // ids are typed in any case
		{" ab99ff00 ", "ab99ff00"},     // stray spaces from copy and paste
		{"Rust lifetimes", "ab12cd34"}, // exact title
		{"日本語のタイトル", "ef000002"},       // non-ASCII title
	}
	for _, tt := range found {
		c, err := s.Resolve(ctx, tt.ref)
		if err != nil || c.ID != tt.want {
			t.Errorf("Resolve(%q) = %q, %v; want %q", tt.ref, c.ID, err, tt.want)
		}
	}

	for _, ref := range []string{"ffff", "zz", "a", "rust lifetimes", "Rust", "", "a*", "ab%"} {
		_, err := s.Resolve(ctx, ref)
		if !errors.Is(err, ErrNotFound) {
			t.Errorf("Resolve(%q) = %v, want ErrNotFound", ref, err)
			continue
		}
		if want := `no conversation matches "` + strings.TrimSpace(ref) + `"`; err.Error() != want {
			t.Errorf("Resolve(%q) error = %q, want %q", ref, err, want)
		}
	}

	ambiguous := []struct {
		ref  string
		want []string // newest first
	}{
		{"ab", []string{"ab99ff00", "ab12cd34"}},
		{"weekend plans", []string{"ef000001", "cd000000"}},
		{"ef", []string{"ef000002", "ef000001"}},
	}
	for _, tt := range ambiguous {
		_, err := s.Resolve(ctx, tt.ref)
		var ae *AmbiguousError
		if !errors.As(err, &ae) {
			t.Errorf("Resolve(%q) = %v, want *AmbiguousError", tt.ref, err)
			continue
		}
		var ids []string
		for _, c := range ae.Candidates {
			ids = append(ids, c.ID)
		}
		if !reflect.DeepEqual(ids, tt.want) || ae.Ref != tt.ref {
			t.Errorf("Resolve(%q) candidates = %v, want %v", tt.ref, ids, tt.want)
		}
	}
	_, err := s.Resolve(ctx, "ab")
	want := `"ab" matches 2 conversations: ab99ff00 "Go generics", ab12cd34 "Rust lifetimes"; use more of the id`
	if err == nil || err.Error() != want {
		t.Errorf("ambiguous error = %q\nwant %q", err, want)
	}
}

func TestAmbiguousErrorNamesAtMostFive(t *testing.T) {
	e := &AmbiguousError{Ref: "a"}
	for _, id := range []string{"a1", "a2", "a3", "a4", "a5", "a6", "a7"} {
		e.Candidates = append(e.Candidates, Conversation{ID: id, Title: "t" + id})
	}
	want := `"a" matches 7 conversations: a1 "ta1", a2 "ta2", a3 "ta3", a4 "ta4", a5 "ta5" and 2 more; use more of the id`
	if e.Error() != want {
		t.Errorf("got  %q\nwant %q", e.Error(), want)
	}
}

func TestListLatestAndRecent(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	if _, err := s.Latest(ctx); !errors.Is(err, ErrNotFound) {
		t.Errorf("Latest on empty store = %v, want ErrNotFound", err)
	}
	if cs, err := s.List(ctx, ListOptions{}); err != nil || len(cs) != 0 {
		t.Errorf("List on empty store = %v, %v", cs, err)
	}
	base := time.Now().Add(-24 * time.Hour)
	var ids []string
	for i := range 5 {
		c := mustCreate(t, s, Conversation{Title: string(rune('A' + i)), CreatedAt: base.Add(time.Duration(i) * time.Hour)})
		ids = append(ids, c.ID)
	}
	// Activity, not creation, makes a conversation recent.
	mustAppend(t, s, ids[1], Message{Role: "user", Content: "back to B"}, Message{Role: "assistant", Content: "ok"})

	titles := func(cs []Conversation) string {
		var b strings.Builder
		for _, c := range cs {
			b.WriteString(c.Title)
		}
		return b.String()
	}
	all, err := s.List(ctx, ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got := titles(all); got != "BEDCA" {
		t.Errorf("List order = %s, want BEDCA", got)
	}
	if all[0].MessageCount != 2 || all[1].MessageCount != 0 {
		t.Errorf("MessageCount = %d, %d; want 2, 0", all[0].MessageCount, all[1].MessageCount)
	}
	page, err := s.List(ctx, ListOptions{Limit: 2, Offset: 1})
	if err != nil {
		t.Fatal(err)
	}
	if got := titles(page); got != "ED" {
		t.Errorf("List(limit 2, offset 1) = %s, want ED", got)
	}
	latest, err := s.Latest(ctx)
	if err != nil || latest.ID != ids[1] || latest.MessageCount != 2 {
		t.Errorf("Latest = %+v, %v; want %s", latest, err, ids[1])
	}
	recent, err := s.RecentIDs(ctx, 3)
	if err != nil {
		t.Fatal(err)
	}
	if got := titles(recent); got != "BED" {
		t.Errorf("RecentIDs(3) = %s, want BED", got)
	}
	if none, err := s.RecentIDs(ctx, 0); err != nil || len(none) != 0 {
		t.Errorf("RecentIDs(0) = %v, %v", none, err)
	}
}

func TestDeleteCascades(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	a := mustCreate(t, s, Conversation{})
	b := mustCreate(t, s, Conversation{})
	c := mustCreate(t, s, Conversation{})
	for _, conv := range []Conversation{a, b, c} {
		mustAppend(t, s, conv.ID, Message{Role: "user", Content: "hello " + conv.ID}, Message{Role: "assistant", Content: "hi"})
	}
	n, err := s.Delete(ctx, a.ID, c.ID, "00000000")
	if err != nil {
		t.Fatal(err)
	}
	if n != 2 {
		t.Errorf("Delete = %d, want 2", n)
	}
	for _, gone := range []string{a.ID, c.ID} {
		if _, _, err := s.Get(ctx, gone); !errors.Is(err, ErrNotFound) {
			t.Errorf("Get(%s) after Delete = %v", gone, err)
		}
		if n := countRows(t, s, `SELECT count(*) FROM messages WHERE conversation_id = ?`, gone); n != 0 {
			t.Errorf("%d messages of deleted %s remain", n, gone)
		}
	}
	if _, msgs, err := s.Get(ctx, b.ID); err != nil || len(msgs) != 2 {
		t.Errorf("untouched conversation: %d messages, %v", len(msgs), err)
	}
	if n, err := s.Delete(ctx); err != nil || n != 0 {
		t.Errorf("Delete() = %d, %v", n, err)
	}
	ftsIntegrity(t, s)
}

func TestDeleteOlderThan(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	now := time.Now()
	old := mustCreate(t, s, Conversation{Title: "old", CreatedAt: now.AddDate(0, 0, -40)})
	mustAppend(t, s, old.ID, Message{Role: "user", Content: "ancient", CreatedAt: now.AddDate(0, 0, -40)})
	// Also set updated_at in the past: Append bumps it to now.
	if _, err := s.db.Exec(`UPDATE conversations SET updated_at = ? WHERE id = ?`, formatTime(now.AddDate(0, 0, -40)), old.ID); err != nil {
		t.Fatal(err)
	}
	revived := mustCreate(t, s, Conversation{Title: "revived", CreatedAt: now.AddDate(0, 0, -60)})
	mustAppend(t, s, revived.ID, Message{Role: "user", Content: "picked up again today"})
	fresh := mustCreate(t, s, Conversation{Title: "fresh"})

	n, err := s.DeleteOlderThan(ctx, now.AddDate(0, 0, -30))
	if err != nil {
		t.Fatal(err)
	}
	if n != 1 {
		t.Errorf("DeleteOlderThan = %d, want 1", n)
	}
	if _, _, err := s.Get(ctx, old.ID); !errors.Is(err, ErrNotFound) {
		t.Errorf("old conversation survived: %v", err)
	}
	if n := countRows(t, s, `SELECT count(*) FROM messages WHERE conversation_id = ?`, old.ID); n != 0 {
		t.Errorf("%d messages of the old conversation remain", n)
	}
	for _, kept := range []Conversation{revived, fresh} {
		if _, _, err := s.Get(ctx, kept.ID); err != nil {
			t.Errorf("%s was deleted: %v", kept.Title, err)
		}
	}
	ftsIntegrity(t, s)
}

func TestUpdate(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	c := mustCreate(t, s, Conversation{Title: "a", Model: "kimi-k2", CreatedAt: time.Now().Add(-time.Hour)})
	mustAppend(t, s, c.ID, Message{Role: "user", Content: "x"})
	c.Title, c.Model, c.System = "renamed", "kimi-k3", "answer in French"
	got, err := s.Update(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	if got.Title != "renamed" || got.Model != "kimi-k3" || got.System != "answer in French" || got.MessageCount != 1 {
		t.Errorf("Update = %+v", got)
	}
	if r, err := s.Resolve(ctx, "renamed"); err != nil || r.ID != c.ID {
		t.Errorf("Resolve by new title = %v, %v", r.ID, err)
	}
	if _, err := s.Update(ctx, Conversation{ID: "00000000"}); !errors.Is(err, ErrNotFound) {
		t.Errorf("Update unknown = %v", err)
	}
	ftsIntegrity(t, s)
}

func TestDeleteMessagesFrom(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	c := mustCreate(t, s, Conversation{})
	other := mustCreate(t, s, Conversation{})
	mustAppend(t, s, c.ID, Message{Role: "user", Content: "q1"}, Message{Role: "assistant", Content: "a1"},
		Message{Role: "user", Content: "q2"}, Message{Role: "assistant", Content: "a2 (interrupted)", Interrupted: true})
	mustAppend(t, s, other.ID, Message{Role: "user", Content: "unrelated"})
	_, msgs, err := s.Get(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	n, err := s.DeleteMessagesFrom(ctx, c.ID, msgs[3].ID)
	if err != nil || n != 1 {
		t.Fatalf("DeleteMessagesFrom = %d, %v; want 1", n, err)
	}
	_, msgs, _ = s.Get(ctx, c.ID)
	if len(msgs) != 3 || msgs[2].Content != "q2" {
		t.Errorf("after DeleteMessagesFrom: %+v", msgs)
	}
	if _, m, _ := s.Get(ctx, other.ID); len(m) != 1 {
		t.Errorf("other conversation lost messages: %+v", m)
	}
	if _, err := s.DeleteMessagesFrom(ctx, "00000000", 0); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown conversation: %v", err)
	}
	ftsIntegrity(t, s)
}

func TestGetUnknown(t *testing.T) {
	s := newStore(t)
	_, _, err := s.Get(context.Background(), "00000000")
	if !errors.Is(err, ErrNotFound) || err.Error() != `no conversation matches "00000000"` {
		t.Errorf("Get unknown = %v", err)
	}
}
