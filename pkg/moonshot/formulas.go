package moonshot

// Moonshot's official tools ("formulas") are hosted: the client fetches a formula's function
// declarations, passes them to the model as ordinary tools, and when the model calls one, asks
// Moonshot to run it ("a fiber") and feeds the output back as a tool message. The shapes below
// are from Moonshot's "use official tools" guide, as summarised in docs/formulas.md in this repository.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net"
	"net/http"
	"slices"
	"strings"
)

// Caps on what the formula endpoints may send back. A declaration list is a few KB; a fiber's
// output (a fetched page, search results) can be large but is fed to the model, so anything
// beyond MaxFiberBytes is refused rather than silently cut.
const (
	MaxFormulaToolsBytes = 1 << 20
	MaxFiberBytes        = 8 << 20
)

// Formula is the URI of an official tool, e.g. moonshot/fetch:latest.
type Formula struct {
	Namespace string // "moonshot"
	Name      string // "fetch"
	Tag       string // "latest"
}

// String is the canonical URI, namespace/name:tag.
func (f Formula) String() string { return f.Namespace + "/" + f.Name + ":" + f.Tag }

// ParseFormula reads a formula URI such as "moonshot/web-search:latest". The tag may be left
// out ("moonshot/date" means moonshot/date:latest). Each part is lower-case letters, digits,
// '-', '_' or '.', so the URI can go into a request path unescaped, as Moonshot expects.
func ParseFormula(s string) (Formula, error) {
	bad := func(why string) (Formula, error) {
		return Formula{}, fmt.Errorf("formula %q: %s (expected namespace/name:tag, e.g. moonshot/fetch:latest)", s, why)
	}
	ns, rest, ok := strings.Cut(s, "/")
	if !ok {
		return bad("no namespace")
	}
	name, tag, hasTag := strings.Cut(rest, ":")
	if !hasTag {
		tag = "latest"
	}
	for _, part := range []struct{ what, v string }{{"namespace", ns}, {"name", name}, {"tag", tag}} {
		if part.v == "" {
			return bad("empty " + part.what)
		}
		if len(part.v) > 64 {
			return bad(part.what + " longer than 64 characters")
		}
		for _, r := range part.v {
			if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.') {
				return bad(fmt.Sprintf("%s has the character %q", part.what, r))
			}
		}
	}
	return Formula{Namespace: ns, Name: name, Tag: tag}, nil
}

// FormulaTools fetches the function declarations of a formula (GET /formulas/{uri}/tools).
// They are ready to be sent as the chat request's tools. An unknown formula is an *APIError
// with status 404.
func (c *Client) FormulaTools(ctx context.Context, f Formula) ([]Tool, error) {
	data, h, err := c.readCapped(ctx, http.MethodGet, "/formulas/"+f.String()+"/tools", nil, MaxFormulaToolsBytes, retryable)
	if err != nil {
		return nil, err
	}
	var out struct {
		Tools []Tool `json:"tools"`
		Data  []Tool `json:"data"` // accepted too: some clients see the list under "data"
	}
	if err := json.Unmarshal(data, &out); err != nil {
		return nil, &APIError{StatusCode: http.StatusOK, Type: ErrTypeUnexpectedOutput,
			Message: "could not decode the tools of " + f.String() + ": " + err.Error(), RequestID: requestID(h)}
	}
	tools := out.Tools
	if tools == nil {
		tools = out.Data
	}
	for i, t := range tools {
		if t.Type != "function" || t.Function == nil || t.Function.Name == "" {
			return nil, &APIError{StatusCode: http.StatusOK, Type: ErrTypeUnexpectedOutput, RequestID: requestID(h),
				Message: fmt.Sprintf("tool %d of %s is not a named function declaration", i, f)}
		}
	}
	if len(tools) == 0 {
		return nil, &APIError{StatusCode: http.StatusOK, Type: ErrTypeUnexpectedOutput, RequestID: requestID(h),
			Message: f.String() + " declares no tools"}
	}
	return tools, nil
}

// Fiber statuses. Only FiberSucceeded carries an output; any other status is a failure.
const FiberSucceeded = "succeeded"

