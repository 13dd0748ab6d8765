package moonshot

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Base URLs of Moonshot's two platforms. Keys do not work across them.
const (
	GlobalBaseURL = "https://api.moonshot.ai/v1"
	ChinaBaseURL  = "https://api.moonshot.cn/v1"
)

// Environment variables read when an Options field is empty.
const (
	EnvAPIKey  = "MOONSHOT_API_KEY"
	EnvAPIBase = "MOONSHOT_API_BASE"
)

// RegionBaseURL returns the base URL of a region: "global" (or "") or "cn".
func RegionBaseURL(region string) (string, error) {
	switch strings.ToLower(region) {
	case "", "global", "ai", "intl":
		return GlobalBaseURL, nil
	case "cn", "china":
		return ChinaBaseURL, nil
	}
	return "", fmt.Errorf("unknown region %q (use global or cn)", region)
}

// Options configure a Client. The zero value talks to the global platform with the key from
// MOONSHOT_API_KEY.
type Options struct {
	// APIKey; empty means MOONSHOT_API_KEY.
	APIKey string
	// BaseURL; empty means MOONSHOT_API_BASE, then the region's URL.
	BaseURL string
	// Region selects the default base URL: "global" (default) or "cn".
	Region string
	// HTTPClient is the transport seam (proxies, tests, the offline emulator).
	HTTPClient *http.Client
	// UserAgent, e.g. "moonchat/1.2.3".
	UserAgent string
	// MaxRetries is how often a failed attempt is retried before the first byte of an answer;
	// nil means 2.
	MaxRetries *int
	// Timeout limits each attempt until the response headers arrive (and, without streaming,
	// until the body is read). 0 means no limit beyond the context.
	Timeout time.Duration
	// RetryBaseDelay is the first backoff (doubled per attempt, with jitter); 0 means 500ms.
	RetryBaseDelay time.Duration
	// MaxRetryDelay caps the backoff; 0 means DefaultMaxRetryDelay. When the server asks for a longer wait
	// (Retry-After, "try again after N seconds"), the request is not retried: the error comes
	// back at once as a *WaitTooLongError.
	MaxRetryDelay time.Duration
	// DisableFixes sends requests exactly as given (used to prove the fixes are needed).
	DisableFixes bool
	// OnRetry, when set, is told about each retry before its wait.
	OnRetry func(attempt int, wait time.Duration, err error)
}

// DefaultMaxRetryDelay is the longest wait between attempts when Options.MaxRetryDelay is 0:
// a CLI user waits half a minute for an answer, not longer, and a server asking for more is
// told to the user at once (WaitTooLongError).
const DefaultMaxRetryDelay = 30 * time.Second

// Client talks to the Moonshot API. It is safe for concurrent use.
type Client struct {
	key, base, ua string
	http          *http.Client
	maxRetries    int
	timeout       time.Duration
	baseDelay     time.Duration
	maxDelay      time.Duration
	disableFixes  bool
	onRetry       func(int, time.Duration, error)
	catalog       *Catalog
}

// NewClient builds a client. The key is only checked when a request is made, so commands that
// need none (the dry run, for instance) work without it.
func NewClient(opts Options) (*Client, error) {
	c := &Client{key: opts.APIKey, base: opts.BaseURL, ua: opts.UserAgent, http: opts.HTTPClient,
		maxRetries: 2, timeout: opts.Timeout, baseDelay: opts.RetryBaseDelay, maxDelay: opts.MaxRetryDelay,
		disableFixes: opts.DisableFixes, onRetry: opts.OnRetry, catalog: NewCatalog()}
	if c.key == "" {
		c.key = os.Getenv(EnvAPIKey)
	}
	if c.base == "" {
		c.base = os.Getenv(EnvAPIBase)
	}
	if c.base == "" {
		base, err := RegionBaseURL(opts.Region)
		if err != nil {
			return nil, err
		}
		c.base = base
	}
	c.base = strings.TrimRight(c.base, "/")
	if !strings.HasPrefix(c.base, "http://") && !strings.HasPrefix(c.base, "https://") {
		return nil, fmt.Errorf("API base %q must start with http:// or https://", c.base)
	}
	if c.ua == "" {
		c.ua = "moonchat"
	}
	if c.http == nil {
		c.http = &http.Client{}
	}
	// A copy, so the caller's client is not changed: it may serve other hosts.
	hc := *c.http
	hc.CheckRedirect = keepKeyOnOrigin(hc.CheckRedirect)
	c.http = &hc
	if opts.MaxRetries != nil {
		c.maxRetries = max(*opts.MaxRetries, 0)
	}
	if c.baseDelay <= 0 {
		c.baseDelay = 500 * time.Millisecond
	}
	if c.maxDelay <= 0 {
		c.maxDelay = DefaultMaxRetryDelay
	}
	return c, nil
}

