package render

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/moonchat/moonchat/internal/vt"
)

// A termEvent happens on the terminal between two deltas of a paced answer.
type termEvent struct {
	cols, rows int    // a resize when cols > 0
	notice     string // a line written to the same terminal (stderr), inside Suspend/Resume
	interrupt  bool   // Ctrl-C: the answer ends here
}

// wrapFor is the wrap width moonchat gives the renderer on a terminal cols wide.
func wrapFor(cols int) int { return min(cols, 120) }

// session streams pieces into a renderer and a terminal emulator together, as a user's
// terminal would show them, applying events before the piece of the same index. The
// terminal is resized before the renderer hears of it, as with SIGWINCH. It returns the
// terminal, the output written after the last resize, and how much of the answer the last
// frame before that resize had taken: the rest is rendered at the new width.
func session(t *testing.T, cols, rows int, live bool, prefix []byte, pieces [][]byte, frame func(int) bool, events map[int]termEvent) (*vt.VT, []byte, int) {
	t.Helper()
	term := vt.New(cols, rows)
	term.Write(prefix)
	height := rows
	if !live {
		height = 0
	}
	var out bytes.Buffer
	m, err := NewMarkdown(&out, Options{Width: wrapFor(cols), Columns: cols, Height: height, Style: "dark", Color: true, Clock: &fakeClock{}})
	if err != nil {
		t.Fatal(err)
	}
	sync := func() {
		term.Write(out.Bytes())
		out.Reset()
	}
	var afterResize bytes.Buffer
	interrupted := false
	written, framed, framedAtResize := 0, 0, 0
	for i, p := range pieces {
		if ev, ok := events[i]; ok {
			switch {
			case ev.cols > 0:
				term.Resize(ev.cols, ev.rows)
				h := ev.rows
				if !live {
					h = 0
				}
				if err := m.Resize(wrapFor(ev.cols), ev.cols, h); err != nil {
					t.Fatal(err)
				}
				afterResize.Reset()
				framedAtResize = framed
			case ev.notice != "":
				m.Suspend()
				sync()
				term.Write([]byte(ev.notice))
				m.Resume()
			case ev.interrupt:
				interrupted = true
			}
			afterResize.Write(out.Bytes())
			sync()
		}
		if interrupted {
			break
		}
		m.Write(p)
		written += len(p)
		if frame(i) {
			m.Flush()
			framed = written
		}
		afterResize.Write(out.Bytes())
		sync()
	}
	if interrupted {
		err = m.Interrupt()
	} else {
		err = m.Close()
	}
	if err != nil {
		t.Fatal(err)
	}
	afterResize.Write(out.Bytes())
	sync()
	return term, afterResize.Bytes(), framedAtResize
}

// sparseFrames runs a frame after one piece in eight, at random: about every 160 bytes, as
// at a model's pace with 33 ms frames.
func sparseFrames(seed uint64) func(int) bool {
	r := rand.New(rand.NewPCG(seed, 13))
	return func(int) bool { return r.IntN(8) == 0 }
}

// sameAsWithoutTail runs the schedule twice, with a live tail and without (what the
// terminal shows then is only committed output), and fails unless both terminals end with
// the same lines: no preview row left over, none doubled, nothing lost.
func sameAsWithoutTail(t *testing.T, name string, cols, rows int, prefix []byte, pieces [][]byte, frameSeed uint64, events map[int]termEvent) (*vt.VT, []byte, int) {
	t.Helper()
	live, _, _ := session(t, cols, rows, true, prefix, pieces, sparseFrames(frameSeed), events)
	ref, after, framed := session(t, cols, rows, false, prefix, pieces, sparseFrames(frameSeed), events)
	for _, e := range live.Errs {
		t.Errorf("%s: terminal: %s", name, e)
	}
	// Compared as text: chroma gives up on a regular expression after 250 ms of wall time, so
	// on a loaded machine (or under -race) two renders of one code line can differ in colour.
	// Colours are pinned by the golden tests.
	got, want := stripEscapes([]byte(strings.Join(live.Lines(), "\n"))), stripEscapes([]byte(strings.Join(ref.Lines(), "\n")))
	if got != want {
		t.Errorf("%s: the screen and scrollback differ from the committed output alone:\n%s", name, firstDiff(got, want))
	}
	return live, after, framed
}

// sectionFrom returns the document from the last top-level heading that starts before
// offset: every unit committed after that offset is in it, and a heading starts a unit.
func sectionFrom(doc []byte, offset int) []byte {
	start, fenced := 0, false
	for i := 0; i < len(doc) && i < offset; {
		end := bytes.IndexByte(doc[i:], '\n')
		if end < 0 {
			end = len(doc) - i
		}
		ln := doc[i : i+end]
		switch {
		case bytes.HasPrefix(ln, []byte("```")) || bytes.HasPrefix(ln, []byte("~~~")):
			fenced = !fenced
		case !fenced && bytes.HasPrefix(ln, []byte("#")):
			start = i
		}
		i += end + 1
	}
	return doc[start:]
}

