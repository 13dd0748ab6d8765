// Package proxy is the http.Handler behind `moonchat serve`: an OpenAI-compatible endpoint in
// front of Moonshot's API, configured like LiteLLM's proxy (see config.go and README.md).
//
// Every chat request goes through moonshot.Fix for the model that answers it, so any OpenAI
// client can use Kimi without knowing Moonshot's rules; each change is logged and returned in
// the X-Moonchat-Adjustments header. Several deployments behind one model name are balanced and
// fail over before the first byte of an answer.
package proxy

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/moonchat/moonchat/pkg/moonshot"
)

// DefaultMaxBodyBytes bounds a request body: far above any context window in text, and room
// for a few base64 images.
const DefaultMaxBodyBytes = 32 << 20

// DefaultMaxRetryDelay is the longest backoff before a deployment is tried again within one
// request: a client of the proxy waits for its answer meanwhile.
const DefaultMaxRetryDelay = 10 * time.Second

// Options are the parts of a Handler that do not come from the config file.
type Options struct {
	// HTTPClient carries the upstream requests; nil means a transport tuned for many
	// concurrent streams. The offline mode passes the emulator's in-process client.
	HTTPClient *http.Client
	// Logger receives the access log (one line per request) and failover warnings; nil
	// discards them.
	Logger *slog.Logger
	// MaxBodyBytes bounds a request body (0 = DefaultMaxBodyBytes); a larger one gets 413.
	MaxBodyBytes int64
	// UserAgent is sent upstream.
	UserAgent string
	// State holds the rpm/tpm counts and cooldowns; nil means Redis when the config names one
	// (Config.Redis), else memory.
	State State
	// Now is the clock of the rpm/tpm minutes and cooldowns (nil = time.Now), for tests.
	Now func() time.Time
	// RetryBaseDelay is the first backoff before a deployment is tried again (0 = 500ms);
	// MaxRetryDelay caps it (0 = DefaultMaxRetryDelay). A deployment whose server asks for a longer wait is not
	// tried again in that request; when no other is left its error is passed on at once, with
	// Retry-After, rather than holding the client (and the wait sets its cooldown, up to
	// MaxServerCooldown).
	RetryBaseDelay, MaxRetryDelay time.Duration
}

// Handler serves the OpenAI-compatible routes. It is safe for concurrent use.
type Handler struct {
	groups       map[string]*group
	names        []string // model names in config order
	auth         bool
	keyHash      [sha256.Size]byte
	log          *slog.Logger
	maxBody      int64
	numRetries   int
	shuffle      bool
	dropParams   bool
	created      int64
	baseDelay    time.Duration
	maxDelay     time.Duration
	http         *http.Client
	nDeploy      int
	all          []*deployment // every deployment, in config order
	wild         wildcards
	state        State
	now          func() time.Time
	allowedFails int
	cooldown     time.Duration
	fallbacks    map[string][]string
	ctxFallbacks map[string][]string
	metrics      *metrics
	redis        *redisState // when the state is shared through Redis
	// catalog is the upstreams' model list from the last RefreshModels, if any.
	catalog atomic.Pointer[[]moonshot.RemoteModel]
}

// group is the deployments behind one model name.
type group struct {
	name        string
	deployments []*deployment
	next        atomic.Uint64 // round-robin position
	weighted    bool          // a deployment has a weight: the first pick is weighted
	pattern     string        // the wildcard that made the group, "" for a configured name
	created     int64
	modelField  []byte // `"model":"<name>"`, for rewriteModel
}

type deployment struct {
	Deployment
	client       *moonshot.Client // non-streamed requests: Timeout bounds the whole answer
	streamClient *moonshot.Client // streams: the timeout bounds the wait for the first byte
	dropParams   bool
	base         string         // api_base with any password hidden, for logs
	price        moonshot.Price // the model table's, with the config's overrides
	// remote is the server's description of the model, refreshed by RefreshModels.
	remote atomic.Pointer[moonshot.RemoteModel]
}

