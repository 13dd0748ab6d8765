package render

import (
	"testing"

	"github.com/rivo/uniseg"
)

func TestWidthCJKAndEmoji(t *testing.T) {
	for _, c := range []struct {
		s    string
		want int
	}{
		{"", 0}, {"abc", 3},
		{"中文", 4}, {"日本語のテキスト", 16}, {"한국어", 6}, {"ｱｲｳ", 3}, {"ＡＢ", 4}, // halfwidth katakana, fullwidth Latin
		{"e\u0301", 1},         // e with a combining acute: one cell
		{"👍", 2},               // emoji
		{"👍🏽", 2},              // with a skin tone
		{"👨\u200d👩\u200d👧", 2}, // a ZWJ family
		{"🇯🇵", 2},              // a flag: two regional indicators
		{"☺\ufe0f", 2},         // text symbol in emoji presentation
		{"±·°", 3},             // East Asian ambiguous: narrow whatever the locale
		{"\x1b[1;31m中\x1b[0mb", 3},
	} {
		if got := Width(c.s); got != c.want {
			t.Errorf("Width(%q) = %d, want %d", c.s, got, c.want)
		}
		// The live tail and the test terminal segment by uniseg's grapheme rules: on text
		// without escapes they must count the same cells.
		if c.s != "" && c.s[0] != '\x1b' && c.s[len(c.s)-1] != 'b' {
			if u := uniseg.StringWidth(c.s); u != c.want {
				t.Errorf("uniseg.StringWidth(%q) = %d, Width says %d", c.s, u, c.want)
			}
		}
	}
}

func TestTruncate(t *testing.T) {
	for _, c := range []struct {
		s    string
		w    int
		want string
	}{
		{"hello", 10, "hello"},
		{"hello world", 6, "hello…"},
		{"中文字符", 5, "中文…"}, // a wide character is not split: 2+2+1
		{"中文字符", 4, "中…"},  // 2+1, one cell left empty rather than half a character
		{"👍👍👍", 5, "👍👍…"},
		{"\x1b[1mbold text\x1b[0m", 5, "\x1b[1mbold…\x1b[0m"},
	} {
		got := Truncate(c.s, c.w, "…")
		if got != c.want {
			t.Errorf("Truncate(%q, %d) = %q, want %q", c.s, c.w, got, c.want)
		}
		if Width(got) > c.w {
			t.Errorf("Truncate(%q, %d) is %d cells wide", c.s, c.w, Width(got))
		}
	}
}
