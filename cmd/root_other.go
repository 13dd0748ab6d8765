//go:build !unix

package cmd

import "os"

// resizeSignals: Windows has no SIGWINCH; a resized console is not followed.
var resizeSignals []os.Signal
