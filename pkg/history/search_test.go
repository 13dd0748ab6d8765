package history

import (
	"context"
	"strings"
	"testing"
	"time"
)

// searchFixture holds conversations in English, Chinese and Japanese.
func searchFixture(t *testing.T) (*Store, map[string]string) {
	t.Helper()
	s := newStore(t)
	base := time.Now().Add(-time.Hour)
	ids := map[string]string{}
	add := func(key, title string, offset time.Duration, msgs ...Message) {
		c := mustCreate(t, s, Conversation{Title: title, CreatedAt: base.Add(offset)})
		for i := range msgs {
			msgs[i].CreatedAt = base.Add(offset + time.Duration(i)*time.Second)
		}
		mustAppend(t, s, c.ID, msgs...)
		// Keep the fixture's clock: Append moved updated_at to now.
		if _, err := s.db.Exec(`UPDATE conversations SET updated_at = ? WHERE id = ?`, formatTime(base.Add(offset+time.Minute)), c.ID); err != nil {
			t.Fatal(err)
		}
		ids[key] = c.ID
	}
	add("sqlite", "SQLite durability", 0,
		Message{Role: "user", Content: "How does WAL mode keep writes durable?"},
		Message{Role: "assistant", Content: "In WAL mode, SQLite appends changes to a separate write-ahead log.\n\nReaders keep seeing the old snapshot."})
	add("weather", "北京天气", 10*time.Minute,
		Message{Role: "user", Content: "今天北京的天气怎么样？"},
		Message{Role: "assistant", Content: "今天天气很好，气温二十度。"})
	add("japanese", "Ramen", 20*time.Minute,
		Message{Role: "user", Content: "東京でおすすめのラーメン屋は？"},
		Message{Role: "assistant", Content: "新宿の店が人気です。"})
	add("percent", "Discounts", 30*time.Minute,
		Message{Role: "user", Content: "Is 100% off_by_one a real discount?"})
	return s, ids
}

func TestSearch(t *testing.T) {
	ctx := context.Background()
	s, ids := searchFixture(t)
	type want struct {
		conv      string
		messageID bool   // a message hit rather than a title hit
		role      string // for message hits
	}
	tests := []struct {
		name  string
		query string
		want  []want // newest first
	}{
		{"word in content", "write-ahead", []want{{"sqlite", true, "assistant"}}},
		{"case-insensitive", "wal MODE", []want{{"sqlite", true, "assistant"}, {"sqlite", true, "user"}}},
		{"terms anywhere in a message", "readers durable", nil},
		{"all terms in one message", "readers snapshot", []want{{"sqlite", true, "assistant"}}},
		{"title", "durability", []want{{"sqlite", false, ""}}},
		{"title and content", "SQLite", []want{{"sqlite", false, ""}, {"sqlite", true, "assistant"}}},
		{"chinese two characters", "天气", []want{{"weather", false, ""}, {"weather", true, "assistant"}, {"weather", true, "user"}}},
		{"chinese phrase", "天气很好", []want{{"weather", true, "assistant"}}},
		{"chinese one character", "度", []want{{"weather", true, "assistant"}}},
		{"japanese", "ラーメン", []want{{"japanese", true, "user"}}},
		{"mixed short and long terms", "新宿 人気です", []want{{"japanese", true, "assistant"}}},
		{"LIKE percent is literal", "%", []want{{"percent", true, "user"}}},
		{"LIKE underscore is literal", "_b", []want{{"percent", true, "user"}}},
		{"FTS syntax is literal", `"off_by_one" OR`, nil},
		{"trigram term with underscore", "f_b", []want{{"percent", true, "user"}}},
		{"no match", "postgres", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hits, err := s.Search(ctx, tt.query, 0)
			if err != nil {
				t.Fatal(err)
			}
			var got []want
			for _, h := range hits {
				got = append(got, want{conv: keyOf(ids, h.Conversation.ID), messageID: h.MessageID != 0, role: h.Role})
				if len(h.Matches) == 0 {
					t.Errorf("hit %+v has no highlighted match", h)
				}
				for _, m := range h.Matches {
					found := h.Snippet[m.Start:m.End]
					ok := false
					for _, term := range strings.Fields(tt.query) {
						if strings.EqualFold(found, term) || strings.Contains(strings.ToLower(found), strings.ToLower(term)) {
							ok = true
						}
					}
					if !ok {
						t.Errorf("span %v of %q is %q, not a search term", m, h.Snippet, found)
					}
				}
			}
			if len(got) != len(tt.want) {
				t.Fatalf("Search(%q) = %+v, want %+v", tt.query, got, tt.want)
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Errorf("Search(%q) hit %d = %+v, want %+v", tt.query, i, got[i], tt.want[i])
				}
			}
		})
	}
}