// TestResizeDuringAPacedAnswer: 50 seeded schedules resize the terminal at random moments
// (40-160 columns, 10-50 rows) while a 32 KB answer streams. The screen and scrollback end
// as the committed output alone would (no raw markdown row, no row twice), the terminal is
// never asked to move above its screen, and the blocks committed after the last resize are
// a one-shot glamour render at the new width.
func TestResizeDuringAPacedAnswer(t *testing.T) {
	doc := []byte(genDoc(32<<10, 11))
	for seed := uint64(1); seed <= 50; seed++ {
		r := rand.New(rand.NewPCG(seed, 99))
		pieces := randomPieces(doc, seed)
		events := map[int]termEvent{}
		lastAt := -1
		for range 1 + r.IntN(6) {
			at := 1 + r.IntN(len(pieces)-1)
			events[at] = termEvent{cols: 40 + r.IntN(121), rows: 10 + r.IntN(41)}
			lastAt = max(lastAt, at)
		}
		cols, rows := 40+r.IntN(121), 10+r.IntN(41)
		name := fmt.Sprintf("seed %d (%dx%d, resizes %v)", seed, cols, rows, events)
		_, after, offset := sameAsWithoutTail(t, name, cols, rows, nil, pieces, seed, events)

		last := events[lastAt]
		opts := Options{Width: wrapFor(last.cols), Style: "dark", Color: true}
		want := stripEscapes([]byte(nonBlank(screenOf(t, oneShot(t, sectionFrom(doc, offset), opts), opts))))
		got := stripEscapes([]byte(nonBlank(screenOf(t, after, opts))))
		if got == "" || !strings.HasSuffix(want, got) {
			t.Errorf("%s: the blocks after the last resize are not a render at %d columns:\n%s", name, opts.Width,
				firstDiff(got, want[max(0, len(want)-len(got)):]))
		}
		if t.Failed() {
			return
		}
	}
}

// TestShrinkWhileTheTailShows is the case of the report: 100 to 60 columns while a code
// block, a table and a paragraph stream.
func TestShrinkWhileTheTailShows(t *testing.T) {
	doc := []byte("# Code review\n\n```go\nfunc main() {\n\tfmt.Println(\"a long line of code that is wider than sixty columns, surely\")\n}\n```\n\n" +
		"| name | value | comment |\n|---|---|---|\n" + strings.Repeat("| alpha | 1234567890 | a comment that makes the row wide enough to wrap |\n", 3) +
		"\n" + strings.Repeat("A paragraph that goes on and on, long enough to be several rows. ", 5) + "\n\nThe end.\n")
	pieces := fixedPieces(doc, 5)
	for at := 1; at < len(pieces); at += 3 {
		sameAsWithoutTail(t, fmt.Sprintf("resize before piece %d", at), 100, 40, nil, pieces, 3, map[int]termEvent{at: {cols: 60, rows: 40}})
		if t.Failed() {
			return
		}
	}
}

// TestAnswerOnTheTopRow: the screen is cleared first (clear, Ctrl-L), so the answer starts
// on the top row; the first preview row must not stay above the rendered heading.
func TestAnswerOnTheTopRow(t *testing.T) {
	doc := []byte("# Code review\n\nThe function is fine. It **returns** early.\n\n## Details\n\n- one\n- two\n")
	clear := []byte("$ old output\r\n$ more\r\n\x1b[H\x1b[2J")
	for seed := uint64(1); seed <= 20; seed++ {
		term, _, _ := sameAsWithoutTail(t, fmt.Sprintf("seed %d", seed), 80, 24, clear, randomPieces(doc, seed), seed, nil)
		lines := slices.DeleteFunc(term.Lines(), func(s string) bool { return s == "" })
		if strings.Contains(strings.Join(lines, "\n"), "# Code r") && !strings.Contains(lines[0], "\x1b[") {
			t.Fatalf("seed %d: a raw preview row is on the screen:\n%s", seed, strings.Join(lines, "\n"))
		}
	}
}

// TestCtrlCAtRandomPoints: 20 interrupts at random points of a paced answer end with the
// same screen as the committed output alone, colours reset and the cursor shown.
func TestCtrlCAtRandomPoints(t *testing.T) {
	doc := []byte(genDoc(8<<10, 5))
	r := rand.New(rand.NewPCG(20, 20))
	for n := range 20 {
		pieces := randomPieces(doc, uint64(n))
		at := 1 + r.IntN(len(pieces)-1)
		name := fmt.Sprintf("interrupt before piece %d of %d", at, len(pieces))
		sameAsWithoutTail(t, name, 100, 30, nil, pieces, uint64(n), map[int]termEvent{at: {interrupt: true}})
		var out bytes.Buffer
		m, err := NewMarkdown(&out, Options{Width: 100, Height: 30, Style: "dark", Color: true, Clock: &fakeClock{}})
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range pieces[:at] {
			m.Write(p)
			m.Flush()
		}
		m.Interrupt()
		if !bytes.HasSuffix(out.Bytes(), []byte("\x1b[0m\x1b[?25h")) {
			t.Errorf("%s: colours not reset or cursor not shown at the end: %q", name, out.Bytes()[max(0, out.Len()-20):])
		}
	}
}

// TestNoticeDuringAnAnswer: lines written to the terminal between Suspend and Resume land
// below the committed output, and no preview row is left behind.
func TestNoticeDuringAnAnswer(t *testing.T) {
	doc := []byte(genDoc(4<<10, 8))
	pieces := randomPieces(doc, 8)
	events := map[int]termEvent{}
	for i := 5; i < len(pieces); i += len(pieces) / 7 {
		events[i] = termEvent{notice: "moonchat: continuing…\n"}
	}
	term, _, _ := sameAsWithoutTail(t, "notices", 100, 30, nil, pieces, 8, events)
	if n := strings.Count(strings.Join(term.Lines(), "\n"), "moonchat: continuing…"); n != len(events) {
		t.Errorf("%d notices on the screen, want %d", n, len(events))
	}
}