// BaseURL is the resolved base URL, e.g. https://api.moonshot.ai/v1.
func (c *Client) BaseURL() string { return c.base }

// HasAPIKey reports whether a key is configured.
func (c *Client) HasAPIKey() bool { return c.key != "" }

// URL joins the base URL and an API path such as "/chat/completions".
func (c *Client) URL(path string) string { return c.base + path }

// Prepare applies the fixes (unless disabled) and returns the request that would be sent.
func (c *Client) Prepare(req *ChatRequest, opts FixOptions) (*ChatRequest, []Adjustment, error) {
	if c.disableFixes {
		return req.Clone(), nil, nil
	}
	if opts.Remote == nil {
		opts.Remote = c.catalog.Remote(req.Model)
	}
	return Fix(req, opts)
}

// Catalog is the model table as this client knows it: refined by every Models call.
func (c *Client) Catalog() *Catalog { return c.catalog }

// ChatCompletion sends a non-streamed request (stream is forced off).
func (c *Client) ChatCompletion(ctx context.Context, req *ChatRequest) (*ChatCompletion, error) {
	fixed, adj, err := c.Prepare(req, FixOptions{})
	if err != nil {
		return nil, err
	}
	return c.CompletePrepared(ctx, fixed, adj)
}

// CompletePrepared sends a request that Prepare already fixed, without streaming.
func (c *Client) CompletePrepared(ctx context.Context, fixed *ChatRequest, adj []Adjustment) (*ChatCompletion, error) {
	fixed.Stream, fixed.StreamOptions = false, nil
	var raw json.RawMessage
	h, err := c.doJSON(ctx, http.MethodPost, "/chat/completions", fixed, &raw)
	if err != nil {
		return nil, err
	}
	out, err := DecodeCompletion(raw, fixed, requestID(h))
	if err != nil {
		return nil, err
	}
	out.Adjustments = adj
	return out, nil
}

// choicesOf is n of a request (1 when unset).
func choicesOf(r *ChatRequest) int {
	if r.N != nil && *r.N > 0 {
		return *r.N
	}
	return 1
}

// DecodeCompletion decodes data, the non-streamed answer to req, with the checks
// CompletePrepared makes, for a caller that holds the body itself (a proxy relaying it): a
// body that does not decode, or a choice index outside req's n, is an unexpected_output
// APIError; a usage report out of range is dropped (UsageIgnored), never a reason to lose the
// answer.
func DecodeCompletion(data []byte, req *ChatRequest, requestID string) (*ChatCompletion, error) {
	return decodeCompletion(data, choicesOf(req), requestID)
}

// decodeCompletion is DecodeCompletion for a request of n choices.
func decodeCompletion(data []byte, n int, reqID string) (*ChatCompletion, error) {
	var out ChatCompletion
	usageBroken, err := decodeBody(data, &out)
	if err != nil {
		return nil, &APIError{Type: ErrTypeUnexpectedOutput, Message: "could not decode the response: " + err.Error(), RequestID: reqID}
	}
	for _, ch := range out.Choices {
		if err := checkChoiceIndex(ch.Index, n, reqID); err != nil {
			return nil, err
		}
	}
	out.UsageIgnored = out.dropBrokenUsage(usageBroken)
	out.RequestID = reqID
	return &out, nil
}

