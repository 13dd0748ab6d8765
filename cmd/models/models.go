// Package models implements `moonchat models`: the models the key can use, with what moonchat
// knows about each.
package models

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/moonchat/moonchat/cmd/cli"
	"github.com/moonchat/moonchat/pkg/config"
	"github.com/moonchat/moonchat/pkg/iostreams"
	"github.com/moonchat/moonchat/pkg/moonshot"
	"github.com/moonchat/moonchat/pkg/render"
)

// Options are the inputs of a models run.
type Options struct {
	IO      *iostreams.IOStreams
	Factory *cli.Factory
	Config  *config.Config

	JSON    bool
	Offline bool
}

// NewCmdModels builds the command. runF replaces the run function in tests of flag parsing.
func NewCmdModels(f *cli.Factory, runF func(*Options) error) *cobra.Command {
	opts := &Options{IO: f.IOStreams, Factory: f}
	cmd := &cobra.Command{
		Use:   "models [flags]",
		Short: "List the models your key can use, with context, capabilities and prices",
		Long: cli.Doc(`
			List the models that GET /v1/models returns for your key, joined with moonchat's
			built-in table: context length, capabilities (tools, vision, video, thinking),
			list prices per million tokens (input on a cache hit, input, output) and
			retirement (date and the model to use instead).

			The server decides what is listed: a model of the built-in table that your key
			cannot use is not shown. The server's context length and capabilities win over
			the table's. A model the table does not know is shown with the rules moonchat
			would apply to it and no price. Prices are the global platform's list prices in
			USD; platform.moonshot.cn bills in CNY. A figure marked * comes from third
			parties only: Moonshot's own pages do not give it. The table fits the terminal
			width: long notes are cut, never wrapped.

			On a terminal the models are shown as a table; when the output is piped, one id
			per line. --json prints an array of objects with the fields id, context_length,
			tools, vision, video, thinking ("none", "always" or "switchable"), price (null,
			or currency, input_cache_hit, input, output, third_party and an optional note),
			retired (null, or date, replacement, third_party and an optional note),
			third_party (the names of the other facts only third parties give), owned_by and
			builtin (whether moonchat's table knows the id).
		`),
		Example: cli.Doc(`
			$ moonchat models
			$ moonchat models --offline
			$ moonchat models --json | jq -r '.[] | select(.vision) | .id'
			$ moonchat models | grep '^kimi-k2'
		`),
		Args: cli.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := cli.Settings(cmd, f)
			if err != nil {
				return err
			}
			opts.Config = cfg
			if runF != nil {
				return runF(opts)
			}
			return modelsRun(cmd.Context(), opts)
		},
	}
	fl := cmd.Flags()
	fl.BoolVar(&opts.JSON, "json", false, "print a JSON array")
	fl.BoolVar(&opts.Offline, "offline", false, "ask the built-in emulator: no key, no network")
	cli.AddAPIFlags(cmd)
	return cmd
}

// entry is one model as --json prints it.
type entry struct {
	ID            string               `json:"id"`
	ContextLength int                  `json:"context_length"`
	Tools         bool                 `json:"tools"`
	Vision        bool                 `json:"vision"`
	Video         bool                 `json:"video"`
	Thinking      string               `json:"thinking"`
	Price         *moonshot.Price      `json:"price"`
	Retired       *moonshot.Retirement `json:"retired"`
	ThirdParty    []string             `json:"third_party"`
	OwnedBy       string               `json:"owned_by,omitempty"`
	Builtin       bool                 `json:"builtin"`

	spec moonshot.ModelSpec
}

