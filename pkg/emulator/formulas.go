package emulator

// Moonshot's official tools ("formulas"): GET /v1/formulas/{uri}/tools lists a formula's
// function declarations and POST /v1/formulas/{uri}/fibers runs one call. The emulator knows
// five formulas and answers them offline and deterministically:
//
//	moonshot/date:latest        date: the time in a time zone (the clock is the emulator's
//	                            fixed 2026-01-01T00:00:00Z plus one second per fiber)
//	moonshot/base64:latest      base64_encode, base64_decode
//	moonshot/fetch:latest       fetch: a made-up Markdown page derived from the URL only
//	moonshot/web-search:latest  web_search: results as an encrypted_output, as the real one sends
//	moonshot/code_runner:latest and moonshot/quickjs:latest: declared, but every call fails with
//	                            "not emulated" (the emulator runs no code)
//
// Any other formula is a 404, as an unknown one is on the real API (the real catalogue has more:
// convert, memory, excel, ...). The function names and parameter schemas are the emulator's own:
// Moonshot documents the endpoints and reply shapes, not each formula's declarations.
// Arguments are checked strictly against the declared schema (a JSON object, required
// properties present, no unknown ones, the declared types); a violation is a failed fiber, not
// an HTTP error, because the tool ran and refused. A malformed fiber request (not JSON, no
// name, a name the formula does not declare, arguments that are not a string) is a 400.

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

type formulaFunc struct {
	name, description string
	props             map[string]formulaProp
	required          []string
	run               func(e *Emulator, args map[string]any) (output string, encrypted bool, err error)
}

type formulaProp struct{ typ, description string }

var formulaCatalog = map[string][]formulaFunc{
	"moonshot/date:latest": {{
		name:        "date",
		description: "Get the current date and time, optionally in a given IANA time zone.",
		props:       map[string]formulaProp{"timezone": {"string", "IANA time zone name, e.g. Asia/Shanghai; default UTC"}},
		run:         runDate,
	}},
	"moonshot/base64:latest": {
		{
			name:        "base64_encode",
			description: "Encode UTF-8 text as standard base64.",
			props:       map[string]formulaProp{"text": {"string", "the text to encode"}},
			required:    []string{"text"},
			run: func(_ *Emulator, a map[string]any) (string, bool, error) {
				return base64.StdEncoding.EncodeToString([]byte(a["text"].(string))), false, nil
			},
		},
		{
			name:        "base64_decode",
			description: "Decode standard base64 into text.",
			props:       map[string]formulaProp{"data": {"string", "the base64 to decode"}},
			required:    []string{"data"},
			run: func(_ *Emulator, a map[string]any) (string, bool, error) {
				b, err := base64.StdEncoding.DecodeString(a["data"].(string))
				if err != nil {
					return "", false, fmt.Errorf("data is not valid base64: %v", err)
				}
				return string(b), false, nil
			},
		},
	},
	"moonshot/fetch:latest": {{
		name:        "fetch",
		description: "Fetch a web page and return its content as Markdown.",
		props: map[string]formulaProp{
			"url":        {"string", "the http or https URL to fetch"},
			"max_length": {"integer", "the largest number of characters to return"},
		},
		required: []string{"url"},
		run:      runFetch,
	}},
	"moonshot/web-search:latest": {{
		name:        "web_search",
		description: "Search the web for up-to-date information.",
		props: map[string]formulaProp{
			"query":   {"string", "what to search for"},
			"classes": {"array", "result categories to prefer, e.g. [\"news\"]"},
		},
		required: []string{"query"},
		run:      runWebSearch,
	}},
	"moonshot/code_runner:latest": {{
		name:        "code_runner",
		description: "Run Python code in a sandbox and return what it printed.",
		props:       map[string]formulaProp{"code": {"string", "the Python program"}},
		required:    []string{"code"},
		run:         notEmulated("moonshot/code_runner:latest"),
	}},
	"moonshot/quickjs:latest": {{
		name:        "quickjs",
		description: "Run JavaScript in a QuickJS sandbox and return the result.",
		props:       map[string]formulaProp{"code": {"string", "the JavaScript program"}},
		required:    []string{"code"},
		run:         notEmulated("moonshot/quickjs:latest"),
	}},
}

