package chat

import (
	"context"
	"errors"
	"io"
	"time"

	"github.com/moonchat/moonchat/cmd/cli"
	"github.com/moonchat/moonchat/pkg/render"
)

// markdownOutput renders the answer on a terminal while it streams (pkg/render). Content only
// hands the text to the renderer, which takes it under a mutex and renders on its own frame
// clock, so the loop reading the network is never held back by glamour: a slow frame takes
// more text instead of stalling the read.
//
// With several answers (-n) nothing can be shown before the stream ends, since the answers
// arrive interleaved: each is rendered at the end after its "--- answer N ---" line, as the
// text output does.
type markdownOutput struct {
	opts    *Options
	w       io.Writer
	ropts   render.Options   // with several answers, for the renderers of the others
	md      *render.Markdown // the answer being streamed; with several, the first answer's
	multi   bool
	answers severalAnswers
	// unwatch stops following the terminal's size; nil when the renderer has no live tail.
	unwatch func()
}

func newMarkdownOutput(opts *Options) (*markdownOutput, error) {
	o := &markdownOutput{opts: opts, w: opts.IO.Out, ropts: opts.renderOptions(), multi: opts.N != nil && *opts.N > 1}
	if o.multi {
		// Rendered whole at the end: no frames and no live tail to redraw.
		o.ropts.Height, o.ropts.Clock = 0, noFrames{}
	}
	// The renderer is made now, before the request is sent, so that a style that cannot be
	// loaded (a GLAMOUR_STYLE path that does not exist) fails without costing a request.
	md, err := render.NewMarkdown(o.w, o.ropts)
	if err != nil {
		return nil, &cli.UsageError{Err: err,
			Hint: "set style (--style, MOONCHAT_STYLE) to auto, dark, light or notty, or point GLAMOUR_STYLE at a glamour JSON style file"}
	}
	o.md = md
	if o.ropts.Height >= 2 {
		// The live tail follows the terminal's size, and steps aside for any line written
		// to stderr (a retry, "continuing…", a status) while the answer streams.
		o.unwatch = opts.IO.OnResize(func() {
			ro := opts.renderOptions()
			_ = md.Resize(ro.Width, ro.Columns, ro.Height)
		})
		opts.IO.SetSuspender(md)
	}
	return o, nil
}

// unwatchTerminal undoes what newMarkdownOutput set up for the live tail. The suspender goes
// first: a resize waiting for the renderer must not wait for a suspended one.
func (o *markdownOutput) unwatchTerminal() {
	if o.unwatch != nil {
		o.opts.IO.SetSuspender(nil)
		o.unwatch()
		o.unwatch = nil
	}
}

// renderOptions are the terminal's settings for the renderer: the width from the terminal
// (at most 120 columns) unless --wrap or the wrap setting gives one, the style decided once
// without querying the terminal, colour per NO_COLOR/CLICOLOR_FORCE.
func (opts *Options) renderOptions() render.Options {
	ro := render.Options{Width: opts.IO.Width(), Columns: opts.IO.Columns(), Style: opts.IO.Style(), Color: opts.IO.ColorEnabled()}
	if opts.Wrap > 0 {
		ro.Width = opts.Wrap
	}
	// The live tail moves the cursor: only on a terminal that can. Rendering into a pipe
	// (CLICOLOR_FORCE into less -R), or on TERM=dumb or an unknown terminal with
	// CLICOLOR_FORCE, prints finished blocks only.
	if opts.IO.CanMoveCursor() {
		ro.Height = opts.IO.Height()
	}
	return ro
}

func (o *markdownOutput) Start(string, string)  {}
func (o *markdownOutput) Reasoning(int, string) {}

func (o *markdownOutput) Content(choice int, text string) {
	if o.multi {
		o.answers.add(choice, text)
		return
	}
	if choice == 0 && text != "" {
		// A write error (a closed terminal) comes back from Close at Finish.
		_, _ = o.md.WriteString(text)
	}
}

// Flush does nothing: the renderer's frame clock shows what arrived at most ~30 times a
// second. Running a frame whenever the network is idle would, at a model's pace, render and
// redraw the live tail for every token.
func (o *markdownOutput) Flush() {}

func (o *markdownOutput) Finish(res *result) error {
	o.unwatchTerminal()
	if !o.multi {
		// Ctrl-C shows the unfinished rest as the text it is, at once; any other end (a cut
		// stream, --timeout) renders what arrived.
		if errors.Is(res.Err, context.Canceled) {
			return o.md.Interrupt()
		}
		return o.md.Close()
	}
	// Several answers, each rendered whole after its header. The renderers run no frames, so
	// one left unclosed after an error holds nothing.
	md := o.md
	for i, a := range o.answers {
		if i > 0 {
			var err error
			if md, err = render.NewMarkdown(o.w, o.ropts); err != nil {
				return err
			}
		}
		if _, err := io.WriteString(o.w, answerHeader(i)); err != nil {
			return err
		}
		_, _ = md.WriteString(a.String())
		if err := md.Close(); err != nil {
			return err
		}
	}
	return nil
}

// noFrames is a render.Clock that never ticks: an answer rendered whole needs only the
// render that Close does.
type noFrames struct{}

func (noFrames) Every(time.Duration, func()) func() { return func() {} }
