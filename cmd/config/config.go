// Package configcmd implements `moonchat config` and its subcommands: path, list, get, set,
// unset, edit and init.
package configcmd

import (
	"errors"
	"strings"

	"github.com/spf13/cobra"

	"github.com/moonchat/moonchat/cmd/cli"
	"github.com/moonchat/moonchat/pkg/config"
	"github.com/moonchat/moonchat/pkg/iostreams"
)

// Options are the inputs of every config subcommand; Action says which one runs.
type Options struct {
	IO      *iostreams.IOStreams
	Factory *cli.Factory
	// Config is the loaded settings, nil for path and edit: both must work when the file is
	// broken, since they are how it gets fixed.
	Config *config.Config

	Action string // path, list, get, set, unset, edit or init
	Key    string
	Value  string
	// HasValue is false when `set KEY` was given no VALUE: it is then read from the terminal
	// (hidden for the API key) or from piped standard input.
	HasValue bool

	Origin   bool // list: show where each value comes from
	Reveal   bool // list, get: show secrets in full
	JSON     bool // list
	NoVerify bool // init: do not check the key against the API
}

// NewCmdConfig builds the command and its subcommands. runF replaces the run function in tests
// of flag parsing.
func NewCmdConfig(f *cli.Factory, runF func(*Options) error) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "config <command>",
		Short: "Read and change settings: path, list, get, set, unset, edit, init",
		Long: cli.Doc(`
			Read and change moonchat's settings.

			Each setting comes from the first of: a command-line flag, an environment
			variable, the config file, the built-in default. The file is YAML at
			$XDG_CONFIG_HOME/moonchat/config.yaml (MOONCHAT_CONFIG names another
			file); it is written atomically with mode 0600, and reading it never changes
			it. A file that is not valid stops every command with "path:line: problem"
			and exit status 2.

			KEYS
		`) + keysHelp(),
		Example: cli.Doc(`
			$ moonchat config init
			$ moonchat config set model kimi-k3
			$ moonchat config get model
			$ moonchat config list --origin
			$ printf %s "$KEY" | moonchat config set api_key
		`),
		Args: cobra.ArbitraryArgs,
		RunE: cli.UnknownSubcommand,
	}
	for _, sub := range []*cobra.Command{
		newCmdPath(f, runF), newCmdList(f, runF), newCmdGet(f, runF), newCmdSet(f, runF),
		newCmdUnset(f, runF), newCmdEdit(f, runF), newCmdInit(f, runF),
	} {
		cmd.AddCommand(sub)
	}
	return cmd
}

// runAction loads the settings when the action needs them and hands over to runF or configRun.
func runAction(cmd *cobra.Command, f *cli.Factory, opts *Options, runF func(*Options) error) error {
	if opts.Action != "path" && opts.Action != "edit" {
		// Only list and get take the API flags; for the others nothing is Changed.
		cfg, err := cli.Settings(cmd, f)
		var fileErr *config.FileError
		if errors.As(err, &fileErr) {
			return &cli.UsageError{Err: err, Hint: "fix the file with `moonchat config edit`"}
		}
		if err != nil {
			return err
		}
		opts.Config = cfg
	}
	if opts.Key != "" {
		if _, err := config.Find(opts.Key); err != nil {
			return err
		}
	}
	if runF != nil {
		return runF(opts)
	}
	return configRun(cmd.Context(), opts)
}

func newCmdPath(f *cli.Factory, runF func(*Options) error) *cobra.Command {
	opts := &Options{IO: f.IOStreams, Factory: f, Action: "path"}
	return &cobra.Command{
		Use:   "path",
		Short: "Print the config file's location",
		Long: cli.Doc(`
			Print where the config file is, whether or not it exists yet:
			$MOONCHAT_CONFIG, else $XDG_CONFIG_HOME/moonchat/config.yaml, else
			moonchat/config.yaml in the system's user config directory.
		`),
		Example: "$ moonchat config path\n$ cat \"$(moonchat config path)\"",
		Args:    cli.NoArgs,
		RunE:    func(cmd *cobra.Command, _ []string) error { return runAction(cmd, f, opts, runF) },
	}
}

