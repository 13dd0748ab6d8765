//go:build !windows

package configcmd

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/moonchat/moonchat/cmd/cli"
	"github.com/moonchat/moonchat/internal/clitest"
	"github.com/moonchat/moonchat/pkg/config"
)

// editor writes a shell script that edits the file it is given with the shell command body
// ("$1" is the file) and returns its path.
func editor(t *testing.T, body string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "editor")
	if err := os.WriteFile(path, []byte("#!/bin/sh\n"+body+"\n"), 0o700); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestEditCreatesTemplateAndValidates(t *testing.T) {
	path := clitest.Isolate(t)
	t.Setenv("EDITOR", editor(t, `printf 'model: kimi-k2.5\n' >> "$1"`))
	r := mustRun(t, streams{tty: true, stdinTTY: true}, "edit")
	got := readFile(t, path)
	if !strings.HasPrefix(got, string(config.Template())) || !strings.HasSuffix(got, "model: kimi-k2.5\n") {
		t.Errorf("file after edit:\n%s", got)
	}
	if !strings.Contains(r.ErrOut, "Created "+path) || !strings.Contains(r.ErrOut, path+" is valid") {
		t.Errorf("stderr = %q", r.ErrOut)
	}
	info, err := os.Stat(path)
	if err != nil || info.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, %v", info, err)
	}
	if v := mustRun(t, streams{}, "get", "model"); v.Out != "kimi-k2.5\n" {
		t.Errorf("model = %q", v.Out)
	}
}

func TestEditReportsProblemAndKeepsFile(t *testing.T) {
	path := clitest.Isolate(t)
	clitest.WriteFile(t, path, "model: kimi-k2.6\n")
	// VISUAL wins over EDITOR; its arguments pass through the shell, before the file.
	t.Setenv("EDITOR", editor(t, "exit 3"))
	t.Setenv("VISUAL", editor(t, `printf "$1\n" >> "$2"`)+" 'modle: x'")
	_ = os.Chmod(path, 0o644) // an editor that saved with the umask
	r := run(t, streams{}, "edit")
	want := path + `:2: unknown key "modle" (did you mean "model"?)`
	var ue *cli.UsageError
	if cli.ExitCode(r.Err) != cli.ExitUsage || r.Err.Error() != want || !errors.As(r.Err, &ue) ||
		!strings.Contains(ue.Hint, "run `moonchat config edit` again") {
		t.Fatalf("err = %v (exit %d), want it to start with %q", r.Err, cli.ExitCode(r.Err), want)
	}
	if got := readFile(t, path); got != "model: kimi-k2.6\nmodle: x\n" {
		t.Errorf("the edited file was not kept: %q", got)
	}
	if info, _ := os.Stat(path); info.Mode().Perm() != 0o600 {
		t.Errorf("mode after edit = %o, want 600", info.Mode().Perm())
	}
	// Other commands refuse the file; edit is how to repair it.
	if r := run(t, streams{}, "get", "model"); cli.ExitCode(r.Err) != cli.ExitUsage {
		t.Errorf("get on the broken file: %v", r.Err)
	}
	t.Setenv("VISUAL", editor(t, `sed -i.bak 's/^modle:/wrap:/; s/ x$/ 72/' "$1"`))
	mustRun(t, streams{}, "edit")
	if v := mustRun(t, streams{}, "get", "wrap"); v.Out != "72\n" {
		t.Errorf("wrap = %q", v.Out)
	}
}

func TestEditorFailure(t *testing.T) {
	path := clitest.Isolate(t)
	t.Setenv("EDITOR", editor(t, `printf 'wrap: 80\n' >> "$1"; exit 3`))
	r := run(t, streams{}, "edit")
	if r.Err == nil || !strings.Contains(r.Err.Error(), "exit status 3") || cli.ExitCode(r.Err) != cli.ExitFailure {
		t.Errorf("err = %v", r.Err)
	}
	// What the editor saved before failing is valid and stays.
	if got := readFile(t, path); !strings.HasSuffix(got, "wrap: 80\n") {
		t.Errorf("file = %q", got)
	}
	t.Setenv("EDITOR", filepath.Join(t.TempDir(), "no-such-editor"))
	if r := run(t, streams{}, "edit"); r.Err == nil {
		t.Error("a missing editor was not reported")
	}
}

func TestEditWithoutTerminalNeedsAnEditor(t *testing.T) {
	path := clitest.Isolate(t)
	r := run(t, streams{}, "edit")
	if r.Err == nil || !strings.Contains(r.Err.Error(), "VISUAL or EDITOR") {
		t.Errorf("err = %v", r.Err)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Error("file created although no editor could run")
	}
}
