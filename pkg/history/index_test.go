package history

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"
)

// inIndex counts the rows the full-text index fts itself holds for phrase: an
// external-content index answers MATCH from the index alone.
func inIndex(t *testing.T, s *Store, fts, phrase string) int {
	t.Helper()
	return countRows(t, s, `SELECT count(*) FROM `+fts+` WHERE `+fts+` MATCH ?`, `"`+phrase+`"`)
}

func queued(t *testing.T, s *Store) (messages, titles int) {
	t.Helper()
	return countRows(t, s, `SELECT count(*) FROM messages_fts_pending`),
		countRows(t, s, `SELECT count(*) FROM conversations_fts_pending`)
}

func mustSearch(t *testing.T, s *Store, text string, limit int) []SearchHit {
	t.Helper()
	hits, err := s.Search(context.Background(), text, limit)
	if err != nil {
		t.Fatalf("Search(%q): %v", text, err)
	}
	return hits
}

// Saving does not tokenise: the rows wait in the queue, and the next search
// indexes them before it looks.
func TestSaveQueuesAndSearchIndexes(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	c, err := s.Create(ctx, Conversation{Title: "Kyoto trip"},
		Message{Role: "user", Content: "Plan two days in Kyoto"},
		Message{Role: "assistant", Content: "Day one: Fushimi Inari at dawn."})
	if err != nil {
		t.Fatal(err)
	}
	if n := inIndex(t, s, "messages_fts", "fushimi"); n != 0 {
		t.Errorf("a saved message is in the index before any search (%d rows)", n)
	}
	if n := inIndex(t, s, "conversations_fts", "kyoto"); n != 0 {
		t.Errorf("a saved title is in the index before any search (%d rows)", n)
	}
	if m, ti := queued(t, s); m != 2 || ti != 1 {
		t.Errorf("queued %d messages and %d titles, want 2 and 1", m, ti)
	}
	want := int64(len("Plan two days in Kyoto") + len("Day one: Fushimi Inari at dawn."))
	if n, err := s.Unindexed(ctx); err != nil || n != want {
		t.Errorf("Unindexed() = %d, %v; want %d", n, err, want)
	}

	hits := mustSearch(t, s, "fushimi", 0)
	if len(hits) != 1 || hits[0].Conversation.ID != c.ID || hits[0].Role != "assistant" {
		t.Fatalf("Search(fushimi) = %+v", hits)
	}
	if n := inIndex(t, s, "messages_fts", "fushimi"); n != 1 {
		t.Errorf("after a search the index holds %d rows for the answer, want 1", n)
	}
	if n := inIndex(t, s, "conversations_fts", "kyoto"); n != 1 {
		t.Errorf("after a search the index holds %d rows for the title, want 1", n)
	}
	if m, ti := queued(t, s); m != 0 || ti != 0 {
		t.Errorf("after a search %d messages and %d titles are still queued", m, ti)
	}
	if n, err := s.Unindexed(ctx); err != nil || n != 0 {
		t.Errorf("Unindexed() after a search = %d, %v; want 0", n, err)
	}
	ftsIntegrity(t, s)
}

// snapshot copies the database as it is now and opens the copy read-only, as
// moonchat does when the data directory cannot be written: it can search but
// not index.
func snapshot(t *testing.T, s *Store) *Store {
	t.Helper()
	ro, err := open(copyOf(t, s), true)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ro.Close() })
	return ro
}

// copyOf copies the database as it is now into a new file.
func copyOf(t *testing.T, s *Store) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "copy.db")
	if _, err := s.db.Exec(`VACUUM INTO ?`, path); err != nil {
		t.Fatal(err)
	}
	return path
}

