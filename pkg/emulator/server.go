package emulator

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"time"
)

// Server is an Emulator listening on a loopback port.
type Server struct {
	URL string // "http://127.0.0.1:PORT/v1"

	emu      *Emulator
	srv      *http.Server
	served   chan struct{} // closed when Serve has returned
	mu       sync.Mutex
	inflight int
	idle     chan struct{} // closed and replaced when inflight drops to 0
	closed   bool
	once     sync.Once
}

// Start serves a new Emulator on 127.0.0.1 at a free port.
func Start(cfg Config) (*Server, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("emulator: listen on loopback: %w", err)
	}
	s := &Server{
		URL:    "http://" + ln.Addr().String() + "/v1",
		emu:    NewHandler(cfg),
		served: make(chan struct{}),
		idle:   make(chan struct{}),
	}
	s.srv = &http.Server{
		Handler:           http.HandlerFunc(s.serveHTTP),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       time.Minute,
		// No ReadTimeout or WriteTimeout: streams with Delay or Slow and Hang
		// legitimately run long, and net/http cancels the request context
		// when a ReadTimeout expires mid-handler, which Canceled() would
		// count as the client's doing.
	}
	go func() {
		defer close(s.served)
		_ = s.srv.Serve(ln)
	}()
	return s, nil
}

// TB is the part of a *testing.T or *testing.B that StartTB uses. The package does not
// import testing: the moonchat binary links it for --offline.
type TB interface {
	Helper()
	Fatal(args ...any)
	Cleanup(func())
}

// StartTB is Start for a test or benchmark: a server that cannot listen fails tb, and the
// server is closed when tb ends.
func StartTB(tb TB, cfg Config) *Server {
	tb.Helper()
	s, err := Start(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(s.Close)
	return s
}

// serveHTTP counts handlers in flight, so Close can wait for them.
func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		panic(http.ErrAbortHandler)
	}
	s.inflight++
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.inflight--
		if s.inflight == 0 {
			close(s.idle)
			s.idle = make(chan struct{})
		}
		s.mu.Unlock()
	}()
	s.emu.ServeHTTP(w, r)
}

// Close stops the server, drops open connections (which ends hanging and
// streaming requests) and returns once every handler has returned.
func (s *Server) Close() {
	s.once.Do(func() {
		s.mu.Lock()
		s.closed = true
		s.mu.Unlock()
		_ = s.srv.Close()
		<-s.served
		for {
			s.mu.Lock()
			n, idle := s.inflight, s.idle
			s.mu.Unlock()
			if n == 0 {
				return
			}
			<-idle
		}
	})
}

// Emulator is the handler behind the server.
func (s *Server) Emulator() *Emulator { return s.emu }

// Inject queues a fault (see Emulator.Inject).
func (s *Server) Inject(f Fault) { s.emu.Inject(f) }

// Requests returns every request received (see Emulator.Requests).
func (s *Server) Requests() []Recorded { return s.emu.Requests() }

// ChatBodies are the bodies of the chat completions received (every request to
// /v1/chat/completions, whatever the answer), each decoded as a JSON object (nil if it is not
// one), in arrival order: what a test checks a client sent. None with NoRecord.
func (s *Server) ChatBodies() []map[string]any {
	var bodies []map[string]any
	for _, r := range s.emu.Requests() {
		if r.Path == chatPath {
			bodies = append(bodies, r.JSON())
		}
	}
	return bodies
}

// Reset clears recorded requests and faults (see Emulator.Reset).
func (s *Server) Reset() { s.emu.Reset() }

// SetReply replaces the reply function (see Emulator.SetReply).
func (s *Server) SetReply(f func(*ChatRequest) Reply) { s.emu.SetReply(f) }

// Canceled is how many requests the client abandoned (see Emulator.Canceled).
func (s *Server) Canceled() int { return s.emu.Canceled() }

// WaitRequests blocks until n requests arrived (see Emulator.WaitRequests).
func (s *Server) WaitRequests(ctx context.Context, n int) error { return s.emu.WaitRequests(ctx, n) }

// WaitCanceled blocks until n requests were abandoned (see Emulator.WaitCanceled).
func (s *Server) WaitCanceled(ctx context.Context, n int) error { return s.emu.WaitCanceled(ctx, n) }

