package emulator

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"
	"unicode/utf8"
)

// Wire shapes of chat completions (docs/moonshot-api.md §4).
type (
	usage struct {
		PromptTokens            int              `json:"prompt_tokens"`
		CompletionTokens        int              `json:"completion_tokens"`
		TotalTokens             int              `json:"total_tokens"`
		CachedTokens            int              `json:"cached_tokens"`
		PromptTokensDetails     promptDetails    `json:"prompt_tokens_details"`
		CompletionTokensDetails completionDetail `json:"completion_tokens_details"`
	}
	promptDetails struct {
		CachedTokens int `json:"cached_tokens"`
	}
	completionDetail struct {
		ReasoningTokens int `json:"reasoning_tokens"`
	}

	functionOut struct {
		Name      string `json:"name,omitempty"`
		Arguments string `json:"arguments"`
	}
	toolCallOut struct {
		Index    int         `json:"index"`
		ID       string      `json:"id,omitempty"`
		Type     string      `json:"type,omitempty"`
		Function functionOut `json:"function"`
	}

	delta struct {
		Role             string        `json:"role,omitempty"`
		Content          *string       `json:"content,omitempty"`
		ReasoningContent *string       `json:"reasoning_content,omitempty"`
		ToolCalls        []toolCallOut `json:"tool_calls,omitempty"`
	}
	chunkChoice struct {
		Index        int     `json:"index"`
		Delta        delta   `json:"delta"`
		FinishReason *string `json:"finish_reason"`
		Usage        *usage  `json:"usage,omitempty"`
	}
	chunk struct {
		ID      string        `json:"id"`
		Object  string        `json:"object"`
		Created int64         `json:"created"`
		Model   string        `json:"model"`
		Choices []chunkChoice `json:"choices"`
		Usage   *usage        `json:"usage,omitempty"`
	}

	messageOut struct {
		Role             string        `json:"role"`
		Content          string        `json:"content"`
		ReasoningContent string        `json:"reasoning_content,omitempty"`
		ToolCalls        []toolCallOut `json:"tool_calls,omitempty"`
	}
	choiceOut struct {
		Index        int        `json:"index"`
		Message      messageOut `json:"message"`
		FinishReason string     `json:"finish_reason"`
	}
	completion struct {
		ID      string      `json:"id"`
		Object  string      `json:"object"`
		Created int64       `json:"created"`
		Model   string      `json:"model"`
		Choices []choiceOut `json:"choices"`
		Usage   usage       `json:"usage"`
	}
)

func makeUsage(prompt, completion, reasoning int) usage {
	return usage{PromptTokens: prompt, CompletionTokens: completion, TotalTokens: prompt + completion,
		CompletionTokensDetails: completionDetail{ReasoningTokens: reasoning}}
}

