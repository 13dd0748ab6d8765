package chat

import (
	"context"
	"errors"
	"io"
	"testing"
	"time"
)

// idleWriter is a pipe whose writer never writes nor closes: reading it blocks until the
// test ends. reading is closed when the first read begins.
type idleWriter struct {
	reading chan struct{}
	release chan struct{}
}

func newIdleWriter(t *testing.T) *idleWriter {
	w := &idleWriter{reading: make(chan struct{}), release: make(chan struct{})}
	t.Cleanup(func() { close(w.release) })
	return w
}

func (w *idleWriter) Read([]byte) (int, error) {
	select {
	case <-w.reading:
	default:
		close(w.reading)
	}
	<-w.release
	return 0, io.EOF
}

// runCancelled runs chat with args, cancels it once ready is closed, and returns its outcome;
// a command that does not return at the cancel fails the test instead of hanging it.
func runCancelled(t *testing.T, e *testEnv, inv invocation, ready <-chan struct{}, args ...string) outcome {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	inv.ctx = ctx
	done := make(chan outcome, 1)
	go func() { done <- e.runWith(inv, args...) }()
	<-ready
	cancel()
	// A watchdog, not a measurement: before the fix the command waited for the writer
	// for ever.
	watchdog := time.NewTimer(30 * time.Second)
	defer watchdog.Stop()
	select {
	case r := <-done:
		return r
	case <-watchdog.C:
		t.Fatal("Ctrl-C did not stop the command reading its input")
	}
	return outcome{}
}

// Ctrl-C while stdin's writer is idle ends the command at once (exit 130), whether stdin is
// the prompt or an attachment (-f -).
func TestReadingStdinIsCancellable(t *testing.T) {
	for _, args := range [][]string{{"-m", "kimi-k2-turbo-preview", "summarise"}, {"-m", "kimi-k2-turbo-preview", "-f", "-", "summarise"}} {
		e := newTestEnv(t)
		in := newIdleWriter(t)
		r := runCancelled(t, e, invocation{in: in, piped: true}, in.reading, args...)
		if r.code != 130 || !errors.Is(r.err, context.Canceled) {
			t.Errorf("%v: exit %d (%v), want 130", args, r.code, r.err)
		}
		if n := len(e.srv.ChatBodies()); n != 0 {
			t.Errorf("%v: %d requests sent", args, n)
		}
	}
}
