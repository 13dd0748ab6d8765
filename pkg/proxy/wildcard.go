package proxy

import (
	"encoding/json"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"go.yaml.in/yaml/v3"

	"github.com/moonchat/moonchat/pkg/moonshot"
)

// LiteLLM's wildcard routing: an entry whose model_name has one "*" serves every name that
// matches it. The part the "*" matched replaces the "*" of its model, so
//
//	model_name: "*"          model: moonshot/*        kimi-k2.6 → kimi-k2.6
//	model_name: "moonshot/*" model: moonshot/*        moonshot/kimi-k2.6 → kimi-k2.6
//	model_name: "kimi-*"     model: moonshot/kimi-*   kimi-k2.6 → kimi-k2.6
//	model_name: "fast-*"     model: moonshot/kimi-k2.6  every fast-… name → kimi-k2.6
//
// An exact model_name always wins; among patterns, the one with the longest fixed part does
// (LiteLLM sorts its patterns the same way), then the first in the file.

// isWildcard reports a LiteLLM wildcard name or model ("*", "kimi-*", "moonshot/*").
func isWildcard(s string) bool { return strings.Contains(s, "*") }

// matchWildcard returns the length of pattern's fixed part when name matches it, else -1.
func matchWildcard(pattern, name string) int {
	prefix, suffix, ok := strings.Cut(pattern, "*")
	if !ok || len(name) < len(prefix)+len(suffix) || !strings.HasPrefix(name, prefix) || !strings.HasSuffix(name, suffix) {
		return -1
	}
	return len(prefix) + len(suffix)
}

// expand puts what the "*" of pattern matched in name into model's "*" (if it has one).
func expand(pattern, name, model string) string {
	prefix, suffix, _ := strings.Cut(pattern, "*")
	part := name[len(prefix) : len(name)-len(suffix)]
	return strings.Replace(model, "*", part, 1)
}

// wildcard checks a wildcard entry when the config is read.
func (p *parser) wildcard(entry, model *yaml.Node, d *Deployment) error {
	nameWild, modelWild := isWildcard(d.ModelName), isWildcard(d.Model)
	switch {
	case !nameWild && !modelWild:
		return nil
	case strings.Count(d.ModelName, "*") > 1 || strings.Count(d.Model, "*") > 1:
		return p.errf(entry, "model_name %q, model moonshot/%s: a wildcard may have only one \"*\"", d.ModelName, d.Model)
	case modelWild && !nameWild:
		return p.errf(model, "model moonshot/%s has a wildcard but model_name %q does not: write model_name: \"*\" (every name) or a prefix such as \"kimi-*\"", d.Model, d.ModelName)
	}
	return nil
}

// maxWildcardNames bounds the names a wildcard entry keeps resolved: the names come from
// clients.
const maxWildcardNames = 1024

// maxModelName bounds a name a wildcard passes upstream.
const maxModelName = 256

// wildcards are the pattern groups of a Handler, most specific first.
type wildcards struct {
	groups   []*group
	resolved sync.Map // name → *group
	count    atomic.Int64
}

func (wc *wildcards) add(g *group) {
	wc.groups = append(wc.groups, g)
	slices.SortStableFunc(wc.groups, func(a, b *group) int {
		return (len(b.name) - strings.Count(b.name, "*")) - (len(a.name) - strings.Count(a.name, "*"))
	})
}

// groupFor is the group serving name: an exact model_name, else the best wildcard's
// deployments with the model filled in, else nil.
func (h *Handler) groupFor(name string) *group {
	if g := h.groups[name]; g != nil {
		return g
	}
	if len(h.wild.groups) == 0 || len(name) > maxModelName || strings.ContainsAny(name, "*\x00") {
		return nil
	}
	if g, ok := h.wild.resolved.Load(name); ok {
		return g.(*group)
	}
	for _, pg := range h.wild.groups {
		if n := matchWildcard(pg.name, name); n < 0 || n == len(name) {
			continue // no match, or "*" would match nothing
		}
		g := h.newGroup(name)
		g.pattern = pg.name
		for _, pd := range pg.deployments {
			model := expand(pg.name, name, pd.Model)
			if model == "" {
				return nil
			}
			d := &deployment{Deployment: pd.Deployment, client: pd.client, streamClient: pd.streamClient, dropParams: pd.dropParams, base: pd.base}
			d.Model, d.ModelName = model, name
			d.price = d.priceOf(model)
			d.remote.Store(h.remoteOf(model))
			g.deployments = append(g.deployments, d)
		}
		g.weighted = pg.weighted
		if h.wild.count.Load() < maxWildcardNames {
			h.wild.count.Add(1)
			h.wild.resolved.Store(name, g)
		}
		return g
	}
	return nil
}

// remoteOf is the upstreams' description of model from the last RefreshModels, if any.
func (h *Handler) remoteOf(model string) *moonshot.RemoteModel {
	if c := h.catalog.Load(); c != nil {
		for i := range *c {
			if (*c)[i].ID == model {
				return &(*c)[i]
			}
		}
	}
	return nil
}

// wildcardNames are the names GET /models lists for the wildcard entries: each model of the
// upstreams' list (or, before one was fetched, of the built-in table) that a pattern serves.
func (h *Handler) wildcardNames() []string {
	if len(h.wild.groups) == 0 {
		return nil
	}
	var ids []string
	if c := h.catalog.Load(); c != nil {
		for _, m := range *c {
			ids = append(ids, m.ID)
		}
	} else {
		for _, m := range moonshot.KnownModels() {
			if m.Retired == nil {
				ids = append(ids, m.ID)
			}
		}
	}
	var out []string
	seen := map[string]bool{}
	for _, pg := range h.wild.groups {
		for _, pd := range pg.deployments {
			if !isWildcard(pd.Model) {
				continue
			}
			for _, id := range ids {
				if matchWildcard(pd.Model, id) < 0 {
					continue
				}
				name := expand(pd.Model, id, pg.name)
				if h.groups[name] == nil && !seen[name] {
					seen[name] = true
					out = append(out, name)
				}
			}
		}
	}
	return out
}

func (h *Handler) newGroup(name string) *group {
	b, _ := json.Marshal(name)
	return &group{name: name, created: h.created, modelField: append([]byte(`"model":`), b...)}
}
