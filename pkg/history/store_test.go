package history

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
)

func openTest(t testing.TB, path string) *Store {
	t.Helper()
	s, err := Open(path)
	if err != nil {
		t.Fatalf("Open(%s): %v", path, err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func newStore(t testing.TB) *Store {
	t.Helper()
	return openTest(t, filepath.Join(t.TempDir(), "history.db"))
}

func schemaVersion(t *testing.T, s *Store) int {
	t.Helper()
	v, err := userVersion(context.Background(), s.db)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// ftsIntegrity indexes what is queued, then asks FTS5 to compare each index
// with its content table (rank 1: without it FTS5 checks only that the index
// is well-formed), which fails if a trigger missed an insert, update or
// delete, if a row was indexed twice or never, or if a row was deleted from the
// index with text it was not indexed with.
func ftsIntegrity(t *testing.T, s *Store) {
	t.Helper()
	if err := s.indexPending(context.Background()); err != nil {
		t.Fatalf("indexPending: %v", err)
	}
	for _, table := range []string{"messages_fts", "conversations_fts"} {
		if _, err := s.db.Exec(`INSERT INTO ` + table + `(` + table + `, rank) VALUES ('integrity-check', 1)`); err != nil {
			t.Errorf("%s integrity-check: %v", table, err)
		}
	}
}

func TestOpenMigratesEmptyFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "history.db")
	if err := os.WriteFile(path, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	s := openTest(t, path)
	if got := schemaVersion(t, s); got != len(migrations) {
		t.Fatalf("user_version = %d, want %d", got, len(migrations))
	}
	var mode string
	if err := s.db.QueryRow("PRAGMA journal_mode").Scan(&mode); err != nil {
		t.Fatal(err)
	}
	if mode != "wal" {
		t.Errorf("journal_mode = %q, want wal", mode)
	}
	var fk, busy int
	if err := s.db.QueryRow("PRAGMA foreign_keys").Scan(&fk); err != nil {
		t.Fatal(err)
	}
	if err := s.db.QueryRow("PRAGMA busy_timeout").Scan(&busy); err != nil {
		t.Fatal(err)
	}
	if fk != 1 || busy != busyTimeoutMS {
		t.Errorf("foreign_keys = %d, busy_timeout = %d; want 1, %d", fk, busy, busyTimeoutMS)
	}
	// The schema is usable, not just versioned.
	c, err := s.Create(context.Background(), Conversation{Model: "kimi-k2"})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Append(context.Background(), c.ID, Message{Role: "user", Content: "hi"}); err != nil {
		t.Fatal(err)
	}
}

func TestOpenCreatesPrivateDirAndFile(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data", "moonchat")
	path := filepath.Join(dir, "history.db")
	s := openTest(t, path)
	if _, err := s.Create(context.Background(), Conversation{}); err != nil {
		t.Fatal(err)
	}
	for p, want := range map[string]os.FileMode{
		dir:               0o700,
		path:              0o600,
		path + "-wal":     0o600,
		filepath.Dir(dir): 0o700,
	} {
		st, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		// Windows has no Unix permission bits; there the files must exist.
		if got := st.Mode().Perm(); runtime.GOOS != "windows" && got != want {
			t.Errorf("%s mode = %o, want %o", p, got, want)
		}
	}
	if s.Path() != path {
		t.Errorf("Path() = %q, want %q", s.Path(), path)
	}
}

// A path with URI-special characters must name that file, not be cut at '?'.
func TestOpenPathWithURICharacters(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a b?c#d%20.db")
	s := openTest(t, path)
	if _, err := s.Create(context.Background(), Conversation{Title: "x"}); err != nil {
		t.Fatal(err)
	}
	s.Close()
	st, err := os.Stat(path)
	if err != nil {
		t.Fatalf("database not at the given path: %v", err)
	}
	if st.Size() == 0 {
		// Close checkpoints the WAL into the main file.
		t.Errorf("%s is empty after close", path)
	}
}

func TestReopenIsNoOp(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "history.db")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	c, err := s.Create(ctx, Conversation{Title: "kept"})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Append(ctx, c.ID, Message{Role: "user", Content: "still here"}); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	before := readFile(t, path)

	s2, err := Open(path)
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	if got := schemaVersion(t, s2); got != len(migrations) {
		t.Errorf("user_version after reopen = %d, want %d", got, len(migrations))
	}
	got, msgs, err := s2.Get(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Title != "kept" || len(msgs) != 1 || msgs[0].Content != "still here" {
		t.Errorf("after reopen: %+v %+v", got, msgs)
	}
	if err := s2.Close(); err != nil {
		t.Fatal(err)
	}
	unchanged(t, path, before, "reopening and reading an up-to-date database changed the file")
}

func TestOpenNewerSchemaFails(t *testing.T) {
	path := filepath.Join(t.TempDir(), "history.db")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.db.Exec(fmt.Sprintf("PRAGMA user_version = %d", len(migrations)+7)); err != nil {
		t.Fatal(err)
	}
	s.Close()
	before := readFile(t, path)

	_, err = Open(path)
	var ve *VersionError
	if !errors.As(err, &ve) {
		t.Fatalf("Open = %v, want *VersionError", err)
	}
	if ve.Version != len(migrations)+7 || ve.Supported != len(migrations) {
		t.Errorf("VersionError = %+v", ve)
	}
	want := fmt.Sprintf("history database %s has schema version %d, but this moonchat supports up to version %d; upgrade moonchat to use it",
		path, len(migrations)+7, len(migrations))
	if err.Error() != want {
		t.Errorf("error = %q\nwant    %q", err, want)
	}
	unchanged(t, path, before, "Open changed a database from a newer version")
}

func TestOpenCorruptFileFailsAndKeepsIt(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	random := make([]byte, 8192)
	for i := range random {
		random[i] = byte(rng.UintN(256))
	}
	// A valid header over garbage gets past our own check, so SQLite's
	// verdict has to produce the same error.
	badHeader := append([]byte("SQLite format 3\x00"), random[:4096]...)

	tests := []struct {
		name    string
		content []byte
	}{
		{"random bytes", random},
		{"text file", []byte("these are my notes, not a database\n")},
		{"short file", []byte("SQL")},
		{"header then garbage", badHeader},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "history.db")
			if err := os.WriteFile(path, tt.content, 0o644); err != nil {
				t.Fatal(err)
			}
			s, err := Open(path)
			if err == nil {
				s.Close()
				t.Fatal("Open succeeded on a corrupt file")
			}
			var ce *CorruptError
			if !errors.As(err, &ce) {
				t.Fatalf("Open = %v (%T), want *CorruptError", err, err)
			}
			prefix := "history database " + path + " is not a valid SQLite database ("
			suffix := "); move it aside to start a new one"
			if msg := err.Error(); !strings.HasPrefix(msg, prefix) || !strings.HasSuffix(msg, suffix) {
				t.Errorf("error = %q", msg)
			}
			unchanged(t, path, tt.content, "Open modified the corrupt file")
			entries, err := os.ReadDir(dir)
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range entries {
				if e.Name() != "history.db" {
					t.Errorf("Open left %s next to the corrupt file", e.Name())
				}
			}
		})
	}
}

