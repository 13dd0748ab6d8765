// Package emulator is a strict local emulation of Moonshot AI's HTTP API: chat
// completions (streamed and not), models, token estimates, balance and files,
// with the real API's validation rules and injectable faults. Every moonchat
// test talks to it on loopback, and `moonchat chat --offline` talks to it in
// process, so it is deterministic: ids, timestamps, token counts and answers
// depend only on the sequence of requests.
//
// It imports only the standard library and has its own model table: it plays
// the server and must stay independent of the client it checks.
package emulator

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Config sets up an Emulator. The zero value is a working server.
type Config struct {
	APIKey    string                       // required bearer key; "" = any non-empty bearer is accepted
	Models    []Model                      // nil = DefaultModels()
	Reply     func(req *ChatRequest) Reply // nil = DefaultReply
	ChunkSize int                          // bytes of text per streamed delta; 0 = 16 (cut on rune boundaries)
	Delay     time.Duration                // pause between streamed chunks (0 = none)
	Balance   Balance                      // what /users/me/balance returns; zero value = a fixed default
	// NoRecord keeps no copy of the requests (Requests returns none; WaitRequests still counts
	// them), so a long-running --offline server or a benchmark does not grow with every body.
	NoRecord bool
}

// Balance is the answer of GET /v1/users/me/balance.
type Balance struct {
	Available float64 `json:"available_balance"`
	Voucher   float64 `json:"voucher_balance"`
	Cash      float64 `json:"cash_balance"`
}

// defaultBalance is the example from Moonshot's documentation.
var defaultBalance = Balance{Available: 49.58894, Voucher: 46.58893, Cash: 3.00001}

// Recorded is one request the emulator received. Status is the status it
// answered with, 0 while no answer has started (or none ever will: Hang).
type Recorded struct {
	Method, Path string
	Header       http.Header
	Body         []byte
	Status       int
}

// JSON is the body decoded as a JSON object, nil if it is not one.
func (r Recorded) JSON() map[string]any {
	var m map[string]any
	if json.Unmarshal(r.Body, &m) != nil {
		return nil
	}
	return m
}

// FaultKind says how an injected fault breaks a chat completion.
type FaultKind int

const (
	RateLimit   FaultKind = iota + 1 // 429 rate_limit_reached_error, "try again after N seconds"
	Overload                         // 429 engine_overloaded_error
	Quota                            // 429 exceeded_current_quota_error (billing: not to be retried)
	ServerError                      // Fault.Status (default 500) server_error
	CutStream                        // the connection drops after AfterChunks chunks, no [DONE]
	StreamError                      // an in-stream {"error":...} event after AfterChunks chunks, no [DONE]
	Slow                             // Fault.Delay between chunks
	Hang                             // no answer until the client gives up
)

var faultNames = map[FaultKind]string{
	RateLimit: "RateLimit", Overload: "Overload", Quota: "Quota", ServerError: "ServerError",
	CutStream: "CutStream", StreamError: "StreamError", Slow: "Slow", Hang: "Hang",
}

func (k FaultKind) String() string {
	if s, ok := faultNames[k]; ok {
		return s
	}
	return "FaultKind(" + strconv.Itoa(int(k)) + ")"
}

// Fault is a scripted failure. Faults apply to chat completions only (also
// RateLimit and ServerError, which the real API can return anywhere: keeping
// the other endpoints clean keeps tests simple). Each chat request takes the
// fault at the head of the queue when it arrives, before its body is
// validated, so "the next N chat requests" fail exactly as scripted.
//
// CutStream and StreamError count the reasoning, content and tool-call chunks
// after the role chunk; when the answer has fewer than AfterChunks, the
// failure takes the place of the final chunk, so it always shows. On a
// non-streamed request CutStream drops the connection before any answer and
// StreamError is a 500.
type Fault struct {
	Kind        FaultKind
	Times       int           // how many requests it hits (0 = 1)
	Status      int           // ServerError: the HTTP status (default 500)
	RetryAfter  int           // RateLimit: seconds, in the message and (when > 0) in Retry-After
	AfterChunks int           // CutStream, StreamError: chunks after the role chunk sent before the failure
	Delay       time.Duration // Slow: pause between chunks (one pause before a non-streamed answer)
}