// ChatStream sends a streamed request. An HTTP error is returned here, before anything is read;
// errors after that come from the Stream.
func (c *Client) ChatStream(ctx context.Context, req *ChatRequest) (*Stream, error) {
	fixed, adj, err := c.Prepare(req, FixOptions{})
	if err != nil {
		return nil, err
	}
	return c.StreamPrepared(ctx, fixed, adj)
}

// StreamPrepared streams a request that Prepare already fixed.
func (c *Client) StreamPrepared(ctx context.Context, fixed *ChatRequest, adj []Adjustment) (*Stream, error) {
	fixed.Stream = true
	body, err := json.Marshal(fixed)
	if err != nil {
		return nil, err
	}
	resp, cancel, err := c.send(ctx, http.MethodPost, "/chat/completions", body, "application/json", true)
	if err != nil {
		return nil, err
	}
	n := choicesOf(fixed)
	if isJSON(resp) {
		// A server (or a proxy in between) that ignores stream:true answers with the whole
		// completion: a well-formed one is as good as a stream of it.
		s, err := completionStream(resp, n)
		resp.Body.Close()
		cancel()
		if err != nil {
			return nil, err
		}
		s.adjustments = adj
		return s, nil
	}
	s := newStream(resp.Body, cancel)
	s.ctx = ctx
	s.requestID = requestID(resp.Header)
	s.adjustments = adj
	s.choices = n
	return s, nil
}

// completionStream reads a non-streamed answer (or an error object) sent to a streamed
// request and turns it into a Stream of one chunk per choice.
func completionStream(resp *http.Response, n int) (*Stream, error) {
	reqID := requestID(resp.Header)
	data, err := readCapped(resp.Body, MaxResponseBytes, "the response", reqID)
	if err != nil {
		return nil, err
	}
	var ee errorEvent
	if json.Unmarshal(data, &ee) == nil && ee.Error != nil {
		return nil, parseAPIError(resp.StatusCode, resp.Header, data)
	}
	comp, err := decodeCompletion(data, n, reqID)
	if err != nil {
		return nil, err
	}
	if len(comp.Choices) == 0 {
		return nil, &APIError{Type: ErrTypeUnexpectedOutput, RequestID: reqID,
			Message: "the server answered a streamed request with JSON that is neither a stream nor a completion"}
	}
	s := newStream(io.NopCloser(bytes.NewReader(nil)), nil)
	s.requestID, s.choices, s.usageDropped = reqID, n, comp.UsageIgnored
	for i, ch := range comp.Choices {
		chunk := ChatCompletionChunk{ID: comp.ID, Object: "chat.completion.chunk", Created: comp.Created,
			Model: comp.Model, SystemFingerprint: comp.SystemFingerprint}
		if i == len(comp.Choices)-1 {
			chunk.Usage = comp.Usage
		}
		fr := ch.FinishReason
		cc := ChunkChoice{Index: ch.Index, Delta: Delta{Role: ch.Message.Role, Content: ch.Message.Content,
			ReasoningContent: ch.Message.ReasoningContent}, FinishReason: &fr, Usage: ch.Usage}
		for j, tc := range ch.Message.ToolCalls {
			if tc.Index == nil {
				idx := j
				tc.Index = &idx
			}
			cc.Delta.ToolCalls = append(cc.Delta.ToolCalls, tc)
		}
		chunk.Choices = []ChunkChoice{cc}
		b, err := json.Marshal(chunk)
		if err != nil {
			return nil, err
		}
		s.pending = append(s.pending, b)
	}
	s.pending = append(s.pending, doneMarker)
	return s, nil
}

// Models lists the models the key can use (GET /models).
func (c *Client) Models(ctx context.Context) ([]RemoteModel, error) {
	var out struct {
		Data []RemoteModel `json:"data"`
	}
	if _, err := c.doJSON(ctx, http.MethodGet, "/models", nil, &out); err != nil {
		return nil, err
	}
	c.catalog.Refine(out.Data)
	return out.Data, nil
}

