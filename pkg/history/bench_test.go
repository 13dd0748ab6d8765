package history

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
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
	// Index now, so that search benchmarks time searching, not the first
	// search's indexing (BenchmarkFirstSearch times that).
	if err := s.indexPending(ctx); err != nil {
		b.Fatal(err)
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

// longAnswer is a markdown answer of about size bytes, English and Chinese, in
// the shape bench/wholeprocess streams; n makes the answers of one history differ.
func longAnswer(size, n int) string {
	const part = "## Section %d.%d\n\nThe client **streams** the answer and `flushes` only when the network is idle; " +
		"a slow terminal merges tokens instead of stalling the stream.\n\n" +
		"- first item with *emphasis*\n- second item with a [link](https://example.com)\n\n" +
		"```go\nfunc add(a, b int) int {\n\treturn a + b // %d\n}\n```\n\n" +
		"流式输出在终端里逐块渲染，代码块按行高亮。\n\n"
	var b strings.Builder
	for i := 1; b.Len() < size; i++ {
		fmt.Fprintf(&b, part, n, i, i*n)
	}
	return b.String()
}

// BenchmarkSaveLongAnswer is what `moonchat chat` pays to save a prompt and a
// 512 KB answer.
func BenchmarkSaveLongAnswer(b *testing.B) {
	ctx := context.Background()
	s := newStore(b)
	c, err := s.Create(ctx, Conversation{})
	if err != nil {
		b.Fatal(err)
	}
	answer := longAnswer(512<<10, 1)
	b.SetBytes(int64(len(answer)))
	cpu := startCPU()
	for b.Loop() {
		if err := s.Append(ctx, c.ID, Message{Role: "user", Content: "write a long answer"},
			Message{Role: "assistant", Content: answer}); err != nil {
			b.Fatal(err)
		}
	}
	cpu.report(b)
}

// cpuMeter adds up the process CPU time of the timed parts of a benchmark and
// reports it as cpu-ms/op, the figure to quote from a shared machine.
type cpuMeter struct {
	total, start time.Duration
	running, ok  bool
}

func startCPU() *cpuMeter {
	m := &cpuMeter{}
	m.resume()
	return m
}

func (m *cpuMeter) resume() {
	m.start, m.ok = processCPU()
	m.running = true
}

func (m *cpuMeter) pause() {
	if !m.running {
		return
	}
	now, ok := processCPU()
	m.ok = m.ok && ok
	m.total += now - m.start
	m.running = false
}

func (m *cpuMeter) report(b *testing.B) {
	m.pause()
	if m.ok && b.N > 0 {
		b.ReportMetric(float64(m.total.Microseconds())/1000/float64(b.N), "cpu-ms/op")
	}
}

// BenchmarkFirstSearch is the first search after 100 exchanges were saved: it
// indexes them all before it looks (on a history whose saves index, it only
// looks). Each round searches a fresh copy of the same database; copying is not
// timed.
func BenchmarkFirstSearch(b *testing.B) {
	ctx := context.Background()
	for _, size := range []int{4 << 10, 512 << 10} {
		b.Run(fmt.Sprintf("100x%dKB", size>>10), func(b *testing.B) {
			dir := b.TempDir()
			template := filepath.Join(dir, "template.db")
			s, err := Open(template)
			if err != nil {
				b.Fatal(err)
			}
			c, err := s.Create(ctx, Conversation{})
			if err != nil {
				b.Fatal(err)
			}
			for i := range 100 {
				if err := s.Append(ctx, c.ID, Message{Role: "user", Content: fmt.Sprintf("question %d", i)},
					Message{Role: "assistant", Content: longAnswer(size, i)}); err != nil {
					b.Fatal(err)
				}
			}
			s.Close() // checkpoints the WAL into the file, so copying the file copies it all
			data, err := os.ReadFile(template)
			if err != nil {
				b.Fatal(err)
			}
			path := filepath.Join(dir, "history.db")
			var cpu cpuMeter
			b.ResetTimer()
			for range b.N {
				b.StopTimer()
				if err := os.WriteFile(path, data, 0o600); err != nil {
					b.Fatal(err)
				}
				s, err := Open(path)
				if err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
				cpu.resume()
				hits, err := s.Search(ctx, "Section 42.7", 20)
				cpu.pause()
				b.StopTimer()
				if err != nil || len(hits) != 1 {
					b.Fatal(len(hits), err)
				}
				s.Close()
				b.StartTimer()
			}
			cpu.report(b)
		})
	}
}
