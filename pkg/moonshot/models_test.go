package moonshot

import (
	"errors"
	"strings"
	"testing"
)

func TestModelTableFacts(t *testing.T) {
	for _, c := range []struct {
		id       string
		ctx      int
		vision   bool
		required bool
		family   Family
		retired  string // replacement, "" when current
	}{
		{"kimi-k3.1-pro", 1048576, true, false, FamilyK3, ""},
		{"kimi-k3.1-pro-highspeed", 1048576, true, false, FamilyK3, ""},
		{"kimi-k3", 1048576, true, true, FamilyK3, ""},
		{"kimi-k2.7-code", 262144, true, false, FamilyFixed, ""},
		{"kimi-k2.6", 262144, true, false, FamilyFixed, ""},
		{"kimi-k2.5", 262144, true, false, FamilyFixed, "kimi-k2.6"},
		{"kimi-k2-thinking-turbo", 262144, false, false, FamilyThinking, "kimi-k2.7-code-highspeed"},
		{"kimi-latest", 131072, true, false, FamilyLegacy, "kimi-k2.6"},
		{"moonshot-v1-auto", 131072, false, false, FamilyLegacy, "kimi-k2.6"},
		{"kimi-thinking-preview", 131072, true, false, FamilyThinking, "kimi-k2.6"},
	} {
		s, ok := LookupModel(c.id)
		if !ok || s.Context != c.ctx || s.Vision != c.vision || s.RequiredToolChoice != c.required || s.Family != c.family {
			t.Errorf("%s: %+v", c.id, s)
		}
		switch {
		case c.retired == "" && s.Retired != nil:
			t.Errorf("%s marked retired: %v", c.id, s.Retired)
		case c.retired != "" && (s.Retired == nil || s.Retired.Replacement != c.retired):
			t.Errorf("%s: retired %v, want replacement %s", c.id, s.Retired, c.retired)
		}
	}
	// Every replacement is a current model, and every price says where it is from.
	for _, m := range KnownModels() {
		if m.Retired != nil {
			if r, _ := LookupModel(m.Retired.Replacement); r.Retired != nil || r.ID != m.Retired.Replacement {
				t.Errorf("%s is replaced by %s, which is not current", m.ID, m.Retired.Replacement)
			}
		}
	}
	if d, _ := LookupModel(DefaultModel); d.Retired != nil {
		t.Errorf("the default model %s is retired", DefaultModel)
	}
}

func TestLookupByPattern(t *testing.T) {
	for id, want := range map[string]Family{
		"kimi-k2.8": FamilyFixed, "kimi-k2.10-preview": FamilyFixed,
		"kimi-k3.2": FamilyK3, "kimi-k2.7-code-x": FamilyFixed, "kimi-k2-thinking-x": FamilyThinking,
	} {
		s, ok := LookupModel(id)
		if !ok || s.Family != want || s.ID != id || s.Retired != nil || s.Price.Known() {
			t.Errorf("%s: %+v", id, s)
		}
	}
	// kimi-k2.1 is no fixed-family id: unknown, so it gets the legacy rules.
	if s, ok := LookupModel("kimi-k2.1"); ok || s.Family != FamilyLegacy {
		t.Errorf("kimi-k2.1: %v %+v", ok, s)
	}
	if s, _ := LookupModel("kimi-k3.2"); s.RequiredToolChoice || s.Context != 1048576 {
		t.Errorf("an unseen k3 variant: %+v", s)
	}
	if s, _ := LookupModel("kimi-k2.7-code-x"); s.Thinking != ThinkingRequired || !s.PreservesThinking {
		t.Errorf("a k2.7-code variant: %+v", s)
	}
}

func TestCatalogRefines(t *testing.T) {
	c := NewCatalog()
	if s, _ := c.Lookup("kimi-k2.5"); s.Retired == nil {
		t.Fatal("the table marks kimi-k2.5 retired")
	}
	c.Refine([]RemoteModel{{ID: "kimi-k2.5", ContextLength: 131072}, {ID: "acme-x", ContextLength: 4096, SupportsReasoning: true, SupportsImageIn: true}})
	if s, ok := c.Lookup("kimi-k2.5"); !ok || s.Retired != nil || s.Context != 131072 {
		t.Errorf("a listed model is served, with the server's context: %+v", s)
	}
	if s, ok := c.Lookup("moonshot/acme-x"); !ok || s.Context != 4096 || !s.Vision || s.Family != FamilyThinking {
		t.Errorf("an unknown listed model: %+v", s)
	}
	c.Refine(nil) // an empty answer tells nothing
	if got := c.Listed(); len(got) != 2 || got[0] != "kimi-k2.5" {
		t.Errorf("listed %v", got)
	}
	var nilCat *Catalog
	if nilCat.Remote("x") != nil {
		t.Error("a nil catalog knows a model")
	}
}

