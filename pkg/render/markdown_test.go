package render

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/alecthomas/chroma/v2"
	"github.com/moonchat/moonchat/internal/syncbuf"
	"github.com/moonchat/moonchat/internal/vt"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

type testDoc struct {
	name string
	text []byte
}

// testDocs are the documents of testdata/ plus a generated one with every kind of block.
func testDocs(t testing.TB) []testDoc {
	t.Helper()
	paths, err := filepath.Glob("testdata/*.md")
	if err != nil || len(paths) == 0 {
		t.Fatalf("no test documents: %v", err)
	}
	var docs []testDoc
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		docs = append(docs, testDoc{strings.TrimSuffix(filepath.Base(p), ".md"), b})
	}
	return append(docs, testDoc{"generated", []byte(genDoc(6<<10, 1))})
}

func crlf(b []byte) []byte { return bytes.ReplaceAll(b, []byte("\n"), []byte("\r\n")) }

// TestGolden checks that what stays on the terminal after streaming equals a one-shot
// glamour render of the whole answer, up to blank lines and trailing spaces, and keeps it,
// blank lines collapsed, in golden files (go test -run TestGolden -update to rewrite them; `cat` shows
// them as they look).
func TestGolden(t *testing.T) {
	for _, d := range testDocs(t) {
		for _, color := range []bool{true, false} {
			name := d.name
			if !color {
				name += ".nocolor"
			}
			t.Run(name, func(t *testing.T) {
				opts := testOptions(24, color)
				out := stream(t, opts, fixedPieces(d.text, 4), everyPiece, nil)
				screen := screenOf(t, out, opts)
				want := nonBlank(screenOf(t, oneShot(t, d.text, opts), opts))
				if got := nonBlank(screen); got != want {
					t.Errorf("streamed output differs from a one-shot render:\n%s", firstDiff(got, want))
				}
				got := normalized(screen)
				golden := filepath.Join("testdata", name+".golden")
				if *update {
					if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
						t.Fatal(err)
					}
					return
				}
				b, err := os.ReadFile(golden)
				if err != nil {
					t.Fatalf("%v (run go test -update to create it)", err)
				}
				if got != string(b) {
					t.Errorf("output differs from the golden file %s:\n%s", golden, firstDiff(got, string(b)))
				}
			})
		}
	}
}

func firstDiff(got, want string) string {
	g, w := strings.Split(got, "\n"), strings.Split(want, "\n")
	for i := 0; i < max(len(g), len(w)); i++ {
		var gl, wl string
		if i < len(g) {
			gl = g[i]
		}
		if i < len(w) {
			wl = w[i]
		}
		if gl != wl {
			return fmt.Sprintf("line %d:\n got %q\nwant %q", i+1, gl, wl)
		}
	}
	return "(no difference)"
}

// TestCRLF: CRLF line endings give the same output as LF ones.
func TestCRLF(t *testing.T) {
	for _, d := range testDocs(t) {
		opts := testOptions(0, true)
		want := stream(t, opts, fixedPieces(d.text, 4), everyPiece, nil)
		got := stream(t, opts, fixedPieces(crlf(d.text), 3), everyPiece, nil)
		if !bytes.Equal(got, want) {
			t.Errorf("%s: CRLF input renders differently:\n%s", d.name, firstDiff(string(got), string(want)))
		}
	}
}

