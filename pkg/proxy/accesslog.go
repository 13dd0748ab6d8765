package proxy

import (
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/moonchat/moonchat/pkg/moonshot"
)

// record is what the access log says about one request.
type record struct {
	method, path string
	status       int
	model        string // the client's model name
	upstream     string // the Moonshot model that answered (or was tried last)
	stream       bool
	attempts     int
	usage        *moonshot.Usage
	adjustments  []moonshot.Adjustment
	requestID    string
	err          string
	canceled     bool
	skipLog      bool
	group        string        // the model_name (or wildcard pattern) that served it, for metrics
	deployment   string        // the ID of the deployment that answered or was tried last
	ttfb         time.Duration // stream: upstream request to first event
	upstreamTime time.Duration // upstream request to the end of the answer (last attempt)
	overhead     time.Duration // the proxy's own time until the answer's headers
	cost         float64       // estimated, 0 when the usage or the price is not known
	fallback     string        // "from -> to" when another model group answered
}

func (h *Handler) logRequest(r *http.Request, rec *record, latency time.Duration) {
	level := slog.LevelInfo
	if rec.status >= 500 || rec.err != "" {
		level = slog.LevelWarn
	}
	attrs := make([]slog.Attr, 0, 16)
	attrs = append(attrs,
		slog.String("method", rec.method),
		slog.String("path", rec.path),
		slog.Int("status", rec.status),
		slog.Float64("latency_ms", float64(latency.Microseconds())/1000),
	)
	if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		attrs = append(attrs, slog.String("remote", host))
	}
	if rec.model != "" {
		attrs = append(attrs, slog.String("model", rec.model), slog.Bool("stream", rec.stream))
	}
	if rec.upstream != "" {
		attrs = append(attrs, slog.String("upstream", rec.upstream), slog.Int("attempts", rec.attempts))
	}
	if rec.status != 0 {
		attrs = append(attrs, slog.Float64("overhead_ms", float64(rec.overhead.Microseconds())/1000))
	}
	if rec.usage != nil {
		attrs = append(attrs, slog.Int("prompt_tokens", rec.usage.PromptTokens), slog.Int("completion_tokens", rec.usage.CompletionTokens))
	}
	if rec.cost > 0 {
		attrs = append(attrs, slog.Float64("response_cost", rec.cost))
	}
	if rec.fallback != "" {
		attrs = append(attrs, slog.String("fallback", rec.fallback))
	}
	if len(rec.adjustments) > 0 {
		parts := make([]string, len(rec.adjustments))
		for i, a := range rec.adjustments {
			parts[i] = a.String()
		}
		attrs = append(attrs, slog.String("adjustments", strings.Join(parts, "; ")))
	}
	if rec.requestID != "" {
		attrs = append(attrs, slog.String("request_id", rec.requestID))
	}
	if rec.canceled {
		attrs = append(attrs, slog.Bool("client_gone", true))
	}
	if rec.err != "" {
		attrs = append(attrs, slog.String("error", rec.err))
	}
	h.log.LogAttrs(r.Context(), level, "request", attrs...)
}

// responseWriter notes the status for the access log, and puts the proxy's own time in the
// headers of every answer.
type responseWriter struct {
	http.ResponseWriter
	status int
	start  time.Time
	// outside is the time spent waiting for upstreams and backoffs so far: it is not the
	// proxy's overhead.
	outside time.Duration
	rec     *record
}

func (w *responseWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
		w.rec.overhead = max(time.Since(w.start)-w.outside, 0)
		w.Header().Set(OverheadHeader, formatMs(w.rec.overhead))
	}
	w.ResponseWriter.WriteHeader(code)
}

// Response headers of every answer, and of answers whose usage is known.
const (
	OverheadHeader = "X-Moonchat-Overhead-Ms"
	CostHeader     = "X-Moonchat-Response-Cost"
)

func formatMs(d time.Duration) string {
	return strconv.FormatFloat(float64(d.Microseconds())/1000, 'f', 3, 64)
}

func formatCost(c float64) string { return strconv.FormatFloat(c, 'g', 6, 64) }

func (w *responseWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.WriteHeader(http.StatusOK)
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection's Flusher.
func (w *responseWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