func keyOf(ids map[string]string, id string) string {
	for k, v := range ids {
		if v == id {
			return k
		}
	}
	return "unknown " + id
}

func TestSearchLimitAndEmpty(t *testing.T) {
	ctx := context.Background()
	s, _ := searchFixture(t)
	hits, err := s.Search(ctx, "天气", 2)
	if err != nil {
		t.Fatal(err)
	}
	if len(hits) != 2 || hits[0].MessageID != 0 || hits[1].Role != "assistant" {
		t.Errorf("Search limit 2 = %+v", hits)
	}
	if _, err := s.Search(ctx, "  \n", 10); err == nil {
		t.Error("empty search succeeded")
	}
}

func TestSearchFollowsDeletesAndEdits(t *testing.T) {
	ctx := context.Background()
	s, ids := searchFixture(t)
	if _, err := s.Delete(ctx, ids["weather"]); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{"天气", "天气很好"} {
		if hits, err := s.Search(ctx, q, 0); err != nil || len(hits) != 0 {
			t.Errorf("Search(%q) after Delete = %+v, %v", q, hits, err)
		}
	}
	c, err := s.Resolve(ctx, "Ramen")
	if err != nil {
		t.Fatal(err)
	}
	c.Title = "Noodle shops"
	if _, err := s.Update(ctx, c); err != nil {
		t.Fatal(err)
	}
	if hits, _ := s.Search(ctx, "Ramen", 0); len(hits) != 0 {
		t.Errorf("old title still found: %+v", hits)
	}
	if hits, _ := s.Search(ctx, "noodle", 0); len(hits) != 1 || hits[0].Conversation.ID != ids["japanese"] {
		t.Errorf("new title not found: %+v", hits)
	}
	ftsIntegrity(t, s)
}

func TestSnippet(t *testing.T) {
	long := strings.Repeat("lorem ipsum ", 30) + "the NEEDLE is here\n\tand\x1b[31m more " + strings.Repeat("dolor sit ", 30)
	tests := []struct {
		name, text string
		terms      []string
		want       string
		marked     []string
	}{
		{"short text whole", "Hello world", []string{"world"}, "Hello world", []string{"world"}},
		{"cut both sides", long, []string{"needle"},
			"…m lorem ipsum lorem ipsum the NEEDLE is here and more dolor sit dolor sit dolor sit dolor sit dolor sit dolor sit dolor…",
			[]string{"NEEDLE"}},
		{"several terms, overlapping", "abcd abc", []string{"abc", "bcd"}, "abcd abc", []string{"abcd", "abc"}},
		{"cjk", "今天天气很好", []string{"天气"}, "今天天气很好", []string{"天气"}},
		{"no literal match", "Ünïcödé", []string{"xyz"}, "Ünïcödé", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, spans := snippet(tt.text, tt.terms)
			if got != tt.want {
				t.Errorf("snippet = %q\nwant      %q", got, tt.want)
			}
			var marked []string
			for _, sp := range spans {
				marked = append(marked, got[sp.Start:sp.End])
			}
			if strings.Join(marked, "|") != strings.Join(tt.marked, "|") {
				t.Errorf("marked %q, want %q", marked, tt.marked)
			}
		})
	}
}
