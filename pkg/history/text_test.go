package history

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestTitleFromPrompt(t *testing.T) {
	long := strings.Repeat("word ", 20)
	tests := []struct{ prompt, want string }{
		{"What is WAL?", "What is WAL?"},
		{"  first line  \nsecond line", "first line"},
		{"\n\n\t\nafter blanks\n", "after blanks"},
		{"tabs\tand   spaces", "tabs and spaces"},
		{"escape \x1b[2Jsequence\a", "escape sequence"},
		{"", ""},
		{" \n \n", ""},
		{strings.Repeat("x", 60), strings.Repeat("x", 60)},
		{strings.Repeat("x", 61), strings.Repeat("x", 59) + "…"},
		{long, strings.TrimSpace(long[:59]) + "…"},
		{strings.Repeat("天", 70), strings.Repeat("天", 59) + "…"},
		{"windows\r\nline", "windows"},
	}
	for _, tt := range tests {
		got := TitleFromPrompt(tt.prompt)
		if got != tt.want {
			t.Errorf("TitleFromPrompt(%q) = %q, want %q", tt.prompt, got, tt.want)
		}
		if n := utf8.RuneCountInString(got); n > maxTitleRunes {
			t.Errorf("TitleFromPrompt(%q) has %d runes", tt.prompt, n)
		}
	}
}

// TestHostileTextMakesNoSequenceBody: a title or a snippet made from text holding escape
// sequences shows none of their bodies, even where a sequence spans lines or the snippet's
// window, and the snippet's spans still mark the terms in the text returned.
func TestHostileTextMakesNoSequenceBody(t *testing.T) {
	const seqs = "\x1b]52;c;Y2xpcA==\a\x1b]0;title\x1b\\\x1b[2J\u009b2J\u009d0;t\a\x1bP0;1|x\x1b\\"
	bodies := []string{"52;c", "Y2xpcA==", "0;title", "[2J", "2J", "0;t", "0;1|x"}
	noBody := func(what, got string) {
		t.Helper()
		for _, b := range bodies {
			if strings.Contains(got, b) {
				t.Errorf("%s %q shows the sequence body %q", what, got, b)
			}
		}
	}
	for _, prompt := range []string{
		"hi " + seqs + " there",
		seqs + "\nsecond line",
		"\x1b]52;c;Y2xp\nY2xpcA==\a after a sequence over two lines",
	} {
		noBody("title", TitleFromPrompt(prompt))
	}
	if got, want := TitleFromPrompt("hi "+seqs+" there"), "hi there"; got != want {
		t.Errorf("title %q, want %q", got, want)
	}

	// The window of a snippet starts 'snippetBefore' runes before the match: with a long
	// clipboard write there, it would start inside the body.
	long := "\x1b]52;c;" + strings.Repeat("QUFB", 100) + "\a needle " + seqs + " tail"
	for _, text := range []string{long, "hi " + seqs + " needle", "52;c needle " + seqs} {
		got, spans := snippet(text, []string{"needle", "52;c"})
		if text[:4] != "52;c" {
			noBody("snippet", got)
		}
		if strings.Contains(got, "QUFB") {
			t.Errorf("snippet %q shows the body of a clipboard write", got)
		}
		var marked []string
		for _, sp := range spans {
			marked = append(marked, got[sp.Start:sp.End])
		}
		if len(marked) == 0 || marked[len(marked)-1] != "needle" {
			t.Errorf("snippet %q marks %q, want needle last", got, marked)
		}
	}
}

func TestFindFold(t *testing.T) {
	tests := []struct {
		s, sub string
		want   []Span
	}{
		{"Go go GO", "go", []Span{{0, 2}, {3, 5}, {6, 8}}},
		{"aaaa", "aa", []Span{{0, 2}, {2, 4}}},
		{"ÄÖ äö", "äö", []Span{{0, 4}, {5, 9}}},
		{"天气天气", "天气", []Span{{0, 6}, {6, 12}}},
		{"abc", "abcd", nil},
	}
	for _, tt := range tests {
		got := findFold(tt.s, tt.sub)
		if len(got) != len(tt.want) {
			t.Errorf("findFold(%q, %q) = %v, want %v", tt.s, tt.sub, got, tt.want)
			continue
		}
		for i := range got {
			if got[i] != tt.want[i] {
				t.Errorf("findFold(%q, %q) = %v, want %v", tt.s, tt.sub, got, tt.want)
			}
		}
	}
}

// A long piped prompt is read only as far as a title needs, and a sequence cut at
// that bound leaves no body behind.
func TestTitleFromALongPrompt(t *testing.T) {
	long := "  \n" + strings.Repeat("界", titleScanBytes) // the bound falls inside a rune
	if got := TitleFromPrompt(long); got != strings.Repeat("界", maxTitleRunes-1)+"…" {
		t.Errorf("title of a long prompt = %q", got)
	}
	cut := strings.Repeat("\n", titleScanBytes-10) + "\x1b]52;c;" + strings.Repeat("A", 100) + "\a real line"
	if got := TitleFromPrompt(cut); got != "" {
		t.Errorf("title from a sequence cut at the bound = %q, want none", got)
	}
}
