//go:build unix

package cmd

import (
	"os"
	"os/signal"
	"syscall"
)

// hangupSignals end the command like SIGTERM: the terminal was closed or the ssh link dropped,
// and the partial answer must still be saved.
var hangupSignals = []os.Signal{syscall.SIGHUP}

// ignoreBrokenPipe makes a write to a stdout whose reader left fail with EPIPE instead of
// killing the process before it can save (Go's default for fds 1 and 2).
func ignoreBrokenPipe() {
	signal.Notify(make(chan os.Signal, 1), syscall.SIGPIPE)
}
