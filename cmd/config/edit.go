package configcmd

import (
	"errors"
	"fmt"
	"os"
	"runtime"

	"github.com/moonchat/moonchat/cmd/cli"
	"github.com/moonchat/moonchat/pkg/config"
)

func editRun(opts *Options) error {
	path, err := config.Path()
	if err != nil {
		return err
	}
	editor := cli.EditorCommand()
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
	runErr := cli.RunEditor(opts.IO, editor, path)
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
