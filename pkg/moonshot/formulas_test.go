package moonshot_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/moonchat/moonchat/pkg/emulator"
	"github.com/moonchat/moonchat/pkg/moonshot"
)

func TestParseFormula(t *testing.T) {
	good := map[string]string{
		"moonshot/fetch:latest":      "moonshot/fetch:latest",
		"moonshot/web-search:latest": "moonshot/web-search:latest",
		"moonshot/code_runner:1.2":   "moonshot/code_runner:1.2",
		"moonshot/date":              "moonshot/date:latest",
	}
	for in, want := range good {
		f, err := moonshot.ParseFormula(in)
		if err != nil || f.String() != want {
			t.Errorf("ParseFormula(%q) = %v, %v; want %s", in, f, err, want)
		}
	}
	bad := map[string]string{
		"fetch":                    "no namespace",
		"/fetch:latest":            "empty namespace",
		"moonshot/:latest":         "empty name",
		"moonshot/fetch:":          "empty tag",
		"moonshot/Fetch:latest":    `'F'`,
		"moonshot/fe tch:latest":   `' '`,
		"moonshot/../x:latest":     `'/'`,
		"moonshot/fetch:latest/x":  `'/'`,
		"moonshot/fetch?a=1:b":     `'?'`,
		"moonshot/fetch:lat%2Fest": `'%'`,
	}
	for in, why := range bad {
		_, err := moonshot.ParseFormula(in)
		if err == nil || !strings.Contains(err.Error(), why) || !strings.Contains(err.Error(), "moonshot/fetch:latest") {
			t.Errorf("ParseFormula(%q) = %v; want an error naming %s and an example", in, err, why)
		}
	}
}

func TestFormulaToolsFromEmulator(t *testing.T) {
	srv := start(t)
	c := newClient(t, srv)
	f, _ := moonshot.ParseFormula("moonshot/base64:latest")
	tools, err := c.FormulaTools(context.Background(), f)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, tl := range tools {
		names = append(names, tl.Function.Name)
		var schema map[string]any
		if err := json.Unmarshal(tl.Function.Parameters, &schema); err != nil || schema["type"] != "object" {
			t.Errorf("%s: parameters %s are not an object schema", tl.Function.Name, tl.Function.Parameters)
		}
	}
	if strings.Join(names, ",") != "base64_encode,base64_decode" {
		t.Errorf("names = %v", names)
	}
	reqs := srv.Requests()
	if len(reqs) != 1 || reqs[0].Method != http.MethodGet || reqs[0].Path != "/v1/formulas/moonshot/base64:latest/tools" {
		t.Errorf("request = %+v", reqs)
	}
	if got := reqs[0].Header.Get("Authorization"); got != "Bearer "+key {
		t.Errorf("Authorization = %q", got)
	}

	unknown, _ := moonshot.ParseFormula("moonshot/nope:latest")
	_, err = c.FormulaTools(context.Background(), unknown)
	var ae *moonshot.APIError
	if !errors.As(err, &ae) || ae.StatusCode != 404 || !strings.Contains(ae.Message, "moonshot/nope:latest") {
		t.Errorf("unknown formula: %v", err)
	}
}