func newCmdList(f *cli.Factory, runF func(*Options) error) *cobra.Command {
	opts := &Options{IO: f.IOStreams, Factory: f, Action: "list"}
	cmd := &cobra.Command{
		Use:   "list [flags]",
		Short: "Show every setting with its value, and where it comes from",
		Long: cli.Doc(`
			Show every setting's value, one "key=value" line each. The API key is masked and
			a password in a proxy URL hidden, unless --reveal.

			--origin adds where each value comes from: flag, env (and the variable), file
			(and the line) or default; on a terminal as a table, piped as tab-separated
			fields (key, value, origin, source). --region, --api-base and --proxy show what
			those flags would change, as every command that calls the API takes them.

			--json prints an array of objects: key, value, origin, source, type, default.
		`),
		Example: cli.Doc(`
			$ moonchat config list
			$ moonchat config list --origin
			$ moonchat config list --json | jq -r '.[] | select(.origin == "env") | .key'
		`),
		Args: cli.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runAction(cmd, f, opts, runF) },
	}
	cmd.Flags().BoolVar(&opts.Origin, "origin", false, "show where each value comes from")
	cmd.Flags().BoolVar(&opts.Reveal, "reveal", false, "show the API key and proxy passwords in full")
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print a JSON array")
	cli.AddAPIFlags(cmd)
	return cmd
}

func newCmdGet(f *cli.Factory, runF func(*Options) error) *cobra.Command {
	opts := &Options{IO: f.IOStreams, Factory: f, Action: "get"}
	cmd := &cobra.Command{
		Use:   "get <key> [flags]",
		Short: "Print one setting's value",
		Long: cli.Doc(`
			Print the value a setting has for this run, from whichever source wins (flag,
			environment, file, default). An unset setting prints nothing. The API key is
			masked unless --reveal.
		`),
		Example: cli.Doc(`
			$ moonchat config get model
			$ moonchat config get api_key --reveal
			$ moonchat config get api_base --region cn
		`),
		Args: exactArgs(1, "config get needs a key, e.g. `moonchat config get model`"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Key = args[0]
			return runAction(cmd, f, opts, runF)
		},
		ValidArgsFunction: completeKeys(0),
	}
	cmd.Flags().BoolVar(&opts.Reveal, "reveal", false, "show the API key or proxy password in full")
	cli.AddAPIFlags(cmd)
	return cmd
}

func newCmdSet(f *cli.Factory, runF func(*Options) error) *cobra.Command {
	opts := &Options{IO: f.IOStreams, Factory: f, Action: "set"}
	return &cobra.Command{
		Use:   "set <key> [<value>]",
		Short: "Write a setting to the config file",
		Long: cli.Doc(`
			Validate a value and write it to the config file (created with mode 0600 when
			missing), keeping the file's comments and the order of its other keys.

			Without a value, it is read from the terminal, hidden for the API key, so that
			it stays out of your shell history; or from standard input when that is a pipe
			or a file.

			A model is checked first: an id of moonchat's table is taken at once (with a note
			when Moonshot retired it), any other only when GET /models lists it for your key.

			An environment variable or flag for the same key still wins; a note on standard
			error says so.
		`),
		Example: cli.Doc(`
			$ moonchat config set model kimi-k3
			$ moonchat config set temperature 0.3
			$ moonchat config set api_key
			$ pass show moonshot | moonchat config set api_key
		`),
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) < 1 || len(args) > 2 {
				return cli.Usagef("config set needs a key and a value, e.g. `moonchat config set model kimi-k3`")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Key = args[0]
			if len(args) == 2 {
				opts.Value, opts.HasValue = args[1], true
			}
			return runAction(cmd, f, opts, runF)
		},
		ValidArgsFunction: completeKeys(1),
	}
}

func newCmdUnset(f *cli.Factory, runF func(*Options) error) *cobra.Command {
	opts := &Options{IO: f.IOStreams, Factory: f, Action: "unset"}
	return &cobra.Command{
		Use:     "unset <key>",
		Short:   "Remove a setting from the config file",
		Long:    "Remove a setting from the config file, so that its default (or the environment)\napplies again. The file's comments and other keys are kept.",
		Example: "$ moonchat config unset temperature",
		Args:    exactArgs(1, "config unset needs a key, e.g. `moonchat config unset temperature`"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Key = args[0]
			return runAction(cmd, f, opts, runF)
		},
		ValidArgsFunction: completeKeys(0),
	}
}

