package render

import (
	"bufio"
	"io"
	"sync"
)

// Plain passes the answer through byte for byte: no byte is added, dropped or changed, so
// piped output is exactly what the model sent. Output is buffered; the caller calls Flush
// when the network has nothing more buffered, so a slow stream still shows up promptly.
type Plain struct {
	mu     sync.Mutex
	bw     *bufio.Writer
	closed bool
}

// NewPlain returns a Plain writing to w.
func NewPlain(w io.Writer) *Plain {
	return &Plain{bw: bufio.NewWriterSize(w, 32<<10)}
}

// Write buffers p. Once the writer has failed, it returns that error.
func (p *Plain) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return 0, ErrClosed
	}
	return p.bw.Write(b)
}

// WriteString is Write for a string, without a copy.
func (p *Plain) WriteString(s string) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return 0, ErrClosed
	}
	return p.bw.WriteString(s)
}

// Flush writes the buffered bytes out.
func (p *Plain) Flush() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.bw.Flush()
}

// Interrupt flushes and closes: plain output holds no terminal state to clean up.
func (p *Plain) Interrupt() error { return p.Close() }

// Close flushes the buffer. Later writes fail with ErrClosed; a second Close only flushes.
func (p *Plain) Close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.closed = true
	return p.bw.Flush()
}
