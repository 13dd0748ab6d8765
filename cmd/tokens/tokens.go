// Package tokens implements `moonchat tokens`: the exact token count of a prompt and the share
// of the model's context it takes.
package tokens

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/moonchat/moonchat/cmd/cli"
	"github.com/moonchat/moonchat/pkg/config"
	"github.com/moonchat/moonchat/pkg/iostreams"
	"github.com/moonchat/moonchat/pkg/moonshot"
)

// Options are the inputs of a tokens run.
type Options struct {
	IO      *iostreams.IOStreams
	Factory *cli.Factory
	Config  *config.Config

	Prompt []string
	Model  string // a model id or "auto"
	System string

	JSON    bool
	Offline bool
}

// NewCmdTokens builds the command. runF replaces the run function in tests of flag parsing.
func NewCmdTokens(f *cli.Factory, runF func(*Options) error) *cobra.Command {
	opts := &Options{IO: f.IOStreams, Factory: f}
	cmd := &cobra.Command{
		Use:   "tokens [flags] [PROMPT...]",
		Short: "Count the tokens of a prompt exactly, before sending it",
		Long: cli.Doc(`
			Count the tokens a prompt takes with Moonshot's own tokenizer (POST
			/v1/tokenizers/estimate-token-count) and compare them with the model's context
			length (moonchat's table, refined by GET /v1/models when the server reports it).

			The prompt is read as chat reads it: the arguments joined by spaces, then, when
			standard input is a pipe or a file, its text after a blank line. A terminal on
			standard input is never read. -s adds a system prompt, counted too.

			With -m auto (or model: auto in the config), the models of auto_models are tried
			in order and the first whose context holds the prompt is reported, as chat -m
			auto would pick it.

			On a terminal the count is shown with the share of the context and the input
			cost at the list price; piped, only the number is printed, for scripts. --json
			prints one object: model, tokens, context_length (0 when unknown), percent (null
			when unknown), fits, auto, and input_cost (null, or amount and currency).
		`),
		Example: cli.Doc(`
			$ moonchat tokens "How long is this prompt?"
			$ moonchat tokens -m kimi-k2.6 < report.md
			$ git diff | moonchat tokens "Review this change"
			$ n=$(moonchat tokens < notes.md); [ "$n" -lt 8000 ] && echo "fits in 8k"
			$ moonchat tokens --json -m auto < notes.txt | jq -r .model
		`),
		Args: cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Prompt = args
			cfg, err := cli.Settings(cmd, f, cli.FlagKey{Flag: "model", Key: "model"})
			if err != nil {
				return err
			}
			opts.Config = cfg
			opts.Model = cfg.Value(config.KeyModel).Raw
			if runF != nil {
				return runF(opts)
			}
			return tokensRun(cmd.Context(), opts)
		},
	}
	fl := cmd.Flags()
	fl.StringP("model", "m", "", "model id whose tokenizer and context to use, or auto (default from config, else kimi-k2.6)")
	fl.StringVarP(&opts.System, "system", "s", "", "system prompt, counted with the prompt")
	fl.BoolVar(&opts.JSON, "json", false, "print a JSON object")
	fl.BoolVar(&opts.Offline, "offline", false, "count with the built-in emulator's tokenizer: no key, no network")
	cli.AddAPIFlags(cmd)
	_ = cmd.RegisterFlagCompletionFunc("model", cli.CompleteModels(f))
	return cmd
}

// count is the answer, as --json prints it.
type count struct {
	Model         string   `json:"model"`
	Tokens        int      `json:"tokens"`
	ContextLength int      `json:"context_length"`
	Percent       *float64 `json:"percent"`
	Fits          bool     `json:"fits"`
	Auto          bool     `json:"auto"`
	InputCost     *cost    `json:"input_cost"`
}

type cost struct {
	Amount   float64 `json:"amount"`
	Currency string  `json:"currency"`
}

