package serve

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/openai/openai-go"
	"github.com/openai/openai-go/option"

	"github.com/moonchat/moonchat/cmd/cli"
	"github.com/moonchat/moonchat/internal/clitest"
	"github.com/moonchat/moonchat/internal/syncbuf"
	"github.com/moonchat/moonchat/pkg/emulator"
	"github.com/moonchat/moonchat/pkg/iostreams"
	"github.com/moonchat/moonchat/pkg/moonshot"
)

const (
	upstreamKey = "sk-upstream-secret-0001"
	masterKey   = "sk-master-secret-0002"
)

// isolate points per-user paths at a temporary directory and clears the variables that would
// change behaviour.
func isolate(t *testing.T) {
	t.Helper()
	clitest.Isolate(t)
	for _, v := range []string{"MOONCHAT_MASTER_KEY", "LITELLM_MASTER_KEY", "OPENAI_BASE_URL", "OPENAI_API_KEY"} {
		t.Setenv(v, "")
	}
}

// upstream starts an emulator with cfg that takes upstreamKey, for the server to send to.
func upstream(t *testing.T, cfg emulator.Config) *emulator.Server {
	t.Helper()
	cfg.APIKey = upstreamKey
	return emulator.StartTB(t, cfg)
}

// server is a `moonchat serve` running in the test.
type server struct {
	url    string // http://127.0.0.1:PORT
	stop   context.CancelFunc
	done   chan error
	stderr *syncbuf.Buffer
	once   sync.Once
	err    error
}

// shutdown cancels the server's context, as SIGTERM does, and returns what the run returned.
func (s *server) shutdown() error {
	s.stop()
	s.once.Do(func() { s.err = <-s.done })
	return s.err
}

// execute runs the serve command with args; setup may adjust the options before the run.
func execute(t *testing.T, ctx context.Context, stderr io.Writer, args []string, setup func(*Options)) error {
	t.Helper()
	ios, _, _, _ := iostreams.Test()
	ios.ErrOut = stderr
	f := cli.New(ios)
	cmd := NewCmdServe(f, func(o *Options) error {
		if setup != nil {
			setup(o)
		}
		return serveRun(ctx, o)
	})
	cmd.SetArgs(args)
	cmd.SetOut(io.Discard)
	cmd.SetErr(io.Discard)
	return cmd.ExecuteContext(ctx)
}