// FiberResult is what running one formula call produced. Exactly one of Output and Error is
// meaningful: Error is set when the tool ran and failed (a bad argument, a page that could not be
// fetched, a status other than succeeded, an error body).
type FiberResult struct {
	Status    string
	Output    string // output or encrypted_output, verbatim: the model reads it, not us
	Encrypted bool   // Output is an encrypted_output (web-search): opaque to the client
	Error     string
	RequestID string
}

// Failed reports whether the call failed.
func (r *FiberResult) Failed() bool { return r.Error != "" }

// Content is the text to send back to the model as the tool message: the output, or a line that
// says the call failed and why, so the model can change its arguments or answer without it.
func (r *FiberResult) Content() string {
	if r.Failed() {
		return "error: " + r.Error
	}
	return r.Output
}

// RunFiber executes one call of a formula's function (POST /formulas/{uri}/fibers), forwarding
// the model's arguments string unchanged. A failure of the tool itself (including a 400/422 that
// rejects the arguments) is a FiberResult with Error set; the error return is for failures of the
// exchange: cancellation, timeout, network, authentication, an unknown formula (404), quota,
// rate limits and server errors after the client's retries.
func (c *Client) RunFiber(ctx context.Context, f Formula, name, arguments string) (*FiberResult, error) {
	if arguments == "" {
		arguments = "{}"
	}
	body, err := json.Marshal(struct {
		Name      string `json:"name"`
		Arguments string `json:"arguments"`
	}{name, arguments})
	if err != nil {
		return nil, err
	}
	data, h, err := c.readCapped(ctx, http.MethodPost, "/formulas/"+f.String()+"/fibers", body, MaxFiberBytes, fiberNotRun)
	if err != nil {
		var ae *APIError
		if errors.As(err, &ae) && (ae.StatusCode == http.StatusBadRequest || ae.StatusCode == http.StatusUnprocessableEntity) {
			return &FiberResult{Status: "rejected", Error: ae.Message, RequestID: ae.RequestID}, nil
		}
		return nil, err
	}
	return decodeFiber(data, requestID(h)), nil
}

// fiberNotRun is the retry policy of a fiber: retried only when the tool certainly did not
// run, because the rate limit refused the request or no connection was made. A tool such as
// memory or code_runner is not idempotent, and a 5xx, a timeout or a dropped connection may
// come after it ran: the caller gets the error instead of a second run.
func fiberNotRun(err error) bool {
	if e, ok := asAPIError(err); ok {
		return e.StatusCode == http.StatusTooManyRequests && e.Type != ErrTypeQuotaExceeded
	}
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "dial"
}

// decodeFiber reads a fiber reply. Moonshot reports failures as a top-level "error" or as
// "context.error"; either may be a string or an {type, message} object.
func decodeFiber(data []byte, reqID string) *FiberResult {
	var raw struct {
		Status  string          `json:"status"`
		Error   json.RawMessage `json:"error"`
		Context *struct {
			Output          *string         `json:"output"`
			EncryptedOutput *string         `json:"encrypted_output"`
			Error           json.RawMessage `json:"error"`
		} `json:"context"`
	}
	r := &FiberResult{RequestID: reqID}
	if err := json.Unmarshal(data, &raw); err != nil {
		r.Status, r.Error = "unreadable", "the fiber reply is not JSON: "+err.Error()
		return r
	}
	r.Status = raw.Status
	if msg := errorText(raw.Error); msg != "" {
		r.Error = msg
		return r
	}
	if raw.Context != nil {
		if msg := errorText(raw.Context.Error); msg != "" {
			r.Error = msg
			return r
		}
	}
	if raw.Status != FiberSucceeded {
		r.Error = fmt.Sprintf("the tool ended with status %q", raw.Status)
		return r
	}
	switch {
	case raw.Context != nil && raw.Context.EncryptedOutput != nil:
		r.Output, r.Encrypted = *raw.Context.EncryptedOutput, true
	case raw.Context != nil && raw.Context.Output != nil:
		r.Output = *raw.Context.Output
	default:
		r.Error = "the tool succeeded but sent no output"
	}
	return r
}

