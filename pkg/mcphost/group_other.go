//go:build !unix

package mcphost

// groupAlive is false: without process groups, only the server itself was stopped, and its
// exit has been waited for.
func groupAlive(int) bool { return false }
