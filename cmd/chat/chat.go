// Package chat implements `moonchat chat`: one-shot questions, piped input, and the
// machine-readable output formats.
package chat

import (
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/moonchat/moonchat/cmd/cli"
	"github.com/moonchat/moonchat/pkg/config"
	"github.com/moonchat/moonchat/pkg/iostreams"
	"github.com/moonchat/moonchat/pkg/moonshot"
)

// Options are the inputs of a chat run.
type Options struct {
	IO      *iostreams.IOStreams
	Factory *cli.Factory
	Config  *config.Config

	Prompt []string

	// Settings are what the questions are asked with (model, system prompt, role, features):
	// a run starts from a copy, which a continued conversation and the session change.
	Settings Settings

	TopP      *float64
	N         *int
	MaxTokens *int
	Stop      []string
	JSONMode  bool

	NoStream bool
	Timeout  time.Duration
	Quiet    bool
	DryRun   bool
	Offline  bool
	Format   string // auto, markdown, text, json, jsonl (resolved by chatRun)
	Usage    bool

	Wrap          int  // columns to wrap rendered answers at; 0: the terminal's width (at most 120)
	ShowReasoning bool // stream a thinking model's reasoning on stderr

	Continue     bool   // -c: continue the most recent conversation
	Conversation string // --conversation: an id, a unique id prefix or an exact title
	NoSave       bool
	Interactive  bool
	Copy         string // --copy: "answer", "code" or "code N", copied after the answer (clipboard.go)

	newEditor func(historyPath string) (lineEditor, error)
}

// settingFlags are the flags that stand for a setting, as in the config file, and win over it.
var settingFlags = []cli.FlagKey{
	{Flag: "model", Key: "model"},
	{Flag: "max-retries", Key: "max_retries"},
	{Flag: "timeout", Key: "timeout"},
	{Flag: "format", Key: "format"},
	{Flag: "wrap", Key: "wrap"},
	{Flag: "style", Key: "style"},
	{Flag: "show-reasoning", Key: "show_reasoning"},
}

