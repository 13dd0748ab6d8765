package proxy

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"math/rand/v2"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/moonchat/moonchat/pkg/moonshot"
)

// FallbackHeader names the model group that answered instead of the one asked for:
// "asked -> answered".
const FallbackHeader = "X-Moonchat-Fallback"

// errClientGone ends a request whose client left: nothing more is written.
var errClientGone = errors.New("the client went away")

// limitedError is a group none of whose deployments may take a request now: each is at its
// rpm or tpm for the minute, or cooling down.
type limitedError struct {
	group string
	wait  time.Duration
}

func (e *limitedError) Error() string {
	return fmt.Sprintf("No deployment of `%s` can take a request now: each is at its rpm/tpm limit for this minute or cooling down after failures. Try again in %d s.",
		e.group, retryAfterSeconds(e.wait))
}

func retryAfterSeconds(d time.Duration) int { return max(int(math.Ceil(d.Seconds())), 1) }

// tagError is a request whose tags no deployment of the group carries.
type tagError struct {
	group string
	tags  []string
}

func (e *tagError) Error() string {
	return fmt.Sprintf("no deployment of `%s` has the tags %s (nor the tag \"default\")", e.group, strings.Join(e.tags, ", "))
}

// serveChat answers from the model's group, then from its fallbacks in order: those of
// context_window_fallbacks when the prompt did not fit, those of fallbacks when every
// deployment failed or was at its limit. Only the last failure reaches the client.
func (h *Handler) serveChat(w *responseWriter, r *http.Request, rec *record, g *group, call *chatCall) {
	err := h.tryGroup(w, r, rec, g, call)
	if err != nil && !errors.Is(err, errClientGone) {
		for _, name := range h.fallbacksFor(g.name, err) {
			fg := h.groupFor(name)
			if fg == nil {
				continue
			}
			rec.fallback = g.name + " -> " + name
			w.Header().Set(FallbackHeader, rec.fallback)
			h.metrics.fallback(g.label(), fg.label())
			h.log.LogAttrs(r.Context(), slog.LevelWarn, "falling back to another model",
				slog.String("model", g.name), slog.String("fallback", name), slog.String("error", err.Error()))
			if err = h.tryGroup(w, r, rec, fg, call); err == nil || errors.Is(err, errClientGone) {
				break
			}
		}
	}
	switch {
	case err == nil:
	case errors.Is(err, errClientGone):
		rec.canceled = true
	default:
		h.writeFailure(w, rec, err)
	}
}

func (h *Handler) fallbacksFor(name string, err error) []string {
	var le *limitedError
	switch {
	case moonshot.IsContextTooLong(err):
		return h.ctxFallbacks[name]
	case errors.As(err, &le), moonshot.IsTemporary(err), moonshot.IsQuota(err):
		return h.fallbacks[name]
	}
	return nil
}

// writeFailure sends the error a request ends with.
func (h *Handler) writeFailure(w *responseWriter, rec *record, err error) {
	var le *limitedError
	var te *tagError
	switch {
	case errors.As(err, &le):
		w.Header().Set("Retry-After", strconv.Itoa(retryAfterSeconds(le.wait)))
		rec.err = le.Error()
		writeError(w, http.StatusTooManyRequests, apiError{Message: rec.err, Type: "rate_limit_error", Code: "no_deployment_available"})
		return
	case errors.As(err, &te):
		rec.err = te.Error()
		writeError(w, http.StatusBadRequest, apiError{Message: rec.err, Type: "invalid_request_error", Param: "tags"})
		return
	}
	status, e := upstreamError(err)
	var ae *moonshot.APIError
	if errors.As(err, &ae) {
		rec.requestID = ae.RequestID
		// Through RetryDelay, which bounds it: "Retry-After: 1e300" upstream does not overflow
		// the int of the header passed on.
		if wait, asked := moonshot.RetryDelay(0, err, 0, 0); asked {
			w.Header().Set("Retry-After", strconv.Itoa(retryAfterSeconds(wait)))
		}
	}
	rec.err = e.Message
	writeError(w, status, e)
}

