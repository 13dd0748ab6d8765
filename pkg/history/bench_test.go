package history

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
)

// benchStore fills a store with convs conversations of msgs messages each,
// about 600 bytes per message, mixing English and Chinese.
func benchStore(b *testing.B, convs, msgs int) (*Store, []string) {
	b.Helper()
	ctx := context.Background()
	s := newStore(b)
	body := strings.Repeat("The write-ahead log lets readers continue while a writer appends. ", 6) +
		"今天天气很好，我们讨论数据库的并发写入。"
	ids := make([]string, 0, convs)
	for i := range convs {
		c, err := s.Create(ctx, Conversation{Model: "kimi-k2"})
		if err != nil {
			b.Fatal(err)
		}
		batch := make([]Message, msgs)
		for j := range batch {
			role := "user"
			if j%2 == 1 {
				role = "assistant"
			}
			batch[j] = Message{Role: role, Content: fmt.Sprintf("conversation %d message %d token%dx%d. %s", i, j, i, j, body)}
		}
		if err := s.Append(ctx, c.ID, batch...); err != nil {
			b.Fatal(err)
		}
		ids = append(ids, c.ID)
	}
	return s, ids
}

// BenchmarkOpen is the fixed cost every moonchat run pays to reach its
// history: open, check WAL and the schema version, close.
func BenchmarkOpen(b *testing.B) {
	path := filepath.Join(b.TempDir(), "history.db")
	s, err := Open(path)
	if err != nil {
		b.Fatal(err)
	}
	s.Close()
	for b.Loop() {
		s, err := Open(path)
		if err != nil {
			b.Fatal(err)
		}
		s.Close()
	}
}

// BenchmarkSaveExchange is what one saved chat turn costs: the prompt and
// the answer appended in one transaction.
func BenchmarkSaveExchange(b *testing.B) {
	ctx := context.Background()
	s := newStore(b)
	c, err := s.Create(ctx, Conversation{})
	if err != nil {
		b.Fatal(err)
	}
	answer := strings.Repeat("An answer of a few kilobytes. ", 100)
	for b.Loop() {
		if err := s.Append(ctx, c.ID, Message{Role: "user", Content: "a question"},
			Message{Role: "assistant", Content: answer, PromptTokens: 10, CompletionTokens: 700}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkGet100(b *testing.B) {
	ctx := context.Background()
	s, ids := benchStore(b, 1, 100)
	for b.Loop() {
		if _, msgs, err := s.Get(ctx, ids[0]); err != nil || len(msgs) != 100 {
			b.Fatal(len(msgs), err)
		}
	}
}

func BenchmarkListAndResolve(b *testing.B) {
	ctx := context.Background()
	s, ids := benchStore(b, 2000, 4)
	b.Run("list20", func(b *testing.B) {
		for b.Loop() {
			if cs, err := s.List(ctx, ListOptions{Limit: 20}); err != nil || len(cs) != 20 {
				b.Fatal(len(cs), err)
			}
		}
	})
	b.Run("recent20", func(b *testing.B) {
		for b.Loop() {
			if cs, err := s.RecentIDs(ctx, 20); err != nil || len(cs) != 20 {
				b.Fatal(len(cs), err)
			}
		}
	})
	b.Run("resolve-prefix", func(b *testing.B) {
		for b.Loop() {
			if _, err := s.Resolve(ctx, ids[777][:6]); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkSearch searches 2,000 conversations of 10 messages (about 12 MB
// of text).
func BenchmarkSearch(b *testing.B) {
	ctx := context.Background()
	s, _ := benchStore(b, 2000, 10)
	for _, q := range []struct {
		name, text string
		hits       bool
	}{
		{"rare-trigram", "token1234x5", true},
		{"common-trigram", "write-ahead", true},
		{"cjk-2-chars-like", "天气", true},
		{"cjk-phrase-trigram", "并发写入", true},
		{"no-hit-trigram", "postgres", false},
		// The worst case: a short term the index cannot answer, found
		// nowhere, so LIKE reads every message.
		{"no-hit-like", "雪天", false},
	} {
		b.Run(q.name, func(b *testing.B) {
			for b.Loop() {
				if hits, err := s.Search(ctx, q.text, 20); err != nil || (len(hits) > 0) != q.hits {
					b.Fatal(len(hits), err)
				}
			}
		})
	}
}