// NewCmdChat builds the command. runF replaces the run function in tests of flag parsing.
func NewCmdChat(f *cli.Factory, runF func(*Options) error) *cobra.Command {
	opts := &Options{IO: f.IOStreams, Factory: f}
	var (
		temperature, topP float64
		n, maxTokens      int
		raw               bool
	)
	cmd := &cobra.Command{
		Use:   "chat [flags] [PROMPT...]",
		Short: "Ask Kimi a question, pipe input into it, or chat interactively",
		Long: cli.Doc(`
			Send a prompt to a Kimi model and stream the answer.

			The prompt is the arguments joined by spaces. When standard input is a pipe or a
			file, it is read whole and sent after the prompt, separated by a blank line; a
			terminal on standard input is never read in one-shot mode.

			Every request goes through Moonshot's parameter fixes first (temperature clamped to
			0–1, temperature raised to 0.3 when n > 1, tool_choice "required" rewritten, sampling
			values dropped on models that fix them). Each change to a value you gave is reported
			on standard error, one line each; -q silences these notices but not errors.

			Standard output carries the answer only. On a terminal it is rendered as markdown
			while it streams (--wrap, --style; NO_COLOR keeps the rendering without colour, and
			CLICOLOR_FORCE renders into a pipe too). Piped, or with --raw, it is exactly as
			received, followed by a newline when it does not end with one. With -n 2 or more,
			each answer is preceded by a line "--- answer N ---".

			On a terminal, standard error shows a spinner until the answer starts (not with -q),
			and a thinking model's reasoning as one line, "thinking… N tokens" (N is estimated
			from the text, about 4 letters of English or one Chinese character a token), which
			becomes "thought for 4.2s" when the answer starts. --show-reasoning streams the
			reasoning itself there instead, dimmed, with the text and markdown formats.

			--format json prints one object when the answer is complete (also on failure, with an
			"error" field); --format jsonl prints one event per line as the stream arrives.
			See moonchat-chat(1) for both schemas.

			Every exchange is saved in the history database unless --no-save is given or
			save_history is false; on a terminal the conversation id is shown on standard error,
			and JSON output carries it as conversation_id. -c continues the most recent
			conversation and --conversation a given one (an id, a unique id prefix or an exact
			title): the earlier turns are sent again, with the model's reasoning where the model
			needs it, and the conversation's model and system prompt apply unless -m or -s is
			given. A question interrupted with Ctrl-C or cut short is saved with the part of the
			answer that arrived, marked as such.

			An answer that stops at the token limit (finish_reason "length", after any
			--max-continues rounds) is printed and saved, marked cut short; one warning goes to
			standard error even with -q, and chat exits 6 (in JSON output: error.type
			"truncated", exit_code 6). Thinking models spend one budget on reasoning and answer:
			when reasoning used all of it, chat says so and suggests a larger --max-tokens or a
			lower --reasoning-effort. The limit is sent as max_completion_tokens to the models
			that document it (max_tokens to older ones). Without --max-tokens, a thinking model
			whose server default is unknown gets its family's default (131,072 for kimi-k3.1-pro),
			capped by the context left after the prompt.

			With no prompt, when standard input and output are terminals, chat starts an
			interactive session (--interactive starts one after an initial prompt). Enter sends;
			Alt-Enter or a line ending in \ starts a new line, and a paste is one message. Ctrl-C
			stops an answer and keeps what arrived; on an empty line it asks to confirm, and Ctrl-D
			quits. Type /help for the commands; Tab completes them, model ids (after /model, checked
			against moonchat's table and GET /models before the switch), conversations and paths.
			/resume switches to a saved conversation without leaving; it, -c and --conversation
			show a recap first (the last question and the first lines of its answer). /new starts
			a new conversation; /fork copies the conversation so far into a new one and goes on
			there (history fork does it from the shell). /file and /image attach to the next
			question as -f and -i do. /role NAME switches to a role of the config file (see
			moonchat roles --help; -r applies one from the start). /copy copies the last answer,
			/copy code [N] its last (N-th) code block, as --copy does after a one-shot answer:
			with OSC 52 on the terminal (through ssh and tmux, when the terminal allows it) and
			with wl-copy, xclip, xsel or pbcopy when one is there; the note says which. /edit
			writes the next message in $VISUAL or $EDITOR and shows it: Enter sends it, Esc
			discards it; /edit last edits the last question and replaces its exchange (the
			history keeps the old one, marked replaced, and does not send it again). /usage shows the tokens and estimated cost of the conversation so
			far. What you type is remembered in
			$XDG_DATA_HOME/moonchat/input_history (not with --no-save).

			--tool URI (Moonshot's official tools, run on its side) and --mcp NAME (an MCP
			server of mcp_servers; mcp_default adds some to every chat) let the model act. An MCP
			call runs only when approved: with --yes, when allow_tools lists it, or at a prompt
			that shows the tool, its server and its arguments when standard input and error are
			terminals: yes, no, or always for this tool in this run (in the session, one key
			answers; Ctrl-C there stops the answer, keeps what happened and returns to the
			prompt). Otherwise the model reads that the call was not approved, and the run goes
			on. Official tools are not asked about.
		`),
		Example: cli.Doc(`
			# Ask a question
			$ moonchat chat "What is the capital of Mongolia?"

			# Pipe a file or a command's output in, with an instruction
			$ git diff | moonchat chat "Review this change"
			$ moonchat chat "Summarize this" < notes.txt

			# Wrap the rendered answer at 80 columns in the light style; or print it raw
			$ moonchat chat --wrap 80 --style light "Explain Go interfaces"
			$ moonchat chat --raw "Explain Go interfaces"

			# Watch a thinking model think (its reasoning, dimmed, on standard error)
			$ moonchat chat -m kimi-k2.6 --show-reasoning "Is 1001 prime?"

			# Try it without a key or network: the built-in emulator answers
			$ moonchat chat --offline "hello"

			# See the exact request body after the fixes, without sending it
			$ moonchat chat --dry-run --temperature 1.5 -n 2 -m kimi-k2.6 "hi"

			# Use in a script: JSON out, exit code to branch on
			$ moonchat chat --format json "Say OK" | jq -r .content

			# Attach files: text is inlined, documents are extracted by Moonshot (uploaded once,
			# reused from the cache afterwards; --keep-files=false deletes them after use)
			$ moonchat chat -f main.go -f go.mod "Why does this not build?"
			$ moonchat chat -f report.pdf "List the key figures"
			$ curl -s https://example.com/paper.pdf | moonchat chat -f - "Summarize this paper"

			# Show the model an image (png, jpeg, webp, gif; needs a vision model)
			$ moonchat chat -m kimi-k2.6 -i screenshot.png "What does this error say?"

			# Let the model search the web (turns thinking off on kimi-k2.6 for the request)
			$ moonchat chat --web-search "What did Moonshot AI release this week?"

			# Let the model use Moonshot's official tools: moonchat runs each call, sends the result
			# back and shows one line per call on standard error (--max-steps bounds the rounds)
			$ moonchat chat --offline --tool moonshot/date:latest "What day is it?"
			$ moonchat chat --tool moonshot/fetch:latest "Summarize https://go.dev/blog/go1.22"

			# Let the model use an MCP server's tools (mcp_servers in the config): each call is
			# asked about on a terminal; --yes or allow_tools approve without asking
			$ moonchat chat --mcp files "What is in my notes about Kyoto?"
			$ moonchat chat --mcp files --yes --format json "List my notes" | jq .tool_results

			# Declare tools; moonchat prints the calls the model makes instead of running them
			$ moonchat chat --tools tools.json --tool-choice get_weather -m kimi-k3 "Weather in Paris?"
			$ moonchat chat --tools tools.json --format json "Weather in Paris?" | jq .tool_calls

			# Start the answer yourself (Partial Mode); continue answers cut by --max-tokens
			$ moonchat chat --prefill '{"name": "' "Describe Kimi as JSON"
			$ moonchat chat --max-tokens 2000 --max-continues 3 "Write a long story"

			# Thinking: off on kimi-k2.6, effort on kimi-k3
			$ moonchat chat -m kimi-k2.6 --no-thinking "Quick: 17 * 23?"
			$ moonchat chat -m kimi-k3 --reasoning-effort low "Rename this variable"

			# Pick the cheapest model of auto_models whose context fits the prompt (plus
			# --max-tokens, or 4096 answer tokens when it is not given)
			$ moonchat chat -m auto -f big-log.txt "Find the first error"

			# Keep talking: continue the last conversation, or a given one (id, prefix or title)
			$ moonchat chat -c "And in Python?"
			$ git diff | moonchat chat -c "Now review this version"
			$ moonchat chat --conversation 3f9a "Summarize what we decided"
			$ id=$(moonchat chat --format json "Pick a name" | jq -r .conversation_id)
			$ moonchat chat --conversation "$id" "Another one"

			# An interactive session (on a terminal), or one that continues a conversation
			$ moonchat chat
			$ moonchat chat -c
			$ moonchat chat --conversation 3f9a
			$ moonchat chat --interactive "Let's plan a trip to Kyoto"

			# Apply a role of the config file (roles: in config.yaml; moonchat roles list)
			$ moonchat chat -r reviewer -f main.go "Review this"

			# Copy the answer, or its last code block, to the clipboard (OSC 52, or wl-copy,
			# xclip, xsel or pbcopy)
			$ moonchat chat --copy "Write a haiku about the moon"
			$ moonchat chat --copy=code "A Go function that reverses a string"

			# Name the conversation (history list shows it; --conversation finds it by it)
			$ moonchat chat --title "Kyoto trip" "Plan three days in Kyoto"
			$ moonchat chat --conversation "Kyoto trip" "Add a day in Nara"

			# Ask without leaving a trace in the history
			$ moonchat chat --no-save "A private question"
		`),
		Annotations: map[string]string{"man:JSON OUTPUT": jsonSchemaDoc},
		Args:        cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Prompt = args
			flags := cmd.Flags()
			// strconv takes NaN and Inf; no request can carry them (JSON has no such numbers).
			for name, v := range map[string]float64{"temperature": temperature, "top-p": topP} {
				if flags.Changed(name) && (math.IsNaN(v) || math.IsInf(v, 0)) {
					return cli.Usagef("--%s must be a number, not %v", name, v)
				}
			}
			if flags.Changed("temperature") {
				opts.Settings.Temperature = &temperature
			}
			if flags.Changed("top-p") {
				opts.TopP = &topP
			}
			if flags.Changed("n") {
				if n < 1 {
					return cli.Usagef("-n must be at least 1")
				}
				opts.N = &n
			}
			if flags.Changed("max-tokens") {
				if maxTokens < 1 {
					return cli.Usagef("--max-tokens must be at least 1")
				}
				opts.MaxTokens = &maxTokens
			}
			if raw {
				if flags.Changed("format") && opts.Format != "text" {
					return cli.Usagef("--raw means --format text; do not combine it with --format %s", opts.Format)
				}
				opts.Format = "text"
			}
			cfg, err := cli.Settings(cmd, f, settingFlags...)
			if err != nil {
				return err
			}
			if raw {
				_ = cfg.SetFlag("format", "text")
			}
			if !flags.Changed("temperature") {
				if v := cfg.Value(config.KeyTemperature); v.IsSet() {
					t := v.Float()
					opts.Settings.Temperature = &t
				}
			}
			if !flags.Changed("max-tokens") {
				if v := cfg.Value(config.KeyMaxTokens); v.IsSet() {
					m := v.Int()
					opts.MaxTokens = &m
				}
			}
			opts.Config = cfg
			opts.Settings.Model = cfg.Value(config.KeyModel).Raw
			opts.Settings.modelGiven, opts.Settings.systemGiven = flags.Changed("model"), flags.Changed("system")
			if _, _, err := copyTarget(opts.Copy); flags.Changed("copy") && err != nil {
				return cli.Usagef("--copy: %v", err)
			}
			if flags.Changed("title") {
				if opts.Settings.Title = strings.TrimSpace(opts.Settings.Title); opts.Settings.Title == "" || strings.ContainsAny(opts.Settings.Title, "\r\n") {
					return cli.Usagef("--title must be one line of text")
				}
				if opts.NoSave {
					return cli.Usagef("--title names the saved conversation; --no-save saves none")
				}
			}
			if opts.Continue && opts.Conversation != "" {
				return cli.Usagef("-c continues the most recent conversation and --conversation a given one; use one of them")
			}
			opts.Format = cfg.Value(config.KeyFormat).Raw
			opts.Timeout = cfg.Value(config.KeyTimeout).Duration()
			opts.Wrap = cfg.Value(config.KeyWrap).Int()
			opts.ShowReasoning = cfg.Value(config.KeyShowReasoning).Bool()
			opts.IO.SetStyle(cfg.Value(config.KeyStyle).Raw)
			if err := roleFromFlags(cmd, opts); err != nil {
				return err
			}
			if err := parseFeatureFlags(cmd, cfg, opts); err != nil {
				return err
			}
			if runF != nil {
				return runF(opts)
			}
			return chatRun(cmd.Context(), opts)
		},
	}
	fl := cmd.Flags()
	fl.StringP("model", "m", "", "model id (default from config, else kimi-k2.6)")
	fl.StringVarP(&opts.Settings.System, "system", "s", "", "system prompt")
	fl.StringVarP(&opts.Settings.Role, "role", "r", "", "apply the role `NAME` of the config file (system prompt, model…; `moonchat roles list`)")
	fl.Float64Var(&temperature, "temperature", 0, "sampling temperature (Moonshot accepts 0–1; fixed on kimi-k2.6 and later)")
	fl.Float64Var(&topP, "top-p", 0, "nucleus sampling (fixed on kimi-k2.6 and later)")
	fl.IntVarP(&n, "n", "n", 1, fmt.Sprintf("number of answers (at most %d; one on kimi-k2.6 and later)", moonshot.MaxN))
	fl.IntVar(&maxTokens, "max-tokens", 0, "maximum tokens of the answer, reasoning included on thinking models (exit 6 when it is reached)")
	fl.StringArrayVar(&opts.Stop, "stop", nil, fmt.Sprintf("stop sequence (repeatable, at most %d, each ≤ %d bytes)", moonshot.MaxStops, moonshot.MaxStopBytes))
	fl.BoolVar(&opts.JSONMode, "json-mode", false, `ask for a JSON object (response_format json_object); describe it in the prompt`)
	fl.BoolVar(&opts.NoStream, "no-stream", false, "wait for the whole answer instead of streaming it")
	fl.Duration("timeout", 10*time.Minute, "limit for the whole request, retries included")
	fl.Int("max-retries", 2, "retries of a failed request before the answer starts (rate limit, overload, 5xx, network); none when the server asks to wait over 30 s")
	cli.AddAPIFlags(cmd)
	fl.BoolVarP(&opts.Quiet, "quiet", "q", false, "no notices on stderr (errors are still shown)")
	fl.BoolVar(&opts.DryRun, "dry-run", false, "print the request body that would be sent (after the fixes) and send nothing")
	fl.BoolVar(&opts.Offline, "offline", false, "answer from the built-in emulator: no key, no network")
	fl.StringVar(&opts.Format, "format", "auto", "output: auto, markdown, text, json, jsonl")
	fl.BoolVar(&raw, "raw", false, "print the answer as received, never rendered (same as --format text); on a terminal without its escape sequences")
	fl.Int("wrap", 0, "wrap rendered answers at `N` columns (0: the terminal's width, at most 120)")
	fl.String("style", "auto", "markdown `STYLE`: auto (GLAMOUR_STYLE, else COLORFGBG, else dark), dark, light or notty")
	fl.Bool("show-reasoning", false, "stream a thinking model's reasoning, dimmed, on stderr instead of a one-line summary")
	fl.BoolVarP(&opts.Usage, "usage", "u", false, "print token usage and estimated cost on stderr after the answer (in a session, the conversation's running total too)")
	fl.BoolVarP(&opts.Continue, "continue", "c", false, "continue the most recent conversation")
	fl.StringVar(&opts.Conversation, "conversation", "", "continue the conversation with this `ID` (or a unique id prefix, or an exact title)")
	fl.BoolVar(&opts.NoSave, "no-save", false, "do not save this conversation (config: save_history)")
	fl.StringVar(&opts.Copy, "copy", "", "copy the answer to the clipboard after printing it; --copy=code: its last code block, --copy=code:N the N-th")
	fl.Lookup("copy").NoOptDefVal = "answer"
	fl.StringVar(&opts.Settings.Title, "title", "", "`TITLE` of the saved conversation (default: the first line of the first prompt)")
	fl.BoolVar(&opts.Interactive, "interactive", false, "start an interactive session after the prompt (with no prompt, chat starts one on a terminal anyway)")
	_ = cmd.RegisterFlagCompletionFunc("model", cli.CompleteModels(f))
	_ = cmd.RegisterFlagCompletionFunc("conversation", cli.CompleteConversations(f))
	_ = cmd.RegisterFlagCompletionFunc("role", completeRoles(f))
	_ = cmd.RegisterFlagCompletionFunc("style", cobra.FixedCompletions([]string{"auto", "dark", "light", "notty"}, cobra.ShellCompDirectiveNoFileComp))
	addFeatureFlags(cmd, &opts.Settings.Features)
	return cmd
}
