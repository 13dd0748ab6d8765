//go:build !unix

package render

import "time"

var processStart = time.Now()

// cpuTime and threadTime fall back to wall time where the system cannot tell CPU time.
func cpuTime() time.Duration    { return time.Since(processStart) }
func threadTime() time.Duration { return time.Since(processStart) }
