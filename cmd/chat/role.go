package chat

import (
	"context"
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
// path is taken from the config file's directory, where the role is written.
func (opts *Options) applyRole(r config.Role, kept func(flag string) bool) {
	if r.System != "" && !kept("system") {
		opts.System, opts.systemGiven = r.System, true
	}
	if r.Model != "" && !kept("model") {
		opts.Model, opts.modelGiven = r.Model, true
	}
	if r.Temperature != nil && !kept("temperature") {
		t := *r.Temperature
		opts.Temperature = &t
	}
	f := &opts.Features
	if r.Thinking != nil && !kept("no-thinking") {
		f.NoThinking = !*r.Thinking
	}
	if r.ReasoningEffort != "" && !kept("reasoning-effort") {
		f.ReasoningEffort = r.ReasoningEffort
	}
	if r.Tools != "" && !kept("tools") {
		path := expandHome(r.Tools)
		if !filepath.IsAbs(path) && opts.Config.FilePath() != "" {
			path = filepath.Join(filepath.Dir(opts.Config.FilePath()), path)
		}
		f.ToolsFile = path
	}
	opts.Role = r.Name
}

// roleFromFlags applies -r/--role before the feature flags are checked: a role's tools file
// is read and its settings are checked with the rest.
func roleFromFlags(cmd *cobra.Command, opts *Options) error {
	if opts.Role == "" {
		return nil
	}
	r, err := lookupRole(opts.Config, opts.Role)
	if err != nil {
		return err
	}
	opts.applyRole(r, cmd.Flags().Changed)
	return nil
}

// switchRole is /role NAME in the session: the role's model is checked as /model checks one,
// its tools file read, and only then is anything changed.
func (s *session) switchRole(ctx context.Context, name string) {
	o := s.opts
	if name == "" {
		if o.Role == "" {
			fmt.Fprintln(o.IO.Out, "(no role)")
		} else {
			fmt.Fprintln(o.IO.Out, o.Role)
		}
		for _, r := range o.Config.Roles() {
			fmt.Fprintf(o.IO.Out, "  %-14s %s\n", r.Name, cli.ShownLine(firstLine(r.System)))
		}
		return
	}
	r, err := lookupRole(o.Config, name)
	if err != nil {
		s.report(err)
		return
	}
	trial := *o
	trial.applyRole(r, func(string) bool { return false })
	if err := trial.Features.checkModel(trial.Model); err != nil {
		s.report(err)
		return
	}
	if trial.Model != o.Model && trial.Model != "auto" {
		checkCtx, cancel := context.WithTimeout(ctx, modelCheckTimeout)
		_, err := cli.CheckModel(checkCtx, s.client, trial.Model) // a retired model's notice comes with its question
		cancel()
		if err != nil {
			s.report(fmt.Errorf("role %s: %w", r.Name, err))
			return
		}
	}
	if trial.Features.ToolsFile != o.Features.ToolsFile {
		tools, err := readTools(trial.Features.ToolsFile)
		if err != nil {
			s.report(err)
			return
		}
		trial.Features.tools = tools
	}
	*o = trial
	s.note("role %s · model %s", r.Name, cli.ShownLine(o.Model))
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
