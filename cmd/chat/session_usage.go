package chat

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/moonchat/moonchat/cmd/cli"
	"github.com/moonchat/moonchat/pkg/moonshot"
)

// usageTotal is what a conversation has cost so far, from the usage saved with each answer:
// earlier sessions' answers count too, so a resumed conversation shows its whole cost.
type usageTotal struct {
	answers, unreported        int // answers, and those without a usage report (stopped, cut)
	prompt, completion, cached int
	cost                       map[string]float64 // by currency
	unpriced                   []string           // models without a known price
}

func (th *thread) usageTotal() usageTotal {
	t := usageTotal{cost: map[string]float64{}}
	for _, tr := range th.turns {
		m := tr.stored
		if m.Role != "assistant" {
			continue
		}
		t.answers++
		if m.PromptTokens == 0 && m.CompletionTokens == 0 {
			t.unreported++
			continue
		}
		t.prompt += m.PromptTokens
		t.completion += m.CompletionTokens
		t.cached += m.CachedTokens
		spec, _ := moonshot.LookupModel(m.Model)
		if !spec.Price.Known() {
			if id := cli.ShownLine(m.Model); !slices.Contains(t.unpriced, id) {
				t.unpriced = append(t.unpriced, id)
			}
			continue
		}
		u := moonshot.Usage{PromptTokens: m.PromptTokens, CompletionTokens: m.CompletionTokens, CachedTokens: m.CachedTokens}
		t.cost[spec.Price.Currency] += spec.Price.Cost(&u)
	}
	return t
}

// String is one line: "3 answers: 1200 prompt + 340 completion tokens (800 cached) · ≈ USD 0.001234".
func (t usageTotal) String() string {
	if t.answers == 0 {
		return "no answers yet"
	}
	plural := "s"
	if t.answers == 1 {
		plural = ""
	}
	line := fmt.Sprintf("%d answer%s: %d prompt + %d completion tokens (%d cached)", t.answers, plural, t.prompt, t.completion, t.cached)
	var costs []string
	for _, cur := range slices.Sorted(maps.Keys(t.cost)) {
		costs = append(costs, fmt.Sprintf("%s %.6f", cur, t.cost[cur]))
	}
	if len(costs) > 0 {
		line += " · ≈ " + strings.Join(costs, " + ")
	}
	if len(t.unpriced) > 0 {
		line += " · cost unknown for " + strings.Join(t.unpriced, ", ")
	}
	if t.unreported > 0 {
		line += fmt.Sprintf(" · %d without a usage report (stopped or cut short)", t.unreported)
	}
	return line
}

// lastAnswer is the content of the thread's last answer ("" when there is none).
func (th *thread) lastAnswer() string {
	for i := len(th.turns) - 1; i >= 0; i-- {
		if m := th.turns[i].stored; m.Role == "assistant" && m.Content != "" {
			return m.Content
		}
	}
	return ""
}
