//go:build unix && !linux

package mcphost

import "syscall"

// groupAlive reports whether a process of the group pgid still exists (zombies included:
// there is no portable way to tell them apart).
func groupAlive(pgid int) bool {
	return syscall.Kill(-pgid, 0) == nil
}
