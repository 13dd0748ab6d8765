// Package history keeps moonchat conversations in a SQLite database.
//
// It uses the pure-Go driver modernc.org/sqlite, so releases cross-compile
// without cgo. The database runs in WAL mode with a busy timeout and takes the
// write lock at the start of every write transaction (BEGIN IMMEDIATE), so
// many moonchat processes can write to it at once without losing a write.
//
// The package imports nothing else from moonchat and never stores API keys.
package history

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// busyTimeoutMS is how long a connection waits for another writer before
// giving up. A moonchat write transaction takes milliseconds, so five seconds
// covers dozens of parallel processes.
const busyTimeoutMS = 5000

// sqliteMagic starts every SQLite 3 database file.
var sqliteMagic = []byte("SQLite format 3\x00")

// Store is an open history database. It is safe for concurrent use.
type Store struct {
	db   *sql.DB
	path string
}

// CorruptError reports a file that is not a usable SQLite database. The file
// is left exactly as it was.
type CorruptError struct {
	Path   string
	Detail string
}

func (e *CorruptError) Error() string {
	return fmt.Sprintf("history database %s is not a valid SQLite database (%s); move it aside to start a new one", e.Path, e.Detail)
}

// VersionError reports a database written by a newer moonchat, whose schema
// this build does not know.
type VersionError struct {
	Path      string
	Version   int // schema version found in the file
	Supported int // newest schema version this build knows
}

func (e *VersionError) Error() string {
	return fmt.Sprintf("history database %s has schema version %d, but this moonchat supports up to version %d; upgrade moonchat to use it", e.Path, e.Version, e.Supported)
}

// DefaultPath returns where the history database lives:
// $XDG_DATA_HOME/moonchat/history.db, or the platform's data directory
// (~/.local/share on Linux and other Unix systems, ~/Library/Application
// Support on macOS, %LocalAppData% on Windows). It does not create anything;
// Open does.
func DefaultPath() (string, error) {
	dir, err := dataDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(dir, "moonchat", "history.db"), nil
}

func dataDir() (string, error) {
	// The XDG spec says relative paths are invalid and must be ignored.
	if d := os.Getenv("XDG_DATA_HOME"); d != "" && filepath.IsAbs(d) {
		return d, nil
	}
	if runtime.GOOS == "windows" {
		if d := os.Getenv("LocalAppData"); d != "" {
			return d, nil
		}
		return "", errors.New("cannot locate the history database: neither XDG_DATA_HOME nor LocalAppData is set")
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("cannot locate the history database: %w", err)
	}
	if runtime.GOOS == "darwin" {
		return filepath.Join(home, "Library", "Application Support"), nil
	}
	return filepath.Join(home, ".local", "share"), nil
}

// Open opens the history database at path, creating it (directory 0700, file
// 0600) and bringing its schema up to date as needed. A file that is not a
// SQLite database yields a *CorruptError and is never modified; a database
// from a newer moonchat yields a *VersionError.
func Open(path string) (*Store, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("history database %s: %w", path, err)
	}
	if err := os.MkdirAll(filepath.Dir(abs), 0o700); err != nil {
		return nil, fmt.Errorf("create history directory: %w", err)
	}
	if err := prepareFile(abs); err != nil {
		return nil, err
	}

	db, err := sql.Open("sqlite", dsn(abs))
	if err != nil {
		return nil, fmt.Errorf("open history database %s: %w", abs, err)
	}
	s := &Store{db: db, path: abs}
	ctx := context.Background()
	v, err := s.checkSchema(ctx)
	if err != nil {
		db.Close()
		return nil, err
	}
	if err := s.enableWAL(ctx); err != nil {
		db.Close()
		return nil, s.wrap(err)
	}
	if err := s.migrate(ctx, v); err != nil {
		db.Close()
		return nil, err
	}
	return s, nil
}

