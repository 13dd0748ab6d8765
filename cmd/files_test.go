package cmd

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/moonchat/moonchat/cmd/cli"
	"github.com/moonchat/moonchat/pkg/moonshot"
)

// runAt is run with the factory's clock stopped at now.
func (h *harness) runAt(now time.Time, args ...string) run {
	h.t.Helper()
	return h.runWith(func(f *cli.Factory) { f.Now = func() time.Time { return now } }, args...)
}

// uploadElsewhere puts a file in the account the way another tool would: moonchat's cache does
// not know it.
func (h *harness) uploadElsewhere(name, content string) string {
	h.t.Helper()
	c, err := moonshot.NewClient(moonshot.Options{APIKey: testKey, BaseURL: h.srv.URL})
	if err != nil {
		h.t.Fatal(err)
	}
	f, err := c.UploadFile(context.Background(), name, strings.NewReader(content), moonshot.PurposeFileExtract)
	if err != nil {
		h.t.Fatal(err)
	}
	return f.ID
}

func listJSON(t *testing.T, h *harness) []map[string]any {
	t.Helper()
	r := h.run("files", "list", "--json")
	if r.code != 0 {
		t.Fatalf("files list: exit %d: %s", r.code, r.stderr)
	}
	var out []map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &out); err != nil {
		t.Fatalf("files list --json: %v\n%s", err, r.stdout)
	}
	return out
}

func TestFilesListMarksMoonchatUploads(t *testing.T) {
	h := newHarness(t)
	foreign := h.uploadElsewhere("other.txt", "not ours")
	if r := h.run("chat", "-m", "kimi-k2-turbo-preview", "-f", writeFile(t, "mine.docx", tinyDocx(t, "ours")), "x"); r.code != 0 {
		t.Fatalf("chat: exit %d: %s", r.code, r.stderr)
	}
	files := listJSON(t, h)
	if len(files) != 2 || files[0]["id"] != foreign || files[0]["moonchat"] != false ||
		files[1]["filename"] != "mine.docx" || files[1]["moonchat"] != true || files[1]["purpose"] != "file-extract" {
		t.Fatalf("list %v", files)
	}
	// Piped: one id per line, for xargs.
	if r := h.run("files", "list"); r.stdout != foreign+"\nfile-emu-000002\n" {
		t.Fatalf("piped list %q", r.stdout)
	}
	h.tty = true
	r := h.run("files", "list")
	if !strings.Contains(r.stdout, "MOONCHAT") || !strings.Contains(r.stdout, "2 of 1,000 files") || !strings.Contains(r.stdout, "1 uploaded by moonchat") {
		t.Fatalf("table %q", r.stdout)
	}
}

func TestFilesRm(t *testing.T) {
	h := newHarness(t)
	doc := writeFile(t, "mine.docx", tinyDocx(t, "ours"))
	if r := h.run("chat", "-m", "kimi-k2-turbo-preview", "-f", doc, "x"); r.code != 0 {
		t.Fatalf("chat: exit %d: %s", r.code, r.stderr)
	}
	r := h.run("files", "rm", "file-emu-000001", "file-nope")
	if r.code != 5 || r.stdout != "deleted file-emu-000001\n" || !strings.Contains(r.stderr, "file-nope") {
		t.Fatalf("rm: exit %d stdout %q stderr %q", r.code, r.stdout, r.stderr)
	}
	if files := listJSON(t, h); len(files) != 0 {
		t.Fatalf("left %v", files)
	}
	// Forgotten by the cache too: the next chat uploads again instead of failing.
	if r := h.run("chat", "-m", "kimi-k2-turbo-preview", "-f", doc, "x"); r.code != 0 {
		t.Fatalf("chat: exit %d: %s", r.code, r.stderr)
	}
	if n := h.requestsTo("POST", "/v1/files"); n != 2 {
		t.Fatalf("%d uploads", n)
	}
	if r := h.run("files", "rm"); r.code != 2 {
		t.Fatalf("rm without ids: exit %d", r.code)
	}
}

func TestFilesPrune(t *testing.T) {
	h := newHarness(t)
	foreign := h.uploadElsewhere("other.txt", "not ours")
	for _, name := range []string{"a.docx", "b.docx"} {
		if r := h.run("chat", "-m", "kimi-k2-turbo-preview", "-f", writeFile(t, name, tinyDocx(t, name)), "x"); r.code != 0 {
			t.Fatalf("chat: exit %d: %s", r.code, r.stderr)
		}
	}

	r := h.run("files", "prune", "--dry-run")
	if r.code != 0 || r.stdout != "would delete file-emu-000002 a.docx\nwould delete file-emu-000003 b.docx\n" || len(listJSON(t, h)) != 3 {
		t.Fatalf("dry run: exit %d stdout %q", r.code, r.stdout)
	}
	// The emulator dates its files 2026-01-01: none is ten years old.
	if r := h.run("files", "prune", "--older-than", "520w"); r.code != 0 || r.stdout != "" || !strings.Contains(r.stderr, "nothing to prune") {
		t.Fatalf("older-than: exit %d stdout %q stderr %q", r.code, r.stdout, r.stderr)
	}
	r = h.run("files", "prune", "--json")
	var deleted []map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &deleted); err != nil || r.code != 0 || len(deleted) != 2 || deleted[0]["deleted"] != true {
		t.Fatalf("prune: exit %d stdout %q: %v", r.code, r.stdout, err)
	}
	if files := listJSON(t, h); len(files) != 1 || files[0]["id"] != foreign {
		t.Fatalf("prune touched other files: %v", files)
	}

	if r := h.run("files", "prune", "--all"); r.code != 2 || !strings.Contains(r.stderr, "--yes") {
		t.Fatalf("--all without --yes: exit %d stderr %q", r.code, r.stderr)
	}
	if r := h.run("files", "prune", "--all", "--yes"); r.code != 0 || r.stdout != "deleted "+foreign+" other.txt\n" {
		t.Fatalf("--all: exit %d stdout %q stderr %q", r.code, r.stdout, r.stderr)
	}
	if r := h.run("files", "prune", "--older-than", "soon"); r.code != 2 {
		t.Fatalf("bad age: exit %d", r.code)
	}
}

func TestFilesPruneOlderThan(t *testing.T) {
	h := newHarness(t)
	for _, name := range []string{"a.docx", "b.docx"} {
		if r := h.run("chat", "-m", "kimi-k2-turbo-preview", "-f", writeFile(t, name, tinyDocx(t, name)), "x"); r.code != 0 {
			t.Fatalf("chat: exit %d: %s", r.code, r.stderr)
		}
	}
	// The emulator dates its files 2026-01-01T00:00:01Z and :02Z; 1.5 s after the second, only
	// the first is older than 2 s.
	now := time.Unix(1767225600+2, 0).Add(1500 * time.Millisecond)
	r := h.runAt(now, "files", "prune", "--older-than", "2s")
	if r.code != 0 || r.stdout != "deleted file-emu-000001 a.docx\n" {
		t.Fatalf("exit %d stdout %q stderr %q", r.code, r.stdout, r.stderr)
	}
}