func newCmdEdit(f *cli.Factory, runF func(*Options) error) *cobra.Command {
	opts := &Options{IO: f.IOStreams, Factory: f, Action: "edit"}
	return &cobra.Command{
		Use:   "edit",
		Short: "Open the config file in your editor, then check it",
		Long: cli.Doc(`
			Open the config file in $VISUAL, else $EDITOR, else vi (notepad on Windows). A
			missing file is first created from a template that lists every key, commented
			out.

			When the editor exits the file is checked. A problem is reported as "path:line:
			problem" with exit status 2, and the file is kept as you left it: run the
			command again to fix it. This is also the way to repair a file that other
			commands refuse.
		`),
		Example: "$ moonchat config edit\n$ EDITOR=nano moonchat config edit",
		Args:    cli.NoArgs,
		RunE:    func(cmd *cobra.Command, _ []string) error { return runAction(cmd, f, opts, runF) },
	}
}

func newCmdInit(f *cli.Factory, runF func(*Options) error) *cobra.Command {
	opts := &Options{IO: f.IOStreams, Factory: f, Action: "init"}
	cmd := &cobra.Command{
		Use:   "init [flags]",
		Short: "Set up the API key, platform and model interactively",
		Long: cli.Doc(`
			Ask for the Moonshot API key (typed without echo), the platform (global:
			platform.moonshot.ai, or cn: platform.moonshot.cn) and the default model, check
			the key against the API, and write the config file with mode 0600. Pressing
			Enter keeps the value shown in brackets.

			A key the platform refuses is explained (a key of platform.moonshot.cn works only
			with cn) and asked for again, with the platform, up to three times; then nothing is
			written and the exit status is 3.

			It needs a terminal. In scripts, use MOONSHOT_API_KEY, or pipe the key into
			` + "`moonchat config set api_key`" + `.
		`),
		Example: "$ moonchat config init\n$ moonchat config init --no-verify",
		Args:    cli.NoArgs,
		RunE:    func(cmd *cobra.Command, _ []string) error { return runAction(cmd, f, opts, runF) },
	}
	cmd.Flags().BoolVar(&opts.NoVerify, "no-verify", false, "do not check the key with a request to the API")
	return cmd
}

// exactArgs is cobra.ExactArgs with a message that shows how to call the command, as a usage
// error (exit 2).
func exactArgs(n int, msg string) cobra.PositionalArgs {
	return func(_ *cobra.Command, args []string) error {
		if len(args) != n {
			return cli.Usagef("%s", msg)
		}
		return nil
	}
}

// completeKeys completes the key name as the first argument and, when withValue is 1, the
// key's values as the second.
func completeKeys(withValue int) func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
	return func(_ *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
		var out []string
		switch {
		case len(args) == 0:
			for _, k := range config.Keys() {
				if strings.HasPrefix(k.Name, toComplete) {
					out = append(out, k.Name+"\t"+k.Description)
				}
			}
		case len(args) == 1 && withValue == 1:
			if k, ok := config.Lookup(args[0]); ok {
				for _, v := range k.Values() {
					if strings.HasPrefix(v, toComplete) {
						out = append(out, v)
					}
				}
			}
		}
		return out, cobra.ShellCompDirectiveNoFileComp
	}
}

// keysHelp documents every key from the table: name, type, default, description and the
// environment variables that set it. It runs at every start (the help text is built with the
// command tree), so it writes into one buffer.
func keysHelp() string {
	var b strings.Builder
	b.Grow(8 << 10)
	for _, k := range config.Keys() {
		b.WriteString("  ")
		b.WriteString(k.Name)
		b.WriteString(" (")
		if k.Type == config.TypeEnum {
			for i, v := range k.Enum {
				if i > 0 {
					b.WriteByte('|')
				}
				b.WriteString(v)
			}
		} else {
			b.WriteString(k.Type)
		}
		if k.Default != "" {
			b.WriteString(", default ")
			b.WriteString(k.Default)
		}
		b.WriteString(")\n")
		desc := k.Description
		if len(k.Env) > 0 {
			desc += ". Environment: " + strings.Join(k.Env, ", ") + "."
		}
		writeWrapped(&b, desc, "      ", 74)
	}
	return b.String()
}

// writeWrapped writes text in lines of at most width bytes (longer words alone on a line),
// broken at spaces, each line after indent.
func writeWrapped(b *strings.Builder, text, indent string, width int) {
	n := -1 // bytes on the current line; -1 before its first word
	for word := range strings.FieldsSeq(text) {
		switch {
		case n < 0:
		case n+1+len(word) > width:
			b.WriteByte('\n')
			n = -1
		default:
			b.WriteByte(' ')
			n++
		}
		if n < 0 {
			b.WriteString(indent)
			n = 0
		}
		b.WriteString(word)
		n += len(word)
	}
	if n >= 0 {
		b.WriteByte('\n')
	}
}
