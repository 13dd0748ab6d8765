//go:build unix

package history

import (
	"syscall"
	"time"
)

// processCPU is the user+system CPU time the process has used so far, which,
// unlike wall time, a busy machine does not inflate.
func processCPU() (time.Duration, bool) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, false
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), true
}
