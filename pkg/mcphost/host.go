// Package mcphost runs the MCP servers of one moonchat run: it starts each configured server
// the first time one of its tools is needed (a local program over stdio, or a remote server
// over streamable HTTP, with the official Go SDK), lists their tools, calls a tool with a
// timeout and a cap on the result's size, and stops every server on Close, with all the
// processes a local server started.
//
// A local server's stderr goes to a log file, never to the terminal; it inherits moonchat's
// environment without the Moonshot API key variables, plus its configured env.
//
// Approval is not decided here: the caller asks the user (or checks an AllowList) before Call.
package mcphost

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// Options tune a Host. The zero value works.
type Options struct {
	// LogDir receives one log file per local server, <name>.log, with its stderr (appended,
	// mode 0600; past MaxLogBytes it becomes <name>.log.1 and a new one begins). Empty
	// discards the servers' stderr.
	LogDir string
	// MaxLogBytes caps each log file; 0 means DefaultMaxLogBytes.
	MaxLogBytes int64
	// CallTimeout bounds each tool call; 0 means DefaultCallTimeout.
	CallTimeout time.Duration
	// StartTimeout bounds starting a server and its handshake; 0 means DefaultStartTimeout.
	StartTimeout time.Duration
	// MaxResultBytes caps the text of one result; 0 means DefaultMaxResultBytes.
	MaxResultBytes int
	// StopGrace is how long Close waits for a local server to exit after its stdin closes, and
	// again after SIGTERM, before it kills the server's process group; 0 means 2s.
	StopGrace time.Duration
	// HTTPClient is used for remote servers; nil means a new http.Client.
	HTTPClient *http.Client
	// ClientVersion is reported to servers as moonchat's version.
	ClientVersion string
}

// Defaults for Options.
const (
	DefaultCallTimeout  = 60 * time.Second
	DefaultStartTimeout = 30 * time.Second
	defaultStopGrace    = 2 * time.Second
	// maxFrameBytes bounds one message from a server (the SDK's own default is 16 MiB); results
	// are cut to MaxResultBytes anyway, so a bigger frame could only be a broken server.
	maxFrameBytes = 4 << 20
)

// Tool is a tool offered by a server.
type Tool struct {
	Server      string          `json:"server"`
	Name        string          `json:"name"`
	Description string          `json:"description"`
	InputSchema json.RawMessage `json:"input_schema,omitempty"`
}

// Host owns the servers of one run. Its methods are safe for concurrent use.
type Host struct {
	opts    Options
	configs map[string]ServerConfig

	mu      sync.Mutex
	closed  bool
	servers map[string]*server
}

// server is one started (or failed) server. ready is closed once start has finished.
type server struct {
	name    string
	ready   chan struct{}
	err     error
	session *mcp.ClientSession
	tools   []Tool
	proc    *exec.Cmd     // nil for a remote server
	exited  chan struct{} // closed when a local server's process has been waited for
	log     *serverLog    // nil without Options.LogDir
}

// New validates the configurations and returns a Host that has started nothing yet.
func New(configs map[string]ServerConfig, opts Options) (*Host, error) {
	for name, c := range configs {
		if err := ValidName(name); err != nil {
			return nil, err
		}
		if err := c.Validate(); err != nil {
			return nil, fmt.Errorf("MCP server %s: %w", name, err)
		}
	}
	if opts.CallTimeout <= 0 {
		opts.CallTimeout = DefaultCallTimeout
	}
	if opts.StartTimeout <= 0 {
		opts.StartTimeout = DefaultStartTimeout
	}
	if opts.MaxResultBytes <= 0 {
		opts.MaxResultBytes = DefaultMaxResultBytes
	}
	if opts.MaxLogBytes <= 0 {
		opts.MaxLogBytes = DefaultMaxLogBytes
	}
	if opts.StopGrace <= 0 {
		opts.StopGrace = defaultStopGrace
	}
	if opts.HTTPClient == nil {
		opts.HTTPClient = &http.Client{}
	}
	return &Host{opts: opts, configs: configs, servers: map[string]*server{}}, nil
}