func TestRetirementTexts(t *testing.T) {
	s, _ := LookupModel("moonshot-v1-8k")
	if got, want := s.Retired.Notice(s.ID), "moonshot-v1-8k was retired by Moonshot on 2026-08-31 (a date from third parties); use kimi-k2.6 with --no-thinking instead (sending the request anyway)"; got != want {
		t.Errorf("notice %q, want %q", got, want)
	}
	s, _ = LookupModel("kimi-thinking-preview")
	if got, want := s.Retired.Sentence(s.ID), "kimi-thinking-preview was retired by Moonshot on 2025-11-11; use kimi-k2.6"; got != want {
		t.Errorf("sentence %q, want %q", got, want)
	}
	s, _ = LookupModel("moonshot-v1-auto")
	if got, want := s.Retired.Sentence(s.ID), "moonshot-v1-auto was retired by Moonshot; use kimi-k2.6 with --no-thinking"; got != want {
		t.Errorf("sentence %q, want %q", got, want)
	}
	nf := &APIError{StatusCode: 404, Type: ErrTypeNotFound, Message: "Not found the model kimi-k2-0905-preview or Permission denied"}
	if spec, ok := RetiredModel(nf); !ok || spec.ID != "kimi-k2-0905-preview" {
		t.Errorf("RetiredModel = %v %v", spec.ID, ok)
	}
	for _, err := range []error{
		&APIError{StatusCode: 404, Type: ErrTypeNotFound, Message: "Not found the model kimi-k2.6 or Permission denied"},
		&APIError{StatusCode: 400, Message: "Not found the model kimi-k2.5 or Permission denied"},
		errors.New("Not found the model kimi-k2.5 or Permission denied"),
	} {
		if _, ok := RetiredModel(err); ok {
			t.Errorf("%v counted as a retired model", err)
		}
	}
}

func TestDefaultBudget(t *testing.T) {
	spec := func(id string) ModelSpec { s, _ := LookupModel(id); return s }
	for _, c := range []struct {
		id     string
		prompt int
		want   int
	}{
		{"kimi-k3.1-pro", 100, 131072},                   // default unknown: the k3 family's
		{"kimi-k3.1-pro", 1048576 - 50000, 50000 - 1024}, // capped by the context left
		{"kimi-k3.1-pro", 1048576 - 2000, 0},             // no room worth sending: the server decides
		{"kimi-k3", 100, 0},                              // documented default 131,072
		{"kimi-k2.6", 100, 0},                            // documented default 32,768
		{"moonshot-v1-8k", 100, 0},                       // does not think
		{"kimi-k3.7", 100, 131072},                       // an unseen k3 variant
	} {
		if got := spec(c.id).DefaultBudget(c.prompt); got != c.want {
			t.Errorf("%s with %d prompt tokens: %d, want %d", c.id, c.prompt, got, c.want)
		}
	}
	if u, _ := LookupModel("acme-1"); u.DefaultBudget(0) != 0 {
		t.Error("an unknown model got a budget")
	}
	if n := EstimatePromptTokens([]Message{TextMessage("user", strings.Repeat("ab", 1000))}); n < 1000 {
		t.Errorf("estimate %d is below one token per two bytes", n)
	}
}

func TestOutputLimitField(t *testing.T) {
	for _, c := range []struct {
		model        string
		maxTokens    *int
		maxComplete  *int
		wantTokens   *int
		wantComplete *int
		adjusted     bool
	}{
		{"kimi-k2.6", intp(100), nil, nil, intp(100), true},
		{"kimi-k3", intp(100), intp(200), nil, intp(200), true},
		{"kimi-k3", nil, intp(200), nil, intp(200), false},
		{"moonshot-v1-8k", nil, intp(200), intp(200), nil, true},
		{"moonshot-v1-8k", intp(100), nil, intp(100), nil, false},
	} {
		r := userReq(c.model)
		r.MaxTokens, r.MaxCompletionTokens = c.maxTokens, c.maxComplete
		got, adj, err := Fix(r, FixOptions{})
		if err != nil {
			t.Fatal(err)
		}
		eq := func(a, b *int) bool { return (a == nil) == (b == nil) && (a == nil || *a == *b) }
		if !eq(got.MaxTokens, c.wantTokens) || !eq(got.MaxCompletionTokens, c.wantComplete) || (len(adj) > 0) != c.adjusted {
			t.Errorf("%s %v/%v: max_tokens %v max_completion_tokens %v adj %v", c.model, c.maxTokens, c.maxComplete, got.MaxTokens, got.MaxCompletionTokens, adj)
		}
	}
}