func tokensRun(ctx context.Context, opts *Options) error {
	prompt, err := cli.ReadPrompt(ctx, opts.IO, opts.Prompt)
	if err != nil {
		return err
	}
	if strings.TrimSpace(prompt) == "" && strings.TrimSpace(opts.System) == "" {
		return cli.Usagef("no prompt: give it as arguments (moonchat tokens \"text\") or pipe text in")
	}
	var messages []moonshot.Message
	if opts.System != "" {
		messages = append(messages, moonshot.TextMessage("system", opts.System))
	}
	if prompt != "" {
		messages = append(messages, moonshot.TextMessage("user", prompt))
	}
	model := opts.Model
	if model == "" {
		model = moonshot.DefaultModel // --model "" or model: "" clears the choice
	}
	candidates := []string{model}
	auto := model == "auto"
	if auto {
		candidates = opts.Config.Value(config.KeyAutoModels).List()
	}

	client, err := opts.Factory.Client(opts.Config, cli.ClientOptions{Offline: opts.Offline})
	if err != nil {
		return err
	}
	ctx, cancel := cli.WithTimeout(ctx, opts.Config)
	defer cancel()
	res, err := countTokens(ctx, client, candidates, messages)
	if err != nil {
		return cli.TimeoutCause(ctx, err)
	}
	res.Auto = auto
	return printCount(opts, res)
}

// countTokens counts with each candidate in turn until one has room for the prompt (one
// candidate unless -m auto). The model list, for the server's context lengths, is fetched
// while the first count runs; if it fails the built-in table still gives the context.
func countTokens(ctx context.Context, client *moonshot.Client, candidates []string, messages []moonshot.Message) (*count, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	// Listing the models refines the client's catalog, which describe reads.
	listed := make(chan struct{}, 1)
	go func() {
		_, _ = client.Models(ctx)
		listed <- struct{}{}
	}()
	var (
		fetched bool
		res     *count
	)
	for _, id := range candidates {
		n, err := client.EstimateTokens(ctx, id, messages)
		if err != nil {
			cancel()
			<-listed // let the listing finish before the client goes away
			return nil, err
		}
		if !fetched {
			<-listed
			fetched = true
		}
		res = describe(client.Catalog(), moonshot.StripProvider(id), n)
		if res.Fits {
			break
		}
	}
	if !fetched {
		<-listed
	}
	return res, nil
}

// describe relates a count to the model's context and price.
func describe(catalog *moonshot.Catalog, id string, tokens int) *count {
	spec, _ := catalog.Lookup(id)
	c := &count{Model: id, Tokens: tokens, ContextLength: spec.Context, Fits: true}
	if spec.Context > 0 {
		p := 100 * float64(tokens) / float64(spec.Context)
		c.Percent = &p
		// The answer needs room too: a prompt that fills the window leaves none.
		c.Fits = tokens < spec.Context
	}
	if spec.Price.Known() {
		// Rounded to a billionth, below any price, so that JSON shows no float noise.
		amount := math.Round(float64(tokens)*spec.Price.Input/1e6*1e9) / 1e9
		c.InputCost = &cost{Amount: amount, Currency: spec.Price.Currency}
	}
	return c
}

func printCount(opts *Options, c *count) error {
	switch {
	case opts.JSON:
		return cli.WriteJSONLine(opts.IO.Out, c)
	case !opts.IO.IsStdoutTTY():
		_, err := fmt.Fprintln(opts.IO.Out, c.Tokens)
		return err
	}
	line := cli.FormatInt(c.Tokens) + " tokens"
	if c.Tokens == 1 {
		line = "1 token"
	}
	if c.Percent != nil {
		line += fmt.Sprintf(" · %s of %s's %s", percent(*c.Percent), c.Model, cli.FormatInt(c.ContextLength))
	} else {
		line += fmt.Sprintf(" · context of %s unknown", c.Model)
	}
	if c.Auto {
		line += " (-m auto)"
	}
	if c.InputCost != nil {
		line += fmt.Sprintf(" · ≈ %s %s as input", c.InputCost.Currency, money(c.InputCost.Amount))
	}
	if !c.Fits {
		line += " · too long for this model"
	}
	_, err := fmt.Fprintln(opts.IO.Out, line)
	return err
}

// percent shows a share with one decimal, without rounding a small non-zero share to nothing.
func percent(p float64) string {
	if p > 0 && p < 0.1 {
		return "<0.1%"
	}
	return fmt.Sprintf("%.1f%%", p)
}

// money shows an amount with cents, or with as many decimals as it takes to show two
// significant digits of a smaller amount (a short prompt costs a fraction of a cent).
func money(a float64) string {
	decimals := 2
	for a > 0 && a < math.Pow10(1-decimals) && decimals < 9 {
		decimals++
	}
	return strconv.FormatFloat(a, 'f', decimals, 64)
}