// errorText reads an error given as a string or as an object with a message; "" when absent.
func errorText(raw json.RawMessage) string {
	if len(raw) == 0 || string(raw) == "null" {
		return ""
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		if s == "" {
			return "unspecified error"
		}
		return s
	}
	var obj struct {
		Type    string `json:"type"`
		Message string `json:"message"`
	}
	if json.Unmarshal(raw, &obj) == nil && (obj.Message != "" || obj.Type != "") {
		if obj.Type != "" && obj.Message != "" {
			return obj.Type + ": " + obj.Message
		}
		return obj.Type + obj.Message
	}
	return string(raw)
}

// readCapped sends a request with the client's retry policy and reads at most limit bytes of the
// answer; a larger answer is an *APIError of type unexpected_output, not a truncated success.
func (c *Client) readCapped(ctx context.Context, method, path string, body []byte, limit int64, retry func(error) bool) ([]byte, http.Header, error) {
	resp, release, err := c.sendRetrying(ctx, method, path, body, "application/json", false, retry)
	if err != nil {
		return nil, nil, err
	}
	defer release()
	defer resp.Body.Close()
	data, err := readCapped(resp.Body, int(limit), "the answer of "+path, requestID(resp.Header))
	if err != nil {
		if ctx.Err() != nil {
			return nil, nil, ctx.Err()
		}
		var capErr *APIError
		if errors.As(err, &capErr) {
			capErr.StatusCode = resp.StatusCode
		}
		return nil, nil, err
	}
	return data, resp.Header, nil
}

// FormulaSet maps the function names the model may call to the formula that runs them. The
// model only sees names, so two tools with one name would be ambiguous (Moonshot rejects a
// request that declares a function twice): Add and Reserve refuse a clash instead of letting
// the last one win.
type FormulaSet struct {
	owner map[string]string  // function name -> who declared it (a formula URI or a reserved source)
	byFn  map[string]Formula // function name -> formula, for formula tools only
	tools []Tool
}

// Reserve claims names for tools that are not formulas (the user's own declarations, MCP
// servers' tools), so that a formula declaring one of them is refused.
func (s *FormulaSet) Reserve(source string, names ...string) error {
	for _, n := range names {
		if err := s.claim(n, source); err != nil {
			return err
		}
	}
	return nil
}

// Add registers a formula's declarations (from FormulaTools). On a clash nothing is added.
func (s *FormulaSet) Add(f Formula, tools []Tool) error {
	seen := map[string]bool{}
	for _, t := range tools {
		if t.Function == nil || t.Function.Name == "" {
			return fmt.Errorf("%s: a tool has no function name", f)
		}
		n := t.Function.Name
		if seen[n] {
			return fmt.Errorf("%s declares the function %q twice", f, n)
		}
		seen[n] = true
		if prev, ok := s.owner[n]; ok {
			return fmt.Errorf("the function %q of %s clashes with the one from %s; use only one of them", n, f, prev)
		}
	}
	if s.byFn == nil {
		s.byFn = map[string]Formula{}
	}
	for _, t := range tools {
		_ = s.claim(t.Function.Name, f.String())
		s.byFn[t.Function.Name] = f
		s.tools = append(s.tools, t)
	}
	return nil
}

func (s *FormulaSet) claim(name, source string) error {
	if prev, ok := s.owner[name]; ok {
		return fmt.Errorf("the function %q from %s clashes with the one from %s; use only one of them", name, source, prev)
	}
	if s.owner == nil {
		s.owner = map[string]string{}
	}
	s.owner[name] = source
	return nil
}

// Lookup returns the formula that runs the function name; false for any other tool.
func (s *FormulaSet) Lookup(name string) (Formula, bool) {
	f, ok := s.byFn[name]
	return f, ok
}

// Tools returns the formula declarations in the order they were added.
func (s *FormulaSet) Tools() []Tool { return append([]Tool(nil), s.tools...) }

// Names returns the formula function names, sorted.
func (s *FormulaSet) Names() []string {
	return slices.Sorted(maps.Keys(s.byFn))
}
