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
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
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
	db         *sql.DB
	path       string
	readOnly   bool
	indexBatch int64 // bytes of message text indexed per write transaction (index.go)
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
//
// A database that exists but cannot be written (a read-only directory, file or
// file system) is opened read-only: listing, reading and searching work, and
// every write fails with a *ReadOnlyError.
func Open(path string) (*Store, error) {
	s, err := open(path, false)
	if err != nil && cannotWrite(err) {
		if ro, rerr := open(path, true); rerr == nil {
			return ro, nil
		}
	}
	return s, err
}

func open(path string, readOnly bool) (*Store, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("history database %s: %w", path, err)
	}
	if !readOnly {
		if err := os.MkdirAll(filepath.Dir(abs), 0o700); err != nil {
			return nil, fmt.Errorf("create history directory: %w", err)
		}
	}
	if err := prepareFile(abs, !readOnly); err != nil {
		return nil, err
	}
	modes := []string{""}
	if readOnly {
		// mode=ro needs the WAL's shared-memory file, which a read-only directory may
		// lack; immutable does without it (nobody can be writing there anyway).
		modes = []string{"ro", "immutable"}
	}
	var s *Store
	var v int
	for _, mode := range modes {
		db, err := sql.Open("sqlite", dsn(abs, mode))
		if err != nil {
			return nil, fmt.Errorf("open history database %s: %w", abs, err)
		}
		s = &Store{db: db, path: abs, readOnly: readOnly, indexBatch: indexBatchBytes}
		if v, err = s.checkSchema(context.Background()); err == nil {
			break
		}
		db.Close()
		if mode == modes[len(modes)-1] || !cannotWrite(err) {
			return nil, err
		}
	}
	if readOnly {
		if v < len(migrations) {
			s.db.Close()
			return nil, &ReadOnlyError{Path: abs, Detail: "it needs a schema upgrade, which needs write access"}
		}
		return s, nil
	}
	ctx := context.Background()
	if err := s.enableWAL(ctx); err != nil {
		s.db.Close()
		return nil, s.wrap(err)
	}
	if err := s.migrate(ctx, v); err != nil {
		s.db.Close()
		return nil, err
	}
	return s, nil
}

// ReadOnlyError is a write to a history database that can only be read.
type ReadOnlyError struct {
	Path   string
	Detail string
}

func (e *ReadOnlyError) Error() string {
	return fmt.Sprintf("history database %s cannot be written (%s)", e.Path, e.Detail)
}

// cannotWrite reports a failure that comes from missing write access rather than from the
// database itself.
func cannotWrite(err error) bool {
	var ro *ReadOnlyError
	if errors.As(err, &ro) || errors.Is(err, fs.ErrPermission) || errors.Is(err, syscall.EROFS) {
		return true
	}
	var se *sqlite.Error
	if !errors.As(err, &se) {
		return false
	}
	switch se.Code() & 0xff {
	case sqlite3.SQLITE_READONLY, sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_PERM, sqlite3.SQLITE_AUTH:
		return true
	}
	return false
}

// prepareFile creates the database file with private permissions before
// SQLite sees it (SQLite would create it with the umask's 0644), and refuses
// a non-empty file that does not start with the SQLite header, so SQLite never
// gets the chance to write into someone's random file.
func prepareFile(path string, create bool) error {
	flags := os.O_RDONLY
	if create {
		flags |= os.O_CREATE
	}
	f, err := os.OpenFile(path, flags, 0o600)
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
// IMMEDIATE; read-only transactions stay deferred. mode "ro" or "immutable"
// opens the file for reading only.
func dsn(abs, mode string) string {
	p := filepath.ToSlash(abs)
	if !strings.HasPrefix(p, "/") {
		p = "/" + p // Windows drive paths: file:/C:/...
	}
	u := url.URL{Scheme: "file", OmitHost: true, Path: p}
	q := url.Values{}
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", busyTimeoutMS))
	q.Add("_pragma", "foreign_keys(1)")
	q.Set("_txlock", "immediate")
	switch mode {
	case "ro":
		q.Set("mode", "ro")
	case "immutable":
		q.Set("mode", "ro")
		q.Set("immutable", "1")
	}
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
	case sqlite3.SQLITE_READONLY:
		return &ReadOnlyError{Path: s.path, Detail: se.Error()}
	}
	return fmt.Errorf("history database %s: %w", s.path, err)
}

// writeTx runs fn in a write transaction. The driver begins it IMMEDIATE,
// taking the write lock up front: a deferred transaction that upgrades from
// read to write fails at once with SQLITE_BUSY under WAL instead of waiting.
func (s *Store) writeTx(ctx context.Context, fn func(*sql.Tx) error) error {
	if s.readOnly {
		return &ReadOnlyError{Path: s.path, Detail: "moonchat may read it but not write it: check the permissions of " + filepath.Dir(s.path)}
	}
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
