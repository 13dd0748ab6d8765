package render

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"testing"
	"unicode/utf8"
)

// Ways of cutting an answer into deltas, as a network might.
var chunkers = []struct {
	name string
	cut  func(doc []byte, seed uint64) [][]byte
}{
	{"whole", func(doc []byte, _ uint64) [][]byte { return [][]byte{doc} }},
	{"bytes", func(doc []byte, _ uint64) [][]byte { return fixedPieces(doc, 1) }},
	{"runes", func(doc []byte, _ uint64) [][]byte {
		var out [][]byte
		for len(doc) > 0 {
			_, n := utf8.DecodeRune(doc)
			out = append(out, doc[:n])
			doc = doc[n:]
		}
		return out
	}},
	{"4-bytes", func(doc []byte, _ uint64) [][]byte { return fixedPieces(doc, 4) }},
	{"random", randomPieces},
}

func fixedPieces(doc []byte, n int) [][]byte {
	var out [][]byte
	for i := 0; i < len(doc); i += n {
		out = append(out, doc[i:min(i+n, len(doc))])
	}
	return out
}

func randomPieces(doc []byte, seed uint64) [][]byte {
	r := rand.New(rand.NewPCG(seed, 7))
	var out [][]byte
	for len(doc) > 0 {
		n := min(len(doc), 1+r.IntN(40))
		out = append(out, doc[:n])
		doc = doc[n:]
	}
	return out
}

// stream feeds pieces to a new Markdown, running a frame after piece i when frame(i) says
// so, then closes it. after, if set, is called after every frame. It returns what the
// terminal received.
func stream(t testing.TB, opts Options, pieces [][]byte, frame func(i int) bool, after func(m *Markdown, out *bytes.Buffer)) []byte {
	t.Helper()
	var out bytes.Buffer
	if opts.Clock == nil {
		opts.Clock = &fakeClock{}
	}
	m, err := NewMarkdown(&out, opts)
	if err != nil {
		t.Fatal(err)
	}
	for i, p := range pieces {
		if _, err := m.Write(p); err != nil {
			t.Fatal(err)
		}
		if frame(i) {
			if err := m.Flush(); err != nil {
				t.Fatal(err)
			}
			if after != nil {
				after(m, &out)
			}
		}
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

func everyPiece(int) bool { return true }

func randomFrames(seed uint64) func(int) bool {
	r := rand.New(rand.NewPCG(seed, 11))
	return func(int) bool { return r.IntN(3) == 0 }
}

// testOptions pins what golden files depend on.
func testOptions(height int, color bool) Options {
	return Options{Width: 80, Height: height, Style: "dark", Color: color}
}

// oneShot is a single glamour render of the whole document, with the same style and width:
// the reference the streamed output must match.
func oneShot(t testing.TB, doc []byte, opts Options) []byte {
	t.Helper()
	th, err := newTheme(opts)
	if err != nil {
		t.Fatal(err)
	}
	tr, err := th.newGlamour()
	if err != nil {
		t.Fatal(err)
	}
	out, err := tr.RenderBytes(doc)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// screenOf emulates a terminal of the options' height and fails on anything a terminal
// would choke on. The terminal is wider than the wrap width: glamour's one-shot output pads
// lines that contain tabs beyond the width (it counts a tab as zero columns), and the
// comparison is about the text, not about that accident.
func screenOf(t testing.TB, out []byte, opts Options) []string {
	t.Helper()
	v := emulate(out, opts.Width+40, max(opts.Height, 24))
	for _, e := range v.Errs {
		t.Error("terminal: " + e)
	}
	return v.Screen()
}

var errBrokenPipe = errors.New("broken pipe")

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errBrokenPipe }
