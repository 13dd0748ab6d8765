package config_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/moonchat/moonchat/pkg/config"
)

// loadRefused loads path and checks the error names the file and the reason.
func loadRefused(t *testing.T, path, reason string) {
	t.Helper()
	_, err := config.LoadFile(path)
	var fe *config.FileError
	if !errors.As(err, &fe) || !strings.HasPrefix(err.Error(), path+": cannot read: ") || !strings.Contains(err.Error(), reason) {
		t.Errorf("LoadFile(%s) error = %v, want %q", path, err, reason)
	}
}

// A config file over 1 MB is refused, not read: no config file is that large.
func TestConfigFileOverTheCap(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config.yaml")
	big := "# " + strings.Repeat("x", config.MaxFileBytes) + "\nmodel: kimi-k2.6\n"
	if err := os.WriteFile(path, []byte(big), 0o600); err != nil {
		t.Fatal(err)
	}
	loadRefused(t, path, "larger than 1 MB")

	// Just under the cap is an ordinary file.
	ok := "# " + strings.Repeat("x", config.MaxFileBytes-40) + "\nmodel: kimi-k2.6\n"
	if err := os.WriteFile(path, []byte(ok), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.LoadFile(path)
	if err != nil || cfg.Value("model").Raw != "kimi-k2.6" {
		t.Errorf("a file under the cap: %v", err)
	}
}
