//go:build unix

package config_test

import (
	"path/filepath"
	"syscall"
	"testing"
)

// MOONCHAT_CONFIG=/dev/zero, or a FIFO nobody writes to: refused at once instead of reading
// for ever (or waiting for a writer).
func TestConfigFileMustBeRegular(t *testing.T) {
	loadRefused(t, "/dev/zero", "not a regular file")
	fifo := filepath.Join(t.TempDir(), "config.yaml")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	loadRefused(t, fifo, "not a regular file")
}
