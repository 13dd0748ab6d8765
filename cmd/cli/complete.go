package cli

import (
	"strings"

	"github.com/spf13/cobra"

	"github.com/moonchat/moonchat/pkg/moonshot"
)

// CompleteModels completes -m/--model. It answers from the built-in model table, so a Tab
// never waits for the network or needs a key; the configured model is offered too when the
// table does not know it. Retired models are left out: the API refuses them.
func CompleteModels(f *Factory) func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
	return func(_ *cobra.Command, _ []string, toComplete string) ([]string, cobra.ShellCompDirective) {
		var out []string
		seen := map[string]bool{}
		add := func(id, desc string) {
			if seen[id] || !strings.HasPrefix(id, toComplete) {
				return
			}
			seen[id] = true
			out = append(out, id+"\t"+desc)
		}
		add("auto", "the first of auto_models whose context fits the prompt")
		for _, m := range moonshot.CurrentModels() {
			add(m.ID, ModelSummary(m))
		}
		// A broken config file must not break completion; the command reports it when run.
		if cfg, err := f.Config(); err == nil {
			if id := cfg.Value("model").Raw; id != "" {
				add(id, "configured model")
			}
		}
		return out, cobra.ShellCompDirectiveNoFileComp
	}
}
