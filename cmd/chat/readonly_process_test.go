//go:build unix

package chat_test

import (
	"bytes"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/moonchat/moonchat/pkg/history"
)

// unprivileged makes c run without the right to write where its permissions say it may not.
// root may write anywhere, so under root (CI containers) c runs as nobody, from a copy of
// the test binary that nobody may execute, with dir handed to nobody.
func unprivileged(t *testing.T, c *exec.Cmd, dir string) {
	t.Helper()
	if os.Getuid() != 0 {
		return
	}
	const nobody = 65534
	bin := filepath.Join(dir, "moonchat.test")
	data, err := os.ReadFile(os.Args[0])
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bin, data, 0o755); err != nil {
		t.Fatal(err)
	}
	c.Path, c.Args[0] = bin, bin
	c.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: nobody, Gid: nobody}}
	// nobody must reach dir: open every directory above it for traversal.
	for d := dir; d != filepath.Dir(d); d = filepath.Dir(d) {
		if st, err := os.Stat(d); err == nil && st.Mode().Perm()&0o001 == 0 {
			if err := os.Chmod(d, st.Mode().Perm()|0o711); err != nil {
				t.Fatal(err)
			}
		}
	}
	err = filepath.Walk(dir, func(p string, _ os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(p, nobody, nobody)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// A read-only data directory: the history can still be listed, shown, searched and
// exported, and a chat prints its answer and says plainly why it was not saved.
func TestReadOnlyDataDirectoryStillReads(t *testing.T) {
	isolated(t)
	if out, err := moonchat("chat", "-m", "kimi-k2.6", "hello there").CombinedOutput(); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	convs := savedN(t, 1)
	id := convs[0].ID
	path, _ := history.DefaultPath()
	home := filepath.Dir(filepath.Dir(filepath.Dir(path))) // the test's private directory
	for _, name := range []string{"-wal", "-shm"} {
		if _, err := os.Stat(path + name); err == nil {
			t.Fatalf("%s%s is left after the last process closed the database", path, name)
		}
	}

	run := func(args ...string) (string, string, int) {
		c := moonchat(args...)
		unprivileged(t, c, home)
		if err := os.Chmod(filepath.Dir(path), 0o555); err != nil {
			t.Fatal(err)
		}
		defer os.Chmod(filepath.Dir(path), 0o700)
		var stdout, stderr bytes.Buffer
		c.Stdout, c.Stderr, c.Stdin = &stdout, &stderr, io.LimitReader(nil, 0)
		_ = c.Run()
		return stdout.String(), stderr.String(), c.ProcessState.ExitCode()
	}
	for _, args := range [][]string{{"history", "list"}, {"history", "show", id}, {"history", "search", "hello"}, {"history", "export", id}} {
		stdout, stderr, code := run(args...)
		if code != 0 || !strings.Contains(stdout, "hello there") {
			t.Errorf("%s: exit %d, stdout %q, stderr %q", strings.Join(args, " "), code, stdout, stderr)
		}
	}
	stdout, stderr, code := run("chat", "-m", "kimi-k2.6", "again")
	if code != 0 || !strings.Contains(stdout, "You said: again") {
		t.Fatalf("chat: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	if !strings.Contains(stderr, "not saved") || !strings.Contains(stderr, "cannot be written") || !strings.Contains(stderr, "--no-save") {
		t.Errorf("chat stderr = %q", stderr)
	}
	for _, wrong := range []string{"proxy", "busy", "Moonshot"} {
		if strings.Contains(stderr, wrong) {
			t.Errorf("the hint for a local file talks about %q: %q", wrong, stderr)
		}
	}
}
