package chat

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/moonchat/moonchat/cmd/cli"
	"github.com/moonchat/moonchat/pkg/config"
)

// lookupRole finds a role of the config file, or says which ones there are.
func lookupRole(cfg *config.Config, name string) (config.Role, error) {
	if r, ok := cfg.Role(name); ok {
		return r, nil
	}
	var names []string
	for _, r := range cfg.Roles() {
		names = append(names, r.Name)
	}
	if len(names) == 0 {
		return config.Role{}, &cli.UsageError{Err: fmt.Errorf("no role %q: the config file defines no roles", name),
			Hint: "add them under roles: with `moonchat config edit`; `moonchat roles --help` shows how"}
	}
	return config.Role{}, &cli.UsageError{Err: fmt.Errorf("no role %q; the roles are %s", name, strings.Join(names, ", ")),
		Hint: "`moonchat roles list` shows them"}
}

// applyRole sets what the role defines, except what a flag of kept gave. A relative tools
// path is taken from the directory of the config file (at configPath), where the role is
// written.
func (set *Settings) applyRole(r config.Role, configPath string, kept func(flag string) bool) {
	if r.System != "" && !kept("system") {
		set.System, set.systemGiven = r.System, true
	}
	if r.Model != "" && !kept("model") {
		set.Model, set.modelGiven = r.Model, true
	}
	if r.Temperature != nil && !kept("temperature") {
		t := *r.Temperature
		set.Temperature = &t
	}
	f := &set.Features
	if r.Thinking != nil && !kept("no-thinking") {
		f.NoThinking = !*r.Thinking
	}
	if r.ReasoningEffort != "" && !kept("reasoning-effort") {
		f.ReasoningEffort = r.ReasoningEffort
	}
	if r.Tools != "" && !kept("tools") {
		path := expandHome(r.Tools)
		if !filepath.IsAbs(path) && configPath != "" {
			path = filepath.Join(filepath.Dir(configPath), path)
		}
		f.ToolsFile = path
	}
	set.Role = r.Name
}

// roleFromFlags applies -r/--role before the feature flags are checked: a role's tools file
// is read and its settings are checked with the rest.
func roleFromFlags(cmd *cobra.Command, opts *Options) error {
	if opts.Settings.Role == "" {
		return nil
	}
	r, err := lookupRole(opts.Config, opts.Settings.Role)
	if err != nil {
		return err
	}
	opts.Settings.applyRole(r, opts.Config.FilePath(), cmd.Flags().Changed)
	return nil
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(strings.TrimSpace(s), "\n")
	return line
}

// completeRoles completes -r/--role with the roles of the config file, each described by the
// first line of its system prompt.
func completeRoles(f *cli.Factory) func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
	return func(_ *cobra.Command, _ []string, toComplete string) ([]string, cobra.ShellCompDirective) {
		cfg, err := f.Config()
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		var out []string
		for _, r := range roleChoices(cfg) {
			if strings.HasPrefix(r.value, toComplete) {
				out = append(out, r.value+"\t"+r.desc)
			}
		}
		return out, cobra.ShellCompDirectiveNoFileComp
	}
}

// roleChoices are the roles as completion offers them, in the shell and in the session.
func roleChoices(cfg *config.Config) []candidate {
	var out []candidate
	for _, r := range cfg.Roles() {
		desc := cli.ShownLine(firstLine(r.System))
		if r.Model != "" {
			desc = strings.TrimSpace(r.Model + " · " + desc)
		}
		out = append(out, candidate{value: r.Name, desc: desc, group: "roles"})
	}
	return out
}