// Names returns the configured servers' names, sorted.
func (h *Host) Names() []string {
	return slices.Sorted(maps.Keys(h.configs))
}

// ErrClosed is returned after Close.
var ErrClosed = errors.New("mcphost: closed")

// get starts the named server once and returns it, started or failed. A server that failed
// to start is not retried during the run: its error is returned again.
func (h *Host) get(ctx context.Context, name string) (*server, error) {
	cfg, ok := h.configs[name]
	if !ok {
		return nil, fmt.Errorf("no MCP server named %q is configured (known: %s)", name, strings.Join(h.Names(), ", "))
	}
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		return nil, ErrClosed
	}
	s, started := h.servers[name]
	if !started {
		s = &server{name: name, ready: make(chan struct{})}
		h.servers[name] = s
	}
	h.mu.Unlock()
	if !started {
		s.err = h.start(ctx, s, cfg)
		if s.err != nil && ctx.Err() != nil {
			// Canceled by its caller, not failed: a later call may start it again.
			h.mu.Lock()
			delete(h.servers, name)
			h.mu.Unlock()
		}
		close(s.ready)
	}
	select {
	case <-s.ready:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	if s.err != nil {
		return nil, s.err
	}
	return s, nil
}

func (h *Host) start(ctx context.Context, s *server, cfg ServerConfig) error {
	sctx, cancel := context.WithTimeout(ctx, h.opts.StartTimeout)
	defer cancel()
	client := mcp.NewClient(&mcp.Implementation{Name: "moonchat", Version: h.opts.ClientVersion}, nil)
	var transport mcp.Transport
	if cfg.URL != "" {
		hc := *h.opts.HTTPClient
		hc.Transport = &headerTransport{base: hc.Transport, headers: cfg.Headers}
		transport = &mcp.StreamableClientTransport{Endpoint: cfg.URL, HTTPClient: &hc,
			MaxEventSize: maxFrameBytes, MaxRetries: -1, DisableStandaloneSSE: true}
	} else {
		t, err := h.launch(s, cfg)
		if err != nil {
			return err
		}
		transport = t
	}
	session, err := client.Connect(sctx, transport, nil)
	if err == nil {
		s.session = session
		s.tools, err = listTools(sctx, s.name, session)
	}
	if err != nil {
		h.stop(s)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if sctx.Err() != nil {
			err = fmt.Errorf("no answer within %s", h.opts.StartTimeout)
		}
		return fmt.Errorf("MCP server %s (%s) did not start: %w%s", s.name, cfg.Endpoint(), err, h.logHint(s))
	}
	return nil
}

// launch starts a local server with pipes of our own (not exec's StdoutPipe, which Wait
// closes under the reader) and its stderr in the log file.
func (h *Host) launch(s *server, cfg ServerConfig) (_ mcp.Transport, err error) {
	cmd := exec.Command(cfg.Command, cfg.Args...)
	cmd.Env = serverEnv(os.Environ(), cfg.Env)
	newProcessGroup(cmd)
	if h.opts.LogDir != "" {
		if err := os.MkdirAll(h.opts.LogDir, 0o700); err != nil {
			return nil, fmt.Errorf("MCP server %s: cannot create the log directory: %w", s.name, err)
		}
		l, lerr := openServerLog(filepath.Join(h.opts.LogDir, s.name+".log"), h.opts.MaxLogBytes)
		if lerr != nil {
			return nil, fmt.Errorf("MCP server %s: cannot open its log: %w", s.name, lerr)
		}
		l.printf("moonchat starts %s", cfg.Endpoint())
		w, lerr := l.stderr()
		if lerr != nil {
			l.Close(0)
			return nil, fmt.Errorf("MCP server %s: %w", s.name, lerr)
		}
		defer w.Close() // the server has its own copy once started
		s.log = l
		cmd.Stderr = w
		// stop does nothing for a server that never ran: its log is closed here (err is the
		// result, set by every failure below).
		defer func() {
			if err != nil {
				l.Close(0)
			}
		}()
	}
	inR, inW, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	outR, outW, err := os.Pipe()
	if err != nil {
		inR.Close()
		inW.Close()
		return nil, err
	}
	cmd.Stdin, cmd.Stdout = inR, outW
	err = cmd.Start()
	inR.Close()
	outW.Close()
	if err != nil {
		inW.Close()
		outR.Close()
		return nil, fmt.Errorf("MCP server %s: cannot run %s: %w", s.name, cfg.Command, err)
	}
	s.proc = cmd
	s.exited = make(chan struct{})
	go func() {
		err := cmd.Wait()
		if s.log != nil {
			s.log.exited("the server exited: %v", exitText(err))
		}
		close(s.exited)
	}()
	return &mcp.IOTransport{Reader: outR, Writer: inW, MaxLineLength: maxFrameBytes}, nil
}

