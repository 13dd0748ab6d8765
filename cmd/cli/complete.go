package cli

import (
	"strings"

	"github.com/spf13/cobra"

	"github.com/moonchat/moonchat/pkg/config"
	"github.com/moonchat/moonchat/pkg/moonshot"
)

// ModelChoice is a model id offered by completion, with its one-line description.
type ModelChoice struct {
	ID, Description string
}

// ModelChoices are the model ids completion offers, in the shell and in the session alike:
// "auto", the current models of the built-in table (retired ones are left out, the API
// refuses them) and the configured model when the table does not know it.
func ModelChoices(configured string) []ModelChoice {
	var out []ModelChoice
	seen := map[string]bool{}
	add := func(id, desc string) {
		if !seen[id] {
			seen[id] = true
			out = append(out, ModelChoice{id, desc})
		}
	}
	add("auto", "the first of auto_models whose context fits the prompt")
	for _, m := range moonshot.CurrentModels() {
		add(m.ID, ModelSummary(m))
	}
	if configured != "" {
		add(configured, "configured model")
	}
	return out
}

// CompleteModels completes -m/--model. It answers from the built-in model table, so a Tab
// never waits for the network or needs a key.
func CompleteModels(f *Factory) func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
	return func(_ *cobra.Command, _ []string, toComplete string) ([]string, cobra.ShellCompDirective) {
		configured := ""
		// A broken config file must not break completion; the command reports it when run.
		if cfg, err := f.Config(); err == nil {
			configured = cfg.Value(config.KeyModel).Raw
		}
		var out []string
		for _, c := range ModelChoices(configured) {
			if strings.HasPrefix(c.ID, toComplete) {
				out = append(out, c.ID+"\t"+c.Description)
			}
		}
		return out, cobra.ShellCompDirectiveNoFileComp
	}
}
