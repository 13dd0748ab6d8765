package iostreams

import (
	"os"
	"path/filepath"
	"testing"
)

func TestCanMoveCursor(t *testing.T) {
	dir := t.TempDir()
	// An entry only this directory knows, filed as Linux (first letter) and macOS (hex) do.
	for _, p := range []string{"w/weirdterm", "6d/macterm"} {
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, p)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, p), []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		name     string
		tty      bool
		term     string
		force    bool
		want     bool
		wantRend bool // RenderEnabled, for contrast: rendering is not the same as moving the cursor
	}{
		{"xterm", true, "xterm-256color", false, true, true},
		{"tmux", true, "tmux-256color", false, true, true},
		{"unset TERM", true, "", false, true, true},
		{"dumb", true, "dumb", false, false, false},
		{"dumb with CLICOLOR_FORCE", true, "dumb", true, false, true},
		{"unknown terminal", true, "hal9000", true, false, true},
		{"known by terminfo", true, "weirdterm", false, true, true},
		{"known by macOS terminfo", true, "macterm", false, true, true},
		{"a path is not a name", true, "../w/weirdterm", false, false, true},
		{"pipe with CLICOLOR_FORCE", false, "xterm-256color", true, false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ios, _, _, _ := Test()
			ios.SetTerminfoDirs(dir)
			ios.SetStdoutTTY(tc.tty)
			ios.SetStderrTTY(tc.tty)
			ios.SetEnv("TERM", tc.term)
			if tc.force {
				ios.SetEnv("CLICOLOR_FORCE", "1")
			}
			if got := ios.CanMoveCursor(); got != tc.want {
				t.Errorf("CanMoveCursor = %v, want %v", got, tc.want)
			}
			if got := ios.ErrCanMoveCursor(); got != tc.want {
				t.Errorf("ErrCanMoveCursor = %v, want %v", got, tc.want)
			}
			if got := ios.RenderEnabled(); got != tc.wantRend {
				t.Errorf("RenderEnabled = %v, want %v", got, tc.wantRend)
			}
		})
	}
}
