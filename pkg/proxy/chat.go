package proxy

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"math"
	"math/rand/v2"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/moonchat/moonchat/pkg/moonshot"
)

// clientOnlyFields may not come from a client: they would send the server's Moonshot key to a
// host of the caller's choosing, or replace it.
var clientOnlyFields = []string{"api_base", "base_url", "api_key"}

// chat answers POST /chat/completions and /v1/chat/completions.
func (h *Handler) chat(w *responseWriter, r *http.Request, rec *record) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		writeError(w, http.StatusMethodNotAllowed, apiError{Message: fmt.Sprintf("Method %s is not allowed on %s; use POST", r.Method, r.URL.Path), Type: "invalid_request_error"})
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, h.maxBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		switch {
		case errors.As(err, &tooBig):
			writeError(w, http.StatusRequestEntityTooLarge, apiError{Message: fmt.Sprintf("The request body is larger than the proxy's limit of %s.", byteSize(h.maxBody)),
				Type: "invalid_request_error", Code: "request_too_large"})
		case r.Context().Err() != nil:
			rec.canceled = true
		default:
			writeError(w, http.StatusBadRequest, apiError{Message: "could not read the request body: " + err.Error(), Type: "invalid_request_error"})
		}
		return
	}
	var req moonshot.ChatRequest
	if err := json.Unmarshal(body, &req); err != nil {
		writeError(w, http.StatusBadRequest, apiError{Message: "We could not parse the JSON body of your request: " + err.Error(), Type: "invalid_request_error"})
		return
	}
	for _, k := range clientOnlyFields {
		if _, ok := req.Extra[k]; ok {
			writeError(w, http.StatusBadRequest, apiError{
				Message: fmt.Sprintf("`%s` is not accepted in a request to this proxy: it decides where requests go and with which key.", k),
				Type:    "invalid_request_error", Param: k, Code: "forbidden_parameter"})
			return
		}
	}
	// drop_params may also be set per request, as LiteLLM allows; it is never sent on.
	var dropOverride *bool
	if raw, ok := req.Extra["drop_params"]; ok {
		var b bool
		if err := json.Unmarshal(raw, &b); err != nil {
			writeError(w, http.StatusBadRequest, apiError{Message: "drop_params must be true or false", Type: "invalid_request_error", Param: "drop_params"})
			return
		}
		dropOverride = &b
		delete(req.Extra, "drop_params")
	}
	rec.model, rec.stream = req.Model, req.Stream
	if req.Model == "" {
		writeError(w, http.StatusBadRequest, apiError{Message: "you must provide a model parameter", Type: "invalid_request_error", Param: "model"})
		return
	}
	g := h.groups[req.Model]
	if g == nil {
		writeError(w, http.StatusNotFound, modelNotFound(req.Model))
		return
	}
	h.serveChat(w, r, rec, g, &req, dropOverride)
}

// serveChat sends the request to the group's deployments in failover order until one answers.
//
// Failover happens only before the client has received anything: on a 429 (rate limit,
// overload, or quota: another deployment may be another account), a 5xx, a network error, a
// timeout, or a stream that fails before its first chunk. The first attempt goes to the
// deployment the routing strategy picks, the next ones to the following deployments at once;
// a deployment is tried again only after all the others, after a backoff (or the server's
// Retry-After), and never after a quota error. The Moonshot clients themselves do not retry,
// so NumRetries counts every extra upstream request.
func (h *Handler) serveChat(w *responseWriter, r *http.Request, rec *record, g *group, req *moonshot.ChatRequest, dropOverride *bool) {
	ctx := r.Context()
	n := len(g.deployments)
	first := g.first(h.shuffle)
	failed := make([]error, n) // the last failure of each deployment in this request
	var lastErr error
	for attempt := 0; attempt <= h.numRetries; attempt++ {
		idx := (first + attempt) % n
		d := g.deployments[idx]
		if prev := failed[idx]; prev != nil {
			if moonshot.IsQuota(prev) {
				continue
			}
			wait, ok := h.retryWait(attempt/n-1, prev)
			if !ok {
				break
			}
			t0 := time.Now()
			slept := sleep(ctx, wait)
			w.outside += time.Since(t0)
			if !slept {
				rec.canceled = true
				return
			}
		}
		rec.attempts++
		rec.upstream = d.Model
		fixed, adj, err := h.prepare(req, d, dropOverride)
		if err != nil {
			// The request cannot be made valid for this model: no upstream call.
			status, e := upstreamError(err)
			rec.err = e.Message
			writeError(w, status, e)
			return
		}
		rec.adjustments = adj
		if req.Stream {
			err = h.stream(w, r, rec, g, d, fixed, adj)
		} else {
			err = h.complete(w, r, rec, g, d, fixed, adj)
		}
		if err == nil {
			return // answered, or the stream was relayed (its own failures are in-band)
		}
		if ctx.Err() != nil {
			rec.canceled = true
			return
		}
		lastErr = err
		if !moonshot.IsTemporary(err) && !moonshot.IsQuota(err) {
			break
		}
		failed[idx] = err
		if attempt < h.numRetries {
			h.log.LogAttrs(ctx, slog.LevelWarn, "upstream failed; trying again",
				slog.String("model", g.name), slog.String("upstream", d.Model), slog.String("api_base", d.base),
				slog.Int("attempt", attempt+1), slog.String("error", err.Error()))
		}
	}
	status, e := upstreamError(lastErr)
	var ae *moonshot.APIError
	if errors.As(lastErr, &ae) {
		rec.requestID = ae.RequestID
		if ae.RetryAfter > 0 {
			w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(ae.RetryAfter))))
		}
	}
	rec.err = e.Message
	writeError(w, status, e)
}