// EstimateTokens counts the prompt tokens of messages exactly, with Moonshot's tokenizer.
func (c *Client) EstimateTokens(ctx context.Context, model string, messages []Message) (int, error) {
	body := struct {
		Model    string    `json:"model"`
		Messages []Message `json:"messages"`
	}{StripProvider(model), messages}
	var out struct {
		Data struct {
			TotalTokens int `json:"total_tokens"`
		} `json:"data"`
	}
	if _, err := c.doJSON(ctx, http.MethodPost, "/tokenizers/estimate-token-count", body, &out); err != nil {
		return 0, err
	}
	return out.Data.TotalTokens, nil
}

// Balance returns the account balance (GET /users/me/balance).
func (c *Client) Balance(ctx context.Context) (*Balance, error) {
	var out struct {
		Code   int     `json:"code"`
		Data   Balance `json:"data"`
		Status bool    `json:"status"`
	}
	if _, err := c.doJSON(ctx, http.MethodGet, "/users/me/balance", nil, &out); err != nil {
		return nil, err
	}
	if out.Code != 0 {
		return nil, &APIError{Type: ErrTypeServer, Message: fmt.Sprintf("balance request failed with code %d", out.Code)}
	}
	return &out.Data, nil
}

// doJSON sends body as JSON (nil = no body) and decodes a JSON answer into out.
func (c *Client) doJSON(ctx context.Context, method, path string, body, out any) (http.Header, error) {
	var raw []byte
	if body != nil {
		var err error
		if raw, err = json.Marshal(body); err != nil {
			return nil, err
		}
	}
	return c.Do(ctx, method, path, raw, "application/json", out)
}

// Do sends a request with retries and decodes the JSON answer into out (if non-nil). It is the
// building block for endpoints this package does not wrap (e.g. multipart uploads).
func (c *Client) Do(ctx context.Context, method, path string, body []byte, contentType string, out any) (http.Header, error) {
	resp, cancel, err := c.send(ctx, method, path, body, contentType, false)
	if err != nil {
		return nil, err
	}
	defer cancel()
	defer resp.Body.Close()
	data, err := readCapped(resp.Body, MaxResponseBytes, "the response", requestID(resp.Header))
	if err != nil {
		return nil, err
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			return nil, &APIError{StatusCode: resp.StatusCode, Type: ErrTypeUnexpectedOutput,
				Message: "could not decode the response: " + err.Error(), RequestID: requestID(resp.Header)}
		}
	}
	return resp.Header, nil
}

// send performs the request with the retry policy: retry connection errors, 429 rate limit and
// overload, and 5xx; never the quota error; honour the server's wait, or give up at once when it
// is longer than the client waits; stop at once when ctx ends.
// The returned cancel releases the attempt's timer and must be called after the body is read.
func (c *Client) send(ctx context.Context, method, path string, body []byte, contentType string, stream bool) (*http.Response, context.CancelFunc, error) {
	return c.sendRetrying(ctx, method, path, body, contentType, stream, retryable)
}

// sendRetrying is send, retrying the failures retry accepts.
func (c *Client) sendRetrying(ctx context.Context, method, path string, body []byte, contentType string, stream bool, retry func(error) bool) (*http.Response, context.CancelFunc, error) {
	if c.key == "" {
		return nil, nil, ErrMissingAPIKey
	}
	for attempt := 0; ; attempt++ {
		resp, cancel, err := c.attempt(ctx, method, path, body, contentType, stream)
		if err == nil {
			return resp, cancel, nil
		}
		if ctx.Err() != nil {
			return nil, nil, ctx.Err()
		}
		if attempt >= c.maxRetries || !retry(err) {
			return nil, nil, err
		}
		wait, asked := RetryDelay(attempt, err, c.baseDelay, c.maxDelay)
		if asked && wait > c.maxDelay {
			// Coming back before the server's time would only be refused again.
			return nil, nil, &WaitTooLongError{Err: err, Wait: wait, Limit: c.maxDelay}
		}
		if c.onRetry != nil {
			c.onRetry(attempt+1, wait, err)
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, nil, ctx.Err()
		case <-t.C:
		}
	}
}