func TestRunFiberAgainstEmulator(t *testing.T) {
	srv := start(t)
	c := newClient(t, srv)
	ctx := context.Background()
	b64, _ := moonshot.ParseFormula("moonshot/base64:latest")
	fetch, _ := moonshot.ParseFormula("moonshot/fetch:latest")
	search, _ := moonshot.ParseFormula("moonshot/web-search:latest")
	js, _ := moonshot.ParseFormula("moonshot/quickjs:latest")

	r, err := c.RunFiber(ctx, b64, "base64_encode", `{"text":"hello"}`)
	if err != nil || r.Failed() || r.Output != "aGVsbG8=" || r.Content() != "aGVsbG8=" {
		t.Fatalf("encode: %+v, %v", r, err)
	}
	// The model's arguments string travels unchanged, as a JSON string.
	last := srv.Requests()[len(srv.Requests())-1]
	if last.Path != "/v1/formulas/moonshot/base64:latest/fibers" || last.JSON()["arguments"] != `{"text":"hello"}` || last.JSON()["name"] != "base64_encode" {
		t.Errorf("fiber request = %s %s", last.Path, last.Body)
	}

	r, err = c.RunFiber(ctx, fetch, "fetch", `{"url":"https://example.com/docs/page"}`)
	if err != nil || r.Failed() || !strings.Contains(r.Output, "# docs/page") {
		t.Errorf("fetch: %+v, %v", r, err)
	}
	again, _ := c.RunFiber(ctx, fetch, "fetch", `{"url":"https://example.com/docs/page"}`)
	if again == nil || again.Output != r.Output {
		t.Errorf("fetch is not deterministic")
	}

	r, err = c.RunFiber(ctx, search, "web_search", `{"query":"moon"}`)
	if err != nil || r.Failed() || !r.Encrypted || !strings.HasPrefix(r.Output, "----MOONSHOT ENCRYPTED BEGIN----") {
		t.Errorf("web_search: %+v, %v", r, err)
	}

	// Bad arguments are the tool's failure: a result the model can read, not an error.
	for _, tc := range []struct{ name, args, want string }{
		{"base64_encode", `{}`, "text is required"},
		{"base64_encode", `{"text":1}`, "text must be of type string"},
		{"base64_encode", `{"text":"a","extra":1}`, `unknown property "extra"`},
		{"base64_decode", `{"data":"!!"}`, "not valid base64"},
		{"base64_encode", `[1]`, "not a JSON object"},
	} {
		r, err := c.RunFiber(ctx, b64, tc.name, tc.args)
		if err != nil || !r.Failed() || !strings.Contains(r.Content(), tc.want) || !strings.HasPrefix(r.Content(), "error: ") {
			t.Errorf("%s(%s): %+v, %v; want a failed result with %q", tc.name, tc.args, r, err, tc.want)
		}
	}
	r, err = c.RunFiber(ctx, fetch, "fetch", `{"url":"file:///etc/passwd"}`)
	if err != nil || !r.Failed() || !strings.Contains(r.Error, "http") {
		t.Errorf("fetch file URL: %+v, %v", r, err)
	}
	r, err = c.RunFiber(ctx, js, "quickjs", `{"code":"1+1"}`)
	if err != nil || !r.Failed() || !strings.Contains(r.Error, "not emulated") {
		t.Errorf("quickjs: %+v, %v", r, err)
	}
	// A name the formula does not declare is a 400: reported as a failed result too.
	r, err = c.RunFiber(ctx, b64, "fetch", `{}`)
	if err != nil || !r.Failed() || !strings.Contains(r.Error, `no function named "fetch"`) {
		t.Errorf("wrong function: %+v, %v", r, err)
	}
	// An unknown formula is a setup problem, not something the model can fix.
	nope, _ := moonshot.ParseFormula("moonshot/nope:latest")
	if _, err := c.RunFiber(ctx, nope, "x", `{}`); !moonshot.IsRejected(err) {
		t.Errorf("unknown formula: %v", err)
	}
}

func TestRunFiberTimeoutAndCancel(t *testing.T) {
	srv := start(t)
	srv.Emulator().SetFiberDelay(time.Hour)
	c := newClient(t, srv, func(o *moonshot.Options) { o.MaxRetries = intp(0) })
	f, _ := moonshot.ParseFormula("moonshot/date:latest")

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	_, err := c.RunFiber(ctx, f, "date", `{}`)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want the deadline", err)
	}
	wait, stop := context.WithTimeout(context.Background(), 10*time.Second)
	defer stop()
	if err := srv.WaitCanceled(wait, 1); err != nil {
		t.Fatalf("the emulator did not see the fiber abandoned: %v", err)
	}

	srv.Emulator().SetFiberDelay(0)
	r, err := c.RunFiber(context.Background(), f, "date", `{"timezone":"Asia/Shanghai"}`)
	if err != nil || r.Failed() || !strings.Contains(r.Output, "+08:00") {
		t.Errorf("date after the delay is lifted: %+v, %v", r, err)
	}
}

