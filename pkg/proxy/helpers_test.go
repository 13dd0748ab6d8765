package proxy

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/moonchat/moonchat/internal/syncbuf"
	"github.com/moonchat/moonchat/pkg/emulator"
)

const (
	upstreamKey = "sk-upstream-secret-0001"
	masterKey   = "sk-master-secret-0002"
)

// startUpstream serves an emulator that accepts only upstreamKey.
func startUpstream(t testing.TB, cfg emulator.Config) *emulator.Server {
	t.Helper()
	cfg.APIKey = upstreamKey
	return emulator.StartTB(t, cfg)
}

// deploy is a deployment of model on an upstream under a public name.
func deploy(name, model string, up *emulator.Server) Deployment {
	return Deployment{ModelName: name, Model: model, APIKey: upstreamKey, APIBase: up.URL}
}

// testProxy is a Handler behind a loopback server, with its log captured.
type testProxy struct {
	h    *Handler
	srv  *httptest.Server
	logs *syncbuf.Buffer
}

func startProxy(t testing.TB, cfg *Config, opts Options) *testProxy {
	t.Helper()
	logs := &syncbuf.Buffer{}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(logs, nil))
	}
	if opts.RetryBaseDelay == 0 {
		opts.RetryBaseDelay = time.Millisecond
	}
	h, err := New(cfg, opts)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(func() {
		srv.Close()
		h.CloseIdleConnections()
	})
	return &testProxy{h: h, srv: srv, logs: logs}
}

// do sends a request to the proxy; headers are name, value pairs.
func (p *testProxy) do(t testing.TB, method, path, body string, headers ...string) (*http.Response, []byte) {
	t.Helper()
	return p.doCtx(t, context.Background(), method, path, body, headers...)
}

func (p *testProxy) doCtx(t testing.TB, ctx context.Context, method, path, body string, headers ...string) (*http.Response, []byte) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, p.srv.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := p.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, b
}

func chatJSON(model string, extra string) string {
	return `{"model":"` + model + `","messages":[{"role":"user","content":"hello"}]` + extra + `}`
}

// sse splits a server-sent event body into its data payloads.
func sse(t testing.TB, body []byte) []string {
	t.Helper()
	var out []string
	sc := bufio.NewScanner(bytes.NewReader(body))
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		line := sc.Text()
		if line == "" {
			continue
		}
		data, ok := strings.CutPrefix(line, "data: ")
		if !ok {
			t.Fatalf("not an SSE data line: %q", line)
		}
		out = append(out, data)
	}
	return out
}

// errorBody is OpenAI's error shape, with param and code kept raw to check they are null.
type errorBody struct {
	Error struct {
		Message string          `json:"message"`
		Type    string          `json:"type"`
		Param   json.RawMessage `json:"param"`
		Code    json.RawMessage `json:"code"`
	} `json:"error"`
}

// openAIError decodes an error body and checks that it has all four fields.
func openAIError(t testing.TB, b []byte) errorBody {
	t.Helper()
	var raw map[string]map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		t.Fatalf("error body %s: %v", b, err)
	}
	for _, k := range []string{"message", "type", "param", "code"} {
		if _, ok := raw["error"][k]; !ok {
			t.Fatalf("error body %s lacks %q", b, k)
		}
	}
	var e errorBody
	_ = json.Unmarshal(b, &e)
	if e.Error.Message == "" || e.Error.Type == "" {
		t.Fatalf("empty message or type: %s", b)
	}
	return e
}

func waitCtx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// newServer serves h on loopback for one test and returns its URL.
func newServer(t testing.TB, h http.Handler) string {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv.URL
}

// fakeClock is the proxy's clock for rpm/tpm minutes and cooldowns in tests: it moves only
// when told.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

// newFakeClock starts at the beginning of a minute, so a test's minute does not end early.
func newFakeClock() *fakeClock { return &fakeClock{t: time.Date(2026, 1, 2, 3, 4, 0, 0, time.UTC)} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}
