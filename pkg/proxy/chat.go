package proxy

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
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
	g := h.groupFor(req.Model)
	if g == nil {
		writeError(w, http.StatusNotFound, modelNotFound(req.Model))
		return
	}
	tags, err := requestTags(&req)
	if err != nil {
		writeError(w, http.StatusBadRequest, apiError{Message: err.Error(), Type: "invalid_request_error", Param: "tags"})
		return
	}
	h.serveChat(w, r, rec, g, &chatCall{req: &req, drop: dropOverride, tags: tags})
}

// chatCall is one client request on its way through the groups and deployments.
type chatCall struct {
	req  *moonshot.ChatRequest
	drop *bool    // the request's own drop_params
	tags []string // the request's tags (tag routing)
}

// prepare builds the request for deployment d: its model id, its defaults where the client set
// nothing, drop_params, then Moonshot's fixes for that model.
func (h *Handler) prepare(call *chatCall, d *deployment) (*moonshot.ChatRequest, []moonshot.Adjustment, error) {
	req, dropOverride := call.req, call.drop
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
	if df.Seed != nil && c.Extra["seed"] == nil {
		c.Extra = maps.Clone(c.Extra)
		if c.Extra == nil {
			c.Extra = map[string]json.RawMessage{}
		}
		c.Extra["seed"] = json.RawMessage(strconv.FormatInt(*df.Seed, 10))
	}

	drop := d.dropParams
	if dropOverride != nil {
		drop = *dropOverride
	}
	var adj []moonshot.Adjustment
	if len(d.AdditionalDropParams) > 0 {
		adj = dropFields(&c, d.AdditionalDropParams)
	}
	if drop && len(c.Extra) > 0 {
		kept := map[string]json.RawMessage{}
		for _, k := range slices.Sorted(maps.Keys(c.Extra)) {
			if slices.Contains(d.AllowedOpenAIParams, k) {
				kept[k] = c.Extra[k]
				continue
			}
			var v any
			_ = json.Unmarshal(c.Extra[k], &v)
			adj = append(adj, moonshot.Adjustment{Param: k, From: v, Reason: "not a Moonshot parameter (drop_params)"})
		}
		c.Extra = kept
		if len(kept) == 0 {
			c.Extra = nil
		}
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
	rec.upstreamTime = time.Since(t0)
	w.outside += rec.upstreamTime
	if err != nil {
		return err
	}
	rec.requestID = hdr.Get("Msh-Request-Id")
	// The body is relayed as it came, once it passed the checks the streamed path makes on
	// each event: a choice index outside the request's n is the upstream's failure, and an
	// absurd usage report is not counted.
	answer, err := moonshot.DecodeCompletion(raw, fixed, rec.requestID)
	if err != nil {
		return err
	}
	rec.usage = answer.Usage
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
		rec.upstreamTime = time.Since(t0)
		w.outside += rec.upstreamTime
		return err
	}
	defer s.Close()
	// The first event decides: a stream that fails before it can still go to another
	// deployment, since the client has seen nothing. After it, the client has the headers and
	// Moonshot's opening chunk, and a failure can only end the stream.
	more := s.Next()
	rec.ttfb = time.Since(t0)
	w.outside += rec.ttfb
	defer func() { rec.upstreamTime = time.Since(t0) }()
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
	h.metrics.streamOpened()
	defer h.metrics.streamClosed()
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
			rec.cost = d.price.Cost(rec.usage) // for the log and the metrics: what was used is billed
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

// dropFields removes a deployment's additional_drop_params from a request, each reported.
func dropFields(c *moonshot.ChatRequest, names []string) []moonshot.Adjustment {
	var adj []moonshot.Adjustment
	note := func(name string, v any) {
		adj = append(adj, moonshot.Adjustment{Param: name, From: v, Reason: "dropped for this deployment (additional_drop_params)"})
	}
	for _, name := range names {
		if raw, ok := c.Extra[name]; ok {
			var v any
			_ = json.Unmarshal(raw, &v)
			c.Extra = maps.Clone(c.Extra)
			delete(c.Extra, name)
			note(name, v)
			continue
		}
		if v, ok := clearField(c, name); ok {
			note(name, v)
		}
	}
	return adj
}

// clearField removes a known field from c (a shallow copy), returning its value; ok is false
// when it was not set.
func clearField(c *moonshot.ChatRequest, name string) (v any, ok bool) {
	take := func(p any) bool {
		switch p := p.(type) {
		case **float64:
			if *p != nil {
				v, *p = **p, nil
				return true
			}
		case **int:
			if *p != nil {
				v, *p = **p, nil
				return true
			}
		}
		return false
	}
	switch name {
	case "temperature":
		return v, take(&c.Temperature)
	case "top_p":
		return v, take(&c.TopP)
	case "presence_penalty":
		return v, take(&c.PresencePenalty)
	case "frequency_penalty":
		return v, take(&c.FrequencyPenalty)
	case "n":
		return v, take(&c.N)
	case "max_tokens":
		return v, take(&c.MaxTokens)
	case "max_completion_tokens":
		return v, take(&c.MaxCompletionTokens)
	case "stop":
		v, ok, c.Stop = []string(c.Stop), c.Stop != nil, nil
	case "response_format":
		v, ok, c.ResponseFormat = c.ResponseFormat, c.ResponseFormat != nil, nil
	case "tools":
		v, ok, c.Tools = len(c.Tools), c.Tools != nil, nil
	case "tool_choice":
		v, ok, c.ToolChoice = c.ToolChoice, c.ToolChoice != nil, nil
	case "thinking":
		v, ok, c.Thinking = c.Thinking, c.Thinking != nil, nil
	case "reasoning_effort":
		v, ok, c.ReasoningEffort = c.ReasoningEffort, c.ReasoningEffort != "", ""
	case "prompt_cache_key":
		v, ok, c.PromptCacheKey = c.PromptCacheKey, c.PromptCacheKey != "", ""
	case "safety_identifier":
		v, ok, c.SafetyIdentifier = c.SafetyIdentifier, c.SafetyIdentifier != "", ""
	case "stream_options":
		v, ok, c.StreamOptions = c.StreamOptions, c.StreamOptions != nil, nil
	}
	return v, ok
}

// droppable reports a field additional_drop_params may name: not those a chat request needs.
func droppable(name string) bool {
	switch name {
	case "model", "messages", "stream":
		return false
	}
	return name != ""
}