// start runs the server in the background until the test ends (or shutdown is called) and
// waits until it listens.
func start(t *testing.T, args []string, setup func(*Options)) *server {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	s := &server{stop: cancel, done: make(chan error, 1), stderr: &syncbuf.Buffer{}}
	ready := make(chan string, 1)
	go func() {
		s.done <- execute(t, ctx, s.stderr, append([]string{"--port", "0"}, args...), func(o *Options) {
			o.ready = func(addr string) { ready <- addr }
			if setup != nil {
				setup(o)
			}
		})
	}()
	select {
	case addr := <-ready:
		s.url = "http://" + addr
	case err := <-s.done:
		cancel()
		t.Fatalf("serve did not start: %v\n%s", err, s.stderr.String())
	}
	t.Cleanup(func() {
		if err := s.shutdown(); err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	return s
}

func sdk(t *testing.T, s *server, key string) openai.Client {
	return openai.NewClient(option.WithBaseURL(s.url+"/v1/"), option.WithAPIKey(key), option.WithMaxRetries(0))
}

func TestFlags(t *testing.T) {
	isolate(t)
	tests := []struct {
		args  []string
		check func(*Options) bool
		code  int
	}{
		{nil, func(o *Options) bool {
			return o.Host == "127.0.0.1" && o.Port == 4000 && o.Grace == 30*time.Second && o.ConfigFile == "" && !o.InsecureNoAuth && o.LogFormat == "text"
		}, 0},
		{[]string{"--config", "c.yaml", "--host", "0.0.0.0", "-p", "8080", "--grace", "5s", "--insecure-no-auth", "--log-format", "json"}, func(o *Options) bool {
			return o.ConfigFile == "c.yaml" && o.Host == "0.0.0.0" && o.Port == 8080 && o.Grace == 5*time.Second && o.InsecureNoAuth && o.LogFormat == "json"
		}, 0},
		{[]string{"--api-base", "http://127.0.0.1:9/v1"}, func(o *Options) bool { return o.Config.APIBase() == "http://127.0.0.1:9/v1" }, 0},
		{[]string{"--port", "70000"}, nil, 2},
		{[]string{"--grace", "-1s"}, nil, 2},
		{[]string{"--log-format", "xml"}, nil, 2},
		{[]string{"--offline", "--region", "cn"}, nil, 2},
	}
	for _, tt := range tests {
		ios, _, _, _ := iostreams.Test()
		var got *Options
		cmd := NewCmdServe(cli.New(ios), func(o *Options) error { got = o; return nil })
		cmd.SetArgs(tt.args)
		cmd.SetOut(io.Discard)
		cmd.SetErr(io.Discard)
		err := cmd.Execute()
		if code := cli.ExitCode(err); code != tt.code {
			t.Errorf("%v: exit %d (%v), want %d", tt.args, code, err, tt.code)
			continue
		}
		if tt.check != nil && (got == nil || !tt.check(got)) {
			t.Errorf("%v: options %+v", tt.args, got)
		}
	}
}

func TestRefusesToExposeWithoutMasterKey(t *testing.T) {
	isolate(t)
	for _, host := range []string{"0.0.0.0", "::", "192.0.2.1", "example.com"} {
		stderr := &syncbuf.Buffer{}
		err := execute(t, context.Background(), stderr, []string{"--offline", "--host", host, "--port", "0"}, nil)
		var ue *cli.UsageError
		if cli.ExitCode(err) != 2 || !errors.As(err, &ue) || !strings.Contains(err.Error(), "refusing to listen on "+host+" without a master key") ||
			!strings.Contains(ue.Hint, "MOONCHAT_MASTER_KEY") {
			t.Fatalf("%s: %v (stderr %s)", host, err, stderr)
		}
	}
	for host, want := range map[string]bool{"127.0.0.1": true, "::1": true, "[::1]": true, "localhost": true, "127.3.2.1": true,
		"0.0.0.0": false, "": false, "10.0.0.1": false, "my-host": false} {
		if isLoopback(host) != want {
			t.Errorf("isLoopback(%q) = %v", host, !want)
		}
	}
}

func TestOfflineServeWithTheOpenAISDK(t *testing.T) {
	isolate(t)
	t.Setenv("MOONCHAT_MASTER_KEY", masterKey)
	s := start(t, []string{"--offline"}, nil)
	client := sdk(t, s, masterKey)
	ctx := context.Background()

	page, err := client.Models.List(ctx)
	if err != nil || len(page.Data) != len(emulator.DefaultModels()) {
		t.Fatalf("models: %v %d", err, len(page.Data))
	}
	resp, err := client.Chat.Completions.New(ctx, openai.ChatCompletionNewParams{
		Model:    "moonshot-v1-8k",
		Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("hello offline")},
	})
	if err != nil || !strings.Contains(resp.Choices[0].Message.Content, "hello offline") {
		t.Fatalf("chat: %v %+v", err, resp)
	}
	stream := client.Chat.Completions.NewStreaming(ctx, openai.ChatCompletionNewParams{
		Model:    "kimi-k2.6",
		Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("stream offline")},
	})
	var content strings.Builder
	for stream.Next() {
		if c := stream.Current(); len(c.Choices) > 0 {
			content.WriteString(c.Choices[0].Delta.Content)
		}
	}
	if stream.Err() != nil || !strings.Contains(content.String(), "stream offline") {
		t.Fatalf("stream: %v %q", stream.Err(), content.String())
	}
	bad := sdk(t, s, "sk-wrong")
	if _, err := bad.Models.List(ctx); err == nil || !strings.Contains(err.Error(), "401") {
		t.Fatalf("wrong key: %v", err)
	}
	resp2, err := http.Get(s.url + "/health/readiness")
	if err != nil || resp2.StatusCode != 200 {
		t.Fatalf("readiness: %v", err)
	}
	resp2.Body.Close()
}

