package configcmd

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"

	"github.com/moonchat/moonchat/cmd/cli"
	"github.com/moonchat/moonchat/pkg/config"
)

func editRun(opts *Options) error {
	path, err := config.Path()
	if err != nil {
		return err
	}
	editor := editorCommand()
	if editor == "vi" && !opts.IO.CanPrompt() {
		return errors.New("no terminal to run vi in: set VISUAL or EDITOR to an editor that opens its own window, or run this on a terminal")
	}
	created, err := config.CreateFile(path)
	if err != nil {
		return err
	}
	if created && opts.IO.IsStderrTTY() {
		fmt.Fprintf(opts.IO.ErrOut, "Created %s from the template\n", path)
	}
	runErr := runEditor(opts, editor, path)
	// The editor may have replaced the file with one of its own mode; it holds the API key.
	if runtime.GOOS != "windows" {
		if info, err := os.Stat(path); err == nil && info.Mode().Perm()&0o077 != 0 {
			_ = os.Chmod(path, 0o600)
		}
	}
	if err := config.CheckFile(path); err != nil {
		var fe *config.FileError
		if errors.As(err, &fe) {
			return &cli.UsageError{Err: err, Hint: "the file is kept as you left it: run `moonchat config edit` again to fix it"}
		}
		return err
	}
	if runErr != nil {
		return runErr
	}
	if opts.IO.IsStderrTTY() {
		fmt.Fprintf(opts.IO.ErrOut, "%s is valid\n", path)
	}
	return nil
}

// editorCommand is the user's editor: $VISUAL, $EDITOR, else the platform's basic one.
func editorCommand() string {
	for _, name := range []string{"VISUAL", "EDITOR"} {
		if v := strings.TrimSpace(os.Getenv(name)); v != "" {
			return v
		}
	}
	if runtime.GOOS == "windows" {
		return "notepad"
	}
	return "vi"
}

// runEditor opens path in editor and waits for it. The editor value may carry arguments
// ("code --wait"), so on Unix it goes through the shell as git does. It is not tied to the
// command's context: Ctrl-C inside an editor is the editor's business.
func runEditor(opts *Options, editor, path string) error {
	var c *exec.Cmd
	if runtime.GOOS == "windows" {
		args := strings.Fields(editor)
		c = exec.Command(args[0], append(args[1:], path)...)
	} else {
		c = exec.Command("sh", "-c", editor+` "$@"`, editor, path)
	}
	c.Stdin, c.Stdout, c.Stderr = opts.IO.In, opts.IO.Out, opts.IO.ErrOut
	if err := c.Run(); err != nil {
		var exitErr *exec.ExitError
		if errors.As(err, &exitErr) {
			return fmt.Errorf("the editor (%s) failed: %s", editor, exitErr)
		}
		return fmt.Errorf("running the editor (%s): %w", editor, err)
	}
	return nil
}