// tryGroup sends the request to the group's deployments in failover order until one answers;
// the error, when none did, is for the caller to report (nothing was written).
//
// Failover happens only before the client has received anything: on a 429 (rate limit,
// overload, or quota: another deployment may be another account), a 5xx, a network error, a
// timeout, or a stream that fails before its first chunk. The first attempt goes to the
// deployment the routing strategy picks, the next ones to the following deployments at once;
// a deployment is tried again only after all the others, after a backoff (or the server's
// Retry-After), and never after a quota error. Deployments at their rpm/tpm for the minute or
// cooling down are skipped. The Moonshot clients themselves do not retry, so NumRetries
// counts every extra upstream request.
func (h *Handler) tryGroup(w *responseWriter, r *http.Request, rec *record, g *group, call *chatCall) error {
	ctx := r.Context()
	rec.group, rec.deployment = g.label(), ""
	deps := g.deployments
	if call.tags != nil {
		if deps = withTags(g.deployments, call.tags); len(deps) == 0 {
			return &tagError{group: g.name, tags: call.tags}
		}
	}
	n := len(deps)
	first := g.first(deps, h.shuffle)
	failed := make([]error, n) // the last failure of each deployment in this request
	var lastErr error
	wait := time.Duration(-1)
	attempts := 0
	for round := 0; attempts <= h.numRetries; round++ {
		tried := false
		for k := 0; k < n && attempts <= h.numRetries; k++ {
			idx := (first + k) % n
			d := deps[idx]
			if round > 0 {
				prev := failed[idx]
				if prev == nil || moonshot.IsQuota(prev) {
					continue
				}
				pause, ok := h.retryWait(round-1, prev)
				if !ok {
					continue // asked to wait longer than a client is held: not before its time
				}
				t0 := time.Now()
				slept := sleep(ctx, pause)
				w.outside += time.Since(t0)
				if !slept {
					return errClientGone
				}
			}
			if ok, wt := h.admit(d, n); !ok {
				if wait < 0 || wt < wait {
					wait = wt
				}
				continue
			}
			tried = true
			attempts++
			rec.attempts++
			rec.upstream, rec.deployment, rec.group = d.Model, d.ID, g.label()
			rec.ttfb, rec.upstreamTime = 0, 0
			if attempts > 1 {
				h.metrics.retry(g.label())
			}
			fixed, adj, err := h.prepare(call, d)
			if err != nil {
				return err // the request cannot be made valid for this model: no upstream call
			}
			rec.adjustments = adj
			if call.req.Stream {
				err = h.stream(w, r, rec, g, d, fixed, adj)
			} else {
				err = h.complete(w, r, rec, g, d, fixed, adj)
			}
			if err == nil {
				// Answered, or the stream was relayed (its own failures are in-band).
				if d.TPM > 0 && rec.usage != nil {
					h.state.AddTokens(d.ID, rec.usage.TotalTokens, h.now())
				}
				h.metrics.answered(g.label(), d, rec)
				return nil
			}
			h.metrics.upstreamTimes(g.label(), d, rec)
			if ctx.Err() != nil {
				return errClientGone
			}
			lastErr = err
			h.failed(g, d, n, err)
			if !moonshot.IsTemporary(err) && !moonshot.IsQuota(err) {
				return err
			}
			failed[idx] = err
			if attempts <= h.numRetries {
				h.metrics.failover(g.label())
				h.log.LogAttrs(ctx, slog.LevelWarn, "upstream failed; trying again",
					slog.String("model", g.name), slog.String("upstream", d.Model), slog.String("api_base", d.base),
					slog.String("deployment", d.ID), slog.Int("attempt", attempts), slog.String("error", err.Error()))
			}
		}
		if !tried {
			break
		}
	}
	if lastErr == nil {
		return &limitedError{group: g.name, wait: wait}
	}
	return lastErr
}

// admit asks the shared state whether d may take a request; a lone deployment without limits
// needs no question (it is never cooled down).
func (h *Handler) admit(d *deployment, groupSize int) (bool, time.Duration) {
	if d.RPM == 0 && d.TPM == 0 && groupSize == 1 {
		return true, 0
	}
	return h.state.Admit(d.ID, d.RPM, d.TPM, h.now())
}