func TestServesTheKeysModels(t *testing.T) {
	isolate(t)
	up := upstream(t, emulator.Config{Models: []emulator.Model{{ID: "kimi-k2.6", ContextLength: 262144, Reasoning: true}, {ID: "moonshot-v1-8k", ContextLength: 8192}}})
	t.Setenv("MOONSHOT_API_KEY", upstreamKey)
	t.Setenv("MOONSHOT_API_BASE", up.URL)
	s := start(t, nil, nil)
	client := sdk(t, s, "")
	page, err := client.Models.List(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Data) != 2 || page.Data[0].ID != "kimi-k2.6" || page.Data[1].ID != "moonshot-v1-8k" {
		t.Fatalf("models %+v", page.Data)
	}
	resp, err := client.Chat.Completions.New(context.Background(), openai.ChatCompletionNewParams{
		Model: "moonshot-v1-8k", Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("hi")},
	})
	if err != nil || resp.Choices[0].Message.Content == "" {
		t.Fatalf("%v %+v", err, resp)
	}
}

func TestStartFailures(t *testing.T) {
	isolate(t)
	up := upstream(t, emulator.Config{})
	t.Setenv("MOONSHOT_API_BASE", up.URL)

	// No key: nothing could be answered.
	if err := execute(t, context.Background(), io.Discard, []string{"--port", "0"}, nil); cli.ExitCode(err) != 3 {
		t.Fatalf("no key: %v", err)
	}
	// A key Moonshot refuses: said at start, not on every request.
	t.Setenv("MOONSHOT_API_KEY", "sk-wrong")
	if err := execute(t, context.Background(), io.Discard, []string{"--port", "0"}, nil); cli.ExitCode(err) != 3 {
		t.Fatalf("wrong key: %v", err)
	}
	// A bad config file: path:line, exit 2.
	bad := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(bad, []byte("model_list:\n  - model_name: a\n    litellm_params:\n      modle: moonshot/kimi-k2.6\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	err := execute(t, context.Background(), io.Discard, []string{"--config", bad, "--port", "0"}, nil)
	if cli.ExitCode(err) != 2 || !strings.HasPrefix(err.Error(), bad+":4: unknown key \"modle\"") {
		t.Fatalf("bad config: %v", err)
	}
	// A port in use.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	err = execute(t, context.Background(), io.Discard, []string{"--offline", "--port", port}, nil)
	if err == nil || !strings.Contains(err.Error(), "cannot listen on 127.0.0.1:"+port) {
		t.Fatalf("port in use: %v", err)
	}
}

func TestFallsBackToTheBuiltInModelList(t *testing.T) {
	isolate(t)
	// An upstream that answers chat but fails GET /models.
	up := upstream(t, emulator.Config{})
	broken := http.NewServeMux()
	broken.HandleFunc("/v1/models", func(w http.ResponseWriter, r *http.Request) { http.Error(w, "down", http.StatusServiceUnavailable) })
	broken.Handle("/", up.Emulator())
	bs := &http.Server{Handler: broken}
	bl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = bs.Serve(bl) }()
	defer bs.Close()
	t.Setenv("MOONSHOT_API_KEY", upstreamKey)
	t.Setenv("MOONSHOT_API_BASE", "http://"+bl.Addr().String()+"/v1")
	s := start(t, nil, nil)
	client := sdk(t, s, "")
	page, err := client.Models.List(context.Background())
	if err != nil || len(page.Data) != len(moonshot.CurrentModels()) {
		t.Fatalf("%v %d", err, len(page.Data))
	}
	if err := s.shutdown(); err != nil {
		t.Fatal(err)
	}
	if out := s.stderr.String(); !strings.Contains(out, "could not list Moonshot's models; serving the built-in list") {
		t.Fatalf("fallback not reported:\n%s", out)
	}
}

func TestConfigFileAndAccessLog(t *testing.T) {
	isolate(t)
	up := upstream(t, emulator.Config{})
	t.Setenv("MOONSHOT_API_KEY", upstreamKey)
	t.Setenv("MOONSHOT_API_BASE", up.URL)
	t.Setenv("LITELLM_MASTER_KEY", masterKey)
	refreshed := make(chan struct{})
	s := start(t, []string{"--config", filepath.Join("..", "..", "pkg", "proxy", "testdata", "litellm-moonshot.yaml"), "--log-format", "json"},
		func(o *Options) { o.modelsRefreshed = func() { close(refreshed) } })
	<-refreshed
	client := sdk(t, s, masterKey)
	if _, err := client.Chat.Completions.New(context.Background(), openai.ChatCompletionNewParams{
		Model: "moonshot-v1-32k", Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("hi")}, Temperature: openai.Float(2),
	}); err != nil {
		t.Fatal(err)
	}
	if err := s.shutdown(); err != nil {
		t.Fatal(err)
	}
	logs := s.stderr.String()
	for _, want := range []string{`"msg":"listening"`, `"models":3`, `"auth":true`, `"method":"POST"`, `"path":"/v1/chat/completions"`,
		`"model":"moonshot-v1-32k"`, `"status":200`, `"latency_ms":`, `"prompt_tokens":`, `"completion_tokens":`, `"adjustments":"temperature 2 → 1`, `"msg":"stopped"`, `"overhead_ms":`} {
		if !strings.Contains(logs, want) {
			t.Errorf("log lacks %s:\n%s", want, logs)
		}
	}
	if strings.Contains(logs, masterKey) || strings.Contains(logs, upstreamKey) {
		t.Fatalf("a key reached the log:\n%s", logs)
	}
	// The seed config routes to retired ids: it loads, and each deployment gets one warning
	// naming the replacement.
	for _, id := range []string{"moonshot-v1-8k", "moonshot-v1-32k", "moonshot-v1-128k"} {
		want := `"msg":"a deployment routes to a retired model","model_name":"` + id + `","model":"` + id + `"`
		if strings.Count(logs, want) != 1 || !strings.Contains(logs, id+" was retired by Moonshot on 2026-08-31 (a date from third parties); use kimi-k2.6") {
			t.Errorf("no retirement warning for %s:\n%s", id, logs)
		}
	}
	listed := 0
	for _, r := range up.Requests() {
		if r.Method == "GET" && r.Path == "/v1/models" {
			listed++
		}
	}
	if listed != 1 || strings.Contains(logs, "could not refresh") {
		t.Fatalf("GET /models at start: %d requests, want 1 (one upstream); log:\n%s", listed, logs)
	}
}