func TestOpenForeignDatabaseFailsAndKeepsIt(t *testing.T) {
	path := filepath.Join(t.TempDir(), "other.db")
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`CREATE TABLE notes (body TEXT); INSERT INTO notes VALUES ('mine')`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	before := readFile(t, path)
	s, err := Open(path)
	if err == nil {
		s.Close()
		t.Fatal("Open adopted another program's database")
	}
	if !strings.Contains(err.Error(), "database of another program") || !strings.Contains(err.Error(), path) {
		t.Errorf("error = %q", err)
	}
	unchanged(t, path, before, "Open modified another program's database")
}

func TestOpenDirectoryFails(t *testing.T) {
	dir := t.TempDir()
	if _, err := Open(dir); err == nil {
		t.Fatal("Open on a directory succeeded")
	}
}

// Twenty stores on one new file, as twenty moonchat processes would be: all
// race to create and migrate it, then write at once. Nothing may be lost.
func TestConcurrentStoresLoseNothing(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "history.db")
	const writers, perWriter = 20, 6
	ids := make([]string, writers)
	errs := make([]error, writers)
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			errs[w] = func() error {
				s, err := Open(path)
				if err != nil {
					return err
				}
				defer s.Close()
				c, err := s.Create(ctx, Conversation{Model: "kimi-k2"})
				if err != nil {
					return err
				}
				ids[w] = c.ID
				// Separate Appends, as a chat saves the prompt and then the
				// answer, so the writers interleave.
				for i := 0; i < perWriter; i += 2 {
					err := s.Append(ctx, c.ID,
						Message{Role: "user", Content: fmt.Sprintf("writer %d prompt %d", w, i)},
						Message{Role: "assistant", Content: fmt.Sprintf("writer %d answer %d", w, i+1)})
					if err != nil {
						return err
					}
				}
				return nil
			}()
		})
	}
	wg.Wait()
	for w, err := range errs {
		if err != nil {
			t.Errorf("writer %d: %v", w, err)
		}
	}
	if t.Failed() {
		return
	}

	s := openTest(t, path)
	all, err := s.List(ctx, ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != writers {
		t.Fatalf("%d conversations saved, want %d", len(all), writers)
	}
	for w, id := range ids {
		_, msgs, err := s.Get(ctx, id)
		if err != nil {
			t.Fatalf("writer %d: %v", w, err)
		}
		if len(msgs) != perWriter {
			t.Fatalf("writer %d: %d messages, want %d", w, len(msgs), perWriter)
		}
		for i, m := range msgs {
			kind := "prompt"
			if i%2 == 1 {
				kind = "answer"
			}
			if want := fmt.Sprintf("writer %d %s %d", w, kind, i); m.Content != want {
				t.Errorf("writer %d message %d = %q, want %q", w, i, m.Content, want)
			}
		}
	}
	ftsIntegrity(t, s)
}