// failed counts a failure towards d's cooldown, as LiteLLM's router does: a 429 cools it down
// at once, other failures (5xx, timeouts, network errors, a refused key) after allowed_fails
// in a minute. The sole deployment of a group is never cooled down: there is nothing else to
// send to, and the client gets the upstream's own answer.
func (h *Handler) failed(g *group, d *deployment, groupSize int, err error) {
	if groupSize < 2 || !(moonshot.IsTemporary(err) || moonshot.IsQuota(err) || moonshot.IsAuth(err)) {
		return
	}
	var ae *moonshot.APIError
	immediate := errors.As(err, &ae) && ae.StatusCode == http.StatusTooManyRequests
	cooldown := h.cooldownAfter(err)
	if h.state.Fail(d.ID, h.allowedFails, cooldown, immediate, h.now()) {
		h.metrics.cooldown(g.label(), d)
		h.log.Warn("deployment cooling down", "model", g.name, "deployment", d.ID, "upstream", d.Model,
			"cooldown", cooldown.String(), "error", err.Error())
	}
}

// MaxServerCooldown bounds the cooldown an upstream's own wait sets. A longer wait (a daily
// limit's reset, an X-RateLimit-Reset read against a wrong clock) is not trusted further: the
// deployment is tried again then, and cooled again if it still refuses.
const MaxServerCooldown = 10 * time.Minute

// cooldownAfter is how long a deployment that failed with err cools down: cooldown_time, or
// the wait the upstream asked for when that is longer (up to MaxServerCooldown), so that no
// request reaches it before the time it named.
func (h *Handler) cooldownAfter(err error) time.Duration {
	// With no base delay, RetryDelay reports only a wait the upstream asked for.
	asked, ok := moonshot.RetryDelay(0, err, 0, 0)
	if !ok {
		return h.cooldown
	}
	return max(h.cooldown, min(asked, MaxServerCooldown))
}

// first is the index in deps of the deployment that gets a request first: weighted at random
// when the group has weights, else in turn (round-robin) or at random (simple-shuffle).
func (g *group) first(deps []*deployment, shuffle bool) int {
	n := len(deps)
	switch {
	case n == 1:
		return 0
	case g.weighted:
		total := 0.0
		for _, d := range deps {
			total += weightOf(d)
		}
		x := rand.Float64() * total
		for i, d := range deps {
			if x -= weightOf(d); x < 0 {
				return i
			}
		}
		return n - 1
	case shuffle:
		return rand.IntN(n)
	}
	return int((g.next.Add(1) - 1) % uint64(n))
}

// label names the group in metrics: its configured name, or the wildcard that made it.
func (g *group) label() string {
	if g.pattern != "" {
		return g.pattern
	}
	return g.name
}

func weightOf(d *deployment) float64 {
	if d.Weight > 0 {
		return d.Weight
	}
	return 1
}

func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// requestTags takes the tags of a request (LiteLLM's "tags", or "metadata": {"tags": [...]});
// the top-level field is not sent upstream.
func requestTags(req *moonshot.ChatRequest) ([]string, error) {
	raw, ok := req.Extra["tags"]
	if ok {
		delete(req.Extra, "tags")
	} else if md, has := req.Extra["metadata"]; has {
		var m struct {
			Tags json.RawMessage `json:"tags"`
		}
		if json.Unmarshal(md, &m) != nil || m.Tags == nil {
			return nil, nil
		}
		raw = m.Tags
	} else {
		return nil, nil
	}
	var tags []string
	if err := json.Unmarshal(raw, &tags); err != nil {
		return nil, errors.New("tags must be a list of strings")
	}
	if len(tags) > 64 {
		return nil, errors.New("tags: at most 64")
	}
	return tags, nil
}

// withTags are the deployments carrying one of tags, else those tagged "default" (LiteLLM's
// tag routing).
func withTags(deps []*deployment, tags []string) []*deployment {
	var match, def []*deployment
	for _, d := range deps {
		if slices.ContainsFunc(tags, func(t string) bool { return slices.Contains(d.Tags, t) }) {
			match = append(match, d)
		} else if slices.Contains(d.Tags, "default") {
			def = append(def, d)
		}
	}
	if len(match) > 0 {
		return match
	}
	return def
}
