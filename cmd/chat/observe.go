package chat

import (
	"fmt"
	"io"
	"strings"

	"github.com/moonchat/moonchat/cmd/cli"
	"github.com/moonchat/moonchat/pkg/converse"
	"github.com/moonchat/moonchat/pkg/moonshot"
)

// answerObserver is what the engine reports to while one answer runs: the answer goes to the
// output (the format's, behind the progress on stderr), everything else becomes a notice or a
// live status. It ends the answer with the model's tool calls in the text formats.
type answerObserver struct {
	out    output
	opts   *Options
	format string
	// tools: the output that shows tool calls and results as they happen (jsonl), or nil.
	tools toolEvents
	// statusShown: a live status ("searching…") is on stderr and goes before the next output.
	statusShown bool
}

// toolEvents is implemented by the outputs that show the calls of the tool loop as they run.
type toolEvents interface {
	ToolCall(call moonshot.ToolCall)
	ToolResult(step converse.ToolStep)
}

func (opts *Options) answerObserver(out output, shown output, format string) *answerObserver {
	o := &answerObserver{out: out, opts: opts, format: format}
	o.tools, _ = shown.(toolEvents)
	return o
}

func (o *answerObserver) clearStatus() {
	if o.statusShown {
		o.opts.IO.ClearStatus()
		o.statusShown = false
	}
}

func (o *answerObserver) Start(model, requestID string) {
	o.clearStatus()
	o.out.Start(model, requestID)
}

func (o *answerObserver) Reasoning(choice int, text string) {
	if text != "" {
		o.clearStatus()
	}
	o.out.Reasoning(choice, text)
}

func (o *answerObserver) Content(choice int, text string) {
	if text != "" {
		o.clearStatus()
	}
	o.out.Content(choice, text)
}

func (o *answerObserver) Flush()                         { o.out.Flush() }
func (o *answerObserver) Usage(*moonshot.Usage)          {}
func (o *answerObserver) Adjusted(a moonshot.Adjustment) { o.opts.notice("%s", a) }
func (o *answerObserver) Notice(text string)             { o.opts.notice("%s", text) }

// ToolCall shows which tool runs while it runs, on a terminal.
func (o *answerObserver) ToolCall(call moonshot.ToolCall) {
	if o.tools != nil {
		o.tools.ToolCall(call)
	}
	if o.opts.IO.IsStderrTTY() && !o.opts.Quiet {
		o.opts.IO.SetStatus("running " + cli.ShownLine(call.Function.Name) + "…")
		o.statusShown = true
	}
}

// ToolResult is one line per call on stderr (dim on a terminal): `name args → size, time`.
func (o *answerObserver) ToolResult(step converse.ToolStep) {
	o.clearStatus()
	if o.tools != nil {
		o.tools.ToolResult(step)
	}
	if !o.opts.Quiet {
		fmt.Fprintln(o.opts.IO.ErrOut, o.opts.dim(toolLine(step)))
	}
}

// toolLine sums up a call: the function, its arguments cut to one short line, and what came
// back (its size, or the start of the error) and how long it took.
func toolLine(step converse.ToolStep) string {
	outcome := cli.FormatSize(int64(step.Bytes))
	if step.Result.Failed {
		outcome = shortLine(step.Result.Content)
	}
	return fmt.Sprintf("%s %s → %s, %.1f s", cli.ShownLine(step.Call.Function.Name), shortLine(step.Call.Function.Arguments), outcome, step.Elapsed.Seconds())
}

// shortLine is outside text as one line of at most maxShown characters.
func shortLine(s string) string {
	s = cli.ShownLine(s)
	if r := []rune(s); len(r) > maxShown {
		s = string(r[:maxShown-1]) + "…"
	}
	return s
}

// maxShown is how much of a call's arguments (or of its error) the tool line shows.
const maxShown = 60

func (o *answerObserver) Status(text string) {
	if text == "" {
		o.opts.IO.ClearStatus()
		return
	}
	o.opts.IO.SetStatus(text)
}

func (o *answerObserver) Picked(p converse.Pick) {
	o.opts.notice("-m auto picked %s (%s prompt + %s answer tokens fit %s)", p.Model,
		cli.FormatInt(p.Prompt), cli.FormatInt(p.Answer), cli.FormatInt(p.Window))
}

// RoundTrip tells the user why the answer pauses: a search shows a live status on a
// terminal, which the next output replaces, or a notice.
func (o *answerObserver) RoundTrip(r converse.RoundTrip) {
	switch r.Kind {
	case converse.WebSearch:
		if o.opts.IO.IsStderrTTY() {
			o.opts.IO.SetStatus("searching…")
			o.statusShown = true
			return
		}
		o.opts.notice("searching the web… (the results add %s prompt tokens)", cli.FormatInt(r.Tokens))
	case converse.Continue:
		o.opts.notice("the answer reached its token limit; continuing it (%d of %d)", r.N, r.Max)
	}
}

// finish ends the answer in the output; in the text formats, the model's tool calls follow
// it.
func (o *answerObserver) finish(res *result) error {
	o.clearStatus()
	if err := o.out.Finish(res); err != nil {
		return err
	}
	if o.format == "json" || o.format == "jsonl" || res.Err != nil {
		return nil
	}
	return printToolCalls(o.opts.IO.Out, o.opts.IO.Printable, res.Completion)
}

// printToolCalls shows the calls the model made, one line each: moonchat does not run tools,
// so the calls are the answer.
// The model chose name and arguments: printable makes them safe for a terminal.
func printToolCalls(w io.Writer, printable func(string) string, c *moonshot.ChatCompletion) error {
	if c == nil {
		return nil
	}
	var b strings.Builder
	for _, ch := range c.Choices {
		for _, tc := range ch.Message.ToolCalls {
			b.WriteString("tool call ")
			if len(c.Choices) > 1 {
				fmt.Fprintf(&b, "(answer %d) ", ch.Index+1)
			}
			fmt.Fprintf(&b, "%s(%s)\n", printable(tc.Function.Name), printable(tc.Function.Arguments))
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}
