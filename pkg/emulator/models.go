package emulator

import "strings"

// Model is one entry of the emulator's model table. The emulator keeps its own
// table (it does not import pkg/moonshot) because it plays the server and must
// not share the assumptions of the client it checks.
type Model struct {
	ID            string
	ContextLength int
	Vision        bool
	Video         bool
	Reasoning     bool
	// Family selects the server-side rules: "legacy", "thinking", "fixed" or
	// "k3". Empty means "derive it from the ID".
	Family string
	// Owner is reported as owned_by; empty means "moonshot".
	Owner string
}

// Families, as docs/moonshot-api.md §1 describes them.
const (
	FamilyLegacy   = "legacy"
	FamilyThinking = "thinking"
	FamilyFixed    = "fixed"
	FamilyK3       = "k3"
)

// DefaultModels returns the models the emulator serves: the ones Moonshot served
// late in 2026 first, then the retired ids
// (docs/moonshot-api.md §7), which the real platform answers with 404 but which the
// emulator keeps serving so that the legacy and thinking families' rules stay
// testable offline.
func DefaultModels() []Model {
	m := func(id string, ctx int, vision, video, reasoning bool, family string) Model {
		return Model{ID: id, ContextLength: ctx, Vision: vision, Video: video, Reasoning: reasoning, Family: family, Owner: "moonshot"}
	}
	return []Model{
		m("kimi-k3.1-pro", 1048576, true, true, true, FamilyK3),
		m("kimi-k3.1-pro-highspeed", 1048576, true, true, true, FamilyK3),
		m("kimi-k3", 1048576, true, true, true, FamilyK3),
		m("kimi-k2.7-code", 262144, true, true, true, FamilyFixed),
		m("kimi-k2.7-code-highspeed", 262144, true, true, true, FamilyFixed),
		m("kimi-k2.6", 262144, true, true, true, FamilyFixed),

		m("kimi-k2.5", 262144, true, true, true, FamilyFixed),
		m("kimi-k2-thinking", 262144, false, false, true, FamilyThinking),
		m("kimi-k2-thinking-turbo", 262144, false, false, true, FamilyThinking),
		m("kimi-k2-0711-preview", 131072, false, false, false, FamilyLegacy),
		m("kimi-k2-0905-preview", 262144, false, false, false, FamilyLegacy),
		m("kimi-k2-turbo-preview", 262144, false, false, false, FamilyLegacy),
		m("kimi-latest", 131072, true, false, false, FamilyLegacy),
		m("moonshot-v1-8k", 8192, false, false, false, FamilyLegacy),
		m("moonshot-v1-32k", 32768, false, false, false, FamilyLegacy),
		m("moonshot-v1-128k", 131072, false, false, false, FamilyLegacy),
		// -auto picks 8k/32k/128k by length, so its ceiling is the 128k model's.
		m("moonshot-v1-auto", 131072, false, false, false, FamilyLegacy),
		m("moonshot-v1-8k-vision-preview", 8192, true, false, false, FamilyLegacy),
		m("moonshot-v1-32k-vision-preview", 32768, true, false, false, FamilyLegacy),
		m("moonshot-v1-128k-vision-preview", 131072, true, false, false, FamilyLegacy),
	}
}

// familyOf is the family a model plays by: its own Family when set, else the
// one its ID implies (unknown ids get the legacy rules, as on the client).
func familyOf(m Model) string {
	switch m.Family {
	case FamilyLegacy, FamilyThinking, FamilyFixed, FamilyK3:
		return m.Family
	}
	id := m.ID
	switch {
	case strings.HasPrefix(id, "kimi-k3"):
		return FamilyK3
	case strings.HasPrefix(id, "kimi-k2-thinking"):
		return FamilyThinking
	case k2Minor(id) >= 5:
		return FamilyFixed
	}
	return FamilyLegacy
}

// k2Minor is N of a kimi-k2.N id (kimi-k2.10-x gives 10), or -1.
func k2Minor(id string) int {
	rest, ok := strings.CutPrefix(id, "kimi-k2.")
	if !ok {
		return -1
	}
	n, digits := 0, 0
	for ; digits < len(rest) && rest[digits] >= '0' && rest[digits] <= '9' && digits < 4; digits++ {
		n = n*10 + int(rest[digits]-'0')
	}
	if digits == 0 {
		return -1
	}
	return n
}

// thinkingAlwaysOn reports fixed-family models that refuse thinking
// {"type":"disabled"} (kimi-k2.7-code and its -highspeed twin).
func thinkingAlwaysOn(m Model) bool {
	return strings.HasPrefix(m.ID, "kimi-k2.7-code")
}

// defaultTemperature is the temperature the server uses when a legacy or
// thinking request gives none (docs/moonshot-api.md §1): moonshot-v1 0,
// kimi-latest and k2 0.6, k2-thinking 1.0. Fixed and k3 models have a fixed
// value instead.
func defaultTemperature(m Model) float64 {
	switch {
	case familyOf(m) != FamilyLegacy:
		return 1
	case strings.HasPrefix(m.ID, "moonshot-v1"):
		return 0
	}
	return 0.6
}

func ownerOf(m Model) string {
	if m.Owner == "" {
		return "moonshot"
	}
	return m.Owner
}
