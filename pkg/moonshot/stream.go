package moonshot

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// Stream iterates over the chunks of a streamed answer:
//
//	for s.Next() {
//		chunk := s.Current()
//		...
//	}
//	if err := s.Err(); err != nil { ... }
//
// The stream ends at `data: [DONE]`. A body that ends without it is an error (an APIError of
// type "incomplete_stream"), never a quiet success; an `{"error":...}` event becomes an APIError.
// Comments, blank lines, CRLF line ends, unknown fields and lines of several MB are tolerated.
type Stream struct {
	body   io.ReadCloser
	cancel context.CancelFunc
	ctx    context.Context
	sse    *sseReader

	pending     [][]byte // events split out of one undelimited payload
	cur         ChatCompletionChunk
	raw         []byte
	err         error
	done        bool
	closed      bool
	requestID   string
	adjustments []Adjustment
	// choices is n of the request: a chunk for a choice outside [0, choices) is a protocol
	// error. 0 means unknown (NewStream), and then only negative indexes are refused.
	choices      int
	usageDropped bool
}

func newStream(body io.ReadCloser, cancel context.CancelFunc) *Stream {
	return &Stream{body: body, cancel: cancel, sse: newSSEReader(body)}
}

// NewStream reads an SSE body that was obtained elsewhere (a recorded answer, a proxy's
// upstream). Closing the stream closes body.
func NewStream(body io.ReadCloser) *Stream { return newStream(body, nil) }

// errorEvent is the envelope of an error sent inside a stream.
type errorEvent struct {
	Error *struct {
		Type    string `json:"type"`
		Message string `json:"message"`
	} `json:"error"`
}

// Next advances to the next chunk. It returns false at the end of the stream or on an error.
func (s *Stream) Next() bool {
	if s.done || s.err != nil {
		return false
	}
	if s.closed {
		s.err = errClosed
		return false
	}
	var data []byte
	var err error
	if len(s.pending) > 0 {
		data, s.pending = s.pending[0], s.pending[1:]
	} else {
		data, err = s.sse.next()
	}
	if err != nil {
		s.fail(err)
		return false
	}
	if bytes.Equal(data, doneMarker) {
		s.done = true
		return false
	}
	var ev ChatCompletionChunk
	var usageBroken bool
	if !scanChunk(data, &ev, &s.cur) {
		ev = ChatCompletionChunk{}
		usageBroken, err = decodeBody(data, &ev)
	}
	if err != nil {
		// A server that does not separate events with blank lines sends several data
		// lines as one event; take them one by one.
		if lines := bytes.Split(data, []byte("\n")); len(lines) > 1 && json.Valid(lines[0]) {
			for _, l := range lines[1:] {
				s.pending = append(s.pending, bytes.Clone(l))
			}
			data = lines[0]
			ev = ChatCompletionChunk{}
			usageBroken, err = decodeBody(data, &ev)
		}
		if err != nil {
			s.err = &APIError{Type: ErrTypeUnexpectedOutput, Message: fmt.Sprintf("undecodable stream event: %v", err), RequestID: s.requestID}
			return false
		}
	}
	// Usage is advisory: a report out of range is dropped, the chunk's text is kept.
	if ev.dropBrokenUsage(usageBroken) {
		s.usageDropped = true
	}
	for i := range ev.Choices {
		if err := checkChoiceIndex(ev.Choices[i].Index, s.choices, s.requestID); err != nil {
			s.err = err
			return false
		}
	}
	// An error event decodes as an empty chunk; only then is it decoded again as an error, so
	// the common path pays for one decode.
	if ev.ID == "" && ev.Choices == nil && ev.Usage == nil {
		var ee errorEvent
		if json.Unmarshal(data, &ee) == nil && ee.Error != nil {
			e := &APIError{Type: ee.Error.Type, Message: ee.Error.Message, RequestID: s.requestID}
			if e.Message == "" {
				e.Message = "the server ended the stream with an error event that says nothing more"
			}
			if !knownErrorType(e.Type) {
				// An error the server makes up mid-answer is the server's failure: the
				// type is kept in the message, the class is server_error (exit 75).
				if e.Type != "" {
					e.Message = e.Type + ": " + e.Message
				}
				e.Type = ErrTypeServer
			}
			s.err = e
			return false
		}
	}
	s.cur = ev
	s.raw = data
	return true
}

var doneMarker = []byte("[DONE]")

func knownErrorType(t string) bool {
	switch t {
	case ErrTypeInvalidRequest, ErrTypeContentFilter, ErrTypeInvalidAuth, ErrTypeIncorrectKey,
		ErrTypePermissionDenied, ErrTypeNotFound, ErrTypeEngineOverloaded, ErrTypeQuotaExceeded,
		ErrTypeRateLimit, ErrTypeServer, ErrTypeUnexpectedOutput, ErrTypeIncompleteStream:
		return true
	}
	return false
}

// errEventTooLarge is sseReader's signal for a line or event over MaxEventBytes.
var errEventTooLarge = errors.New("stream event too large")

