package moonshot

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"time"
)

// CachedFile is one upload the FileCache remembers.
type CachedFile struct {
	SHA256   string    `json:"sha256"`   // of the file's bytes
	BaseURL  string    `json:"base_url"` // the platform it was uploaded to: .ai and .cn ids do not mix
	FileID   string    `json:"file_id"`
	Name     string    `json:"name"`
	Bytes    int64     `json:"bytes"`
	Purpose  string    `json:"purpose"`
	Uploaded time.Time `json:"uploaded"`
}

// FileCache maps the sha256 of a local file and the API base URL to the id of its upload, so
// that the same document is not uploaded twice. It lives in one JSON file, written atomically
// with mode 0600. Two processes may use it at once: Save replays this process's changes onto
// the file as it is then, so neither loses the other's uploads.
type FileCache struct {
	path    string
	entries []CachedFile
	ops     []cacheOp
}

type cacheOp struct {
	add    *CachedFile
	forget struct{ base, id string }
}

type cacheFile struct {
	Version int          `json:"version"`
	Files   []CachedFile `json:"files"`
}

// DefaultFileCachePath is where moonchat keeps its cache: $XDG_CACHE_HOME/moonchat/files.json,
// else files.json under moonchat in the platform's cache directory.
func DefaultFileCachePath() (string, error) {
	dir := os.Getenv("XDG_CACHE_HOME")
	if dir == "" {
		var err error
		if dir, err = os.UserCacheDir(); err != nil {
			return "", fmt.Errorf("cannot locate the cache directory (set XDG_CACHE_HOME): %w", err)
		}
	}
	return filepath.Join(dir, "moonchat", "files.json"), nil
}

// OpenFileCache reads the cache at path; a missing file is an empty cache. A file that cannot
// be parsed is an error, and NewFileCache(path) starts afresh over it.
func OpenFileCache(path string) (*FileCache, error) {
	entries, err := readCacheFile(path)
	if err != nil {
		return nil, err
	}
	return &FileCache{path: path, entries: entries}, nil
}

// NewFileCache is an empty cache that Save writes to path.
func NewFileCache(path string) *FileCache { return &FileCache{path: path} }

func readCacheFile(path string) ([]CachedFile, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading the file cache: %w", err)
	}
	var cf cacheFile
	if err := json.Unmarshal(data, &cf); err != nil {
		return nil, fmt.Errorf("the file cache %s is not valid JSON: %w", path, err)
	}
	return cf.Files, nil
}

// Path is the cache's file.
func (c *FileCache) Path() string { return c.path }

// Lookup finds an upload of the bytes with this sha256 to baseURL for purpose.
func (c *FileCache) Lookup(baseURL, sha string, purpose string) (CachedFile, bool) {
	for _, e := range c.entries {
		if e.BaseURL == baseURL && e.SHA256 == sha && e.Purpose == purpose {
			return e, true
		}
	}
	return CachedFile{}, false
}

// Files lists the uploads to baseURL that the cache knows.
func (c *FileCache) Files(baseURL string) []CachedFile {
	var out []CachedFile
	for _, e := range c.entries {
		if e.BaseURL == baseURL {
			out = append(out, e)
		}
	}
	return out
}

// Add records an upload (replacing an older one of the same bytes, platform and purpose).
func (c *FileCache) Add(f CachedFile) {
	c.entries = addEntry(c.entries, f)
	c.ops = append(c.ops, cacheOp{add: &f})
}

// Forget drops the upload with this id on baseURL (deleted, or gone from the server).
func (c *FileCache) Forget(baseURL, fileID string) {
	c.entries = forgetEntry(c.entries, baseURL, fileID)
	op := cacheOp{}
	op.forget.base, op.forget.id = baseURL, fileID
	c.ops = append(c.ops, op)
}

func addEntry(entries []CachedFile, f CachedFile) []CachedFile {
	entries = slices.DeleteFunc(entries, func(e CachedFile) bool {
		return e.BaseURL == f.BaseURL && (e.FileID == f.FileID || e.SHA256 == f.SHA256 && e.Purpose == f.Purpose)
	})
	return append(entries, f)
}

func forgetEntry(entries []CachedFile, base, id string) []CachedFile {
	return slices.DeleteFunc(entries, func(e CachedFile) bool { return e.BaseURL == base && e.FileID == id })
}

// Save writes the changes made since the cache was opened, applied to the file's current
// content. Without changes it does nothing.
func (c *FileCache) Save() error {
	if len(c.ops) == 0 {
		return nil
	}
	current, err := readCacheFile(c.path)
	if err != nil {
		current = nil // unreadable: rewrite it from this process's view
	}
	for _, op := range c.ops {
		if op.add != nil {
			current = addEntry(current, *op.add)
		} else {
			current = forgetEntry(current, op.forget.base, op.forget.id)
		}
	}
	if current == nil {
		current = []CachedFile{}
	}
	data, err := json.MarshalIndent(cacheFile{Version: 1, Files: current}, "", "  ")
	if err != nil {
		return err
	}
	if err := writeFileAtomic(c.path, append(data, '\n')); err != nil {
		return fmt.Errorf("writing the file cache: %w", err)
	}
	c.entries, c.ops = current, nil
	return nil
}

// writeFileAtomic replaces path with data: a reader (or a crash) sees the old file or the new
// one, never a mix. The file is 0600 and a directory created for it 0700: the cache names the
// documents a user sent.
func writeFileAtomic(path string, data []byte) (err error) {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			_ = f.Close()
			_ = os.Remove(tmp)
		}
	}()
	if err = f.Chmod(0o600); err != nil {
		return err
	}
	if _, err = f.Write(data); err != nil {
		return err
	}
	if err = f.Sync(); err != nil {
		return err
	}
	if err = f.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
