// Package hostile is an HTTP server that answers like a broken or hostile Moonshot endpoint:
// each misbehaviour is served under its own path prefix (http://host/<case>/v1/...), so one
// server can be the api_base of many clients, or of many deployments of one proxy. It is used
// by tests, and by the measurements of issue 12 (peak memory under a gzip bomb).
package hostile

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"strings"
	"sync"
)

// The misbehaviours. Each answers chat completions (streamed or not) and GET /models.
const (
	// OK is a well-formed answer: Content in two chunks, then [DONE].
	OK = "ok"
	// NegativeIndex sends Content, then a chunk for choice -1 (without streaming: an answer
	// whose second choice has index -1).
	NegativeIndex = "negative-index"
	// HugeIndex sends Content, then a chunk for choice 3,000,000 (without streaming: an answer
	// whose second choice has that index).
	HugeIndex = "huge-index"
	// GzipBomb sends a gzip body of about BombBytes/1000 bytes that inflates to BombBytes:
	// one SSE line, one JSON completion, or one model list.
	GzipBomb = "gzip-bomb"
	// HugeLine sends one uncompressed SSE line of HugeLineBytes.
	HugeLine = "huge-line"
	// AbsurdUsage sends Content with usage reports out of range (negative, 1e13, 1e300).
	AbsurdUsage = "absurd-usage"
	// HTML answers 200 with an HTML login page.
	HTML = "html"
	// JSONCompletion answers a streamed request with a whole non-streamed completion.
	JSONCompletion = "json-completion"
	// Stall sends Content's first chunk, then nothing until the client goes away.
	Stall = "stall"
)

// Cases lists every misbehaviour.
var Cases = []string{OK, NegativeIndex, HugeIndex, GzipBomb, HugeLine, AbsurdUsage, HTML, JSONCompletion, Stall}

// Content is the answer text of the cases that have one before they misbehave.
const Content = "部分回答 partial answer"

// Server serves the cases. The zero value uses a 1 GiB bomb and a 50 MB line.
type Server struct {
	BombBytes     int64
	HugeLineBytes int64

	once sync.Once
	bomb map[string][]byte // compressed bodies by kind
}

func (s *Server) bombBytes() int64 {
	if s.BombBytes > 0 {
		return s.BombBytes
	}
	return 1 << 30
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	name, rest, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
	var req struct {
		Stream bool `json:"stream"`
	}
	if r.Body != nil {
		_ = json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&req)
	}
	models := strings.HasSuffix(rest, "/models")
	switch name {
	case OK, NegativeIndex, HugeIndex, AbsurdUsage, Stall:
		if models {
			writeJSON(w, `{"object":"list","data":[{"id":"kimi-k2.6","object":"model"}]}`)
			return
		}
		s.chunks(w, r, name, req.Stream)
	case GzipBomb:
		kind := "completion"
		if models {
			kind = "models"
		} else if req.Stream {
			kind = "stream"
		}
		s.once.Do(s.makeBombs)
		if kind == "stream" {
			w.Header().Set("Content-Type", "text/event-stream")
		} else {
			w.Header().Set("Content-Type", "application/json")
		}
		w.Header().Set("Content-Encoding", "gzip")
		_, _ = w.Write(s.bomb[kind])
	case HugeLine:
		n := s.HugeLineBytes
		if n <= 0 {
			n = 50 << 20
		}
		w.Header().Set("Content-Type", "text/event-stream")
		_, _ = io.WriteString(w, `data: {"id":"x","choices":[{"index":0,"delta":{"content":"`)
		_, _ = io.Copy(w, io.LimitReader(repeat('a'), n))
		_, _ = io.WriteString(w, "\"}}]}\n\ndata: [DONE]\n\n")
	case HTML:
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = io.WriteString(w, "<!DOCTYPE html>\n<html><head><title>Sign in</title></head><body><form>Corporate proxy login</form></body></html>\n")
	case JSONCompletion:
		if models {
			writeJSON(w, `{"object":"list","data":[{"id":"kimi-k2.6","object":"model"}]}`)
			return
		}
		writeJSON(w, `{"id":"cmpl-1","object":"chat.completion","created":1,"model":"kimi-k2.6","choices":[{"index":0,"message":{"role":"assistant","content":`+quote(Content)+`},"finish_reason":"stop","usage":{"prompt_tokens":3,"completion_tokens":5,"total_tokens":8}}]}`)
	default:
		http.NotFound(w, r)
	}
}

