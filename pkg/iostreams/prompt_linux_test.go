package iostreams

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"runtime"
	"testing"

	"github.com/creack/pty"
	"golang.org/x/sys/unix"
)

// ptyStreams gives streams whose stdin is the terminal side of a pseudo-terminal; the test plays
// the user through the controlling side.
func ptyStreams(t *testing.T) (ios *IOStreams, user, tty *os.File) {
	t.Helper()
	user, tty, err := pty.Open()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { user.Close(); tty.Close() })
	ios, _, _, _ = Test()
	ios.In = tty
	ios.SetStdinTTY(true)
	ios.stdinFd = int(tty.Fd())
	return ios, user, tty
}

func echoOn(t *testing.T, tty *os.File) bool {
	t.Helper()
	tio, err := unix.IoctlGetTermios(int(tty.Fd()), unix.TCGETS)
	if err != nil {
		t.Fatal(err)
	}
	return tio.Lflag&unix.ECHO != 0
}

// waitEchoOff waits until ReadPassword has switched echo off; typing earlier would be echoed by
// the terminal driver no matter what the program does next.
func waitEchoOff(t *testing.T, tty *os.File) {
	t.Helper()
	for echoOn(t, tty) {
		runtime.Gosched()
	}
}

func TestReadSecretOnTerminalDoesNotEcho(t *testing.T) {
	ios, user, tty := ptyStreams(t)
	if !echoOn(t, tty) {
		t.Fatal("a new pty should echo")
	}
	type result struct {
		s   string
		err error
	}
	done := make(chan result, 1)
	go func() {
		s, err := ios.ReadSecret(context.Background(), "API key: ")
		done <- result{s, err}
	}()
	waitEchoOff(t, tty)
	if _, err := user.WriteString("sk-typed-secret\n"); err != nil {
		t.Fatal(err)
	}
	r := <-done
	if r.err != nil || r.s != "sk-typed-secret" {
		t.Fatalf("ReadSecret = %q, %v", r.s, r.err)
	}
	if !echoOn(t, tty) {
		t.Error("echo not restored after ReadSecret")
	}
	// Everything the terminal showed before the marker is what was echoed.
	if _, err := tty.WriteString("MARK"); err != nil {
		t.Fatal(err)
	}
	shown := readUntil(t, user, "MARK")
	if bytes.Contains(shown, []byte("secret")) {
		t.Errorf("the terminal echoed the secret: %q", shown)
	}
}

func TestReadSecretCancelRestoresTerminal(t *testing.T) {
	ios, _, tty := ptyStreams(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := ios.ReadSecret(ctx, "API key: ")
		done <- err
	}()
	waitEchoOff(t, tty)
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("ReadSecret after cancel = %v", err)
	}
	if !echoOn(t, tty) {
		t.Error("cancelling left the terminal without echo")
	}
}

func readUntil(t *testing.T, r io.Reader, marker string) []byte {
	t.Helper()
	var got []byte
	buf := make([]byte, 256)
	for !bytes.Contains(got, []byte(marker)) {
		n, err := r.Read(buf)
		got = append(got, buf[:n]...)
		if err != nil {
			t.Fatalf("reading the terminal: %v (got %q)", err, got)
		}
	}
	return got
}
