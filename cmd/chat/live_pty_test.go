//go:build unix

package chat_test

import (
	"fmt"
	"math/rand/v2"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/moonchat/moonchat/internal/clitest"
	"github.com/moonchat/moonchat/internal/vt"
	"github.com/moonchat/moonchat/pkg/emulator"
	"github.com/moonchat/moonchat/pkg/render"
)

// What the live renderer leaves on a real terminal when the terminal does something
// ordinary mid-answer: a resize, Ctrl-C, a notice on stderr, an answer on the top row. The
// screen and scrollback are read through the terminal emulator of internal/vt.

// resizeAt is a size change of the terminal, applied to the emulator at byte offset at of
// the program's output.
type resizeAt struct{ at, cols, rows int }

// readScreen replays out through a terminal emulator of cols x rows, resized as given, and
// returns its lines (scrollback and screen, rows the terminal wrapped joined) without
// colours. It fails the test on anything the emulator reports (a cursor moved above the
// screen, an escape sequence the renderer must not send).
func readScreen(t *testing.T, out string, cols, rows int, resizes ...resizeAt) []string {
	t.Helper()
	v := vt.New(cols, rows)
	from := 0
	for _, r := range resizes {
		v.Write([]byte(out[from:r.at]))
		v.Resize(r.cols, r.rows)
		from = r.at
	}
	v.Write([]byte(out[from:]))
	for _, e := range v.Errs {
		t.Errorf("terminal: %s", e)
	}
	var lines []string
	for _, l := range v.Lines() {
		lines = append(lines, strings.TrimRight(ansiSeq.ReplaceAllString(l, ""), " "))
	}
	return lines
}

// rawMarkup matches source markdown that a rendered answer never shows.
var rawMarkup = regexp.MustCompile(`\*\*|^\s*- |^\s*#+ [a-z]|\|---|^\s*\| `)

func checkRendered(t *testing.T, lines []string, once ...string) {
	t.Helper()
	text := strings.Join(lines, "\n")
	for _, l := range lines {
		if rawMarkup.MatchString(l) {
			t.Errorf("a raw markdown row is left: %q\nthe screen:\n%s", l, text)
		}
	}
	for _, s := range once {
		if n := strings.Count(text, s); n != 1 {
			t.Errorf("%q is shown %d times, want once; the screen:\n%s", s, n, text)
		}
	}
}

// laidOutAt checks that every row from the one that shows from on is at most cols wide: laid
// out at the size the terminal had by then.
func laidOutAt(t *testing.T, lines []string, from string, cols int) {
	t.Helper()
	after := false
	for _, l := range lines {
		after = after || strings.Contains(l, from)
		if w := render.Width(l); after && w > cols {
			t.Errorf("a row after the resize is %d columns wide, not laid out at %d: %q", w, cols, l)
		}
	}
}

const resizeAnswer = "# Resize check\n\n- alpha item\n- beta item\n\n" +
	"A paragraph w101 that goes on with **bold w102** words for a while, long enough to need several rows " +
	"on any terminal, so that the live tail shows it over more than one row w103 when the terminal " +
	"is resized, and the words keep going w104 until the end of it w105.\n\n" +
	"| key | value |\n|---|---|\n| a | 1 |\n\nThe end w199.\n"

// The case of the report: 100 to 60 columns (and 40 to 20 rows) while a paragraph is in the
// live tail. The tail is erased, laid out again, and everything after it is rendered at 60
// columns; nothing raw or doubled stays in the scrollback.
func TestResizeInAPseudoTerminal(t *testing.T) {
	g := gatedEmulator(t, strings.Index(resizeAnswer, "w103"))
	g.emu.SetReply(func(*emulator.ChatRequest) emulator.Reply { return emulator.Reply{Content: resizeAnswer} })
	term := startTerminal(t, 100, 40, "chat", "-m", "kimi-k2-turbo-preview", "--no-save", "resize")
	term.expectShown("w103") // the paragraph, raw, in the live tail
	off := term.resize(60, 20)
	term.expect("\x1b[J") // the tail erased and drawn again at the new size
	g.open()
	term.exits(0)
	out := term.output()
	lines := readScreen(t, out, 100, 40, resizeAt{off, 60, 20})
	leftClean(t, out, strings.Join(lines, "\n"))
	checkRendered(t, lines, "Resize check", "alpha item", "w101", "w102", "w103", "w105", "The end w199.")
	laidOutAt(t, lines, "w101", 60)
}

