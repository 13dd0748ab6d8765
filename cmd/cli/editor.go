package cli

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"

	"github.com/moonchat/moonchat/pkg/iostreams"
)

// EditorCommand is the user's editor: $VISUAL, else $EDITOR, else the platform's basic one
// (vi, or notepad on Windows). A variable of only spaces counts as unset.
func EditorCommand() string {
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

// RunEditor opens path in editor (from EditorCommand) on ios's streams and waits for it. The
// editor value may carry arguments ("code --wait"), so on Unix it goes through the shell as
// git does. It is not tied to a context: Ctrl-C inside an editor is the editor's business.
func RunEditor(ios *iostreams.IOStreams, editor, path string) error {
	var c *exec.Cmd
	if runtime.GOOS == "windows" {
		args := strings.Fields(editor)
		c = exec.Command(args[0], append(args[1:], path)...)
	} else {
		c = exec.Command("sh", "-c", editor+` "$@"`, editor, path)
	}
	c.Stdin, c.Stdout, c.Stderr = ios.In, ios.Out, ios.ErrOut
	if err := c.Run(); err != nil {
		var exitErr *exec.ExitError
		if errors.As(err, &exitErr) {
			return fmt.Errorf("the editor (%s) failed: %s", editor, exitErr)
		}
		return fmt.Errorf("running the editor (%s): %w", editor, err)
	}
	return nil
}