func modelsRun(ctx context.Context, opts *Options) error {
	client, err := opts.Factory.Client(opts.Config, cli.ClientOptions{Offline: opts.Offline})
	if err != nil {
		return err
	}
	ctx, cancel := cli.WithTimeout(ctx, opts.Config)
	defer cancel()
	remote, err := client.Models(ctx)
	if err != nil {
		return cli.TimeoutCause(ctx, err)
	}
	entries := join(client.Catalog(), remote)
	switch {
	case opts.JSON:
		return cli.WriteJSON(opts.IO.Out, entries)
	case opts.IO.IsStdoutTTY():
		return printTable(opts, entries)
	}
	var b strings.Builder
	for _, e := range entries {
		b.WriteString(e.ID + "\n")
	}
	_, err = fmt.Fprint(opts.IO.Out, b.String())
	return err
}

// join describes each model the server listed, in the server's order, from the catalog the
// listing refined. Models only in the built-in table are left out: the server knows what this
// key may use.
func join(catalog *moonshot.Catalog, remote []moonshot.RemoteModel) []entry {
	entries := make([]entry, 0, len(remote))
	for i := range remote {
		r := &remote[i]
		spec, _ := catalog.Lookup(r.ID)
		table, _ := moonshot.LookupModel(r.ID)
		e := entry{
			ID:            r.ID,
			ContextLength: spec.Context,
			Tools:         spec.Tools,
			Vision:        spec.Vision,
			Video:         spec.Video,
			Thinking:      thinking(spec.Thinking),
			OwnedBy:       r.OwnedBy,
			Builtin:       isBuiltin(r.ID),
			// The server serves what it lists; the table's retirement is still worth showing.
			Retired:    table.Retired,
			ThirdParty: thirdPartyFacts(spec, r),
			spec:       spec,
		}
		if spec.Price.Known() {
			p := spec.Price
			e.Price = &p
		}
		entries = append(entries, e)
	}
	return entries
}

// thirdPartyFacts are the table's third-party facts that the server did not replace.
func thirdPartyFacts(spec moonshot.ModelSpec, r *moonshot.RemoteModel) []string {
	out := []string{}
	for _, f := range spec.ThirdParty {
		if f == "context" && r.ContextLength > 0 {
			continue // the server said it
		}
		out = append(out, f)
	}
	return out
}

func isBuiltin(id string) bool {
	for _, m := range moonshot.KnownModels() {
		if m.ID == id {
			return true
		}
	}
	return false
}

func thinking(m moonshot.ThinkingMode) string {
	switch m {
	case moonshot.ThinkingAlways, moonshot.ThinkingRequired:
		return "always"
	case moonshot.ThinkingDefault:
		return "switchable"
	}
	return "none"
}

// thirdPartyMark follows a figure that only third parties give.
const thirdPartyMark = "*"