func (s *Stream) fail(err error) {
	if s.ctx != nil && s.ctx.Err() != nil {
		s.err = s.ctx.Err()
		return
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		s.err = err
		return
	}
	if err == errEventTooLarge {
		s.err = overCap("a stream event", MaxEventBytes, s.requestID)
		return
	}
	msg := "the stream ended before [DONE]; the answer is incomplete"
	if err != io.EOF && err != io.ErrUnexpectedEOF {
		msg = fmt.Sprintf("the stream broke before [DONE] (%v); the answer is incomplete", err)
	}
	s.err = &APIError{Type: ErrTypeIncompleteStream, Message: msg, RequestID: s.requestID}
}

// checkChoiceIndex refuses a choice index outside [0, n), the n choices the request asked
// for: the one check of every chunk and every whole answer, streamed or not, here or in a
// proxy. n <= 0 means n is not known (NewStream): then only a negative index is refused.
func checkChoiceIndex(idx, n int, requestID string) error {
	if idx >= 0 && (n <= 0 || idx < n) {
		return nil
	}
	want := "0 or more"
	if n > 0 {
		want = fmt.Sprintf("0 to %d", n-1)
	}
	return &APIError{Type: ErrTypeUnexpectedOutput, RequestID: requestID,
		Message: fmt.Sprintf("the server sent choice index %d, outside the request's %s; the answer is incomplete", idx, want)}
}

// UsageIgnored reports whether a usage report was dropped for being out of range.
func (s *Stream) UsageIgnored() bool { return s.usageDropped }

// Current is the chunk Next moved to. It stays valid after the next call to Next.
func (s *Stream) Current() *ChatCompletionChunk { return &s.cur }

// Raw is the JSON of the current event, as received. It is only valid until the next call to
// Next; copy it to keep it.
func (s *Stream) Raw() []byte { return s.raw }

// Err is the error that ended the stream, nil after [DONE].
func (s *Stream) Err() error { return s.err }

// Buffered is the number of bytes already received and not yet decoded. A consumer flushes its
// output when it reaches 0: the network has nothing more for now.
func (s *Stream) Buffered() int { return s.sse.br.Buffered() }

// RequestID is Moonshot's Msh-Request-Id for this answer.
func (s *Stream) RequestID() string { return s.requestID }

// Adjustments are the fixes applied to the request.
func (s *Stream) Adjustments() []Adjustment { return s.adjustments }

// Close releases the connection. It is safe to call more than once.
func (s *Stream) Close() error {
	if s.closed {
		return nil
	}
	s.closed = true
	err := s.body.Close()
	if s.cancel != nil {
		s.cancel()
	}
	return err
}

// sseReader yields the data payloads of a server-sent event stream.
type sseReader struct {
	br   *bufio.Reader
	line []byte // assembly buffer for lines longer than the bufio buffer
	data []byte // the data lines of the event being read
}

func newSSEReader(r io.Reader) *sseReader {
	return &sseReader{br: bufio.NewReaderSize(r, 16<<10)}
}

// next returns the payload of the next event that has data. It returns io.EOF (or the read
// error) when the body ends; an event cut by the end of the body is still returned first.
func (r *sseReader) next() ([]byte, error) {
	r.data = r.data[:0]
	hasData := false
	for {
		line, err := r.readLine()
		if err != nil {
			if hasData && (err == io.EOF) {
				return r.data, nil
			}
			return nil, err
		}
		if len(line) == 0 {
			if hasData {
				return r.data, nil
			}
			continue
		}
		if line[0] == ':' {
			continue // comment / keep-alive
		}
		field, value := line, []byte(nil)
		if i := bytes.IndexByte(line, ':'); i >= 0 {
			field, value = line[:i], line[i+1:]
			if len(value) > 0 && value[0] == ' ' {
				value = value[1:]
			}
		}
		if string(field) != "data" {
			continue // event:, id:, retry: and unknown fields
		}
		if len(r.data)+len(value)+1 > MaxEventBytes {
			return nil, errEventTooLarge
		}
		if hasData {
			r.data = append(r.data, '\n')
		}
		r.data = append(r.data, value...)
		hasData = true
	}
}

// readLine returns one line without its line end (\n, \r\n or a lone \r before \n). The slice
// is valid until the next call.
func (r *sseReader) readLine() ([]byte, error) {
	line, err := r.br.ReadSlice('\n')
	if err == bufio.ErrBufferFull {
		r.line = append(r.line[:0], line...)
		for err == bufio.ErrBufferFull {
			line, err = r.br.ReadSlice('\n')
			if len(r.line)+len(line) > MaxEventBytes+2 { // +2: the line end
				return nil, errEventTooLarge
			}
			r.line = append(r.line, line...)
		}
		line = r.line
	}
	if err != nil {
		if err == io.EOF && len(line) > 0 {
			return bytes.TrimRight(line, "\r"), nil
		}
		return nil, err
	}
	line = line[:len(line)-1]
	if n := len(line); n > 0 && line[n-1] == '\r' {
		line = line[:n-1]
	}
	return line, nil
}