func (c *Client) attempt(ctx context.Context, method, path string, body []byte, contentType string, stream bool) (*http.Response, context.CancelFunc, error) {
	actx, cancel := context.WithCancel(ctx)
	var timer *time.Timer
	if c.timeout > 0 {
		timer = time.AfterFunc(c.timeout, cancel)
	}
	release := func() {
		if timer != nil {
			timer.Stop()
		}
		cancel()
	}
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(actx, method, c.base+path, rd)
	if err != nil {
		release()
		return nil, nil, err
	}
	req.Header.Set("Authorization", "Bearer "+c.key)
	req.Header.Set("User-Agent", c.ua)
	if body != nil {
		req.Header.Set("Content-Type", contentType)
	}
	if stream {
		req.Header.Set("Accept", "text/event-stream")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		timedOut := timer != nil && actx.Err() != nil && ctx.Err() == nil
		release()
		if timedOut {
			return nil, nil, fmt.Errorf("no answer within %s: %w", c.timeout, context.DeadlineExceeded)
		}
		return nil, nil, err
	}
	if resp.StatusCode/100 != 2 {
		data, _ := io.ReadAll(io.LimitReader(resp.Body, MaxErrorBytes))
		resp.Body.Close()
		release()
		return nil, nil, parseAPIError(resp.StatusCode, resp.Header, data)
	}
	if err := notTheAPI(resp); err != nil {
		resp.Body.Close()
		release()
		return nil, nil, err
	}
	if stream && timer != nil {
		// The attempt timeout guards the wait for the answer to begin; a long answer that
		// streams steadily must not be cut by it.
		timer.Stop()
	}
	return resp, release, nil
}

func retryable(err error) bool {
	if e, ok := asAPIError(err); ok {
		if e.Type == ErrTypeQuotaExceeded {
			return false
		}
		return e.StatusCode == 429 || e.StatusCode >= 500
	}
	return IsTemporary(err)
}

var tryAgainAfter = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`(?i)try again (?:after|in) (\d+(?:\.\d+)?) ?s`) })

// retryAfter reads the Retry-After header, or Moonshot's "try again after N seconds".
func retryAfter(h http.Header, message string) float64 {
	if v := h.Get("Retry-After"); v != "" {
		if s, err := strconv.ParseFloat(v, 64); err == nil && s >= 0 {
			return s
		}
		if t, err := http.ParseTime(v); err == nil {
			return max(time.Until(t).Seconds(), 0)
		}
	}
	if m := tryAgainAfter().FindStringSubmatch(message); m != nil {
		s, _ := strconv.ParseFloat(m[1], 64)
		return s
	}
	return 0
}

// keepKeyOnOrigin sends the API key only to the origin it was configured for. Go's client
// keeps Authorization on a redirect to the same host name, even on another port or from
// https to http; here any change of scheme, host or port drops it.
func keepKeyOnOrigin(next func(*http.Request, []*http.Request) error) func(*http.Request, []*http.Request) error {
	return func(req *http.Request, via []*http.Request) error {
		if len(via) > 0 && origin(req.URL) != origin(via[0].URL) {
			req.Header.Del("Authorization")
		}
		if next != nil {
			return next(req, via)
		}
		if len(via) >= 10 {
			return errors.New("stopped after 10 redirects")
		}
		return nil
	}
}

// origin is scheme://host:port, with the scheme's default port made explicit.
func origin(u *url.URL) string {
	port := u.Port()
	if port == "" {
		port = map[string]string{"http": "80", "https": "443"}[strings.ToLower(u.Scheme)]
	}
	return strings.ToLower(u.Scheme) + "://" + strings.ToLower(u.Hostname()) + ":" + port
}

// errClosed is returned by a Stream used after Close.
var errClosed = errors.New("moonshot: stream closed")