// New builds the handler. It fails on a config that cannot serve (no deployments, a bad
// api_base).
func New(cfg *Config, opts Options) (*Handler, error) {
	if len(cfg.Deployments) == 0 {
		return nil, errors.New("proxy: no models to serve")
	}
	h := &Handler{
		groups:     map[string]*group{},
		log:        opts.Logger,
		maxBody:    opts.MaxBodyBytes,
		numRetries: max(cfg.NumRetries, 0),
		shuffle:    cfg.RoutingStrategy == SimpleShuffle,
		dropParams: cfg.DropParams,
		created:    time.Now().Unix(),
		baseDelay:  opts.RetryBaseDelay,
		maxDelay:   opts.MaxRetryDelay,
		http:       upstreamClient(opts.HTTPClient),
		nDeploy:    len(cfg.Deployments),
	}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	if h.maxBody <= 0 {
		h.maxBody = DefaultMaxBodyBytes
	}
	if h.baseDelay <= 0 {
		h.baseDelay = 500 * time.Millisecond
	}
	if h.maxDelay <= 0 {
		h.maxDelay = DefaultMaxRetryDelay
	}
	if cfg.MasterKey != "" {
		h.auth = true
		h.keyHash = sha256.Sum256([]byte(cfg.MasterKey))
	}
	timeout := cfg.RequestTimeout
	if timeout <= 0 {
		timeout = DefaultRequestTimeout
	}
	noRetries := 0 // the handler's failover does the retrying, across deployments
	for _, dc := range cfg.Deployments {
		if dc.ModelName == "" || dc.Model == "" {
			return nil, fmt.Errorf("proxy: a deployment needs a model name and a model (got %q → %q)", dc.ModelName, dc.Model)
		}
		d := &deployment{Deployment: dc, dropParams: cfg.DropParams, base: moonshot.RedactURL(dc.APIBase)}
		d.remote.Store(dc.Remote)
		d.price = dc.priceOf(dc.Model)
		if dc.DropParams != nil {
			d.dropParams = *dc.DropParams
		}
		hc := h.http
		if len(dc.ExtraHeaders) > 0 {
			hc = &http.Client{Transport: &headerTransport{base: transportOf(h.http), headers: dc.ExtraHeaders}}
		}
		o := moonshot.Options{APIKey: dc.APIKey, BaseURL: dc.APIBase, HTTPClient: hc, UserAgent: opts.UserAgent,
			MaxRetries: &noRetries, Timeout: cmp(dc.Timeout, timeout)}
		var err error
		if d.client, err = moonshot.NewClient(o); err != nil {
			return nil, fmt.Errorf("proxy: %s: %w", dc.ModelName, err)
		}
		o.Timeout = cmp(dc.StreamTimeout, o.Timeout)
		if d.streamClient, err = moonshot.NewClient(o); err != nil {
			return nil, fmt.Errorf("proxy: %s: %w", dc.ModelName, err)
		}
		g := h.groups[dc.ModelName]
		if g == nil {
			g = h.newGroup(dc.ModelName)
			h.groups[dc.ModelName] = g
			if isWildcard(dc.ModelName) {
				h.wild.add(g)
			} else {
				h.names = append(h.names, dc.ModelName)
			}
		}
		if dc.Weight > 0 {
			g.weighted = true
		}
		if dc.Remote != nil && dc.Remote.Created > 0 {
			g.created = dc.Remote.Created
		}
		if d.ID == "" {
			d.ID = fmt.Sprintf("%s#%d", dc.ModelName, len(g.deployments))
		}
		if slices.ContainsFunc(h.all, func(o *deployment) bool { return o.ID == d.ID }) {
			// One id would share one rpm budget and one cooldown between two deployments.
			return nil, fmt.Errorf("proxy: two deployments have the id %q (model_info.id)", d.ID)
		}
		g.deployments = append(g.deployments, d)
		h.all = append(h.all, d)
	}
	for _, g := range h.wild.groups {
		delete(h.groups, g.name) // served through groupFor, with the model filled in
	}
	h.metrics = newMetrics()
	h.state, h.now = opts.State, opts.Now
	if h.state == nil && cfg.Redis.Enabled() {
		rs, err := newRedisState(cfg.Redis, h.log, h.metrics.stateFailed)
		if err != nil {
			return nil, fmt.Errorf("proxy: %w", err)
		}
		h.state, h.redis = rs, rs
	}
	if h.state == nil {
		h.state = newMemoryState()
	}
	if h.now == nil {
		h.now = time.Now
	}
	h.allowedFails, h.cooldown = cfg.AllowedFails, cfg.CooldownTime
	if h.allowedFails <= 0 {
		h.allowedFails = DefaultAllowedFails
	}
	if h.cooldown <= 0 {
		h.cooldown = DefaultCooldownTime
	}
	h.fallbacks, h.ctxFallbacks = cfg.Fallbacks, cfg.ContextWindowFallbacks
	return h, nil
}