// FormulaURIs lists the formulas the emulator knows, sorted.
func FormulaURIs() []string {
	return slices.Sorted(maps.Keys(formulaCatalog))
}

func notEmulated(uri string) func(*Emulator, map[string]any) (string, bool, error) {
	return func(*Emulator, map[string]any) (string, bool, error) {
		return "", false, fmt.Errorf("%s is not emulated offline: the emulator runs no code", uri)
	}
}

// formulaState is the emulator's formula bookkeeping, guarded by Emulator.mu.
type formulaState struct {
	fibers int           // fibers run, which drives the date formula's clock
	delay  time.Duration // SetFiberDelay
}

// SetFiberDelay makes every following fiber wait d before it answers (0 = answer at once),
// so that tests can make a call time out. A fiber whose client gives up stops waiting at once
// and counts as canceled.
func (e *Emulator) SetFiberDelay(d time.Duration) {
	e.mu.Lock()
	e.formulas.delay = d
	e.mu.Unlock()
}

// serveFormula routes /v1/formulas/{namespace}/{name:tag}/{tools|fibers}.
func (e *Emulator) serveFormula(w http.ResponseWriter, r *http.Request, body []byte) {
	rest := strings.TrimPrefix(r.URL.Path, "/v1/formulas/")
	i := strings.LastIndexByte(rest, '/')
	if i < 0 {
		writeError(w, notFound(r.URL.Path))
		return
	}
	uri, action := rest[:i], rest[i+1:]
	funcs, ok := formulaCatalog[uri]
	if !ok || (action != "tools" && action != "fibers") {
		writeError(w, &apiError{status: http.StatusNotFound, typ: "resource_not_found_error",
			msg: fmt.Sprintf("formula %s not found", uri)})
		return
	}
	method := http.MethodGet
	if action == "fibers" {
		method = http.MethodPost
	}
	if r.Method != method {
		w.Header().Set("Allow", method)
		writeError(w, &apiError{status: http.StatusMethodNotAllowed, typ: "invalid_request_error",
			msg: fmt.Sprintf("Invalid request: method %s is not allowed on %s", r.Method, r.URL.Path)})
		return
	}
	if action == "tools" {
		writeJSON(w, http.StatusOK, map[string]any{"tools": declarations(funcs)})
		return
	}
	e.runFiber(w, r, uri, funcs, body)
}

func declarations(funcs []formulaFunc) []any {
	out := make([]any, 0, len(funcs))
	for _, f := range funcs {
		props := map[string]any{}
		for name, p := range f.props {
			prop := map[string]any{"type": p.typ, "description": p.description}
			if p.typ == "array" {
				prop["items"] = map[string]any{"type": "string"}
			}
			props[name] = prop
		}
		params := map[string]any{"type": "object", "properties": props, "additionalProperties": false}
		if len(f.required) > 0 {
			params["required"] = f.required
		}
		out = append(out, map[string]any{"type": "function", "function": map[string]any{
			"name": f.name, "description": f.description, "parameters": params}})
	}
	return out
}

func (e *Emulator) runFiber(w http.ResponseWriter, r *http.Request, uri string, funcs []formulaFunc, body []byte) {
	var req struct {
		Name      string           `json:"name"`
		Arguments *json.RawMessage `json:"arguments"`
	}
	if err := json.Unmarshal(body, &req); err != nil {
		writeError(w, invalid("Invalid request: the body is not a JSON object"))
		return
	}
	var fn *formulaFunc
	for i := range funcs {
		if funcs[i].name == req.Name {
			fn = &funcs[i]
		}
	}
	if fn == nil {
		writeError(w, invalid("Invalid request: %s has no function named %q", uri, req.Name))
		return
	}
	var argText string
	if req.Arguments == nil || json.Unmarshal(*req.Arguments, &argText) != nil {
		writeError(w, invalid("Invalid request: arguments must be a string holding a JSON object"))
		return
	}

	e.mu.Lock()
	e.formulas.fibers++
	delay := e.formulas.delay
	e.mu.Unlock()
	if delay > 0 {
		t := time.NewTimer(delay)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			e.markCanceled()
			return
		}
	}

	output, encrypted, err := fn.call(e, argText)
	if err != nil {
		writeJSON(w, http.StatusOK, map[string]any{"status": "failed", "context": map[string]any{"error": err.Error()}})
		return
	}
	key := "output"
	if encrypted {
		key = "encrypted_output"
	}
	writeJSON(w, http.StatusOK, map[string]any{"status": "succeeded", "context": map[string]any{key: output}})
}