// prepareFile creates the database file with private permissions before
// SQLite sees it (SQLite would create it with the umask's 0644), and refuses
// a non-empty file that does not start with the SQLite header, so SQLite never
// gets the chance to write into someone's random file.
func prepareFile(path string) error {
	f, err := os.OpenFile(path, os.O_RDONLY|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("open history database: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return fmt.Errorf("open history database: %w", err)
	}
	if !st.Mode().IsRegular() {
		return &CorruptError{Path: path, Detail: "not a regular file"}
	}
	if st.Size() == 0 {
		// An empty file is a valid empty database (and is what a fresh WAL
		// database looks like until its first checkpoint).
		return nil
	}
	head := make([]byte, len(sqliteMagic))
	n, err := io.ReadFull(f, head)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("read history database %s: %w", path, err)
	}
	if !bytes.Equal(head[:n], sqliteMagic) {
		return &CorruptError{Path: path, Detail: "file header is not a SQLite header"}
	}
	return nil
}

// dsn builds a file: URI, so paths containing '?' or '#' survive, with the
// per-connection settings every pooled connection needs. Writes begin
// IMMEDIATE; read-only transactions stay deferred.
func dsn(abs string) string {
	p := filepath.ToSlash(abs)
	if !strings.HasPrefix(p, "/") {
		p = "/" + p // Windows drive paths: file:/C:/...
	}
	u := url.URL{Scheme: "file", OmitHost: true, Path: p}
	q := url.Values{}
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", busyTimeoutMS))
	q.Add("_pragma", "foreign_keys(1)")
	q.Set("_txlock", "immediate")
	return u.String() + "?" + q.Encode()
}

// enableWAL switches the database to WAL mode, which is recorded in the file,
// so it is done once here rather than by every pooled connection.
//
// The switch reads the header and then takes the write lock; SQLite does not
// run the busy handler for that upgrade (waiting could deadlock), so when
// several processes create the database at once the losers get SQLITE_BUSY
// straight away. They retry here, within the same time budget as the busy
// timeout.
func (s *Store) enableWAL(ctx context.Context) error {
	deadline := time.Now().Add(busyTimeoutMS * time.Millisecond)
	delay := time.Millisecond
	for {
		var mode string
		err := s.db.QueryRowContext(ctx, "PRAGMA journal_mode = WAL").Scan(&mode)
		if err == nil {
			// A file system without shared memory (some network mounts)
			// keeps the old mode; writes then still work, just serialised
			// more coarsely, so that is not an error.
			return nil
		}
		if !isBusy(err) || time.Now().After(deadline) {
			return err
		}
		timer := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			timer.Stop()
			return ctx.Err()
		case <-timer.C:
		}
		delay = min(2*delay, 50*time.Millisecond)
	}
}

func isBusy(err error) bool {
	var se *sqlite.Error
	return errors.As(err, &se) && se.Code()&0xff == sqlite3.SQLITE_BUSY
}

// Path returns the absolute path of the database file.
func (s *Store) Path() string { return s.path }

// Close closes the database.
func (s *Store) Close() error { return s.db.Close() }

// wrap turns SQLite's "not a database" and "malformed" errors into a
// *CorruptError naming the file and gives other SQLite errors the path as
// context. Errors of this package and of the context pass unchanged.
func (s *Store) wrap(err error) error {
	var se *sqlite.Error
	if !errors.As(err, &se) {
		return err
	}
	switch se.Code() & 0xff {
	case sqlite3.SQLITE_NOTADB, sqlite3.SQLITE_CORRUPT:
		return &CorruptError{Path: s.path, Detail: se.Error()}
	}
	return fmt.Errorf("history database %s: %w", s.path, err)
}

// writeTx runs fn in a write transaction. The driver begins it IMMEDIATE,
// taking the write lock up front: a deferred transaction that upgrades from
// read to write fails at once with SQLITE_BUSY under WAL instead of waiting.
func (s *Store) writeTx(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return s.wrap(err)
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return s.wrap(err)
	}
	return s.wrap(tx.Commit())
}