func TestModelRefreshFailureIsAWarning(t *testing.T) {
	isolate(t)
	up, err := emulator.Start(emulator.Config{APIKey: upstreamKey})
	if err != nil {
		t.Fatal(err)
	}
	base := up.URL
	up.Close() // nothing answers there
	t.Setenv("MOONSHOT_API_KEY", upstreamKey)
	t.Setenv("MOONSHOT_API_BASE", base)
	refreshed := make(chan struct{})
	s := start(t, []string{"--config", filepath.Join("..", "..", "pkg", "proxy", "testdata", "litellm-moonshot.yaml"), "--models-refresh", "0"},
		func(o *Options) { o.modelsRefreshed = func() { close(refreshed) } })
	<-refreshed
	resp, err := http.Get(s.url + "/health/readiness")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("readiness: %v", err)
	}
	resp.Body.Close()
	if err := s.shutdown(); err != nil {
		t.Fatal(err)
	}
	if logs := s.stderr.String(); !strings.Contains(logs, "level=WARN msg=\"could not refresh the model facts from GET /models") {
		t.Fatalf("no warning:\n%s", logs)
	}
}

// gatedUpstream streams a first chunk, then waits until release is closed before finishing,
// so a test knows a stream is in flight.
func gatedUpstream(t *testing.T, release <-chan struct{}) string {
	t.Helper()
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/v1/models" {
			w.Header().Set("Content-Type", "application/json")
			_, _ = io.WriteString(w, `{"object":"list","data":[{"id":"kimi-k2-turbo-preview","object":"model","created":1,"owned_by":"moonshot"}]}`)
			return
		}
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "text/event-stream")
		chunk := func(delta string) string {
			return `data: {"id":"c1","object":"chat.completion.chunk","created":1,"model":"kimi-k2-turbo-preview","choices":[{"index":0,"delta":` + delta + `,"finish_reason":null}]}` + "\n\n"
		}
		_, _ = io.WriteString(w, chunk(`{"role":"assistant","content":""}`))
		w.(http.Flusher).Flush()
		select {
		case <-release:
		case <-r.Context().Done():
			return
		}
		_, _ = io.WriteString(w, chunk(`{"content":"finished after the signal"}`))
		_, _ = io.WriteString(w, "data: [DONE]\n\n")
	})
	srv := &http.Server{Handler: h}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return "http://" + ln.Addr().String() + "/v1"
}