// cmp returns v, or def when v is zero.
func cmp(v, def time.Duration) time.Duration {
	if v > 0 {
		return v
	}
	return def
}

// upstreamClient returns the client for upstream requests. Go's default transport keeps two
// idle connections per host, which under a few hundred concurrent requests means a new TCP
// (and TLS) connection for most of them; the proxy keeps more.
func upstreamClient(c *http.Client) *http.Client {
	if c == nil {
		c = &http.Client{Transport: http.DefaultTransport}
	}
	tr, ok := transportOf(c).(*http.Transport)
	if !ok || tr.MaxIdleConnsPerHost >= 256 {
		return c
	}
	tr = tr.Clone()
	tr.MaxIdleConnsPerHost = 256
	tr.MaxIdleConns = max(tr.MaxIdleConns, 1024)
	cc := *c
	cc.Transport = tr
	return &cc
}

func transportOf(c *http.Client) http.RoundTripper {
	if c.Transport == nil {
		return http.DefaultTransport
	}
	return c.Transport
}

// headerTransport adds a deployment's extra_headers to each upstream request.
type headerTransport struct {
	base    http.RoundTripper
	headers map[string]string
}

func (t *headerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	for k, v := range t.headers {
		r.Header.Set(k, v)
	}
	return t.base.RoundTrip(r)
}

// CloseIdleConnections closes the idle upstream connections (at shutdown, and in tests that
// count goroutines).
func (h *Handler) CloseIdleConnections() { h.http.CloseIdleConnections() }

// Close releases the idle upstream connections and the connection to Redis, if any.
func (h *Handler) Close() error {
	h.CloseIdleConnections()
	if h.redis != nil {
		return h.redis.Close()
	}
	return nil
}

// SharedState says where the rpm/tpm counts and cooldowns live ("memory", or "redis" and its
// address) and, for Redis, whether it answers now.
func (h *Handler) SharedState(ctx context.Context) (where string, err error) {
	if h.redis == nil {
		return "memory", nil
	}
	return "redis " + h.redis.client.Options().Addr, h.redis.Ping(ctx)
}

// Metrics serves the Prometheus metrics without authentication, for a listener of their own
// (`serve --metrics-addr`); the handler's own /metrics route requires the master key.
func (h *Handler) Metrics() http.Handler { return h.metrics.handler() }

// ModelNames are the names served, in config order.
func (h *Handler) ModelNames() []string { return append([]string(nil), h.names...) }

// ServeHTTP routes a request: health checks without authentication, everything else behind the
// master key when there is one.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	rec := &record{method: r.Method, path: r.URL.Path}
	rw := &responseWriter{ResponseWriter: w, start: start, rec: rec}
	h.route(rw, r, rec)
	if rec.skipLog {
		return
	}
	rec.status = rw.status
	if rec.status == 0 {
		rec.status = 499 // the client left before an answer began (nginx's convention)
	}
	h.logRequest(r, rec, time.Since(start))
	h.metrics.request(rec)
}

func (h *Handler) route(w *responseWriter, r *http.Request, rec *record) {
	path := r.URL.Path
	switch path {
	case "/health/liveliness", "/health/liveness":
		rec.skipLog = true // probes every few seconds would drown the log
		if h.onlyGet(w, r) {
			writeJSON(w, http.StatusOK, "I'm alive!")
		}
		return
	case "/health/readiness":
		rec.skipLog = true
		if h.onlyGet(w, r) {
			writeJSON(w, http.StatusOK, map[string]any{"status": "healthy", "models": len(h.names), "deployments": h.nDeploy})
		}
		return
	}
	if !h.authorized(w, r) {
		return
	}
	switch {
	case path == "/chat/completions" || path == "/v1/chat/completions":
		h.chat(w, r, rec)
	case path == "/health" || path == "/v1/health":
		if h.onlyGet(w, r) {
			h.health(w, r)
		}
	case path == "/metrics":
		rec.skipLog = true // scraped every few seconds
		if h.onlyGet(w, r) {
			h.metrics.handler().ServeHTTP(w, r)
		}
	case path == "/model/info" || path == "/v1/model/info":
		if h.onlyGet(w, r) {
			h.modelInfo(w)
		}
	case path == "/models" || path == "/v1/models":
		if h.onlyGet(w, r) {
			h.listModels(w)
		}
	case strings.HasPrefix(path, "/models/") || strings.HasPrefix(path, "/v1/models/"):
		if h.onlyGet(w, r) {
			h.getModel(w, path[strings.Index(path, "/models/")+len("/models/"):])
		}
	default:
		writeError(w, http.StatusNotFound, apiError{Message: fmt.Sprintf("Invalid URL (%s %s)", r.Method, path), Type: "invalid_request_error"})
	}
}