// OfflineBaseURL is the base URL to use with OfflineClient. The .invalid
// top-level domain can never resolve, so nothing can leak to the network.
const OfflineBaseURL = "http://offline.moonchat.invalid/v1"

// OfflineClient returns an http.Client whose every request is answered by a
// new in-process Emulator, without a socket. Streams are delivered as the
// emulator writes them.
func OfflineClient(cfg Config) *http.Client { return NewHandler(cfg).Client() }

// Client returns an http.Client whose every request, whatever its URL, is
// answered by e in process (use OfflineBaseURL). Tests that want both the
// socket-free client and the emulator's records use it.
func (e *Emulator) Client() *http.Client {
	return &http.Client{Transport: &offlineTransport{h: e}}
}

// offlineTransport is an http.RoundTripper that calls a handler directly.
type offlineTransport struct{ h http.Handler }

func (t *offlineTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx, cancel := context.WithCancel(req.Context())
	sreq := req.Clone(ctx)
	if sreq.Body == nil {
		sreq.Body = http.NoBody
	}
	sreq.RemoteAddr = "offline"
	sreq.RequestURI = req.URL.RequestURI()
	if sreq.Host == "" {
		sreq.Host = req.URL.Host
	}

	pr, pw := io.Pipe()
	w := &pipeWriter{header: http.Header{}, pw: pw, ready: make(chan struct{})}
	// A canceled request breaks the pipe, as it would close a connection:
	// the reader gets the context's error and the handler's next write fails.
	// After a normal finish the pipe is already closed and this changes nothing.
	go func() {
		<-ctx.Done()
		_ = pw.CloseWithError(ctx.Err())
	}()
	go func() {
		defer cancel()
		defer sreq.Body.Close()
		defer func() {
			// A handler that panics (a test's Reply, or the abort of a cut
			// stream) must fail this response, not the process.
			if p := recover(); p != nil {
				w.abortWith(fmt.Errorf("emulator: handler failed: %v", p))
				return
			}
			w.finish()
		}()
		t.h.ServeHTTP(w, sreq)
	}()

	select {
	case <-w.ready:
	case <-ctx.Done():
		_ = pr.CloseWithError(ctx.Err())
		return nil, ctx.Err()
	}
	if w.failed != nil {
		cancel()
		return nil, fmt.Errorf("emulator: connection closed before the response: %w", w.failed)
	}
	return &http.Response{
		Status:        fmt.Sprintf("%d %s", w.status, http.StatusText(w.status)),
		StatusCode:    w.status,
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        w.sent,
		Body:          &pipeBody{PipeReader: pr, cancel: cancel},
		ContentLength: -1,
		Request:       req,
	}, nil
}

// pipeWriter is the handler's side of an offline response: headers are
// handed to RoundTrip on the first write, the body goes through a pipe, so
// every flush reaches the reader as it happens.
type pipeWriter struct {
	header http.Header
	sent   http.Header
	pw     *io.PipeWriter
	status int
	ready  chan struct{} // closed once status and headers are fixed
	once   sync.Once
	failed error // why the handler aborted before sending headers
}

func (p *pipeWriter) Header() http.Header { return p.header }

func (p *pipeWriter) WriteHeader(code int) {
	p.once.Do(func() {
		p.status, p.sent = code, p.header.Clone()
		close(p.ready)
	})
}

func (p *pipeWriter) Write(b []byte) (int, error) {
	p.WriteHeader(http.StatusOK)
	return p.pw.Write(b)
}

// Flush has nothing to do: each Write already blocks until it is read.
func (p *pipeWriter) Flush() {}

// abort implements aborter: a cut stream ends the body with an error, as
// a dropped connection would.
func (p *pipeWriter) abort() { p.abortWith(io.ErrUnexpectedEOF) }

func (p *pipeWriter) abortWith(err error) {
	p.once.Do(func() {
		p.failed = err
		close(p.ready)
	})
	_ = p.pw.CloseWithError(err)
}

func (p *pipeWriter) finish() {
	p.WriteHeader(http.StatusOK)
	_ = p.pw.Close()
}

// pipeBody is the response body; closing it tells the handler the client
// has gone, like a closed connection.
type pipeBody struct {
	*io.PipeReader
	cancel context.CancelFunc
}

func (b *pipeBody) Close() error {
	b.cancel()
	return b.PipeReader.Close()
}
