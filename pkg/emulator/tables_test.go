package emulator

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/moonchat/moonchat/pkg/moonshot"
)

// The emulator plays the server, so it keeps its own model table and rules; the client keeps
// its own in pkg/moonshot. Where they disagree, one of them is wrong or the difference is on
// purpose. tableDifferences lists the purposeful ones, keyed "id fact", with the reason.
var tableDifferences = map[string]string{
	// Moonshot answers 404 for retired ids. The emulator keeps serving them so that the legacy
	// and thinking families' rules stay testable offline; the client marks them retired.
	"kimi-k2.5 served":                       "retired ids stay served by the emulator",
	"kimi-k2-thinking served":                "retired ids stay served by the emulator",
	"kimi-k2-thinking-turbo served":          "retired ids stay served by the emulator",
	"kimi-k2-0711-preview served":            "retired ids stay served by the emulator",
	"kimi-k2-0905-preview served":            "retired ids stay served by the emulator",
	"kimi-k2-turbo-preview served":           "retired ids stay served by the emulator",
	"kimi-latest served":                     "retired ids stay served by the emulator",
	"moonshot-v1-8k served":                  "retired ids stay served by the emulator",
	"moonshot-v1-32k served":                 "retired ids stay served by the emulator",
	"moonshot-v1-128k served":                "retired ids stay served by the emulator",
	"moonshot-v1-auto served":                "retired ids stay served by the emulator",
	"moonshot-v1-8k-vision-preview served":   "retired ids stay served by the emulator",
	"moonshot-v1-32k-vision-preview served":  "retired ids stay served by the emulator",
	"moonshot-v1-128k-vision-preview served": "retired ids stay served by the emulator",
	// kimi-thinking-preview was discontinued in 2025; the emulator never served it, the client
	// keeps it to name its replacement.
	"kimi-thinking-preview listed": "retired in 2025, before the emulator's table",
	// Whether K3.1 accepts tool_choice "required" is undocumented (docs/moonshot-api.md §1): the
	// client applies LiteLLM's rule 3, which works either way; the emulator plays k3's rules.
	"kimi-k3.1-pro required":           "K3.1's support for \"required\" is unverified; rule 3 is safe",
	"kimi-k3.1-pro-highspeed required": "K3.1's support for \"required\" is unverified; rule 3 is safe",
	"kimi-k3.9 required":               "an unseen k3 variant gets rule 3 until it is known to accept \"required\"",
}

// probes are ids neither table lists: both sides classify them by their pattern.
var probes = []string{"kimi-k2.8", "kimi-k2.10-preview", "kimi-k2.7-code-2", "kimi-k3.9", "kimi-k2-thinking-x", "kimi-k2.1", "moonshot-v1-1m", "acme-1"}

func emulatorFamily(f string) moonshot.Family {
	switch f {
	case FamilyThinking:
		return moonshot.FamilyThinking
	case FamilyFixed:
		return moonshot.FamilyFixed
	case FamilyK3:
		return moonshot.FamilyK3
	}
	return moonshot.FamilyLegacy
}

// facts are what both tables say about a model, in words that compare.
func clientFacts(s moonshot.ModelSpec, exact bool) map[string]string {
	f := map[string]string{
		"family":   s.Family.String(),
		"required": fmt.Sprint(s.RequiredToolChoice),
	}
	if exact {
		f["listed"] = "true"
		f["served"] = fmt.Sprint(s.Retired == nil)
		f["context"] = fmt.Sprint(s.Context)
		f["vision"] = fmt.Sprint(s.Vision)
		f["video"] = fmt.Sprint(s.Video)
		f["thinks"] = fmt.Sprint(s.Thinking != moonshot.ThinkingNone)
		f["switchable"] = fmt.Sprint(s.Thinking == moonshot.ThinkingDefault)
	}
	return f
}

func emulatorFacts(m Model, exact bool) map[string]string {
	fam := familyOf(m)
	f := map[string]string{
		"family":   emulatorFamily(fam).String(),
		"required": fmt.Sprint(fam == FamilyK3),
	}
	if exact {
		f["listed"] = "true"
		f["served"] = "true"
		f["context"] = fmt.Sprint(m.ContextLength)
		f["vision"] = fmt.Sprint(m.Vision)
		f["video"] = fmt.Sprint(m.Video)
		f["thinks"] = fmt.Sprint(fam != FamilyLegacy)
		f["switchable"] = fmt.Sprint(fam == FamilyFixed && !thinkingAlwaysOn(m))
	}
	return f
}

// TestModelTablesAgree diffs the client's table with the emulator's: every difference must be
// listed in tableDifferences with its reason, and every listed difference must still exist.
func TestModelTablesAgree(t *testing.T) {
	emu := map[string]Model{}
	for _, m := range DefaultModels() {
		emu[m.ID] = m
	}
	client := map[string]moonshot.ModelSpec{}
	for _, s := range moonshot.KnownModels() {
		client[s.ID] = s
	}
	ids := slices.Concat(probes)
	for id := range emu {
		ids = append(ids, id)
	}
	for id := range client {
		if _, ok := emu[id]; !ok {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)

	seen := map[string]bool{}
	for _, id := range ids {
		m, inEmu := emu[id]
		s, inClient := client[id]
		exact := inEmu || inClient
		if !inEmu {
			m = Model{ID: id}
		}
		if !inClient {
			s, _ = moonshot.LookupModel(id)
		}
		cf, ef := clientFacts(s, exact), emulatorFacts(m, exact)
		if exact && !inEmu {
			ef = map[string]string{"listed": "false"}
			cf = map[string]string{"listed": "true"}
		}
		for fact, want := range cf {
			got, ok := ef[fact]
			if !ok || got == want {
				continue
			}
			key := id + " " + fact
			seen[key] = true
			if _, listed := tableDifferences[key]; !listed {
				t.Errorf("%s: client says %s, emulator says %s; fix one, or list the difference with its reason", key, want, got)
			}
		}
	}
	for key, reason := range tableDifferences {
		if !seen[key] {
			t.Errorf("listed difference %q (%s) no longer exists: remove it", key, reason)
		}
		if strings.TrimSpace(reason) == "" {
			t.Errorf("difference %q has no reason", key)
		}
	}
}