// chat answers POST /v1/chat/completions.
func (e *Emulator) chat(w http.ResponseWriter, r *http.Request, body []byte) error {
	fault, faulty := e.takeFault()
	if faulty {
		switch fault.Kind {
		case RateLimit:
			if fault.RetryAfter > 0 {
				w.Header().Set("Retry-After", strconv.Itoa(fault.RetryAfter))
			}
			writeError(w, &apiError{status: http.StatusTooManyRequests, typ: "rate_limit_reached_error",
				msg: fmt.Sprintf("Your account org-emulator<ak-emulator> request reached organization max RPM: 3, please try again after %d seconds", fault.RetryAfter)})
			return nil
		case Overload:
			writeError(w, &apiError{status: http.StatusTooManyRequests, typ: "engine_overloaded_error",
				msg: "The engine is currently overloaded, please try again later"})
			return nil
		case Quota:
			writeError(w, &apiError{status: http.StatusTooManyRequests, typ: "exceeded_current_quota_error",
				msg: "You exceeded your current token quota: org-emulator<ak-emulator>, please check your account balance"})
			return nil
		case ServerError:
			status := fault.Status
			if status == 0 {
				status = http.StatusInternalServerError
			}
			writeError(w, &apiError{status: status, typ: "server_error", msg: "The server had an error while processing your request (emulated fault)"})
			return nil
		case Hang:
			<-r.Context().Done()
			e.markCanceled()
			return nil
		case CutStream, StreamError, Slow:
			// They shape the answer below.
		default:
			writeError(w, &apiError{status: http.StatusInternalServerError, typ: "server_error",
				msg: "emulator: unknown fault kind " + fault.Kind.String()})
			return nil
		}
	}

	var raw map[string]any
	if err := json.Unmarshal(body, &raw); err != nil || raw == nil {
		writeError(w, invalid("Invalid request: the body is not a valid JSON object"))
		return nil
	}
	req, aerr := parseChat(raw, e.lookup)
	if aerr != nil {
		writeError(w, aerr)
		return nil
	}
	e.mu.Lock()
	replyFn := e.reply
	e.mu.Unlock()
	ans, aerr := respond(req, replyFn)
	if aerr != nil {
		writeError(w, aerr)
		return nil
	}

	e.mu.Lock()
	e.chatSeq++
	seq := e.chatSeq
	e.mu.Unlock()
	head := chunk{ID: fmt.Sprintf("chatcmpl-emu-%06d", seq), Created: createdBase + int64(seq), Model: req.Model}

	delay := e.delay
	if faulty && fault.Kind == Slow {
		delay = fault.Delay
	}
	if !req.Stream {
		return e.writeCompletion(r.Context(), w, req, ans, head, fault, delay)
	}
	s := &sseWriter{w: w, rc: http.NewResponseController(w), ctx: r.Context(), delay: delay}
	err := e.writeStream(s, req, ans, head, fault)
	if errors.Is(err, errClientGone) {
		e.markCanceled()
		return nil
	}
	return err
}