func TestDefaultPath(t *testing.T) {
	t.Run("XDG_DATA_HOME", func(t *testing.T) {
		dir := t.TempDir()
		t.Setenv("XDG_DATA_HOME", dir)
		got, err := DefaultPath()
		if err != nil {
			t.Fatal(err)
		}
		if want := filepath.Join(dir, "moonchat", "history.db"); got != want {
			t.Errorf("DefaultPath() = %q, want %q", got, want)
		}
		if _, err := os.Stat(filepath.Join(dir, "moonchat")); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("DefaultPath created the directory (stat: %v)", err)
		}
	})
	t.Run("platform default", func(t *testing.T) {
		home := t.TempDir()
		// A relative XDG_DATA_HOME is invalid per the XDG spec and ignored.
		t.Setenv("XDG_DATA_HOME", "relative/dir")
		t.Setenv("HOME", home)
		t.Setenv("LocalAppData", filepath.Join(home, "AppData", "Local"))
		got, err := DefaultPath()
		if err != nil {
			t.Fatal(err)
		}
		var want string
		switch runtime.GOOS {
		case "windows":
			want = filepath.Join(home, "AppData", "Local", "moonchat", "history.db")
		case "darwin":
			want = filepath.Join(home, "Library", "Application Support", "moonchat", "history.db")
		default:
			want = filepath.Join(home, ".local", "share", "moonchat", "history.db")
		}
		if got != want {
			t.Errorf("DefaultPath() = %q, want %q", got, want)
		}
	})
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// unchanged checks that path still holds before; complaint says what changed it.
func unchanged(t *testing.T, path string, before []byte, complaint string) {
	t.Helper()
	if !bytes.Equal(readFile(t, path), before) {
		t.Error(complaint)
	}
}