func exitText(err error) string {
	if err == nil {
		return "status 0"
	}
	return err.Error()
}

// serverEnv is the environment of a local server: ours without the Moonshot API keys (a
// third-party program has no business with them), plus the configured variables.
func serverEnv(base []string, extra map[string]string) []string {
	secret := map[string]bool{"MOONSHOT_API_KEY": true, "MOONCHAT_API_KEY": true}
	out := make([]string, 0, len(base)+len(extra))
	for _, kv := range base {
		k, _, _ := strings.Cut(kv, "=")
		if secret[k] {
			continue
		}
		if _, override := extra[k]; override {
			continue
		}
		out = append(out, kv)
	}
	for _, k := range slices.Sorted(maps.Keys(extra)) {
		out = append(out, k+"="+extra[k])
	}
	return out
}

func (h *Host) logHint(s *server) string {
	if s.log == nil {
		return ""
	}
	return " (its messages are in " + s.log.path + ")"
}

func listTools(ctx context.Context, name string, session *mcp.ClientSession) ([]Tool, error) {
	var out []Tool
	for t, err := range session.Tools(ctx, nil) {
		if err != nil {
			return nil, fmt.Errorf("listing tools: %w", err)
		}
		schema, err := json.Marshal(t.InputSchema)
		if err != nil || string(schema) == "null" {
			schema = json.RawMessage(`{"type":"object","properties":{}}`)
		}
		out = append(out, Tool{Server: name, Name: t.Name, Description: t.Description, InputSchema: schema})
	}
	return out, nil
}

// Tools starts the named servers (all configured ones when none is named), in parallel, and
// returns their tools, by server in the order given and then in each server's order. The
// error joins the failures of the servers that did not start; the tools of the others are
// returned all the same, and those servers stay running until Close.
func (h *Host) Tools(ctx context.Context, names ...string) ([]Tool, error) {
	if len(names) == 0 {
		names = h.Names()
	}
	servers := make([]*server, len(names))
	errs := make([]error, len(names))
	var wg sync.WaitGroup
	for i, n := range names {
		wg.Add(1)
		go func() {
			defer wg.Done()
			servers[i], errs[i] = h.get(ctx, n)
		}()
	}
	wg.Wait()
	var out []Tool
	for _, s := range servers {
		if s != nil {
			out = append(out, s.tools...)
		}
	}
	return out, errors.Join(errs...)
}