func (h *Handler) onlyGet(w http.ResponseWriter, r *http.Request) bool {
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		return true
	}
	w.Header().Set("Allow", "GET, HEAD")
	writeError(w, http.StatusMethodNotAllowed, apiError{Message: fmt.Sprintf("Method %s is not allowed on %s; use GET", r.Method, r.URL.Path), Type: "invalid_request_error"})
	return false
}

// keyHeaders carry the master key besides Authorization: Bearer, as LiteLLM accepts them.
var keyHeaders = []string{"X-Api-Key", "Api-Key", "X-Litellm-Api-Key"}

// authorized checks the master key in Authorization: Bearer or one of keyHeaders. Hashing both sides
// first makes the comparison constant-time in the key's length too.
func (h *Handler) authorized(w http.ResponseWriter, r *http.Request) bool {
	if !h.auth {
		return true
	}
	var given []string
	if k := bearer(r.Header.Get("Authorization")); k != "" {
		given = append(given, k)
	}
	for _, name := range keyHeaders {
		if k := strings.TrimSpace(r.Header.Get(name)); k != "" {
			given = append(given, k)
		}
	}
	ok := false
	for _, k := range given {
		sum := sha256.Sum256([]byte(k))
		ok = subtle.ConstantTimeCompare(sum[:], h.keyHash[:]) == 1 || ok
	}
	if ok {
		return true
	}
	msg := "Missing API key: send the proxy's master key as \"Authorization: Bearer <key>\" or \"x-api-key: <key>\"."
	if len(given) > 0 {
		msg = "Incorrect API key provided: it is not the proxy's master key."
	}
	w.Header().Set("WWW-Authenticate", `Bearer realm="moonchat"`)
	writeError(w, http.StatusUnauthorized, apiError{Message: msg, Type: "invalid_request_error", Code: "invalid_api_key"})
	return false
}

// bearer is the token of an "Authorization: Bearer <token>" header (the scheme is
// case-insensitive), or "".
func bearer(h string) string {
	const scheme = "bearer "
	if len(h) < len(scheme) || !strings.EqualFold(h[:len(scheme)], scheme) {
		return ""
	}
	return strings.TrimSpace(h[len(scheme):])
}

type modelObject struct {
	ID      string `json:"id"`
	Object  string `json:"object"`
	Created int64  `json:"created"`
	OwnedBy string `json:"owned_by"`
}

func (g *group) object() modelObject {
	return modelObject{ID: g.name, Object: "model", Created: g.created, OwnedBy: "moonshot"}
}

func (h *Handler) listModels(w http.ResponseWriter) {
	data := make([]modelObject, 0, len(h.names))
	for _, name := range h.names {
		data = append(data, h.groups[name].object())
	}
	for _, name := range h.wildcardNames() {
		data = append(data, h.newGroup(name).object())
	}
	writeJSON(w, http.StatusOK, struct {
		Object string        `json:"object"`
		Data   []modelObject `json:"data"`
	}{"list", data})
}

func (h *Handler) getModel(w http.ResponseWriter, name string) {
	g := h.groupFor(name)
	if g == nil {
		writeError(w, http.StatusNotFound, modelNotFound(name))
		return
	}
	writeJSON(w, http.StatusOK, g.object())
}

func modelNotFound(name string) apiError {
	return apiError{Message: fmt.Sprintf("The model `%s` does not exist or you do not have access to it (GET /v1/models lists the models served).", name),
		Type: "invalid_request_error", Param: "model", Code: "model_not_found"}
}

// retryWait is the pause before a deployment that already failed is tried again: the wait the
// server asked for, else exponential backoff with jitter. ok is false when the server asks for
// longer than the proxy will hold a client.
func (h *Handler) retryWait(round int, err error) (time.Duration, bool) {
	d, asked := moonshot.RetryDelay(round, err, h.baseDelay, h.maxDelay)
	return d, !asked || d <= h.maxDelay
}