// A search finds the same hits, in the same order, whether the rows it finds
// are indexed, queued, or some of each, and whether or not it may index them.
func TestSearchSameWhetherIndexedOrQueued(t *testing.T) {
	ctx := context.Background()
	s, _ := searchFixture(t)
	// Case folding beyond ASCII: the trigram index folds É to é, LIKE (terms
	// of one or two characters) does not; the queued rows must follow the same
	// rules.
	c := mustCreate(t, s, Conversation{Title: "École normale"})
	mustAppend(t, s, c.ID,
		Message{Role: "user", Content: "ÉCOLE NORMALE SUPÉRIEURE, à Paris ?"},
		Message{Role: "assistant", Content: "L'École est rue d'Ulm. ΣΊΣΥΦΟΣ y enseignait."})
	queries := []string{"write-ahead", "wal MODE", "readers snapshot", "durability", "SQLite",
		"天气", "天气很好", "度", "ラーメン", "新宿 人気です", "%", "_b", `"off_by_one" OR`, "f_b",
		"postgres", "école", "ÉCOLE", "supérieure", "é", "É", "à", "σίσυφος", "rue d'ulm", "normale"}

	allQueued := snapshot(t, s)
	if m, ti := queued(t, allQueued); m == 0 || ti == 0 {
		t.Fatalf("the snapshot has %d queued messages and %d titles; the test needs both", m, ti)
	}
	// A writable copy searched without indexing first, as when another
	// moonchat saves between the indexing and the search.
	writable := openTest(t, copyOf(t, s))
	compare := func(t *testing.T, queuedStore *Store, search func(*Store, string, int) ([]SearchHit, error)) {
		t.Helper()
		for _, q := range queries {
			for _, limit := range []int{0, 1, 2} {
				want := mustSearch(t, s, q, limit)
				got, err := search(queuedStore, q, limit)
				if err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(got, want) {
					t.Errorf("Search(%q, %d) on queued rows = %+v\nindexed: %+v", q, limit, got, want)
				}
			}
		}
	}
	searchOnly := func(s *Store, q string, limit int) ([]SearchHit, error) {
		return s.search(ctx, strings.Fields(q), limit)
	}
	search := func(s *Store, q string, limit int) ([]SearchHit, error) { return s.Search(ctx, q, limit) }
	t.Run("all queued, writable", func(t *testing.T) { compare(t, writable, searchOnly) })
	if m, ti := queued(t, writable); m == 0 || ti == 0 {
		t.Fatalf("the writable copy was indexed (%d messages and %d titles queued)", m, ti)
	}
	t.Run("all queued, read-only", func(t *testing.T) { compare(t, allQueued, search) })
	if m, ti := queued(t, s); m != 0 || ti != 0 {
		t.Fatalf("searching left %d messages and %d titles queued", m, ti)
	}
	if n := len(mustSearch(t, s, "école", 0)); n != 3 {
		t.Errorf("école: %d hits, want the title and both messages", n)
	}

	// Some rows indexed, some queued: new messages, a new title, a changed title.
	mustAppend(t, s, c.ID, Message{Role: "user", Content: "Et le write-ahead log à l'ÉCOLE ?"})
	d := mustCreate(t, s, Conversation{Title: "天气预报 weekly"})
	mustAppend(t, s, d.ID, Message{Role: "user", Content: "明天天气怎么样？wal"})
	if _, err := s.Rename(ctx, c.ID, "Ulm street SQLite"); err != nil {
		t.Fatal(err)
	}
	mixed := snapshot(t, s)
	if m, ti := queued(t, mixed); m != 2 || ti != 2 {
		t.Fatalf("the second snapshot has %d queued messages and %d titles, want 2 and 2", m, ti)
	}
	t.Run("some queued, read-only", func(t *testing.T) { compare(t, mixed, search) })
	ftsIntegrity(t, s)
}

