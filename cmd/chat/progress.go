package chat

import (
	"fmt"
	"io"
	"time"
	"unicode/utf8"

	"github.com/moonchat/moonchat/cmd/cli"
	"github.com/moonchat/moonchat/pkg/render"
)

// progressOutput shows on stderr what the answer on stdout cannot: a spinner until the first
// token, and a thinking model's reasoning, either as one live line ("thinking… 312 tokens",
// then "thought for 4.2s") or, with --show-reasoning, as the text itself, dimmed. It writes
// nothing to stdout, and stderr falls silent once the answer has started, since a live line
// below a rendered answer would break the renderer's redrawing of its unfinished part.
//
// The token count is an estimate from the text (see reasoningTokens): the usage, which
// counts them, comes only with the last chunk, and a delta is not a token (Moonshot sends
// several tokens in one delta at times, and empty deltas).
type progressOutput struct {
	output
	opts *Options
	live bool // spinner and thinking line: a terminal on stderr, not -q, no stdout before the answer
	show bool // --show-reasoning, for the outputs that show an answer as it streams
	// deferred: the output shows the content only when the stream ends (several answers, a
	// JSON object); the spinner runs until then.
	deferred bool
	gap      bool // a blank line after shown reasoning (the rendered answer starts with its own)

	answering bool      // content has arrived: stderr stays quiet from now on
	thinking  time.Time // when the first reasoning delta arrived; zero before
	thought   bool      // the thinking is over
	tokens    reasoningTokens
	drawn     time.Time              // when the thinking line was last redrawn
	reasoned  bool                   // reasoning text was shown
	clean     render.StreamSanitizer // of the shown reasoning
	lastByte  byte                   // of the shown reasoning
}

// thinkingRedraw limits how often the thinking line is redrawn: a burst of deltas must not
// become a burst of writes to the terminal.
const thinkingRedraw = 100 * time.Millisecond

func (opts *Options) progressOutput(o output, format string) *progressOutput {
	streamsAnswer := format == "markdown" || format == "text"
	return &progressOutput{
		output:   o,
		opts:     opts,
		live:     opts.IO.IsStderrTTY() && !opts.Quiet && format != "jsonl",
		show:     opts.ShowReasoning && streamsAnswer,
		deferred: !streamsAnswer || (opts.N != nil && *opts.N > 1),
		gap:      format == "text",
	}
}

// waiting starts the spinner: the request is about to be sent.
func (p *progressOutput) waiting() {
	if p.live {
		p.opts.IO.StartSpinner("")
	}
}

func (p *progressOutput) Reasoning(choice int, text string) {
	p.output.Reasoning(choice, text)
	if text == "" || p.answering {
		return
	}
	switch {
	case p.show:
		if choice == 0 {
			p.showReasoning(text)
		}
	case p.live && !p.opts.NoStream:
		// Without streaming, the reasoning arrives with the answer: there was no thinking to
		// watch, and the spinner covered the wait.
		now := p.opts.Factory.Now()
		if p.thinking.IsZero() {
			p.thinking = now
		}
		first := p.tokens.estimate() == 0
		p.tokens.add(text)
		if first || now.Sub(p.drawn) >= thinkingRedraw {
			p.drawn = now
			p.opts.IO.StartSpinner(thinkingLabel(p.tokens.estimate()))
		}
	}
}

// reasoningTokens estimates the tokens of streamed text as tokenizers of English and
// Chinese come out on average: one per 4 bytes of ASCII, one per other character. It does
// not depend on how the text was cut into deltas.
type reasoningTokens struct{ ascii, other int }

func (t *reasoningTokens) add(text string) {
	for _, r := range text {
		if r < utf8.RuneSelf {
			t.ascii++
		} else {
			t.other++
		}
	}
}

func (t *reasoningTokens) estimate() int { return (t.ascii+3)/4 + t.other }

func thinkingLabel(tokens int) string {
	if tokens == 1 {
		return "thinking… 1 token"
	}
	return "thinking… " + cli.FormatInt(tokens) + " tokens"
}

// showReasoning streams reasoning to stderr, dimmed when stderr takes colour, each delta
// closed on its own so that nothing else written to stderr, nor an abrupt end, stays dim.
//
// The text goes through render.Sanitize even when stderr is piped: it is shown for a person
// to read, never parsed, and a log of it is read on a terminal too.
func (p *progressOutput) showReasoning(text string) {
	text = p.clean.Next(text)
	if text == "" {
		return
	}
	if !p.reasoned {
		p.reasoned = true
		p.opts.IO.StopSpinner()
	}
	p.writeReasoning(text)
}

func (p *progressOutput) writeReasoning(text string) {
	p.lastByte = text[len(text)-1]
	_, _ = io.WriteString(p.opts.IO.ErrOut, p.opts.IO.ErrColorScheme().Dim(text))
}

func (p *progressOutput) Content(choice int, text string) {
	if text != "" && !p.answering {
		p.answering = true
		p.endThinking(true)
		if !p.deferred {
			p.opts.IO.StopSpinner()
		}
	}
	p.output.Content(choice, text)
}

func (p *progressOutput) Finish(res *result) error {
	p.endThinking(res.Err == nil)
	p.opts.IO.StopSpinner()
	return p.output.Finish(res)
}

// endThinking closes the reasoning part: the shown reasoning ends its line, and the thinking
// line becomes "thought for 4.2s" when the thinking came to its end (not on an error).
func (p *progressOutput) endThinking(done bool) {
	if p.reasoned {
		p.reasoned = false
		if rest := p.clean.End(); rest != "" {
			p.writeReasoning(rest)
		}
		end := ""
		if p.lastByte != '\n' {
			end = "\n"
		}
		if p.gap {
			end += "\n"
		}
		_, _ = io.WriteString(p.opts.IO.ErrOut, end)
	}
	if p.thinking.IsZero() || p.thought {
		return
	}
	p.thought = true
	if !done {
		return
	}
	line := "thought for " + thoughtDuration(p.opts.Factory.Now().Sub(p.thinking))
	// The spinner stays for an answer shown only at the end; the line is written above it.
	if p.deferred {
		p.opts.IO.StartSpinner("")
	} else {
		p.opts.IO.StopSpinner()
	}
	fmt.Fprintln(p.opts.IO.ErrOut, p.opts.dim(line))
}

// thoughtDuration is "4.2s" under a minute, "1m12s" above.
func thoughtDuration(d time.Duration) string {
	if d < time.Minute {
		return fmt.Sprintf("%.1fs", d.Seconds())
	}
	return d.Round(time.Second).String()
}
