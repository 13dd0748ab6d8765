//go:build unix

package chat

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// -f FIFO whose writer is idle (or has not come yet): Ctrl-C ends the command at once.
func TestReadingAFIFOIsCancellable(t *testing.T) {
	e := newTestEnv(t)
	fifo := filepath.Join(t.TempDir(), "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, writer := range []bool{false, true} {
		if writer {
			// A writer that holds the FIFO open and says nothing: the open succeeds and
			// the read blocks.
			w, err := os.OpenFile(fifo, os.O_RDWR, 0)
			if err != nil {
				t.Fatal(err)
			}
			defer w.Close()
		}
		ready := make(chan struct{})
		close(ready)
		r := runCancelled(t, e, invocation{}, ready, "-m", "kimi-k2-turbo-preview", "-f", fifo, "summarise")
		if r.code != 130 {
			t.Errorf("writer %v: exit %d (%v), want 130", writer, r.code, r.err)
		}
	}
}