// Every way a row is removed or changed keeps the indexes equal to their tables,
// whether the row was indexed, still queued, or indexed half way through.
func TestChangesKeepTheIndexSound(t *testing.T) {
	// indexAt is the step after which the queue is indexed; -1 never, 0 before the first.
	for _, indexAt := range []int{-1, 0, 2, 5} {
		t.Run(fmt.Sprintf("indexed after step %d", indexAt), func(t *testing.T) {
			ctx := context.Background()
			s := newStore(t)
			msgs := func(conv string, n int) []Message {
				out := make([]Message, n)
				for i := range out {
					out[i] = Message{Role: "user", Content: fmt.Sprintf("%s says tok%s%d here", conv, conv, i)}
				}
				return out
			}
			a, _ := s.Create(ctx, Conversation{Title: "alpha aardvark"}, msgs("a", 3)...)
			b, _ := s.Create(ctx, Conversation{Title: "bravo bison"}, msgs("b", 4)...)
			c, _ := s.Create(ctx, Conversation{Title: "charlie cheetah"}, msgs("c", 2)...)
			long := time.Now().AddDate(-2, 0, 0)
			if _, err := s.Create(ctx, Conversation{Title: "old otter", CreatedAt: long}, msgs("o", 2)...); err != nil {
				t.Fatal(err)
			}
			_, bMsgs, err := s.Get(ctx, b.ID)
			if err != nil {
				t.Fatal(err)
			}
			_, cMsgs, err := s.Get(ctx, c.ID)
			if err != nil {
				t.Fatal(err)
			}
			steps := []func() error{
				func() error { _, err := s.Delete(ctx, a.ID); return err },
				func() error { _, err := s.DeleteMessagesFrom(ctx, b.ID, bMsgs[2].ID); return err },
				func() error { _, err := s.MarkReplaced(ctx, b.ID, bMsgs[1].ID); return err },
				func() error { _, err := s.Rename(ctx, c.ID, "delta dolphin"); return err },
				func() error {
					c2 := c
					c2.Title, c2.Model = "delta dolphin", "kimi-k2.6" // same title, new model
					_, err := s.Update(ctx, c2)
					return err
				},
				func() error { _, err := s.Fork(ctx, c.ID, 2, ""); return err },
				func() error {
					// No moonchat command rewrites a message, but the trigger covers it.
					_, err := s.db.Exec(`UPDATE messages SET content = 'rewritten tokcnew' WHERE id = ?`, cMsgs[0].ID)
					return err
				},
				func() error { return s.Append(ctx, c.ID, msgs("c2", 2)...) },
				func() error { _, err := s.DeleteOlderThan(ctx, time.Now().AddDate(-1, 0, 0)); return err },
			}
			for i, step := range append([]func() error{func() error { return nil }}, steps...) {
				if err := step(); err != nil {
					t.Fatalf("step %d: %v", i, err)
				}
				if i == indexAt {
					if err := s.indexPending(ctx); err != nil {
						t.Fatal(err)
					}
				}
			}
			ftsIntegrity(t, s)

			for q, want := range map[string]int{
				"toka0": 0, "aardvark": 0, // deleted conversation
				"tokb0": 1, "tokb1": 1, "tokb2": 0, "tokb3": 0, // messages from b's third on deleted; replaced stay
				"charlie": 0, "dolphin": 2, // renamed, and its fork
				"tokc0": 1, "tokcnew": 1, "tokc1": 2, // the fork kept the text from before the rewrite
				"tokc20": 1, "otter": 0, "toko0": 0,
			} {
				if got := len(mustSearch(t, s, q, 0)); got != want {
					t.Errorf("Search(%q): %d hits, want %d", q, got, want)
				}
			}
		})
	}
}

