package iostreams

import (
	"os"
	"testing"

	"github.com/creack/pty"
)

// System against real file descriptors: stdout on a 200x50 pseudo-terminal, stdin a pipe,
// stderr a regular file. The process streams are swapped for the test and restored after.
func TestSystemDetection(t *testing.T) {
	user, tty, err := pty.Open()
	if err != nil {
		t.Fatal(err)
	}
	defer user.Close()
	defer tty.Close()
	if err := pty.Setsize(tty, &pty.Winsize{Cols: 200, Rows: 50}); err != nil {
		t.Fatal(err)
	}
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	logFile, err := os.Create(t.TempDir() + "/stderr")
	if err != nil {
		t.Fatal(err)
	}
	defer logFile.Close()

	oldIn, oldOut, oldErr := os.Stdin, os.Stdout, os.Stderr
	os.Stdin, os.Stdout, os.Stderr = r, tty, logFile
	ios := System()
	os.Stdin, os.Stdout, os.Stderr = oldIn, oldOut, oldErr

	if ios.IsStdinTTY() || !ios.IsStdoutTTY() || ios.IsStderrTTY() {
		t.Errorf("TTY flags stdin %v stdout %v stderr %v, want false true false",
			ios.IsStdinTTY(), ios.IsStdoutTTY(), ios.IsStderrTTY())
	}
	if !ios.StdinIsPipeOrFile() {
		t.Error("a pipe on stdin must be readable input")
	}
	if ios.CanPrompt() {
		t.Error("CanPrompt with stdin piped")
	}
	if ios.Width() != MaxWidth || ios.Height() != 50 {
		t.Errorf("size %dx%d, want %dx50", ios.Width(), ios.Height(), MaxWidth)
	}
	// The terminal is followed when it is resized.
	if err := pty.Setsize(tty, &pty.Winsize{Cols: 90, Rows: 30}); err != nil {
		t.Fatal(err)
	}
	if ios.Width() != 90 || ios.Height() != 30 {
		t.Errorf("after resize %dx%d, want 90x30", ios.Width(), ios.Height())
	}
	// stderr is a file: no live line may be written to it.
	ios.StartSpinner("waiting")
	ios.SetStatus("thinking")
	ios.StopSpinner()
	if info, _ := logFile.Stat(); info.Size() != 0 {
		t.Errorf("live line written to a non-terminal stderr (%d bytes)", info.Size())
	}
}
