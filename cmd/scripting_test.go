package cmd

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/moonchat/moonchat/internal/clitest"
)

// Tests of issue 5's commands through the root: registration, exit codes and the one-line
// errors that cli.ReportError prints.

func TestScriptingCommandsThroughRoot(t *testing.T) {
	h := newHarness(t)
	tests := []struct {
		args   []string
		code   int
		stdout string // a prefix
		stderr string // contained
	}{
		{[]string{"models"}, 0, "kimi-k3.1-pro\n", ""},
		{[]string{"tokens", "hello"}, 0, "", ""},
		{[]string{"balance"}, 0, "available 49.58894 USD\n", ""},
		{[]string{"config", "get", "model"}, 0, "kimi-k2.6\n", ""},
		{[]string{"config", "get", "modle"}, 2, "", `moonchat: unknown key "modle" (did you mean "model"?)`},
		{[]string{"config", "set", "temperature", "hot"}, 2, "", `moonchat: temperature: "hot" is not a number`},
		{[]string{"models", "--nope"}, 2, "", "unknown flag: --nope"},
		{[]string{"balance", "--proxy", "http://[::1"}, 2, "", "--proxy: "},
		{[]string{"tokens", "-m", "no-such-model", "hi"}, 5, "", "moonchat models"},
		{[]string{"config", "init"}, 2, "", "needs a terminal"},
	}
	for _, tt := range tests {
		r := h.run(tt.args...)
		if r.code != tt.code || !strings.HasPrefix(r.stdout, tt.stdout) || !strings.Contains(r.stderr, tt.stderr) {
			t.Errorf("moonchat %s: exit %d (want %d)\nstdout %q\nstderr %q", strings.Join(tt.args, " "), r.code, tt.code, r.stdout, r.stderr)
		}
		if strings.Contains(r.stdout+r.stderr, testKey) {
			t.Errorf("moonchat %s printed the key", strings.Join(tt.args, " "))
		}
	}
	r := h.run("--help")
	for _, c := range []string{"models", "config", "tokens", "balance"} {
		if !strings.Contains(r.stdout, "\n  "+c+" ") {
			t.Errorf("--help does not list %s", c)
		}
	}
}

func TestBrokenConfigStopsEveryCommand(t *testing.T) {
	h := newHarness(t)
	path := filepath.Join(os.Getenv("XDG_CONFIG_HOME"), "moonchat", "config.yaml")
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	const broken = "model: kimi-k2.6\ntemperature: [\n"
	if err := os.WriteFile(path, []byte(broken), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"models"}, {"tokens", "hi"}, {"balance"}, {"config", "list"}, {"chat", "hi"}} {
		r := h.run(args...)
		if r.code != 2 || !strings.HasPrefix(r.stderr, "moonchat: "+path+":2: ") {
			t.Errorf("moonchat %v: exit %d, stderr %q", args, r.code, r.stderr)
		}
	}
	if r := h.run("config", "path"); r.code != 0 || r.stdout != path+"\n" {
		t.Errorf("config path: %+v", r)
	}
	data, _ := os.ReadFile(path)
	if string(data) != broken {
		t.Errorf("the file was rewritten: %q", data)
	}
	if len(h.srv.Requests()) != 0 {
		t.Error("a request was sent with a broken config")
	}
}

func TestModelsTokensBalanceOnTerminal(t *testing.T) {
	h := newHarness(t)
	h.tty = true
	if r := h.run("models"); r.code != 0 || !strings.HasPrefix(r.stdout, "MODEL ") || !strings.Contains(r.stdout, "\nPrices in USD per 1M tokens.\n") {
		t.Errorf("models: %+v", r)
	}
	if r := h.run("tokens", "-m", "moonshot-v1-8k", "hello"); r.code != 0 || !strings.HasPrefix(r.stdout, "6 tokens · <0.1% of moonshot-v1-8k's 8,192") {
		t.Errorf("tokens: %+v", r)
	}
	if r := h.run("balance"); r.code != 0 || !strings.HasPrefix(r.stdout, "available  49.59  USD\n") {
		t.Errorf("balance: %+v", r)
	}
	h.tty = false
	var b map[string]any
	if r := h.run("balance", "--json"); r.code != 0 || json.Unmarshal([]byte(r.stdout), &b) != nil || b["currency"] != "USD" {
		t.Errorf("balance --json: %+v", r)
	}
}

func TestModelCompletion(t *testing.T) {
	clitest.Isolate(t)
	h := &harness{t: t}
	for _, cmd := range []string{"chat", "tokens"} {
		r := h.run("__complete", cmd, "-m", "kimi-k2.")
		if r.code != 0 || !strings.Contains(r.stdout, "kimi-k2.6\t") || strings.Contains(r.stdout, "moonshot-v1") {
			t.Errorf("%s -m completion: %+v", cmd, r)
		}
	}
	if r := h.run("__complete", "config", "set", "format", ""); !strings.HasPrefix(r.stdout, "auto\nmarkdown\ntext\njson\njsonl\n:4\n") {
		t.Errorf("config set format completion: %q", r.stdout)
	}
}

// TestProxyFlagThroughCommands sends models, tokens and balance through a forward proxy given
// with --proxy. The API base uses a name that only the proxy knows, so a request that went
// around it would fail.
func TestProxyFlagThroughCommands(t *testing.T) {
	h := newHarness(t)
	target := strings.TrimPrefix(strings.TrimSuffix(h.srv.URL, "/v1"), "http://")
	_, port, _ := strings.Cut(target, ":")
	var (
		mu   sync.Mutex
		seen []string
	)
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, r.Method+" "+r.URL.String())
		mu.Unlock()
		if r.URL.Host != "emulator.test:"+port {
			http.Error(w, "unknown host", http.StatusBadGateway)
			return
		}
		clitest.Forward(w, r, target)
	}))
	defer proxy.Close()
	t.Setenv("MOONSHOT_API_BASE", "http://emulator.test:"+port+"/v1")
	t.Setenv("ALL_PROXY", "socks5://127.0.0.1:1") // overridden by --proxy

	for _, args := range [][]string{{"models"}, {"tokens", "hi"}, {"balance"}} {
		r := h.run(append(args, "--proxy", proxy.URL)...)
		if r.code != 0 {
			t.Errorf("moonchat %v --proxy: exit %d, %s", args, r.code, r.stderr)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	want := []string{"/v1/models", "/v1/users/me/balance", "/v1/tokenizers/estimate-token-count"}
	for _, w := range want {
		found := false
		for _, s := range seen {
			found = found || strings.HasSuffix(s, "emulator.test:"+port+w)
		}
		if !found {
			t.Errorf("the proxy did not carry %s: %q", w, seen)
		}
	}
	// Without --proxy the dead ALL_PROXY is used, and the request fails as temporary (75).
	if r := h.run("balance"); r.code != 75 {
		t.Errorf("balance through a dead ALL_PROXY: exit %d, %s", r.code, r.stderr)
	}
	t.Setenv("ALL_PROXY", "ftp://proxy.example:21")
	if r := h.run("models"); r.code != 2 || !strings.Contains(r.stderr, "not supported") {
		t.Errorf("unsupported ALL_PROXY: exit %d, %s", r.code, r.stderr)
	}
}