// Emulator is the http.Handler that plays Moonshot's API. Its methods are safe
// for concurrent use.
type Emulator struct {
	models    []Model
	byID      map[string]Model
	apiKey    string
	chunkSize int
	delay     time.Duration
	balance   Balance
	noRecord  bool

	// Limits of the files API, fields so that tests can lower them.
	maxFileBytes int64
	maxFiles     int

	mu       sync.Mutex
	reply    func(*ChatRequest) Reply
	faults   []Fault
	requests []Recorded
	received int // requests since the last Reset, recorded or not
	canceled int
	gen      int // bumped by Reset, so in-flight requests do not touch new records
	reqSeq   int // every request: Msh-Request-Id
	chatSeq  int // chat completions: chatcmpl-<n> and created
	files    []*storedFile
	fileSeq  int
	formulas formulaState
	notify   chan struct{} // closed and replaced whenever requests or canceled change
}

const (
	defaultChunkSize = 16
	maxFileBytes     = 100 << 20
	maxFiles         = 1000
	// created timestamps start here (2026-01-01T00:00:00Z) and advance by one
	// second per completion, so they are deterministic and ordered.
	createdBase = 1767225600
)

// NewHandler returns the emulator as an http.Handler, for use without a
// socket (see OfflineClient) or behind a server of the caller's choosing.
func NewHandler(cfg Config) *Emulator {
	e := &Emulator{
		models:       cfg.Models,
		apiKey:       cfg.APIKey,
		chunkSize:    cfg.ChunkSize,
		delay:        cfg.Delay,
		balance:      cfg.Balance,
		noRecord:     cfg.NoRecord,
		reply:        cfg.Reply,
		maxFileBytes: maxFileBytes,
		maxFiles:     maxFiles,
		notify:       make(chan struct{}),
	}
	if e.models == nil {
		e.models = DefaultModels()
	}
	e.byID = make(map[string]Model, len(e.models))
	for _, m := range e.models {
		e.byID[m.ID] = m
	}
	if e.chunkSize <= 0 {
		e.chunkSize = defaultChunkSize
	}
	if e.balance == (Balance{}) {
		e.balance = defaultBalance
	}
	if e.reply == nil {
		e.reply = DefaultReply
	}
	return e
}

// Inject queues a fault; queued faults hit the following chat requests in order.
func (e *Emulator) Inject(f Fault) {
	if f.Times < 1 {
		f.Times = 1
	}
	e.mu.Lock()
	e.faults = append(e.faults, f)
	e.mu.Unlock()
}

// Requests returns a copy of every request received, in arrival order (none with NoRecord).
func (e *Emulator) Requests() []Recorded {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := make([]Recorded, len(e.requests))
	for i, r := range e.requests {
		r.Header = r.Header.Clone()
		r.Body = append([]byte(nil), r.Body...)
		out[i] = r
	}
	return out
}

// Reset forgets the recorded requests, the canceled count and the queued faults.
func (e *Emulator) Reset() {
	e.mu.Lock()
	e.requests = nil
	e.received = 0
	e.gen++
	e.faults = nil
	e.canceled = 0
	e.changedLocked()
	e.mu.Unlock()
}

// SetReply replaces the reply function (nil restores DefaultReply).
func (e *Emulator) SetReply(f func(*ChatRequest) Reply) {
	if f == nil {
		f = DefaultReply
	}
	e.mu.Lock()
	e.reply = f
	e.mu.Unlock()
}

// Canceled is how many requests the client abandoned before their answer
// was complete (the request context ended while the emulator was still
// answering or hanging).
func (e *Emulator) Canceled() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.canceled
}

// WaitRequests blocks until at least n requests have arrived or ctx ends.
// Tests use it to know a request reached the server (e.g. one that will
// Hang) without sleeping.
func (e *Emulator) WaitRequests(ctx context.Context, n int) error {
	return e.waitFor(ctx, func() bool { return e.received >= n })
}

// WaitCanceled blocks until Canceled() >= n or ctx ends: a client's cancel
// reaches the handler asynchronously.
func (e *Emulator) WaitCanceled(ctx context.Context, n int) error {
	return e.waitFor(ctx, func() bool { return e.canceled >= n })
}