// chunks answers with Content, then the case's fault.
func (s *Server) chunks(w http.ResponseWriter, r *http.Request, name string, stream bool) {
	half := len(Content) / 2
	for half > 0 && Content[half]&0xC0 == 0x80 {
		half++ // cut between characters: the chunks must be valid JSON strings
	}
	first := fmt.Sprintf(`{"id":"c1","object":"chat.completion.chunk","created":1,"model":"kimi-k2.6","choices":[{"index":0,"delta":{"role":"assistant","content":%s},"finish_reason":null}]}`, quote(Content[:half]))
	second := fmt.Sprintf(`{"id":"c1","object":"chat.completion.chunk","created":1,"model":"kimi-k2.6","choices":[{"index":0,"delta":{"content":%s},"finish_reason":null}]}`, quote(Content[half:]))
	finish := `{"id":"c1","object":"chat.completion.chunk","created":1,"model":"kimi-k2.6","choices":[{"index":0,"delta":{},"finish_reason":"stop","usage":{"prompt_tokens":3,"completion_tokens":5,"total_tokens":8}}]}`
	var events []string
	switch name {
	case OK:
		events = []string{first, second, finish}
	case NegativeIndex:
		events = []string{first, second, `{"id":"c1","choices":[{"index":-1,"delta":{"content":"x"}}]}`, finish}
	case HugeIndex:
		events = []string{first, second, `{"id":"c1","choices":[{"index":3000000,"delta":{"content":"x"}}]}`, `{"id":"c1","choices":[{"index":2000000000,"delta":{"content":"x"}}]}`, finish}
	case AbsurdUsage:
		events = []string{
			strings.Replace(first, `"finish_reason":null}]`, `"finish_reason":null,"usage":{"prompt_tokens":-5,"completion_tokens":1e13,"total_tokens":1}}]`, 1),
			strings.Replace(second, `"finish_reason":null}]`, `"finish_reason":null}],"usage":{"prompt_tokens":1e300,"completion_tokens":2,"total_tokens":3}`, 1),
			strings.Replace(finish, `"completion_tokens":5`, `"completion_tokens":-7`, 1),
		}
	case Stall:
		events = []string{first}
	}
	if !stream {
		if name == Stall {
			<-r.Context().Done()
			return
		}
		content := Content
		if bad, ok := map[string]string{NegativeIndex: "-1", HugeIndex: "3000000"}[name]; ok {
			writeJSON(w, `{"id":"c1","object":"chat.completion","model":"kimi-k2.6","choices":[{"index":0,"message":{"role":"assistant","content":`+quote(content)+`},"finish_reason":"stop"},{"index":`+bad+`,"message":{"role":"assistant","content":"x"},"finish_reason":"stop"}]}`)
			return
		}
		usage := `{"prompt_tokens":3,"completion_tokens":5,"total_tokens":8}`
		if name == AbsurdUsage {
			usage = `{"prompt_tokens":1e300,"completion_tokens":-1,"total_tokens":3}`
		}
		writeJSON(w, `{"id":"c1","object":"chat.completion","model":"kimi-k2.6","choices":[{"index":0,"message":{"role":"assistant","content":`+quote(content)+`},"finish_reason":"stop"}],"usage":`+usage+`}`)
		return
	}
	w.Header().Set("Content-Type", "text/event-stream")
	flusher, _ := w.(http.Flusher)
	for _, e := range events {
		fmt.Fprintf(w, "data: %s\n\n", e)
		if flusher != nil {
			flusher.Flush()
		}
	}
	if name == Stall {
		<-r.Context().Done()
		return
	}
	io.WriteString(w, "data: [DONE]\n\n")
}

// makeBombs builds the compressed bodies once. gzip members may follow one another in one
// body (Go's reader reads them all), so a bomb is a head, one member of 1 MB of 'a' repeated,
// and a tail, which costs 1 MB of work to build, whatever its inflated size.
func (s *Server) makeBombs() {
	block := member(bytes.Repeat([]byte{'a'}, 1<<20))
	n := int(s.bombBytes() >> 20)
	body := func(head, tail string) []byte {
		var b bytes.Buffer
		b.Write(member([]byte(head)))
		for range n {
			b.Write(block)
		}
		b.Write(member([]byte(tail)))
		return b.Bytes()
	}
	s.bomb = map[string][]byte{
		"stream":     body(`data: {"id":"x","choices":[{"index":0,"delta":{"content":"`, "\"}}]}\n\ndata: [DONE]\n\n"),
		"completion": body(`{"id":"x","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":"`, `"},"finish_reason":"stop"}]}`),
		"models":     body(`{"object":"list","data":[{"id":"`, `","object":"model"}]}`),
	}
}

func member(p []byte) []byte {
	var b bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&b, gzip.BestCompression)
	_, _ = zw.Write(p)
	_ = zw.Close()
	return b.Bytes()
}

func writeJSON(w http.ResponseWriter, body string) {
	w.Header().Set("Content-Type", "application/json")
	_, _ = io.WriteString(w, body)
}

func quote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

type repeatReader byte

func repeat(c byte) io.Reader { return repeatReader(c) }

func (r repeatReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(r)
	}
	return len(p), nil
}

// Allocated is the memory the process allocated while f ran, in bytes: what a client or a
// proxy paid for one hostile answer (with the allocations of anything else running then).
func Allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}