// Call runs a tool of a server with the model's arguments (a JSON object as text; "" means
// {}). A failure of the tool, or arguments that are not a JSON object, is a Result with
// IsError set, for the model to read. The error return is for failures of the exchange: the
// server did not start or has gone, the call timed out (wrapping context.DeadlineExceeded), or
// ctx ended.
func (h *Host) Call(ctx context.Context, serverName, tool, arguments string) (*Result, error) {
	s, err := h.get(ctx, serverName)
	if err != nil {
		return nil, err
	}
	var args map[string]any
	if strings.TrimSpace(arguments) == "" {
		args = map[string]any{}
	} else if err := json.Unmarshal([]byte(arguments), &args); err != nil || args == nil {
		return newResult("the arguments are not a JSON object", true, h.opts.MaxResultBytes), nil
	}
	cctx, cancel := context.WithTimeout(ctx, h.opts.CallTimeout)
	defer cancel()
	res, err := s.session.CallTool(cctx, &mcp.CallToolParams{Name: tool, Arguments: args})
	if err != nil {
		switch {
		case ctx.Err() != nil:
			return nil, ctx.Err()
		case cctx.Err() != nil:
			return nil, fmt.Errorf("%s/%s gave no answer within %s: %w", serverName, tool, h.opts.CallTimeout, context.DeadlineExceeded)
		}
		// A JSON-RPC error (an unknown tool, invalid params) is the server refusing the call:
		// the model can read it and try something else. Anything else is the connection.
		var wire *jsonrpc.Error
		if errors.As(err, &wire) {
			return newResult(err.Error(), true, h.opts.MaxResultBytes), nil
		}
		if s.exited != nil {
			return nil, fmt.Errorf("MCP server %s is gone%s: %w", serverName, h.logHint(s), err)
		}
		return nil, fmt.Errorf("MCP server %s: %w", serverName, err)
	}
	return newResult(resultText(res), res.IsError, h.opts.MaxResultBytes), nil
}

// Close stops every server that was started and waits for them. It is safe to call more than
// once; later calls do nothing.
func (h *Host) Close() error {
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		return nil
	}
	h.closed = true
	servers := make([]*server, 0, len(h.servers))
	for _, s := range h.servers {
		servers = append(servers, s)
	}
	h.mu.Unlock()
	var wg sync.WaitGroup
	errs := make([]error, len(servers))
	for i, s := range servers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-s.ready // a start in progress finishes (it is bounded by StartTimeout) before the stop
			errs[i] = h.stop(s)
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// stop ends a server: closing the session closes a local server's stdin, which is how MCP asks
// it to exit; one that does not within StopGrace gets SIGTERM, then SIGKILL. Whatever the
// server left behind in its process group is killed last, so no process outlives the run.
func (h *Host) stop(s *server) error {
	if s.session != nil {
		_ = s.session.Close()
	}
	if s.proc == nil {
		return nil
	}
	var err error
	wait := func() bool {
		t := time.NewTimer(h.opts.StopGrace)
		defer t.Stop()
		select {
		case <-s.exited:
			return true
		case <-t.C:
			return false
		}
	}
	if !wait() {
		_ = signalGroup(s.proc.Process, false)
		if !wait() {
			err = fmt.Errorf("MCP server %s did not stop within %s of SIGTERM and was killed", s.name, h.opts.StopGrace)
			_ = signalGroup(s.proc.Process, true)
			<-s.exited
		}
	}
	if kerr := signalGroup(s.proc.Process, true); kerr != nil && err == nil {
		err = fmt.Errorf("MCP server %s: stopping its processes: %w", s.name, kerr)
	}
	// A signal is delivered asynchronously: wait (bounded) until the group is really gone, so
	// that nothing the server started is still running when Close returns.
	deadline := time.Now().Add(h.opts.StopGrace)
	for groupAlive(s.proc.Process.Pid) {
		if time.Now().After(deadline) {
			if err == nil {
				err = fmt.Errorf("MCP server %s: a process it started survived SIGKILL", s.name)
			}
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	if s.log != nil {
		s.log.Close(h.opts.StopGrace)
	}
	return err
}

// headerTransport adds the configured headers to every request to a remote server.
type headerTransport struct {
	base    http.RoundTripper
	headers map[string]string
}

func (t *headerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	base := t.base
	if base == nil {
		base = http.DefaultTransport
	}
	if len(t.headers) == 0 {
		return base.RoundTrip(r)
	}
	r = r.Clone(r.Context())
	for k, v := range t.headers {
		r.Header.Set(k, v)
	}
	return base.RoundTrip(r)
}
