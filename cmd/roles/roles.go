// Package roles implements `moonchat roles list`: the roles of the config file.
package roles

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/moonchat/moonchat/cmd/cli"
	"github.com/moonchat/moonchat/pkg/config"
	"github.com/moonchat/moonchat/pkg/iostreams"
)

// Options are the inputs of a roles run.
type Options struct {
	IO     *iostreams.IOStreams
	Config *config.Config
	JSON   bool
}

// NewCmdRoles builds `roles` and its subcommand. runF replaces the run function in tests of
// flag parsing.
func NewCmdRoles(f *cli.Factory, runF func(*Options) error) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "roles <command>",
		Short: "List the roles of the config file",
		Long: cli.Doc(`
			A role is a named set of chat settings in the config file, under roles: a system
			prompt and, optionally, a model, a temperature, the thinking switch (thinking:
			false answers without thinking), kimi-k3's reasoning_effort and a tools file (a
			relative path is taken from the config file's directory). A role given as one
			string is just its system prompt.

			    roles:
			      reviewer:
			        system: You review Go code. Point out bugs first, then style.
			        model: kimi-k2.6
			        temperature: 0.3
			        thinking: false
			      shell: Answer with one POSIX shell command and nothing else.

			chat -r NAME (--role) applies a role; flags given with it still win (-m, -s,
			--temperature, --no-thinking, --reasoning-effort, --tools). In a session, /role NAME
			switches to one: what it defines replaces the session's settings, the rest stays.
			A role's model goes through the same parameter fixes and notices as -m. Edit the
			roles with "moonchat config edit".
		`),
		Example: cli.Doc(`
			$ moonchat roles list
			$ moonchat chat -r reviewer -f main.go "Review this"
			$ moonchat chat -r shell "find files larger than 1 GB"
		`),
		Args: cobra.ArbitraryArgs,
		RunE: cli.UnknownSubcommand,
	}
	opts := &Options{IO: f.IOStreams}
	list := &cobra.Command{
		Use:     "list [--json]",
		Aliases: []string{"ls"},
		Short:   "List the roles with their model and the start of their system prompt",
		Long: cli.Doc(`
			List the roles of the config file, sorted by name. On a terminal, a table: name,
			model (or - when the role keeps the chat's), and the first line of the system
			prompt. Piped, one line per role: name, tab, model, tab, system prompt's first line.
			--json prints an array of objects with the fields name, system, model, temperature,
			thinking, reasoning_effort and tools (null or "" when the role does not set them).
		`),
		Example: cli.Doc(`
			$ moonchat roles list
			$ moonchat roles list --json | jq -r '.[].name'
		`),
		Args: cli.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := f.Config()
			if err != nil {
				return err
			}
			opts.Config = cfg
			if runF != nil {
				return runF(opts)
			}
			return listRun(opts)
		},
	}
	list.Flags().BoolVar(&opts.JSON, "json", false, "print a JSON array")
	cmd.AddCommand(list)
	return cmd
}

type roleJSON struct {
	Name            string   `json:"name"`
	System          string   `json:"system"`
	Model           string   `json:"model"`
	Temperature     *float64 `json:"temperature"`
	Thinking        *bool    `json:"thinking"`
	ReasoningEffort string   `json:"reasoning_effort"`
	Tools           string   `json:"tools"`
}

func listRun(opts *Options) error {
	roles := opts.Config.Roles()
	if opts.JSON {
		items := make([]roleJSON, 0, len(roles))
		for _, r := range roles {
			items = append(items, roleJSON{r.Name, r.System, r.Model, r.Temperature, r.Thinking, r.ReasoningEffort, r.Tools})
		}
		return cli.WriteJSON(opts.IO.Out, items)
	}
	if len(roles) == 0 {
		fmt.Fprintf(opts.IO.ErrOut, "no roles yet: add them under roles: in %s (moonchat config edit); `moonchat roles --help` shows how\n", opts.Config.FilePath())
		return nil
	}
	rows := make([][]string, 0, len(roles))
	for _, r := range roles {
		model := r.Model
		if model == "" {
			model = "-"
		}
		rows = append(rows, []string{r.Name, model, summary(r)})
	}
	if !opts.IO.IsStdoutTTY() {
		for _, r := range rows {
			if _, err := fmt.Fprintln(opts.IO.Out, strings.Join(r, "\t")); err != nil {
				return err
			}
		}
		return nil
	}
	return cli.WriteTable(opts.IO.Out, append([][]string{{"NAME", "MODEL", "SYSTEM PROMPT"}}, rows...))
}

// summary is the first line of the role's system prompt, with its other settings after it.
func summary(r config.Role) string {
	first, _, _ := strings.Cut(strings.TrimSpace(r.System), "\n")
	first = strings.Join(strings.Fields(first), " ")
	var extra []string
	if r.Temperature != nil {
		extra = append(extra, "temperature "+strconv.FormatFloat(*r.Temperature, 'f', -1, 64))
	}
	if r.Thinking != nil && !*r.Thinking {
		extra = append(extra, "no thinking")
	}
	if r.ReasoningEffort != "" {
		extra = append(extra, "effort "+r.ReasoningEffort)
	}
	if r.Tools != "" {
		extra = append(extra, "tools "+r.Tools)
	}
	if len(extra) > 0 {
		first += " (" + strings.Join(extra, ", ") + ")"
	}
	return strings.TrimSpace(first)
}