func (e *Emulator) waitFor(ctx context.Context, cond func() bool) error {
	for {
		e.mu.Lock()
		ok, ch := cond(), e.notify
		e.mu.Unlock()
		if ok {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// changedLocked wakes the waiters; e.mu must be held.
func (e *Emulator) changedLocked() {
	close(e.notify)
	e.notify = make(chan struct{})
}

func (e *Emulator) markCanceled() {
	e.mu.Lock()
	e.canceled++
	e.changedLocked()
	e.mu.Unlock()
}

func (e *Emulator) takeFault() (Fault, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if len(e.faults) == 0 {
		return Fault{}, false
	}
	f := e.faults[0]
	e.faults[0].Times--
	if e.faults[0].Times <= 0 {
		e.faults = e.faults[1:]
	}
	return f, true
}

func (e *Emulator) lookup(id string) (Model, bool) {
	m, ok := e.byID[id]
	return m, ok
}

// errAbort asks ServeHTTP to drop the connection without finishing the answer.
var errAbort = errors.New("emulator: abort connection")

// aborter is implemented by the offline transport's ResponseWriter, which
// has no connection to drop: it fails the response body instead.
type aborter interface{ abort() }

// ServeHTTP answers one request of Moonshot's API under /v1.
func (e *Emulator) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	e.mu.Lock()
	e.reqSeq++
	requestID := fmt.Sprintf("emu-req-%06d", e.reqSeq)
	e.mu.Unlock()
	w.Header().Set("Msh-Request-Id", requestID)

	body, readErr := io.ReadAll(http.MaxBytesReader(w, r.Body, e.maxFileBytes+1<<20))
	gen, idx := e.record(r, body)
	sw := &statusWriter{ResponseWriter: w, set: func(code int) { e.setStatus(gen, idx, code) }}

	if err := e.serve(sw, r, body, readErr); errors.Is(err, errAbort) {
		if a, ok := w.(aborter); ok {
			a.abort()
			return
		}
		// net/http drops the connection without logging for this panic.
		panic(http.ErrAbortHandler)
	}
}

func (e *Emulator) serve(w http.ResponseWriter, r *http.Request, body []byte, readErr error) error {
	if !e.authorized(r) {
		writeError(w, &apiError{status: http.StatusUnauthorized, typ: "invalid_authentication_error", msg: "Invalid Authentication"})
		return nil
	}
	if readErr != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(readErr, &tooLarge) && r.URL.Path == "/v1/files" {
			writeError(w, invalid("Invalid request: file size exceeds the limit of %d MB", e.maxFileBytes>>20))
			return nil
		}
		writeError(w, invalid("Invalid request: request body too large or unreadable"))
		return nil
	}
	path := r.URL.Path
	notAllowed := func(allow string) {
		w.Header().Set("Allow", allow)
		writeError(w, &apiError{status: http.StatusMethodNotAllowed, typ: "invalid_request_error",
			msg: fmt.Sprintf("Invalid request: method %s is not allowed on %s", r.Method, path)})
	}
	route := func(method string, h func()) {
		if r.Method != method {
			notAllowed(method)
			return
		}
		h()
	}
	switch {
	case path == chatPath:
		if r.Method != http.MethodPost {
			notAllowed(http.MethodPost)
			return nil
		}
		return e.chat(w, r, body)
	case path == "/v1/models":
		route(http.MethodGet, func() { e.listModels(w) })
	case path == "/v1/tokenizers/estimate-token-count":
		route(http.MethodPost, func() { e.estimate(w, body) })
	case path == "/v1/users/me/balance":
		route(http.MethodGet, func() { writeJSON(w, http.StatusOK, envelope(e.balance)) })
	case path == "/v1/files":
		switch r.Method {
		case http.MethodPost:
			e.uploadFile(w, r, body)
		case http.MethodGet:
			e.listFiles(w)
		default:
			notAllowed("GET, POST")
		}
	case strings.HasPrefix(path, "/v1/files/"):
		id, sub, _ := strings.Cut(strings.TrimPrefix(path, "/v1/files/"), "/")
		switch {
		case sub == "content":
			route(http.MethodGet, func() { e.fileContent(w, id) })
		case sub != "":
			writeError(w, notFound(path))
		case r.Method == http.MethodDelete:
			e.deleteFile(w, id)
		case r.Method == http.MethodGet:
			e.getFile(w, id)
		default:
			notAllowed("GET, DELETE")
		}
	case strings.HasPrefix(path, "/v1/formulas/"):
		e.serveFormula(w, r, body)
	default:
		writeError(w, notFound(path))
	}
	return nil
}

// chatPath is where chat completions are served.
const chatPath = "/v1/chat/completions"

func notFound(path string) *apiError {
	return &apiError{status: http.StatusNotFound, typ: "resource_not_found_error", msg: "Not found: " + path}
}

func (e *Emulator) authorized(r *http.Request) bool {
	key, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || key == "" {
		return false
	}
	return e.apiKey == "" || key == e.apiKey
}

// record notes a request; idx is -1 when NoRecord keeps no copy.
func (e *Emulator) record(r *http.Request, body []byte) (gen, idx int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.received++
	idx = -1
	if !e.noRecord {
		e.requests = append(e.requests, Recorded{Method: r.Method, Path: r.URL.Path, Header: r.Header.Clone(), Body: body})
		idx = len(e.requests) - 1
	}
	e.changedLocked()
	return e.gen, idx
}

func (e *Emulator) setStatus(gen, idx, code int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if gen == e.gen && idx >= 0 {
		e.requests[idx].Status = code
	}
}

// statusWriter notes the status of the answer for Recorded.Status.
type statusWriter struct {
	http.ResponseWriter
	set   func(int)
	wrote bool
}

func (s *statusWriter) WriteHeader(code int) {
	if !s.wrote {
		s.wrote = true
		s.set(code)
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusWriter) Write(p []byte) (int, error) {
	if !s.wrote {
		s.WriteHeader(http.StatusOK)
	}
	return s.ResponseWriter.Write(p)
}

// Unwrap lets http.ResponseController reach the underlying Flusher.
func (s *statusWriter) Unwrap() http.ResponseWriter { return s.ResponseWriter }

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		// Only the emulator's own types are encoded here; failing loudly
		// beats answering with half a body.
		status = http.StatusInternalServerError
		b = []byte(`{"error":{"type":"server_error","message":"emulator: cannot encode response"}}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

func writeError(w http.ResponseWriter, err *apiError) {
	writeJSON(w, err.status, errorBody(err.typ, err.msg))
}

func errorBody(typ, msg string) any {
	type detail struct {
		Message string `json:"message"`
		Type    string `json:"type"`
	}
	return struct {
		Error detail `json:"error"`
	}{detail{Message: msg, Type: typ}}
}

// envelope wraps data the way Moonshot's non-OpenAI endpoints do.
func envelope(data any) any {
	return struct {
		Code   int    `json:"code"`
		Data   any    `json:"data"`
		Scode  string `json:"scode"`
		Status bool   `json:"status"`
	}{0, data, "0x0", true}
}

func (e *Emulator) listModels(w http.ResponseWriter) {
	type item struct {
		ID               string `json:"id"`
		Object           string `json:"object"`
		Created          int64  `json:"created"`
		OwnedBy          string `json:"owned_by"`
		Root             string `json:"root"`
		Parent           string `json:"parent"`
		ContextLength    int    `json:"context_length"`
		SupportsImageIn  bool   `json:"supports_image_in"`
		SupportsVideoIn  bool   `json:"supports_video_in"`
		SupportsReasonin bool   `json:"supports_reasoning"`
	}
	data := make([]item, 0, len(e.models))
	for _, m := range e.models {
		data = append(data, item{ID: m.ID, Object: "model", Created: createdBase, OwnedBy: ownerOf(m), Root: m.ID,
			ContextLength: m.ContextLength, SupportsImageIn: m.Vision, SupportsVideoIn: m.Video, SupportsReasonin: m.Reasoning})
	}
	writeJSON(w, http.StatusOK, struct {
		Object string `json:"object"`
		Data   []item `json:"data"`
	}{"list", data})
}

func (e *Emulator) estimate(w http.ResponseWriter, body []byte) {
	var raw map[string]any
	if err := json.Unmarshal(body, &raw); err != nil || raw == nil {
		writeError(w, invalid("Invalid request: the body is not a JSON object"))
		return
	}
	id, _ := raw["model"].(string)
	if id == "" {
		writeError(w, invalid("Invalid request: model is required"))
		return
	}
	if _, ok := e.lookup(id); !ok {
		writeError(w, modelNotFound(id))
		return
	}
	msgs, err := parseMessages(raw["messages"], raw["messages"] != nil)
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, envelope(struct {
		TotalTokens int `json:"total_tokens"`
	}{CountTokens(msgs)}))
}
