//go:build unix

package config_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/moonchat/moonchat/internal/clitest"
)

// Permissions and symlinks as Unix has them.

func TestSetCreatesMode0600(t *testing.T) {
	path := clitest.Isolate(t)
	if err := mustLoad(t).Set("api_key", "sk-abcdefghijklmnopqrstuvwxyz"); err != nil {
		t.Fatal(err)
	}
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if perm := info.Mode().Perm(); perm != 0o600 {
		t.Errorf("file mode = %o, want 600", perm)
	}
	dir, err := os.Stat(filepath.Dir(path))
	if err != nil {
		t.Fatal(err)
	}
	if perm := dir.Mode().Perm(); perm != 0o700 {
		t.Errorf("dir mode = %o, want 700", perm)
	}
}

func TestSetTightensExistingMode(t *testing.T) {
	path := clitest.Isolate(t)
	clitest.WriteFile(t, path, "model: a\n")
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := mustLoad(t).Set("model", "b"); err != nil {
		t.Fatal(err)
	}
	info, _ := os.Stat(path)
	if perm := info.Mode().Perm(); perm != 0o600 {
		t.Errorf("mode after Set = %o, want 600", perm)
	}
}

func TestSetKeepsSymlink(t *testing.T) {
	path := clitest.Isolate(t)
	target := filepath.Join(t.TempDir(), "dotfiles", "moonchat.yaml")
	clitest.WriteFile(t, target, "model: a\n")
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(target, path); err != nil {
		t.Fatal(err)
	}
	if err := mustLoad(t).Set("model", "b"); err != nil {
		t.Fatal(err)
	}
	if info, err := os.Lstat(path); err != nil || info.Mode()&os.ModeSymlink == 0 {
		t.Fatalf("the symlink was replaced (%v)", err)
	}
	if got := readConfig(t, target); got != "model: b\n" {
		t.Errorf("target = %q", got)
	}
}