// call checks the arguments against the declaration and runs the function.
func (f *formulaFunc) call(e *Emulator, argText string) (string, bool, error) {
	var args map[string]any
	if err := json.Unmarshal([]byte(argText), &args); err != nil || args == nil {
		return "", false, fmt.Errorf("invalid arguments: not a JSON object")
	}
	for _, name := range f.required {
		if _, ok := args[name]; !ok {
			return "", false, fmt.Errorf("invalid arguments: %s is required", name)
		}
	}
	for _, name := range slices.Sorted(maps.Keys(args)) {
		p, ok := f.props[name]
		if !ok {
			return "", false, fmt.Errorf("invalid arguments: unknown property %q", name)
		}
		if !hasJSONType(args[name], p.typ) {
			return "", false, fmt.Errorf("invalid arguments: %s must be of type %s", name, p.typ)
		}
	}
	return f.run(e, args)
}

func hasJSONType(v any, typ string) bool {
	switch typ {
	case "string":
		_, ok := v.(string)
		return ok
	case "integer":
		n, ok := v.(float64)
		return ok && n == float64(int64(n))
	case "array":
		items, ok := v.([]any)
		for _, it := range items {
			if _, isStr := it.(string); !isStr {
				return false
			}
		}
		return ok
	}
	return false
}

func runDate(e *Emulator, a map[string]any) (string, bool, error) {
	loc := time.UTC
	if tz, ok := a["timezone"].(string); ok && tz != "" {
		l, err := time.LoadLocation(tz)
		if err != nil {
			return "", false, fmt.Errorf("unknown time zone %q", tz)
		}
		loc = l
	}
	e.mu.Lock()
	n := e.formulas.fibers
	e.mu.Unlock()
	now := time.Unix(createdBase+int64(n), 0).In(loc)
	return fmt.Sprintf("%s (%s, %s)", now.Format(time.RFC3339), now.Weekday(), loc), false, nil
}

func runFetch(_ *Emulator, a map[string]any) (string, bool, error) {
	raw := a["url"].(string)
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", false, fmt.Errorf("cannot fetch %q: only absolute http and https URLs can be fetched", raw)
	}
	title := strings.Trim(u.Path, "/")
	if title == "" {
		title = u.Hostname()
	}
	page := fmt.Sprintf("# %s\n\nThis is the emulator's offline copy of <%s>.\n\n"+
		"- host: %s\n- path: %s\n\nThe real fetch tool returns the page converted to Markdown.\n",
		title, u.String(), u.Hostname(), "/"+strings.TrimPrefix(u.Path, "/"))
	if n, ok := a["max_length"].(float64); ok {
		if n < 1 {
			return "", false, fmt.Errorf("max_length must be at least 1")
		}
		if r := []rune(page); len(r) > int(n) {
			page = string(r[:int(n)])
		}
	}
	return page, false, nil
}

func runWebSearch(_ *Emulator, a map[string]any) (string, bool, error) {
	q := strings.TrimSpace(a["query"].(string))
	if q == "" {
		return "", false, fmt.Errorf("query must not be empty")
	}
	results := fmt.Sprintf("1. %s (emulated result) - https://example.com/search?q=%s", q, url.QueryEscape(q))
	// The real tool's results are opaque to the client; base64 stands in for the encryption.
	return "----MOONSHOT ENCRYPTED BEGIN----" + base64.StdEncoding.EncodeToString([]byte(results)) +
		"----MOONSHOT ENCRYPTED END----", true, nil
}