// first is the index of the deployment that gets a request first.
func (g *group) first(shuffle bool) int {
	n := len(g.deployments)
	switch {
	case n == 1:
		return 0
	case shuffle:
		return rand.IntN(n)
	}
	return int((g.next.Add(1) - 1) % uint64(n))
}

func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// prepare builds the request for deployment d: its model id, its defaults where the client set
// nothing, drop_params, then Moonshot's fixes for that model.
func (h *Handler) prepare(req *moonshot.ChatRequest, d *deployment, dropOverride *bool) (*moonshot.ChatRequest, []moonshot.Adjustment, error) {
	// A shallow copy is enough: Fix copies deeply and never changes its input, and the fields
	// set here are replaced, not written through.
	c := *req
	c.Model = d.Model
	df := &d.Defaults
	setDefault(&c.Temperature, df.Temperature)
	setDefault(&c.TopP, df.TopP)
	setDefault(&c.PresencePenalty, df.PresencePenalty)
	setDefault(&c.FrequencyPenalty, df.FrequencyPenalty)
	if c.MaxTokens == nil && c.MaxCompletionTokens == nil {
		c.MaxTokens, c.MaxCompletionTokens = df.MaxTokens, df.MaxCompletionTokens
	}
	if c.Stop == nil {
		c.Stop = df.Stop
	}
	if c.ReasoningEffort == "" {
		c.ReasoningEffort = df.ReasoningEffort
	}
	setDefault(&c.Thinking, df.Thinking)

	drop := d.dropParams
	if dropOverride != nil {
		drop = *dropOverride
	}
	var adj []moonshot.Adjustment
	if drop && len(c.Extra) > 0 {
		for _, k := range slices.Sorted(maps.Keys(c.Extra)) {
			var v any
			_ = json.Unmarshal(c.Extra[k], &v)
			adj = append(adj, moonshot.Adjustment{Param: k, From: v, Reason: "not a Moonshot parameter (drop_params)"})
		}
		c.Extra = nil
	}
	fixed, fixes, err := moonshot.Fix(&c, moonshot.FixOptions{Remote: d.remote.Load()})
	return fixed, append(adj, fixes...), err
}

func setDefault[T any](p **T, def *T) {
	if *p == nil {
		*p = def
	}
}

// setAnswerHeaders are the headers of a successful answer: Moonshot's request id (for support),
// the model that answered, and the fixes applied.
func setAnswerHeaders(w http.ResponseWriter, d *deployment, adj []moonshot.Adjustment, requestID string) {
	hdr := w.Header()
	if requestID != "" {
		hdr.Set("Msh-Request-Id", requestID)
	}
	hdr.Set("X-Moonchat-Upstream-Model", d.Model)
	if len(adj) > 0 {
		hdr.Set("X-Moonchat-Adjustments", AdjustmentsHeader(adj))
	}
}

// complete relays a non-streamed answer. An error means nothing was written.
func (h *Handler) complete(w *responseWriter, r *http.Request, rec *record, g *group, d *deployment, fixed *moonshot.ChatRequest, adj []moonshot.Adjustment) error {
	fixed.Stream, fixed.StreamOptions = false, nil
	body, err := json.Marshal(fixed)
	if err != nil {
		return err
	}
	var raw json.RawMessage
	t0 := time.Now()
	hdr, err := d.client.Do(r.Context(), http.MethodPost, "/chat/completions", body, "application/json", &raw)
	w.outside += time.Since(t0)
	if err != nil {
		return err
	}
	var meta struct {
		Usage *moonshot.Usage `json:"usage"`
	}
	_ = json.Unmarshal(raw, &meta)
	rec.usage = meta.Usage
	rec.requestID = hdr.Get("Msh-Request-Id")
	if g.name != d.Model {
		raw = g.rewriteModel(raw, nil)
	}
	setAnswerHeaders(w, d, adj, rec.requestID)
	if rec.cost = d.price.Cost(rec.usage); rec.cost > 0 {
		w.Header().Set(CostHeader, formatCost(rec.cost))
	}
	writeRaw(w, http.StatusOK, raw)
	return nil
}