// fixture serves one canned reply, written from the shapes in Moonshot's guide.
func fixture(t *testing.T, status int, body string) *moonshot.Client {
	t.Helper()
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Msh-Request-Id", "req-fixture")
		w.WriteHeader(status)
		_, _ = w.Write([]byte(body))
	}))
	t.Cleanup(ts.Close)
	c, err := moonshot.NewClient(moonshot.Options{APIKey: key, BaseURL: ts.URL + "/v1", MaxRetries: intp(0)})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestFiberReplyShapes(t *testing.T) {
	f, _ := moonshot.ParseFormula("moonshot/web-search:latest")
	for _, tc := range []struct {
		name, body       string
		output, errWant  string
		encrypted, fails bool
	}{
		{name: "output", body: `{"status":"succeeded","context":{"output":"2026-12-02"}}`, output: "2026-12-02"},
		{name: "encrypted", body: `{"status":"succeeded","context":{"encrypted_output":"----MOONSHOT ENCRYPTED BEGIN----abc----MOONSHOT ENCRYPTED END----"}}`,
			output: "----MOONSHOT ENCRYPTED BEGIN----abc----MOONSHOT ENCRYPTED END----", encrypted: true},
		{name: "top-level error object", body: `{"error":{"type":"tool_error","message":"quota of the tool exhausted"}}`,
			errWant: "tool_error: quota of the tool exhausted", fails: true},
		{name: "context error", body: `{"status":"failed","context":{"error":"timeout while fetching"}}`,
			errWant: "timeout while fetching", fails: true},
		{name: "other status", body: `{"status":"cancelled","context":{}}`, errWant: `status "cancelled"`, fails: true},
		{name: "no output", body: `{"status":"succeeded","context":{}}`, errWant: "no output", fails: true},
		{name: "not json", body: `<html>`, errWant: "not JSON", fails: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := fixture(t, 200, tc.body).RunFiber(context.Background(), f, "web_search", `{"query":"x"}`)
			if err != nil {
				t.Fatal(err)
			}
			if r.Failed() != tc.fails || r.Encrypted != tc.encrypted || r.RequestID != "req-fixture" {
				t.Fatalf("result = %+v", r)
			}
			if tc.fails && !strings.Contains(r.Error, tc.errWant) {
				t.Errorf("Error = %q, want %q", r.Error, tc.errWant)
			}
			if !tc.fails && r.Output != tc.output {
				t.Errorf("Output = %q", r.Output)
			}
		})
	}

	// Exchange failures stay errors: the loop decides what the model is told.
	_, err := fixture(t, 401, `{"error":{"type":"invalid_authentication_error","message":"Invalid Authentication"}}`).
		RunFiber(context.Background(), f, "web_search", `{}`)
	if !moonshot.IsAuth(err) {
		t.Errorf("401: %v", err)
	}
	r, err := fixture(t, 400, `{"error":{"type":"invalid_request_error","message":"arguments is not valid JSON"}}`).
		RunFiber(context.Background(), f, "web_search", `{`)
	if err != nil || !r.Failed() || r.Error != "arguments is not valid JSON" {
		t.Errorf("400: %+v, %v", r, err)
	}
}

func TestFormulaBodiesAreCapped(t *testing.T) {
	f, _ := moonshot.ParseFormula("moonshot/fetch:latest")
	huge := `{"status":"succeeded","context":{"output":"` + strings.Repeat("a", moonshot.MaxFiberBytes) + `"}}`
	_, err := fixture(t, 200, huge).RunFiber(context.Background(), f, "fetch", `{}`)
	if err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Errorf("oversized fiber: %v", err)
	}
	tools := `{"tools":[` + strings.Repeat(`{"type":"function","function":{"name":"x"}},`, moonshot.MaxFormulaToolsBytes/40) + `]}`
	if _, err := fixture(t, 200, tools).FormulaTools(context.Background(), f); err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Errorf("oversized declarations: %v", err)
	}
	for body, want := range map[string]string{
		`{"tools":[]}`: "declares no tools",
		`{"tools":[{"type":"builtin_function","function":{"name":"$web_search"}}]}`: "not a named function",
		`{"data":[{"type":"function","function":{"name":"fetch"}}]}`:                "",
	} {
		tl, err := fixture(t, 200, body).FormulaTools(context.Background(), f)
		if want == "" {
			if err != nil || len(tl) != 1 || tl[0].Function.Name != "fetch" {
				t.Errorf("%s: %v %v", body, tl, err)
			}
		} else if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want %q", body, err, want)
		}
	}
}

func TestFormulaSetRefusesClashes(t *testing.T) {
	var s moonshot.FormulaSet
	fetch, _ := moonshot.ParseFormula("moonshot/fetch:latest")
	other, _ := moonshot.ParseFormula("acme/fetch:latest")
	decl := func(names ...string) []moonshot.Tool {
		var out []moonshot.Tool
		for _, n := range names {
			out = append(out, moonshot.Tool{Type: "function", Function: &moonshot.FunctionDef{Name: n}})
		}
		return out
	}
	if err := s.Reserve("mcp server files", "read_file"); err != nil {
		t.Fatal(err)
	}
	if err := s.Add(fetch, decl("fetch")); err != nil {
		t.Fatal(err)
	}
	if err := s.Add(other, decl("fetch_more", "fetch")); err == nil || !strings.Contains(err.Error(), "moonshot/fetch:latest") {
		t.Errorf("clash between formulas: %v", err)
	}
	if _, ok := s.Lookup("fetch_more"); ok {
		t.Error("a refused Add left a name behind")
	}
	if err := s.Add(other, decl("read_file")); err == nil || !strings.Contains(err.Error(), "mcp server files") {
		t.Errorf("clash with a reserved name: %v", err)
	}
	if err := s.Add(other, decl("a", "a")); err == nil || !strings.Contains(err.Error(), "twice") {
		t.Errorf("duplicate inside one formula: %v", err)
	}
	if err := s.Reserve("--tools file", "fetch"); err == nil {
		t.Error("Reserve accepted a formula's name")
	}
	if f, ok := s.Lookup("fetch"); !ok || f != fetch {
		t.Errorf("Lookup(fetch) = %v, %v", f, ok)
	}
	if _, ok := s.Lookup("read_file"); ok {
		t.Error("a reserved name is not a formula tool")
	}
	if len(s.Tools()) != 1 || strings.Join(s.Names(), ",") != "fetch" {
		t.Errorf("Tools = %v, Names = %v", s.Tools(), s.Names())
	}
}