// An answer that starts on the top row of a fresh screen (after clear or Ctrl-L), paced:
// the first preview row does not stay above the rendered heading.
func TestTopRowStartInAPseudoTerminal(t *testing.T) {
	g := gatedEmulator(t, 0)
	g.open()
	answer := "# Code review\n\nThe function is fine. It **returns** early and w201 closes the file.\n\n## Details\n\nNothing else w202.\n"
	g.emu.SetReply(func(*emulator.ChatRequest) emulator.Reply { return emulator.Reply{Content: answer} })
	g.emu.Inject(emulator.Fault{Kind: emulator.Slow, Delay: 20 * time.Millisecond})
	term := startTerminal(t, 80, 24, "chat", "-m", "kimi-k2-turbo-preview", "--no-save", "review")
	term.exits(0)
	out := term.output()
	lines := readScreen(t, "\x1b[H\x1b[2J"+out, 80, 24)
	leftClean(t, out, strings.Join(lines, "\n"))
	checkRendered(t, lines, "Code review", "w201", "Nothing else w202.")
	for _, l := range lines {
		// Notices on stderr ("moonchat: …", a retired model) come before the answer.
		if strings.TrimSpace(l) != "" && !strings.HasPrefix(l, "moonchat: ") {
			if !strings.Contains(l, "Code review") || strings.Contains(l, "# Code") {
				t.Errorf("the first row shown is %q, not the rendered heading", l)
			}
			break
		}
	}
}

// lastShown is the unfinished last line of sent, which the live tail shows (raw) as its
// last row once the client has received all of sent; "" unless it holds one of the answer's
// unique words, followed by more, so that it cannot have been on the screen before.
func lastShown(sent string) string {
	partial := sent[strings.LastIndexByte(sent, '\n')+1:]
	if regexp.MustCompile(`w\d\d\d .`).MatchString(partial) {
		return partial
	}
	return ""
}

// emulatorChunk is the emulator's delta size: the content sent when the gate first holds is
// the answer up to the first multiple of it at or after the hold.
const emulatorChunk = 16

// Ctrl-C at 20 random points of an answer: the screen ends with rendered text, colours reset
// and the cursor shown, and the history holds exactly what arrived.
func TestCtrlCAtRandomPointsInAPseudoTerminal(t *testing.T) {
	var b strings.Builder
	b.WriteString("# Notes w300\n\n")
	for i := 301; i < 340; i++ {
		switch i % 10 {
		case 3:
			fmt.Fprintf(&b, "\n## Part w%d\n\n", i)
		case 5, 6:
			fmt.Fprintf(&b, "- item w%d with *stress*\n", i)
		case 7:
			fmt.Fprintf(&b, "\nA line w%d with **bold** and `code`\n", i)
		default:
			fmt.Fprintf(&b, "plain words w%d and more\n", i)
		}
	}
	answer := b.String()
	r := rand.New(rand.NewPCG(20, 11))
	for range 20 {
		// A point where the client's having received everything sent can be seen.
		hold := 0
		for hold == 0 || lastShown(answer[:min(len(answer), (hold+emulatorChunk-1)/emulatorChunk*emulatorChunk)]) == "" {
			hold = 1 + r.IntN(len(answer)-emulatorChunk)
		}
		t.Run(fmt.Sprintf("after %d bytes", hold), func(t *testing.T) {
			g := gatedEmulator(t, hold)
			g.emu.SetReply(func(*emulator.ChatRequest) emulator.Reply { return emulator.Reply{Content: answer} })
			term := startTerminal(t, 80, 24, "chat", "-m", "kimi-k2-turbo-preview", "notes")
			select {
			case <-g.reached:
			case <-time.After(30 * time.Second):
				t.Fatalf("the stream never reached the gate; the screen:\n%s", term.screen())
			}
			sent := g.sent()
			s := lastShown(sent)
			if s == "" {
				t.Fatalf("the gate held after %q: the emulator no longer sends %d-byte deltas", sent, emulatorChunk)
			}
			term.expectShown(s)
			term.typeKeys("\x03")
			term.exits(130)
			out := term.output()
			lines := readScreen(t, out, 80, 24)
			leftClean(t, out, strings.Join(lines, "\n"))
			checkRendered(t, lines)
			convs := clitest.Conversations(t)
			if len(convs) != 1 || len(convs[0].Msgs) != 2 {
				t.Fatalf("saved %d conversations", len(convs))
			}
			if m := convs[0].Msgs[1]; m.Content != sent || !m.Interrupted {
				t.Errorf("saved %q (interrupted %v), want what arrived: %q", m.Content, m.Interrupted, sent)
			}
		})
	}
}

