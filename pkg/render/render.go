// Package render shows a streamed answer on a terminal or passes it through untouched.
//
// Two renderers share one small interface, [Renderer]:
//
//   - [Plain] copies the bytes it is given to its writer, buffered, without adding or
//     dropping a byte. Use it for pipes and --raw.
//   - [Markdown] renders markdown with glamour while it streams, at close to the cost of a
//     single render of the whole answer.
//
// # How Markdown streams
//
// Re-rendering the whole answer on every token costs O(n²) (mods spends 16.9 s of CPU on a
// 4 KB answer). Markdown instead cuts the stream into top-level blocks and renders each block
// once, when it is final:
//
//   - A block is final when a blank line follows it outside a code fence and the next
//     non-blank line does not continue it: a loose list continues across blank lines (so its
//     numbering survives), as do indented continuation lines, open HTML blocks and fences
//     nested in list items. An ATX heading is final at its end of line.
//   - Work happens in frames, at most one per [Options.FrameInterval] (33 ms by default),
//     on [Options.Clock]. Everything that became final since the last frame is rendered in
//     one call of one reused glamour TermRenderer, printed, and forgotten.
//   - A top-level fenced code block is never rendered as a whole: each of its lines is
//     highlighted with chroma, through the same style glamour uses, and printed as soon as
//     it is complete. The closing fence prints the block's bottom margin.
//   - The unfinished rest (the "live tail") is shown as plain wrapped text below the
//     committed output and redrawn in place (cursor up, erase down; never the alternate
//     screen) when it changes. It is capped to min(Height-1, 4) rows of at most 79 columns,
//     showing the newest rows, so that it can still be erased after a resize (see Resize).
//   - [Markdown.Write] only appends to a buffer under a mutex, so the goroutine reading the
//     network is never held back by rendering; a slow frame simply takes more text.
//
// What stays in the scrollback equals a one-shot glamour render of the whole answer, up to
// the blank lines between blocks (always exactly one here) and trailing spaces, and does
// not depend on how the stream was cut into deltas or where frames fell. The exceptions
// are documented on [Markdown].
//
// Markdown never sends terminal queries (no background-colour or cursor-position requests):
// the style and the colour profile are fixed by [Options].
package render

import (
	"errors"
	"io"
	"sync"
	"time"
)

// Renderer is what a command writes a streamed answer to. Both [Plain] and [Markdown]
// implement it, and both are safe for concurrent use: typically one goroutine writes deltas
// as they arrive from the network while another calls Interrupt on Ctrl-C.
type Renderer interface {
	// Write appends a delta of the answer. It is cheap: it never renders or blocks on the
	// terminal for long. It returns an error once the output has failed or after Close.
	io.Writer
	// Flush makes what has been written so far visible. Plain writes its buffer out, and
	// the caller calls it when the network has nothing more buffered. Markdown runs a frame
	// now; it runs frames on its own clock anyway, so calling Flush after every delta only
	// renders more often than needed.
	Flush() error
	// Interrupt ends the answer early (Ctrl-C) and leaves the terminal clean.
	Interrupt() error
	// Close ends the answer: everything written is rendered and the terminal left clean.
	Close() error
}

// ErrClosed is returned by Write after Close or Interrupt.
var ErrClosed = errors.New("render: renderer is closed")

// Clock schedules frames. The real clock ticks in its own goroutine; tests and benchmarks
// pass a fake clock that runs frames synchronously when they advance it.
type Clock interface {
	// Every calls f every d until stop is called. Calls of f never overlap.
	Every(d time.Duration, f func()) (stop func())
}

// realClock runs f from a goroutine driven by a time.Ticker.
type realClock struct{}

func (realClock) Every(d time.Duration, f func()) func() {
	t := time.NewTicker(d)
	done := make(chan struct{})
	go func() {
		for {
			select {
			case <-t.C:
				f()
			case <-done:
				return
			}
		}
	}()
	var once sync.Once
	return func() {
		once.Do(func() {
			t.Stop()
			close(done)
		})
	}
}

// DefaultFrameInterval is the time between two frames of Markdown: about 30 a second.
const DefaultFrameInterval = 33 * time.Millisecond

// Options configure a Markdown renderer. The caller decides everything that depends on the
// terminal (width, height, style, colour); Markdown never asks the terminal.
type Options struct {
	// Width is the wrap width in columns, as for glamour's WithWordWrap. Default 80.
	Width int
	// Columns is the terminal's width, used to wrap the live tail so that its rows can be
	// counted and erased. 0 means Width. It only matters when Width is wider than the
	// terminal (an explicit --wrap).
	Columns int
	// Height is the terminal's height in rows. The live tail is never taller than
	// Height-1 rows (nor 4). Below 2 there is no live tail at all: only final blocks are
	// printed and no cursor movement is ever written (TERM=dumb, unknown size).
	Height int
	// Style is a glamour style: "dark" (the default), "light", "notty", "ascii", "dracula",
	// "pink", "tokyo-night", or the path of a glamour JSON style file. "auto" means "dark":
	// detecting the background is the caller's job, done once and without a terminal query.
	Style string
	// Color enables ANSI colours and text attributes. Without it (NO_COLOR, TERM=dumb) the
	// output has no colour escapes at all, and the colourful built-in styles are replaced by
	// "notty", whose headings and emphasis stay readable as plain text.
	Color bool
	// FrameInterval is the time between frames; default DefaultFrameInterval.
	FrameInterval time.Duration
	// Clock schedules frames; nil means the real clock.
	Clock Clock
}