func TestFormulasOffline(t *testing.T) {
	// The offline client reaches the same endpoints without a socket.
	c, err := moonshot.NewClient(moonshot.Options{APIKey: key, BaseURL: emulator.OfflineBaseURL,
		HTTPClient: emulator.OfflineClient(emulator.Config{})})
	if err != nil {
		t.Fatal(err)
	}
	f, _ := moonshot.ParseFormula("moonshot/date:latest")
	r, err := c.RunFiber(context.Background(), f, "date", "")
	if err != nil || r.Failed() || !strings.HasPrefix(r.Output, "2026-01-01T00:00:01Z") {
		t.Errorf("offline date: %+v, %v", r, err)
	}
}

// A fiber runs a tool that may not be idempotent (memory, code_runner): a 5xx or a dropped
// connection may come after it ran, so the client does not run it again; only a rate-limit
// refusal (the tool did not run) is retried. Declarations are only read, and retried as any
// request is.
func TestFiberRetriedOnlyWhenTheToolDidNotRun(t *testing.T) {
	formula, _ := moonshot.ParseFormula("moonshot/memory:latest")
	for _, tc := range []struct {
		name    string
		first   func(w http.ResponseWriter)
		fibers  int // POSTs the server sees
		succeed bool
	}{
		{"500", func(w http.ResponseWriter) {
			w.WriteHeader(http.StatusInternalServerError)
			io.WriteString(w, `{"error":{"message":"internal error","type":"server_error"}}`)
		}, 1, false},
		{"503", func(w http.ResponseWriter) {
			w.WriteHeader(http.StatusServiceUnavailable)
			io.WriteString(w, `{"error":{"message":"overloaded","type":"engine_overloaded_error"}}`)
		}, 1, false},
		{"connection dropped", func(w http.ResponseWriter) {
			conn, _, err := http.NewResponseController(w).Hijack()
			if err == nil {
				conn.Close()
			}
		}, 1, false},
		{"429", func(w http.ResponseWriter) {
			w.WriteHeader(http.StatusTooManyRequests)
			io.WriteString(w, `{"error":{"message":"rate limit reached","type":"rate_limit_reached_error"}}`)
		}, 2, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var mu sync.Mutex
			fibers, lists := 0, 0
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				mu.Lock()
				n := 0
				if r.Method == http.MethodPost {
					fibers++
					n = fibers
				} else {
					lists++
					n = lists
				}
				mu.Unlock()
				if n == 1 {
					tc.first(w)
					return
				}
				if r.Method == http.MethodPost {
					io.WriteString(w, `{"status":"succeeded","context":{"output":"stored"}}`)
					return
				}
				io.WriteString(w, `{"tools":[{"type":"function","function":{"name":"memory","parameters":{"type":"object"}}}]}`)
			}))
			defer srv.Close()
			c, err := moonshot.NewClient(moonshot.Options{APIKey: key, BaseURL: srv.URL, UserAgent: "moonchat/test",
				RetryBaseDelay: time.Millisecond, MaxRetryDelay: 5 * time.Millisecond})
			if err != nil {
				t.Fatal(err)
			}
			r, err := c.RunFiber(context.Background(), formula, "memory", `{"action":"append","text":"x"}`)
			if tc.succeed != (err == nil && r.Content() == "stored") {
				t.Errorf("RunFiber = %+v, %v", r, err)
			}
			counts := func() (int, int) {
				mu.Lock()
				defer mu.Unlock()
				return fibers, lists
			}
			if n, _ := counts(); n != tc.fibers {
				t.Errorf("%d fiber requests, want %d", n, tc.fibers)
			}
			_, err = c.FormulaTools(context.Background(), formula)
			if _, n := counts(); err != nil || n != 2 {
				t.Errorf("FormulaTools after one failure: %v after %d requests, want a retry", err, n)
			}
		})
	}
}