// writeCompletion sends a non-streamed answer. CutStream drops the
// connection before anything is sent; StreamError becomes a 500; a delay is
// one pause before the answer.
func (e *Emulator) writeCompletion(ctx context.Context, w http.ResponseWriter, req *ChatRequest, ans answer, head chunk, fault Fault, delay time.Duration) error {
	switch fault.Kind {
	case CutStream:
		return errAbort
	case StreamError:
		writeError(w, &apiError{status: http.StatusInternalServerError, typ: "server_error", msg: "The server had an error while generating the answer (emulated fault)"})
		return nil
	}
	if delay > 0 {
		if pause(ctx, delay) != nil {
			e.markCanceled()
			return nil
		}
	}
	out := completion{ID: head.ID, Object: "chat.completion", Created: head.Created, Model: head.Model,
		Usage: makeUsage(ans.prompt, req.N*ans.completion, req.N*ans.reasoningTokens)}
	for i := 0; i < req.N; i++ {
		msg := messageOut{Role: "assistant", Content: ans.content, ReasoningContent: ans.reasoning}
		for j, c := range ans.toolCalls {
			msg.ToolCalls = append(msg.ToolCalls, toolCallOut{Index: j, ID: c.ID, Type: "function",
				Function: functionOut{Name: c.Name, Arguments: c.Arguments}})
		}
		out.Choices = append(out.Choices, choiceOut{Index: i, Message: msg, FinishReason: ans.finish})
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// errClientGone means the client stopped listening before the answer ended.
var errClientGone = errors.New("emulator: client went away")

// sseWriter sends server-sent events, one flush per event, pausing between
// events when a delay is set.
type sseWriter struct {
	w       http.ResponseWriter
	rc      *http.ResponseController
	ctx     context.Context
	delay   time.Duration
	started bool
	buf     []byte
}

func (s *sseWriter) data(payload []byte) error {
	if s.started && s.delay > 0 {
		if err := pause(s.ctx, s.delay); err != nil {
			return err
		}
	}
	s.started = true
	s.buf = append(append(append(s.buf[:0], "data: "...), payload...), "\n\n"...)
	if _, err := s.w.Write(s.buf); err != nil {
		return errClientGone
	}
	if err := s.rc.Flush(); err != nil || s.ctx.Err() != nil {
		return errClientGone
	}
	return nil
}

func (s *sseWriter) event(v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return s.data(b)
}

func pause(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return errClientGone
	}
}

// writeStream sends the answer as Moonshot streams it: a role chunk, reasoning
// deltas, content deltas, tool call fragments, one final chunk per choice with
// its usage inside the choice, the include_usage chunk, then [DONE].
func (e *Emulator) writeStream(s *sseWriter, req *ChatRequest, ans answer, head chunk, fault Fault) error {
	h := s.w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	s.w.WriteHeader(http.StatusOK)

	send := func(choices []chunkChoice, u *usage) error {
		c := head
		c.Object = "chat.completion.chunk"
		c.Choices, c.Usage = choices, u
		return s.event(c)
	}
	empty := ""
	for i := 0; i < req.N; i++ {
		if err := send([]chunkChoice{{Index: i, Delta: delta{Role: "assistant", Content: &empty}}}, nil); err != nil {
			return err
		}
	}

	steps := e.deltas(ans)
	failAt := -1
	if fault.Kind == CutStream || fault.Kind == StreamError {
		failAt = min(max(fault.AfterChunks, 0), len(steps)*req.N)
	}
	sent := 0
	for _, d := range steps {
		for i := 0; i < req.N; i++ {
			if sent == failAt {
				return s.fail(fault)
			}
			if err := send([]chunkChoice{{Index: i, Delta: d}}, nil); err != nil {
				return err
			}
			sent++
		}
	}
	if sent == failAt {
		return s.fail(fault)
	}

	finish := ans.finish
	u := makeUsage(ans.prompt, ans.completion, ans.reasoningTokens)
	for i := 0; i < req.N; i++ {
		if err := send([]chunkChoice{{Index: i, FinishReason: &finish, Usage: &u}}, nil); err != nil {
			return err
		}
	}
	if req.IncludeUsage {
		total := makeUsage(ans.prompt, req.N*ans.completion, req.N*ans.reasoningTokens)
		if err := send([]chunkChoice{}, &total); err != nil {
			return err
		}
	}
	return s.data([]byte("[DONE]"))
}

// fail ends the stream the way the fault says: a dropped connection or an
// in-stream error event, never [DONE].
func (s *sseWriter) fail(f Fault) error {
	if f.Kind == CutStream {
		return errAbort
	}
	return s.event(errorBody("server_error", "The server had an error while streaming the answer (emulated fault)"))
}

// deltas cuts one choice's answer into stream deltas.
func (e *Emulator) deltas(ans answer) []delta {
	var out []delta
	for _, p := range splitChunks(ans.reasoning, e.chunkSize) {
		out = append(out, delta{ReasoningContent: &p})
	}
	for _, p := range splitChunks(ans.content, e.chunkSize) {
		out = append(out, delta{Content: &p})
	}
	for i, c := range ans.toolCalls {
		out = append(out, delta{ToolCalls: []toolCallOut{{Index: i, ID: c.ID, Type: "function",
			Function: functionOut{Name: c.Name}}}})
		for _, p := range splitChunks(c.Arguments, e.chunkSize) {
			out = append(out, delta{ToolCalls: []toolCallOut{{Index: i, Function: functionOut{Arguments: p}}}})
		}
	}
	return out
}

// splitChunks cuts s into pieces of n bytes, each extended to the next rune
// boundary so no piece splits a UTF-8 sequence.
func splitChunks(s string, n int) []string {
	var out []string
	for len(s) > 0 {
		j := min(n, len(s))
		for j < len(s) && !utf8.RuneStart(s[j]) {
			j++
		}
		out = append(out, s[:j])
		s = s[j:]
	}
	return out
}