// A batch indexes messages up to its budget of text, and always at least one.
func TestIndexBatchesBoundTheWork(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	c := mustCreate(t, s, Conversation{})
	var batch []Message
	for _, size := range []int{600, 600, 2500, 10, 10} {
		batch = append(batch, Message{Role: "user", Content: strings.Repeat("x", size-5) + "tail!"})
	}
	mustAppend(t, s, c.ID, batch...)
	for i, left := range []int{4, 3, 2, 0} {
		err := s.writeTx(ctx, func(tx *sql.Tx) error {
			more, err := indexBatch(ctx, tx, 1000)
			if err == nil && !more {
				err = errors.New("indexBatch found nothing queued")
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		if m, ti := queued(t, s); m != left || ti != 0 {
			t.Errorf("after batch %d: %d messages and %d titles queued, want %d and 0", i+1, m, ti, left)
		}
	}
	// An empty queue (another process indexed it) ends the loop of indexPending.
	err := s.writeTx(ctx, func(tx *sql.Tx) error {
		more, err := indexBatch(ctx, tx, 1000)
		if err == nil && more {
			err = errors.New("indexBatch found work in an empty queue")
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	ftsIntegrity(t, s)
	if n := len(mustSearch(t, s, "tail!", 0)); n != 5 {
		t.Errorf("%d hits, want 5", n)
	}
}

// A database of schema version 2, made with that version's own SQL, upgrades in
// place: every conversation and message stays, its index still answers, and
// what changes after the upgrade keeps the index sound.
func TestMigrateFromVersion2(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "history.db")
	schema, err := os.ReadFile(filepath.Join("testdata", "schema-v2.sql"))
	if err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	const at = "2026-01-02T03:04:05.000000000Z"
	for _, stmt := range []string{string(schema), `PRAGMA journal_mode = WAL`,
		`INSERT INTO conversations (id, title, model, created_at, updated_at) VALUES
			('aaaa1111', 'Kyoto notes', 'kimi-k2', '` + at + `', '` + at + `'),
			('bbbb2222', '北京天气', 'kimi-k2', '` + at + `', '` + at + `')`,
		`INSERT INTO messages (conversation_id, role, content, created_at, replaced) VALUES
			('aaaa1111', 'user', 'Where is Fushimi Inari?', '` + at + `', 0),
			('aaaa1111', 'assistant', 'South of Kyoto station.', '` + at + `', 1),
			('bbbb2222', 'user', '今天北京的天气怎么样？', '` + at + `', 0)`,
	} {
		if _, err := db.Exec(stmt); err != nil {
			t.Fatalf("%.40s: %v", stmt, err)
		}
	}
	db.Close()

	s := openTest(t, path)
	if got := schemaVersion(t, s); got != 3 || len(migrations) != 3 {
		t.Fatalf("user_version = %d with %d migrations, want 3", got, len(migrations))
	}
	if m, ti := queued(t, s); m != 0 || ti != 0 {
		t.Errorf("the upgrade queued %d messages and %d titles; they were indexed already", m, ti)
	}
	_, msgs, err := s.Get(ctx, "aaaa1111")
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != 2 || msgs[0].Content != "Where is Fushimi Inari?" || !msgs[1].Replaced {
		t.Errorf("messages after the upgrade: %+v", msgs)
	}
	for q, want := range map[string]int{"fushimi": 1, "kyoto": 2, "天气": 2, "北京的天": 1} {
		if got := len(mustSearch(t, s, q, 0)); got != want {
			t.Errorf("Search(%q) after the upgrade: %d hits, want %d", q, got, want)
		}
	}
	ftsIntegrity(t, s)

	// Rows indexed by version 2's triggers, removed and renamed by version 3's.
	if _, err := s.DeleteMessagesFrom(ctx, "aaaa1111", msgs[1].ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Rename(ctx, "bbbb2222", "Beijing weather"); err != nil {
		t.Fatal(err)
	}
	mustAppend(t, s, "aaaa1111", Message{Role: "user", Content: "And Kiyomizu?"})
	ftsIntegrity(t, s)
	for q, want := range map[string]int{"station": 0, "北京天气": 0, "beijing": 1, "kiyomizu": 1, "kyoto": 1} {
		if got := len(mustSearch(t, s, q, 0)); got != want {
			t.Errorf("Search(%q) after changes: %d hits, want %d", q, got, want)
		}
	}
}

// Two moonchat processes on one database, one saving and deleting, the other
// searching (and so indexing, a message per transaction), while a third indexes
// too: no message is indexed twice, none is lost, and no search sees a message
// twice.
func TestConcurrentSavesSearchesAndIndexing(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "history.db")
	writer, searcher, indexer := openTest(t, path), openTest(t, path), openTest(t, path)
	searcher.indexBatch, indexer.indexBatch = 1, 1
	const n = 24
	created := make(chan string, n)
	var wg sync.WaitGroup
	var werr, derr, serr, ierr error
	wg.Go(func() {
		defer close(created)
		for i := range n {
			c, err := writer.Create(ctx, Conversation{Title: fmt.Sprintf("thread qzx%02d", i)},
				Message{Role: "user", Content: fmt.Sprintf("question qzx number zq%02dzq", i)})
			if err != nil {
				werr = err
				return
			}
			created <- c.ID
		}
	})
	wg.Go(func() {
		// Every other conversation is removed once saved, indexed or not.
		i := 0
		for id := range created {
			if i%2 == 0 {
				if _, err := writer.Delete(ctx, id); err != nil {
					derr = err
				}
			}
			i++
		}
	})
	wg.Go(func() {
		for range n {
			hits, err := searcher.Search(ctx, "qzx", 0)
			if err != nil {
				serr = err
				return
			}
			seen := map[string]bool{}
			for _, h := range hits {
				key := fmt.Sprintf("%s/%d", h.Conversation.ID, h.MessageID)
				if seen[key] {
					serr = fmt.Errorf("search saw %s twice", key)
					return
				}
				seen[key] = true
			}
		}
	})
	wg.Go(func() {
		for range n {
			if err := indexer.indexPending(ctx); err != nil {
				ierr = err
				return
			}
		}
	})
	wg.Wait()
	for name, err := range map[string]error{"writer": werr, "deleter": derr, "searcher": serr, "indexer": ierr} {
		if err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	if t.Failed() {
		return
	}
	ftsIntegrity(t, searcher)
	for i := range n {
		want := i % 2 // the odd ones stay
		if got := len(mustSearch(t, searcher, fmt.Sprintf("zq%02dzq", i), 0)); got != want {
			t.Errorf("message %d: %d hits, want %d", i, got, want)
		}
	}
	if got := len(mustSearch(t, writer, "qzx", 0)); got != n {
		t.Errorf("qzx: %d hits, want %d (a title and a message for each of %d conversations)", got, n, n/2)
	}
}
