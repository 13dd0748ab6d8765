//go:build !windows

package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/moonchat/moonchat/pkg/iostreams"
)

func TestEditorCommand(t *testing.T) {
	for _, tt := range []struct{ visual, editor, want string }{
		{"code --wait", "nano", "code --wait"},
		{"", "nano", "nano"},
		{"  ", " nano ", "nano"},
		{"", "   ", "vi"},
	} {
		t.Setenv("VISUAL", tt.visual)
		t.Setenv("EDITOR", tt.editor)
		if got := EditorCommand(); got != tt.want {
			t.Errorf("VISUAL=%q EDITOR=%q: %q, want %q", tt.visual, tt.editor, got, tt.want)
		}
	}
}

// TestRunEditor: the editor value's own arguments come first, then the file, whose name
// reaches the editor as one argument whatever it holds; a failing editor is named.
func TestRunEditor(t *testing.T) {
	dir := t.TempDir()
	script := filepath.Join(dir, "ed")
	out := filepath.Join(dir, "args")
	if err := os.WriteFile(script, []byte("#!/bin/sh\nprintf '%s\\n' \"$@\" > '"+out+"'\n"), 0o700); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "a file; $(rm -rf x) 'q'.md")
	ios, _, _, _ := iostreams.Test()
	if err := RunEditor(ios, script+" --wait", path); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if want := "--wait\n" + path + "\n"; string(got) != want {
		t.Errorf("the editor got %q, want %q", got, want)
	}
	err = RunEditor(ios, "false", path)
	if err == nil || !strings.Contains(err.Error(), "the editor (false) failed") {
		t.Errorf("a failing editor: %v", err)
	}
}