// TestChunkingInvariance: the committed output does not depend on how the answer was cut
// into deltas nor on where frames fell. Without a live tail the bytes themselves must be
// equal; with one, what the terminal ends up showing.
func TestChunkingInvariance(t *testing.T) {
	docs := testDocs(t)
	docs = append(docs, testDoc{"crlf", crlf(docs[0].text)}, testDoc{"large", []byte(genDoc(12<<10, 2))})
	for _, d := range docs {
		seed := uint64(len(d.text))
		opts := testOptions(0, true)
		base := stream(t, opts, [][]byte{d.text}, everyPiece, nil)
		for i, c := range chunkers {
			// Frames after every piece, or at random places (in turns, to keep this fast).
			frames := everyPiece
			if i%2 == 0 {
				frames = randomFrames(seed)
			}
			out := stream(t, opts, c.cut(d.text, seed), frames, nil)
			if !bytes.Equal(out, base) {
				t.Errorf("%s/%s: committed bytes differ:\n%s", d.name, c.name, firstDiff(string(out), string(base)))
			}
		}
		// With a live tail the bytes differ, by design; what stays on the screen must not.
		opts = testOptions(12, true)
		want := strings.Join(screenOf(t, stream(t, opts, [][]byte{d.text}, everyPiece, nil), opts), "\n")
		for _, c := range []int{1, 4} { // bytes, random
			out := stream(t, opts, chunkers[c].cut(d.text, seed), randomFrames(seed), nil)
			if got := strings.Join(screenOf(t, out, opts), "\n"); got != want {
				t.Errorf("%s/%s/live tail: final screen differs:\n%s", d.name, chunkers[c].name, firstDiff(got, want))
			}
		}
	}
}

// FuzzChunking cuts documents (from the seeds, then mutated) at random places with frames
// at random places, and checks that the result is what a single write gives.
func FuzzChunking(f *testing.F) {
	for _, d := range testDocs(f) {
		if len(d.text) < 4<<10 {
			f.Add(string(d.text), uint64(len(d.text)))
		}
	}
	for _, s := range []string{
		"1. a\n\n2. b\n\n   para\n\n3. c\n",
		"```go\nx := `raw\nstring`\n```\n",
		"- a\n```\ncode\n\n```\n- b\n",
		"<!--\n\n-->\n# h\n",
		"a\n===\n\n    code\n\n    more\n\ntext",
		"> q\nlazy\n\n> q2\n\n| a |\n|---|\n| 1 |",
		"\xff\xfe bad utf-8 \xe4\xb8\n\t\ttabs\r\n",
		"# 标题 🚀\n\n宽字符👍🏽测试",
		"1. a\n   ```\n   x\nls\n   ```\n\n2. b\n\ntext\n",
		"see [x]\n\n[x]: https://example.com\n\n- [x] and [x][]\n",
		"<pre>\n\na\n\n# b\n",
		" ```\ncode\n      ```\n\npara\n\nnext\n",
	} {
		f.Add(s, uint64(7))
	}
	f.Fuzz(func(t *testing.T, doc string, seed uint64) {
		for _, height := range []int{0, 5} {
			opts := Options{Width: 40, Height: height, Style: "dark", Color: true}
			base := stream(t, opts, [][]byte{[]byte(doc)}, everyPiece, nil)
			out := stream(t, opts, randomPieces([]byte(doc), seed), randomFrames(seed), nil)
			if height == 0 {
				if !bytes.Equal(out, base) {
					t.Fatalf("committed bytes differ:\n%s", firstDiff(string(out), string(base)))
				}
				continue
			}
			if got, want := screenOf(t, out, opts), screenOf(t, base, opts); strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Fatalf("final screen differs:\n%s", firstDiff(strings.Join(got, "\n"), strings.Join(want, "\n")))
			}
		}
	})
}