var (
	dataPrefix = []byte("data: ")
	eventEnd   = []byte("\n\n")
	doneEvent  = []byte("data: [DONE]\n\n")
)

// stream relays a streamed answer event by event, flushing each one. It returns an error only
// when nothing was sent to the client yet (the caller may fail over); failures after that end
// the stream with an error event.
func (h *Handler) stream(w *responseWriter, r *http.Request, rec *record, g *group, d *deployment, fixed *moonshot.ChatRequest, adj []moonshot.Adjustment) error {
	ctx := r.Context()
	includeUsage := fixed.StreamOptions != nil && fixed.StreamOptions.IncludeUsage
	t0 := time.Now()
	s, err := d.streamClient.StreamPrepared(ctx, fixed, adj)
	if err != nil {
		w.outside += time.Since(t0)
		return err
	}
	defer s.Close()
	// The first event decides: a stream that fails before it can still go to another
	// deployment, since the client has seen nothing. After it, the client has the headers and
	// Moonshot's opening chunk, and a failure can only end the stream.
	more := s.Next()
	w.outside += time.Since(t0)
	if !more && s.Err() != nil {
		return s.Err()
	}

	rec.requestID = s.RequestID()
	hdr := w.Header()
	hdr.Set("Content-Type", "text/event-stream")
	hdr.Set("Cache-Control", "no-cache")
	hdr.Set("X-Accel-Buffering", "no") // nginx in front must not hold events back
	setAnswerHeaders(w, d, adj, rec.requestID)
	if d.price.Known() {
		hdr.Set("Trailer", CostHeader) // the usage comes with the last events
	}
	w.WriteHeader(http.StatusOK)
	rc := http.NewResponseController(w)

	var (
		usage   usageTracker
		buf     []byte
		scratch []byte
		rewrite = g.name != d.Model
	)
	send := func(event []byte) bool {
		if _, err := w.Write(event); err != nil {
			return false
		}
		return rc.Flush() == nil
	}
	for ; more; more = s.Next() {
		usage.add(s.Current())
		data := s.Raw()
		if rewrite {
			data = g.rewriteModel(data, &scratch)
		}
		buf = append(append(append(buf[:0], dataPrefix...), data...), eventEnd...)
		if !send(buf) {
			rec.canceled = true
			rec.usage = usage.total()
			return nil
		}
	}
	rec.usage = usage.total()
	if rec.cost = d.price.Cost(rec.usage); rec.cost > 0 {
		hdr.Set(CostHeader, formatCost(rec.cost))
	}
	err = s.Err()
	switch {
	case err == nil:
		if includeUsage && usage.top == nil && rec.usage != nil {
			// Moonshot reports usage inside choices[i]; OpenAI clients that asked for
			// include_usage look for a last chunk with no choices and a top-level usage.
			b, _ := json.Marshal(usageChunk{ID: usage.id, Object: "chat.completion.chunk", Created: usage.created,
				Model: g.name, Choices: []struct{}{}, Usage: rec.usage})
			buf = append(append(append(buf[:0], dataPrefix...), b...), eventEnd...)
			if !send(buf) {
				rec.canceled = true
				return nil
			}
		}
		if !send(doneEvent) {
			rec.canceled = true
		}
	case ctx.Err() != nil:
		rec.canceled = true
	default:
		_, e := upstreamError(err)
		rec.err = e.Message
		buf = append(append(append(buf[:0], dataPrefix...), errorJSON(e)...), eventEnd...)
		send(buf)
	}
	return nil
}

type usageChunk struct {
	ID      string          `json:"id"`
	Object  string          `json:"object"`
	Created int64           `json:"created"`
	Model   string          `json:"model"`
	Choices []struct{}      `json:"choices"`
	Usage   *moonshot.Usage `json:"usage"`
}

func byteSize(n int64) string {
	if n >= 1<<20 && n%(1<<20) == 0 {
		return fmt.Sprintf("%d MB", n>>20)
	}
	return fmt.Sprintf("%d bytes", n)
}
