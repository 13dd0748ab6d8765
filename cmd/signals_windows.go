//go:build windows

package cmd

import "os"

// Windows has no SIGHUP; closing the console sends Ctrl-C's signal.
var hangupSignals []os.Signal

// ignoreBrokenPipe: Windows reports a closed pipe as a write error, never as a signal.
func ignoreBrokenPipe() {}