// TestLooseListNumbering is the bug that a splitter committing at every blank line has:
// the items of a loose list rendered as separate lists all become "1.".
func TestLooseListNumbering(t *testing.T) {
	doc := []byte("Steps:\n\n1. first\n\n2. second\n\n   more about the second\n\n3. third\n\nAfter the list.\n")
	opts := testOptions(0, false)
	out := string(stream(t, opts, fixedPieces(doc, 1), everyPiece, nil))
	for _, want := range []string{"1. first", "2. second", "3. third"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if n := strings.Count(out, "1. "); n != 1 {
		t.Errorf("%d items numbered 1:\n%s", n, out)
	}
}

var colorEscape = regexp.MustCompile(`\x1b\[[0-9;:]*m`)

// TestNoColor: without colour the output has no SGR escape at all, whatever the style, and
// is still the one-shot render.
func TestNoColor(t *testing.T) {
	custom := filepath.Join(t.TempDir(), "style.json")
	if err := os.WriteFile(custom, []byte(`{"document":{"color":"212","margin":2},"heading":{"bold":true,"color":"99"},"strong":{"bold":true,"underline":true},"code_block":{"theme":"monokai","margin":2}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	doc := []byte(genDoc(4<<10, 3))
	for _, style := range []string{"dark", "light", "ascii", "notty", custom} {
		for _, height := range []int{0, 24} {
			opts := Options{Width: 80, Height: height, Style: style}
			out := stream(t, opts, fixedPieces(doc, 4), everyPiece, nil)
			if loc := colorEscape.FindIndex(out); loc != nil {
				t.Errorf("style %s, height %d: colour escape %q at byte %d", style, height, out[loc[0]:loc[1]], loc[0])
			}
			if height == 0 && bytes.Contains(out, []byte("\x1b")) {
				t.Errorf("style %s without a live tail: output has escape sequences", style)
			}
		}
	}
}

// TestLiveTail: the tail shows text before its block is final, is never taller than
// Height-1 rows, is redrawn in place, and disappears at Close.
func TestLiveTail(t *testing.T) {
	long := strings.Repeat("This paragraph is far too long to fit on a small screen. ", 40)
	doc := []byte("# Title\n\n" + long + "\n\n" + "- item one\n- item two\n\n| a | b |\n|---|---|\n" + strings.Repeat("| 1 | 2 |\n", 30) + "\nEnd.\n")
	for _, height := range []int{2, 3, 6, 24} {
		opts := Options{Width: 60, Height: height, Style: "dark", Color: true}
		term := vt.New(opts.Width, height)
		sawPartial := false
		var written int
		after := func(m *Markdown, out *bytes.Buffer) {
			term.Write(out.Bytes()[written:])
			written = out.Len()
			if n := len(m.tail.shown); n > height-1 {
				t.Fatalf("height %d: live tail has %d rows", height, n)
			}
			if strings.Contains(strings.Join(term.Screen(), "\n"), "This paragraph is far") && !bytes.Contains(out.Bytes(), []byte("This paragraph is far too long to fit on a small screen. This")) {
				sawPartial = true
			}
		}
		out := stream(t, opts, fixedPieces(doc, 7), everyPiece, after)
		term.Write(out[written:])
		for _, e := range term.Errs {
			t.Errorf("height %d: terminal: %s", height, e)
		}
		if term.Autowraps != 0 {
			t.Errorf("height %d: the terminal wrapped %d rows by itself", height, term.Autowraps)
		}
		if !sawPartial {
			t.Errorf("height %d: the paragraph was never shown before it was final", height)
		}
		want := nonBlank(screenOf(t, oneShot(t, doc, opts), opts))
		if got := nonBlank(term.Screen()); got != want {
			t.Errorf("height %d: final screen differs from a one-shot render:\n%s", height, firstDiff(got, want))
		}
		if !bytes.HasSuffix(out, []byte("\x1b[0m\x1b[?25h")) {
			t.Errorf("height %d: output does not end with colour reset and cursor shown: %q", height, out[max(0, len(out)-20):])
		}
	}
}

// TestCodeLinesCommitAsTheyArrive: an open fence is never re-rendered; each complete line is
// printed once, in the frame where it completed.
func TestCodeLinesCommitAsTheyArrive(t *testing.T) {
	var out bytes.Buffer
	m, err := NewMarkdown(&out, Options{Width: 80, Height: 24, Color: true, Clock: &fakeClock{}})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	write := func(s string) string {
		before := out.Len()
		m.WriteString(s)
		if err := m.Flush(); err != nil {
			t.Fatal(err)
		}
		return out.String()[before:]
	}
	write("Intro.\n\n```go\nfunc main() {\n")
	frame := write("\tfmt.Println(\"hi\")\n\tx := 1")
	if !strings.Contains(stripEscapes([]byte(frame)), `fmt.Println("hi")`) {
		t.Errorf("a completed code line was not printed: %q", frame)
	}
	frame = write("2\n")
	if strings.Contains(frame, "Println") {
		t.Errorf("an earlier code line was printed again: %q", frame)
	}
	if !strings.Contains(stripEscapes([]byte(frame)), "x := 12") {
		t.Errorf("the completed line is missing: %q", frame)
	}
}

// TestNoRedErrorTokens: half-streamed code is full of chroma "error" tokens (an unclosed
// string or raw string); they must not get chroma's red background.
func TestNoRedErrorTokens(t *testing.T) {
	for _, style := range []string{"dark", "light", "dracula"} {
		th, err := newTheme(Options{Width: 80, Style: style, Color: true})
		if err != nil {
			t.Fatal(err)
		}
		esc := th.code.escapes
		if esc == nil {
			t.Fatalf("%s: code is not highlighted", style)
		}
		for _, code := range []string{"48;", "[4"} {
			if strings.Contains(esc[chroma.Error], code) {
				t.Errorf("%s: error tokens are drawn with %q (a background)", style, esc[chroma.Error])
			}
		}
		doc := []byte("```go\nx := `unclosed raw string\ny := \"unclosed\n")
		out := stream(t, Options{Width: 80, Style: style, Color: true}, fixedPieces(doc, 2), everyPiece, nil)
		if bytes.Contains(out, []byte("48;5;")) {
			t.Errorf("%s: streamed code has a background colour: %q", style, out)
		}
	}
}

// TestInterrupt: Ctrl-C in the middle of a block renders what arrived once, as the whole
// answer (an empty heading marker dropped, an open emphasis or code span closed), and
// leaves the terminal clean.
func TestInterrupt(t *testing.T) {
	for _, tc := range []struct{ doc, rendered string }{
		{"# Title\n\nA paragraph that is cut in the mid", ""},
		{"Intro.\n\n```python\ndef f():\n    return 1\n    # cut in the mid", ""},
		{"| a | b |\n|---|---|\n| 1 | 2 |\n| 3 |", ""},
		{"Intro.\n\nSome text with a **bo", "Intro.\n\nSome text with a **bo**"},
		{"Intro.\n\nRun `go vet", "Intro.\n\nRun `go vet`"},
		{"Intro.\n\nA **bold** start and **", "Intro.\n\nA **bold** start and "},
		{"# Title\n\nText.\n\n## ", "# Title\n\nText.\n"},
	} {
		if tc.rendered == "" {
			tc.rendered = tc.doc
		}
		opts := Options{Width: 60, Height: 10, Style: "dark", Color: true, Clock: &fakeClock{}}
		var out bytes.Buffer
		m, err := NewMarkdown(&out, opts)
		if err != nil {
			t.Fatal(err)
		}
		cut := len(tc.doc) * 2 / 3
		m.WriteString(tc.doc[:cut])
		m.Flush()
		m.WriteString(tc.doc[cut:]) // arrived, never framed
		if err := m.Interrupt(); err != nil {
			t.Fatal(err)
		}
		if _, err := m.WriteString("late"); !errors.Is(err, ErrClosed) {
			t.Errorf("Write after Interrupt: %v, want ErrClosed", err)
		}
		if err := m.Close(); err != nil {
			t.Errorf("Close after Interrupt: %v", err)
		}
		if !bytes.HasSuffix(out.Bytes(), []byte("\n\x1b[0m\x1b[?25h")) {
			t.Errorf("%q: does not end on a new line with colours reset and cursor shown: %q", tc.doc, out.Bytes()[max(0, out.Len()-30):])
		}
		got := nonBlank(screenOf(t, out.Bytes(), opts))
		want := nonBlank(screenOf(t, oneShot(t, []byte(tc.rendered), opts), opts))
		if got != want {
			t.Errorf("%q: the screen is not the rendering of %q:\n%s", tc.doc, tc.rendered, firstDiff(got, want))
		}
	}
}

// TestRealClock: with the real clock, frames run in their own goroutine while another one
// writes; the committed result is the same as with frames driven by hand.
func TestRealClock(t *testing.T) {
	doc := []byte(genDoc(8<<10, 4))
	opts := testOptions(0, true)
	want := stream(t, opts, [][]byte{doc}, everyPiece, nil)

	var out syncbuf.Buffer
	opts.FrameInterval = 100 * 1000 // 0.1 ms: many frames while writing
	m, err := NewMarkdown(&out, opts)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for _, p := range fixedPieces(doc, 16) {
			m.Write(p)
		}
	}()
	<-done
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	if got := out.String(); got != string(want) {
		t.Errorf("output differs:\n%s", firstDiff(got, string(want)))
	}
}

// TestWriteError: once the terminal fails, Write says so, so the reader can stop.
func TestWriteError(t *testing.T) {
	m, err := NewMarkdown(failWriter{}, Options{Clock: &fakeClock{}})
	if err != nil {
		t.Fatal(err)
	}
	m.WriteString("# Title\n\ntext\n")
	if err := m.Flush(); !errors.Is(err, errBrokenPipe) {
		t.Errorf("Flush: %v", err)
	}
	if _, err := m.WriteString("more"); !errors.Is(err, errBrokenPipe) {
		t.Errorf("Write: %v", err)
	}
	if err := m.Close(); !errors.Is(err, errBrokenPipe) {
		t.Errorf("Close: %v", err)
	}
}

func TestStyles(t *testing.T) {
	dir := t.TempDir()
	withTheme := filepath.Join(dir, "theme.json")
	if err := os.WriteFile(withTheme, []byte(`{"document":{"margin":1},"code_block":{"theme":"monokai","margin":3}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	plainCode := filepath.Join(dir, "plain.json")
	if err := os.WriteFile(plainCode, []byte(`{"document":{"margin":2,"indent":1},"code_block":{"color":"99","margin":1,"prefix":">"}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	doc := []byte("# Hi\n\n**bold** and `code`\n\n```go\nx := 1 // \\*not\\* emphasis\ny := `raw\n```\n")
	for _, style := range []string{"", "auto", "dark", "light", "ascii", "notty", "dracula", "pink", "tokyo-night", withTheme, plainCode} {
		opts := Options{Width: 60, Style: style, Color: true}
		got := nonBlank(screenOf(t, stream(t, opts, fixedPieces(doc, 3), everyPiece, nil), opts))
		want := nonBlank(screenOf(t, oneShot(t, doc, opts), opts))
		if got != want {
			t.Errorf("style %q: differs from a one-shot render:\n%s", style, firstDiff(got, want))
		}
	}
	if _, err := NewMarkdown(&bytes.Buffer{}, Options{Style: filepath.Join(t.TempDir(), "missing.json"), Clock: &fakeClock{}}); err == nil {
		t.Error("a missing style file is not an error")
	}
}

func TestEmptyAnswer(t *testing.T) {
	out := stream(t, testOptions(24, true), nil, everyPiece, nil)
	if len(out) != 0 {
		t.Errorf("an empty answer wrote %q", out)
	}
}

// TestGlamourMarkerCollision: an answer that contains the unit marker still renders right.
func TestGlamourMarkerCollision(t *testing.T) {
	doc := []byte("first paragraph\n\n" + unitMarker + "\n\nthird " + unitMarkerWord + " paragraph\n")
	opts := testOptions(0, false)
	got := nonBlank(screenOf(t, stream(t, opts, [][]byte{doc}, everyPiece, nil), opts))
	want := nonBlank(screenOf(t, oneShot(t, doc, opts), opts))
	if got != want {
		t.Errorf("differs from a one-shot render:\n%s", firstDiff(got, want))
	}
}

// TestBatchFallback: when a unit leaves something open that swallows the marker (here an
// indented fence the splitter would never hand out this way), or units share link
// references, the frame's units are rendered one by one, exactly as separate frames would.
func TestBatchFallback(t *testing.T) {
	for _, units := range [][]string{
		{" ```\ncode\n", "para\n", "- item\n"},
		{"see [x]\n", "[x]: https://example.com\n", "[x] again\n"},
	} {
		m, err := NewMarkdown(&bytes.Buffer{}, Options{Width: 60, Color: true, Clock: &fakeClock{}})
		if err != nil {
			t.Fatal(err)
		}
		var us [][]byte
		for _, u := range units {
			us = append(us, []byte(u))
		}
		got := m.renderUnits(us)
		want := m.renderEach(us)
		if len(got) != len(want) {
			t.Fatalf("%q: %d segments, want %d", units, len(got), len(want))
		}
		for i := range got {
			if !bytes.Equal(got[i], want[i]) {
				t.Errorf("%q: unit %d rendered as %q, alone as %q", units, i, got[i], want[i])
			}
		}
		m.Close()
	}
}