func printTable(opts *Options, entries []entry) error {
	header := []string{"MODEL", "CONTEXT", "CAPABILITIES", "CACHE HIT", "INPUT", "OUTPUT", "NOTES"}
	rows := [][]string{header}
	currencies := map[string]bool{}
	marked := false
	mark := func(s string, third bool) string {
		if third {
			marked = true
			return s + thirdPartyMark
		}
		return s
	}
	for _, e := range entries {
		hit, in, out := "—", "—", "—"
		if p := e.Price; p != nil {
			currencies[p.Currency] = true
			if p.InputCache > 0 {
				hit = mark(fmt.Sprintf("%.2f", p.InputCache), p.ThirdParty)
			}
			in, out = mark(fmt.Sprintf("%.2f", p.Input), p.ThirdParty), mark(fmt.Sprintf("%.2f", p.Output), p.ThirdParty)
		}
		var notes []string
		if r := e.Retired; r != nil {
			notes = append(notes, "use "+r.Replacement+" (retired "+mark(cmp.Or(r.Date, "on a date unknown"), r.ThirdParty)+")")
		}
		if e.Price != nil && e.Price.Note != "" {
			notes = append(notes, "price: "+e.Price.Note)
		}
		if !e.Builtin {
			notes = append(notes, "unknown to moonchat")
		}
		context := mark(cli.FormatTokens(e.ContextLength), slices.Contains(e.ThirdParty, "context"))
		rows = append(rows, []string{e.ID, context, strings.Join(cli.Capabilities(e.spec), ", "),
			hit, in, out, strings.Join(notes, "; ")})
	}
	fitWidth(rows, opts.IO.Width())
	var right []int
	for i, h := range rows[0] {
		if h != "MODEL" && h != "CAPS" && h != "CAPABILITIES" && h != "NOTES" {
			right = append(right, i)
		}
	}
	if err := cli.WriteTable(opts.IO.Out, rows, right...); err != nil {
		return err
	}
	var footer []string
	if slices.Contains(rows[0], "CAPS") {
		footer = append(footer, "CAPS: T tools, I images, V video, R thinking.")
	}
	if slices.Contains(rows[0], "HIT") {
		footer = append(footer, "HIT: the input price on a cache hit.")
	}
	if len(currencies) > 0 {
		units := slices.Sorted(maps.Keys(currencies))
		line := fmt.Sprintf("Prices in %s per 1M tokens.", strings.Join(units, "/"))
		if platform := cli.Currency(opts.Config); !currencies[platform] {
			line += fmt.Sprintf(" Your platform bills in %s; see its pricing page for the local prices.", platform)
		}
		footer = append(footer, line)
	}
	if marked {
		footer = append(footer, thirdPartyMark+" third-party figure: Moonshot's own pages do not give it.")
	}
	if len(footer) == 0 {
		return nil
	}
	_, err := fmt.Fprintf(opts.IO.Out, "\n%s\n", strings.Join(footer, "\n"))
	return err
}

// fitWidth shortens the table so that no row is wider than width and a terminal never wraps
// one: the capabilities become letters, then the notes are cut (with "…"), then the
// cache-hit price, the notes, the prices and the capabilities go; a table still too wide has
// its ids cut.
func fitWidth(rows [][]string, width int) {
	if width <= 0 {
		return
	}
	const gap, minNotes = 2, 16
	colWidth := func(c int) int {
		w := 0
		for _, r := range rows {
			w = max(w, render.Width(r[c]))
		}
		return w
	}
	before := func(c int) int { // the width of the columns before c, with their gaps
		w := 0
		for i := 0; i < c; i++ {
			w += colWidth(i) + gap
		}
		return w
	}
	last := func() int { return len(rows[0]) - 1 }
	if before(last())+colWidth(last()) <= width {
		return
	}
	rows[0][2], rows[0][3] = "CAPS", "HIT"
	for _, r := range rows[1:] {
		r[2] = abbreviate(r[2])
	}
	for step := 0; step < 2; step++ {
		notes := last()
		if room := width - before(notes); room >= minNotes {
			for _, r := range rows[1:] {
				r[notes] = cut(r[notes], room)
			}
			return
		}
		if step == 0 {
			for i, r := range rows {
				rows[i] = append(r[:3:3], r[4:]...) // without HIT
			}
		}
	}
	// Without the notes, then without the prices, keeping the id and its context.
	for len(rows[0]) > 2 && (len(rows[0]) > 5 || before(last())+colWidth(last()) > width) {
		for i, r := range rows {
			rows[i] = r[:len(r)-1]
		}
	}
	if over := before(last()) + colWidth(last()) - width; over > 0 {
		// Too narrow for any table: the id is what matters, and it comes first.
		w0 := max(colWidth(0)-over, 1)
		for _, r := range rows {
			r[0] = cut(r[0], w0)
		}
	}
}

// cut shortens s to n cells, ending in "…" when it had to.
func cut(s string, n int) string {
	if render.Width(s) <= n {
		return s
	}
	if n < 1 {
		return ""
	}
	return strings.TrimRight(render.Truncate(s, n-1, ""), " ;,") + "…"
}

var shortCaps = strings.NewReplacer("tools", "T", "vision", "I", "video", "V", "thinking", "R", ", ", "")

func abbreviate(caps string) string { return shortCaps.Replace(caps) }
