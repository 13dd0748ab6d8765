//go:build unix

package mcphost

import (
	"errors"
	"os"
	"os/exec"
	"syscall"
)

// newProcessGroup puts the server in a process group of its own, so that stopping it reaches
// every process it started (npx starts a shell that starts node, servers start helpers), and so
// that the terminal's Ctrl-C goes to moonchat alone, which then stops the server in order.
func newProcessGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
}

// signalGroup sends sig to every process of the server's group. A group that is already empty
// is not an error.
func signalGroup(p *os.Process, kill bool) error {
	sig := syscall.SIGTERM
	if kill {
		sig = syscall.SIGKILL
	}
	if err := syscall.Kill(-p.Pid, sig); err != nil && !errors.Is(err, syscall.ESRCH) {
		return err
	}
	return nil
}
