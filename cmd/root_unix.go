//go:build unix

package cmd

import (
	"os"
	"syscall"
)

// resizeSignals tell that the terminal changed size.
var resizeSignals = []os.Signal{syscall.SIGWINCH}