// A notice written while the answer streams ("continuing…" when --max-tokens cut it) lands
// between rows, not inside the live tail: no stale row stays.
func TestNoticeMidAnswerInAPseudoTerminal(t *testing.T) {
	g := gatedEmulator(t, 0)
	g.open()
	answer := "A single long paragraph w401 with **bold** words that keeps going past the token limit, " +
		"so that moonchat asks for the rest w402 while the live tail shows the first part, and the " +
		"rest arrives after the notice w403 and completes the paragraph w404.\n"
	g.emu.SetReply(func(*emulator.ChatRequest) emulator.Reply { return emulator.Reply{Content: answer} })
	g.emu.Inject(emulator.Fault{Kind: emulator.Slow, Delay: 15 * time.Millisecond})
	term := startTerminal(t, 100, 30, "chat", "-m", "kimi-k2-turbo-preview", "--no-save", "--max-tokens", "30", "--max-continues", "5", "go")
	term.exits(0)
	out := term.output()
	lines := readScreen(t, out, 100, 30)
	leftClean(t, out, strings.Join(lines, "\n"))
	checkRendered(t, lines, "w401", "w404")
	if n := strings.Count(strings.Join(lines, "\n"), "continuing it"); n == 0 {
		t.Errorf("no notice shown:\n%s", strings.Join(lines, "\n"))
	}
}

// The same resize in the interactive session: the answer's live tail follows the terminal
// there too. Only the answer's part of the output is read through the emulator: the line
// editor draws the prompt with sequences of its own.
func TestResizeInASessionInAPseudoTerminal(t *testing.T) {
	g := gatedEmulator(t, strings.Index(resizeAnswer, "w103"))
	g.emu.SetReply(func(*emulator.ChatRequest) emulator.Reply { return emulator.Reply{Content: resizeAnswer} })
	term := startSession(t, "chat", "-m", "kimi-k2-turbo-preview", "--no-save")
	term.expect(" › ")
	term.typeKeys("resize please\r")
	term.expectShown("w103")
	off := term.resize(60, 20)
	term.expect("\x1b[J")
	g.open()
	term.expect("w199")
	term.expect(" › ")
	term.quit()
	out := term.output()
	// From the line editor's end of bracketed paste, after Enter, to the renderer's last write.
	start := strings.Index(out, "\x1b[?2004l") + len("\x1b[?2004l")
	end := strings.Index(out[off:], "w199") + off
	end += strings.Index(out[end:], "\x1b[?25h") + len("\x1b[?25h")
	if start > off || end < off {
		t.Fatalf("the answer is not where expected in the output: %q", out)
	}
	lines := readScreen(t, out[start:end], 100, 30, resizeAt{off - start, 60, 20})
	checkRendered(t, lines, "Resize check", "alpha item", "w101", "w102", "w103", "w105", "The end w199.")
	laidOutAt(t, lines, "w101", 60)
}
