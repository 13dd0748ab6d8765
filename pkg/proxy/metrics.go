package proxy

import (
	"net/http"
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// metrics are what GET /metrics reports, in a registry of the Handler's own (two handlers in
// one process do not mix). Labels are bounded: model is a configured model_name (a wildcard's
// pattern, not the name a client sent), deployment a deployment's ID.
type metrics struct {
	reg        *prometheus.Registry
	requests   *prometheus.CounterVec
	overhead   *prometheus.HistogramVec
	ttfb       *prometheus.HistogramVec
	upstream   *prometheus.HistogramVec
	tokens     *prometheus.CounterVec
	cost       *prometheus.CounterVec
	retries    *prometheus.CounterVec
	failovers  *prometheus.CounterVec
	fallbacks  *prometheus.CounterVec
	cooldowns  *prometheus.CounterVec
	streams    prometheus.Gauge
	stateFails prometheus.Counter
}

func newMetrics() *metrics {
	const ns = "moonchat_proxy"
	m := &metrics{reg: prometheus.NewRegistry()}
	m.requests = prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "requests_total",
		Help: "Chat requests by model name, the deployment that answered (or was tried last) and HTTP status."}, []string{"model", "deployment", "status"})
	m.overhead = prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: ns, Name: "overhead_seconds",
		Help:    "Time spent in the proxy itself until the answer's headers (upstream waits and backoffs excluded).",
		Buckets: []float64{.00005, .0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1}}, []string{"model"})
	m.ttfb = prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: ns, Name: "upstream_first_byte_seconds",
		Help: "Time from the upstream request to the first event of a stream.", Buckets: prometheus.ExponentialBuckets(0.01, 2.5, 10)}, []string{"model", "deployment"})
	m.upstream = prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: ns, Name: "upstream_seconds",
		Help: "Time from the upstream request to the end of its answer.", Buckets: prometheus.ExponentialBuckets(0.05, 2.5, 10)}, []string{"model", "deployment"})
	m.tokens = prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "tokens_total",
		Help: "Tokens by kind: prompt, completion, cached (prompt tokens served from Moonshot's cache)."}, []string{"model", "deployment", "kind"})
	m.cost = prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "cost_usd_total",
		Help: "Estimated cost in USD, from the model table's prices or the config's overrides."}, []string{"model", "deployment"})
	m.retries = prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "retries_total",
		Help: "Upstream attempts after a request's first."}, []string{"model"})
	m.failovers = prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "failovers_total",
		Help: "Failed upstream attempts that were followed by another."}, []string{"model"})
	m.fallbacks = prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "fallbacks_total",
		Help: "Requests sent on to a fallback model."}, []string{"model", "fallback"})
	m.cooldowns = prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "cooldowns_total",
		Help: "Times a deployment was taken out of rotation."}, []string{"model", "deployment"})
	m.streams = prometheus.NewGauge(prometheus.GaugeOpts{Namespace: ns, Name: "open_streams", Help: "Streams being relayed now."})
	m.stateFails = prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Name: "shared_state_errors_total",
		Help: "Operations on the shared state (Redis) that failed and were answered from local counts."})
	m.reg.MustRegister(m.requests, m.overhead, m.ttfb, m.upstream, m.tokens, m.cost, m.retries, m.failovers, m.fallbacks,
		m.cooldowns, m.streams, m.stateFails, collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

func (m *metrics) fallback(from, to string) { m.fallbacks.WithLabelValues(from, to).Inc() }
func (m *metrics) retry(model string)       { m.retries.WithLabelValues(model).Inc() }
func (m *metrics) failover(model string)    { m.failovers.WithLabelValues(model).Inc() }
func (m *metrics) cooldown(model string, d *deployment) {
	m.cooldowns.WithLabelValues(model, d.ID).Inc()
}
func (m *metrics) streamOpened() { m.streams.Inc() }
func (m *metrics) streamClosed() { m.streams.Dec() }
func (m *metrics) stateFailed()  { m.stateFails.Inc() }
func (m *metrics) upstreamTimes(model string, d *deployment, rec *record) {
	if rec.ttfb > 0 {
		m.ttfb.WithLabelValues(model, d.ID).Observe(rec.ttfb.Seconds())
	}
	m.upstream.WithLabelValues(model, d.ID).Observe(rec.upstreamTime.Seconds())
}

// answered records what an answered request used.
func (m *metrics) answered(model string, d *deployment, rec *record) {
	m.upstreamTimes(model, d, rec)
	if u := rec.usage; u != nil {
		m.tokens.WithLabelValues(model, d.ID, "prompt").Add(float64(u.PromptTokens))
		m.tokens.WithLabelValues(model, d.ID, "completion").Add(float64(u.CompletionTokens))
		if c := u.Cached(); c > 0 {
			m.tokens.WithLabelValues(model, d.ID, "cached").Add(float64(c))
		}
	}
	if rec.cost > 0 {
		m.cost.WithLabelValues(model, d.ID).Add(rec.cost)
	}
}

// request records a chat request once it is over.
func (m *metrics) request(rec *record) {
	if rec.group == "" {
		return // not a configured model: its name came from the client
	}
	m.requests.WithLabelValues(rec.group, rec.deployment, strconv.Itoa(rec.status)).Inc()
	m.overhead.WithLabelValues(rec.group).Observe(rec.overhead.Seconds())
}
