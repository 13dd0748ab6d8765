//go:build unix

package cmd

import (
	"context"
	"os"
	"syscall"
	"testing"
	"time"
)

// A session that holds Ctrl-C gets each press; once it lets go, Ctrl-C cancels the command.
func TestCtrlCGoesToTheSessionThatClaimsIt(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sig := catchSignals(cancel)
	defer sig.stop()
	presses, release := sig.claim()
	deadline := time.NewTimer(10 * time.Second)
	defer deadline.Stop()

	for range 2 {
		if err := syscall.Kill(os.Getpid(), syscall.SIGINT); err != nil {
			t.Fatal(err)
		}
		select {
		case got := <-presses:
			if got != os.Interrupt {
				t.Fatalf("got %v", got)
			}
		case <-ctx.Done():
			t.Fatal("Ctrl-C canceled the command while a session held it")
		case <-deadline.C:
			t.Fatal("the session did not get Ctrl-C")
		}
	}

	release()
	if err := syscall.Kill(os.Getpid(), syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	select {
	case <-ctx.Done():
	case <-presses:
		t.Fatal("a released session still got Ctrl-C")
	case <-deadline.C:
		t.Fatal("Ctrl-C did not cancel the command")
	}
}
