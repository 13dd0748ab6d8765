package mcphost

import (
	"fmt"
	"io"
	"os"
	"sync"
	"time"
)

// DefaultMaxLogBytes caps a server's log file when Options.MaxLogBytes is 0. A chatty server
// (debug logging, a stack trace per request) would otherwise grow it without bound, run after
// run: moonchat keeps NAME.log under the cap and the lines before it in NAME.log.1, so at most
// twice the cap per server is on disk.
const DefaultMaxLogBytes = 1 << 20

// serverLog is a local server's stderr, written to NAME.log. When the next bytes would take
// the file past max, it becomes NAME.log.1 (replacing the one before) and a new NAME.log
// begins. The server writes into a pipe that serverLog drains: it never blocks on its
// stderr, whatever happens to the file.
type serverLog struct {
	path string
	max  int64

	mu   sync.Mutex
	f    *os.File // nil once a rotation failed: the rest is dropped
	size int64

	r      *os.File      // the read end of the server's stderr
	copied chan struct{} // closed when the copy from r has ended
	exit   string        // the line that says the server exited, written last by Close
}

// openServerLog opens (appends to) the log at path; a log already at its cap is rotated by
// the first write.
func openServerLog(path string, max int64) (*serverLog, error) {
	if max <= 0 {
		max = DefaultMaxLogBytes
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, err
	}
	l := &serverLog{path: path, max: max, f: f}
	if fi, err := f.Stat(); err == nil {
		l.size = fi.Size()
	}
	return l, nil
}

// Write appends p, rotating as often as the cap requires. It reports p written even when the
// file failed, so that the copy goes on draining the server's stderr.
func (l *serverLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.write(p)
	return len(p), nil
}

// write is Write with l.mu held.
func (l *serverLog) write(p []byte) {
	for len(p) > 0 && l.f != nil {
		if l.size >= l.max {
			l.rotate()
			continue
		}
		chunk := p[:min(int64(len(p)), l.max-l.size)]
		w, err := l.f.Write(chunk)
		l.size += int64(w)
		p = p[w:]
		if err != nil {
			break
		}
	}
}

// rotate moves the full log to NAME.log.1 and starts an empty NAME.log; on failure the log
// stops rather than growing past its cap.
func (l *serverLog) rotate() {
	_ = l.f.Close()
	l.f, l.size = nil, 0
	if err := os.Rename(l.path, l.path+".1"); err != nil {
		return
	}
	f, err := os.OpenFile(l.path, os.O_CREATE|os.O_WRONLY|os.O_TRUNC|os.O_APPEND, 0o600)
	if err != nil {
		return
	}
	l.f = f
}

// printf writes one line of moonchat's own into the log.
func (l *serverLog) printf(format string, args ...any) {
	fmt.Fprint(l, line(format, args...))
}

func line(format string, args ...any) string {
	return fmt.Sprintf("--- %s "+format+"\n", append([]any{time.Now().UTC().Format(time.RFC3339)}, args...)...)
}

// exited notes that the server exited. The line is written by Close, after what the server
// wrote before it exited, which may still be in the pipe.
func (l *serverLog) exited(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.exit = line(format, args...)
}

// stderr returns the file to give the server as its stderr: the write end of a pipe whose
// read end is copied into the log until every process holding the write end has closed it.
// The caller closes the returned file once the server has started.
func (l *serverLog) stderr() (*os.File, error) {
	r, w, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	l.r, l.copied = r, make(chan struct{})
	go func() {
		defer close(l.copied)
		_, _ = io.Copy(l, r)
	}()
	return w, nil
}

// Close waits up to grace for the copy to drain what the server wrote (a process it started
// may hold its stderr open after it is gone, e.g. one that left the process group), closes
// the pipe, writes the exit line and closes the file.
func (l *serverLog) Close(grace time.Duration) {
	if l.r != nil {
		t := time.NewTimer(grace)
		select {
		case <-l.copied:
		case <-t.C:
		}
		t.Stop()
		_ = l.r.Close()
		<-l.copied
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.write([]byte(l.exit))
	if l.f != nil {
		_ = l.f.Close()
		l.f = nil
	}
}
