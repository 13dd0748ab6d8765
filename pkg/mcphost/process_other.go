//go:build !unix

package mcphost

import (
	"errors"
	"os"
	"os/exec"
)

// newProcessGroup does nothing here: without Unix process groups only the server process
// itself is stopped (its own children are its business).
func newProcessGroup(*exec.Cmd) {}

// signalGroup stops the server process; there is no gentle signal to send first.
func signalGroup(p *os.Process, _ bool) error {
	if err := p.Kill(); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return err
	}
	return nil
}