// openStream starts a streamed chat through the server and reads its first event.
func openStream(t *testing.T, url string) (*http.Response, *bufio.Reader) {
	t.Helper()
	resp, err := http.Post(url+"/v1/chat/completions", "application/json",
		strings.NewReader(`{"model":"kimi-k2-turbo-preview","stream":true,"messages":[{"role":"user","content":"hi"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(resp.Body)
	if line, err := br.ReadString('\n'); err != nil || !strings.HasPrefix(line, "data: {") {
		t.Fatalf("first event %q %v", line, err)
	}
	return resp, br
}

func TestGracefulShutdownFinishesOpenStreams(t *testing.T) {
	isolate(t)
	release := make(chan struct{})
	t.Setenv("MOONSHOT_API_KEY", upstreamKey)
	t.Setenv("MOONSHOT_API_BASE", gatedUpstream(t, release))
	shutdown := make(chan struct{})
	s := start(t, []string{"--grace", "1m"}, func(o *Options) { o.shutdownStarted = func() { close(shutdown) } })

	resp, br := openStream(t, s.url)
	defer resp.Body.Close()
	s.stop() // what SIGTERM does through the root context
	select {
	case <-shutdown:
	case err := <-s.done:
		s.once.Do(func() { s.err = err })
		t.Fatalf("serve returned without a graceful shutdown: %v", err)
	}
	// No new connections once the shutdown began.
	if c, err := net.Dial("tcp", strings.TrimPrefix(s.url, "http://")); err == nil {
		c.Close()
		t.Fatal("the server still accepts connections")
	}
	select {
	case err := <-s.done:
		s.once.Do(func() { s.err = err })
		t.Fatalf("serve returned with a stream in flight: %v", err)
	default:
	}
	close(release)
	rest, err := io.ReadAll(br)
	if err != nil || !strings.Contains(string(rest), "finished after the signal") || !strings.HasSuffix(string(rest), "data: [DONE]\n\n") {
		t.Fatalf("the stream did not complete: %q %v", rest, err)
	}
	if err := s.shutdown(); err != nil {
		t.Fatalf("exit: %v", err)
	}
}

func TestGraceExpiryClosesWhatIsLeft(t *testing.T) {
	isolate(t)
	release := make(chan struct{}) // never closed: the stream would run forever
	defer close(release)
	t.Setenv("MOONSHOT_API_KEY", upstreamKey)
	t.Setenv("MOONSHOT_API_BASE", gatedUpstream(t, release))
	s := start(t, []string{"--grace", "50ms"}, nil)
	resp, br := openStream(t, s.url)
	defer resp.Body.Close()
	if err := s.shutdown(); err != nil {
		t.Fatalf("exit: %v", err)
	}
	if rest, err := io.ReadAll(br); err == nil && strings.Contains(string(rest), "[DONE]") {
		t.Fatalf("the stream completed: %q", rest)
	}
	if !strings.Contains(s.stderr.String(), "grace period over") {
		t.Fatalf("log:\n%s", s.stderr.String())
	}
}

func TestMetricsAddr(t *testing.T) {
	isolate(t)
	t.Setenv("MOONCHAT_MASTER_KEY", masterKey)
	metricsAt := make(chan string, 1)
	s := start(t, []string{"--offline", "--metrics-addr", "127.0.0.1:0"}, func(o *Options) { o.metricsReady = func(a string) { metricsAt <- a } })
	addr := <-metricsAt
	req, _ := http.NewRequest("POST", s.url+"/v1/chat/completions", strings.NewReader(`{"model":"kimi-k2.6","messages":[{"role":"user","content":"hi"}]}`))
	req.Header.Set("Authorization", "Bearer "+masterKey)
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("chat: %v", err)
	}
	resp.Body.Close()
	resp, err = http.Get("http://" + addr + "/metrics") // no key on the metrics listener
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(b), `moonchat_proxy_requests_total{deployment="kimi-k2.6#0",model="kimi-k2.6",status="200"} 1`) {
		t.Fatalf("%d %s", resp.StatusCode, b)
	}
	if resp, err := http.Get(s.url + "/metrics"); err != nil || resp.StatusCode != 401 {
		t.Fatalf("/metrics on the main port without the key: %v %v", err, resp.StatusCode)
	}
}
