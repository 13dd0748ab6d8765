package moonshot_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/moonchat/moonchat/pkg/emulator"
	"github.com/moonchat/moonchat/pkg/moonshot"
)

func TestFilesLifecycle(t *testing.T) {
	srv := start(t)
	c := newClient(t, srv)
	ctx := context.Background()

	f, err := c.UploadFile(ctx, "dir/notes.txt", strings.NewReader("hello files"), moonshot.PurposeFileExtract)
	if err != nil {
		t.Fatal(err)
	}
	if f.ID == "" || f.Filename != "notes.txt" || f.Bytes != 11 || f.Purpose != "file-extract" {
		t.Fatalf("uploaded %+v", f)
	}
	// The upload is multipart with the two fields Moonshot documents.
	up := srv.Requests()[0]
	if up.Method != "POST" || !strings.HasPrefix(up.Header.Get("Content-Type"), "multipart/form-data; boundary=") ||
		!bytes.Contains(up.Body, []byte(`name="purpose"`)) || !bytes.Contains(up.Body, []byte(`name="file"; filename="notes.txt"`)) {
		t.Fatalf("upload request %s %q\n%s", up.Method, up.Header.Get("Content-Type"), up.Body)
	}

	list, err := c.ListFiles(ctx)
	if err != nil || len(list) != 1 || list[0].ID != f.ID {
		t.Fatalf("list %+v %v", list, err)
	}
	got, err := c.GetFile(ctx, f.ID)
	if err != nil || got.Filename != "notes.txt" {
		t.Fatalf("get %+v %v", got, err)
	}
	content, err := c.FileContent(ctx, f.ID)
	if err != nil {
		t.Fatal(err)
	}
	if content.Content != "hello files" || content.Filename != "notes.txt" {
		t.Fatalf("content %+v", content)
	}
	// Raw is the body verbatim: the JSON text Moonshot's guide puts in a system message.
	var raw map[string]any
	if err := json.Unmarshal([]byte(content.Raw), &raw); err != nil || raw["content"] != "hello files" {
		t.Fatalf("raw %q: %v", content.Raw, err)
	}
	if err := c.DeleteFile(ctx, f.ID); err != nil {
		t.Fatal(err)
	}
	if list, _ := c.ListFiles(ctx); len(list) != 0 {
		t.Fatalf("still listed: %+v", list)
	}
	var apiErr *moonshot.APIError
	if err := c.DeleteFile(ctx, f.ID); !errors.As(err, &apiErr) || apiErr.StatusCode != 404 {
		t.Fatalf("second delete: %v", err)
	}
}

func TestUploadRefusesLocally(t *testing.T) {
	srv := start(t)
	c := newClient(t, srv)
	var inv *moonshot.InvalidRequestError
	big := bytes.NewReader(make([]byte, moonshot.MaxFileBytes+1))
	if _, err := c.UploadFile(context.Background(), "big.bin", big, moonshot.PurposeFileExtract); !errors.As(err, &inv) || !strings.Contains(err.Error(), "100 MB") {
		t.Fatalf("over 100 MB: %v", err)
	}
	if _, err := c.UploadFile(context.Background(), "empty.txt", strings.NewReader(""), moonshot.PurposeFileExtract); !errors.As(err, &inv) {
		t.Fatalf("empty: %v", err)
	}
	if n := len(srv.Requests()); n != 0 {
		t.Fatalf("%d requests sent", n)
	}
}

func TestExtractFileUsesTheCache(t *testing.T) {
	srv := start(t)
	c := newClient(t, srv)
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "sub", "files.json")
	cache, err := moonshot.OpenFileCache(path)
	if err != nil {
		t.Fatal(err)
	}
	data := []byte("quarterly figures")
	first, err := c.ExtractFile(ctx, "q.txt", data, cache)
	if err != nil || !first.Uploaded || first.Content.Content != "quarterly figures" {
		t.Fatalf("first %+v %v", first, err)
	}
	if err := cache.Save(); err != nil {
		t.Fatal(err)
	}
	if st, err := os.Stat(path); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("cache file: %v %v", st, err)
	}

	// A new process: the cache on disk finds the upload, nothing is uploaded again.
	cache2, err := moonshot.OpenFileCache(path)
	if err != nil {
		t.Fatal(err)
	}
	second, err := c.ExtractFile(ctx, "renamed.txt", data, cache2)
	if err != nil || second.Uploaded || second.FileID != first.FileID {
		t.Fatalf("second %+v %v", second, err)
	}
	if n := countPath(srv.Requests(), "POST", "/v1/files"); n != 1 {
		t.Fatalf("%d uploads", n)
	}

	// Another platform does not share ids.
	if _, ok := cache2.Lookup(moonshot.ChinaBaseURL, sha(data), moonshot.PurposeFileExtract); ok {
		t.Fatal("cache hit for another base URL")
	}

	// Deleted on the server: the 404 on its content leads to a new upload.
	if err := c.DeleteFile(ctx, first.FileID); err != nil {
		t.Fatal(err)
	}
	third, err := c.ExtractFile(ctx, "q.txt", data, cache2)
	if err != nil || !third.Uploaded || third.FileID == first.FileID {
		t.Fatalf("third %+v %v", third, err)
	}
	if files := cache2.Files(c.BaseURL()); len(files) != 1 || files[0].FileID != third.FileID {
		t.Fatalf("cache %+v", files)
	}
}

func TestFileCacheSaveMergesConcurrentWriters(t *testing.T) {
	path := filepath.Join(t.TempDir(), "files.json")
	a, _ := moonshot.OpenFileCache(path)
	b, _ := moonshot.OpenFileCache(path)
	a.Add(moonshot.CachedFile{SHA256: "aa", BaseURL: "u", FileID: "file-a", Purpose: "file-extract"})
	b.Add(moonshot.CachedFile{SHA256: "bb", BaseURL: "u", FileID: "file-b", Purpose: "file-extract"})
	if err := a.Save(); err != nil {
		t.Fatal(err)
	}
	if err := b.Save(); err != nil {
		t.Fatal(err)
	}
	c, err := moonshot.OpenFileCache(path)
	if err != nil {
		t.Fatal(err)
	}
	if files := c.Files("u"); len(files) != 2 {
		t.Fatalf("one writer's upload was lost: %+v", files)
	}
	c.Forget("u", "file-a")
	if err := c.Save(); err != nil {
		t.Fatal(err)
	}
	d, _ := moonshot.OpenFileCache(path)
	if files := d.Files("u"); len(files) != 1 || files[0].FileID != "file-b" {
		t.Fatalf("after forget: %+v", files)
	}

	if err := os.WriteFile(path, []byte("{broken"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := moonshot.OpenFileCache(path); err == nil {
		t.Fatal("a broken cache file was read without error")
	}
}

func TestDefaultFileCachePathFollowsXDG(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", "/tmp/xdg-cache")
	if p, err := moonshot.DefaultFileCachePath(); err != nil || p != "/tmp/xdg-cache/moonchat/files.json" {
		t.Fatalf("%q %v", p, err)
	}
}

func sha(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

func countPath(reqs []emulator.Recorded, method, path string) int {
	n := 0
	for _, r := range reqs {
		if r.Method == method && r.Path == path {
			n++
		}
	}
	return n
}
