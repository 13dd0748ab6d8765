package render

import (
	"math/rand"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestSanitize(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"plain", "héllo\tworld\n日本", "héllo\tworld\n日本"},
		{"clipboard OSC 52 BEL", "a\x1b]52;c;aGVsbG8=\ab", "ab"},
		{"title OSC 0 ST", "a\x1b]0;pwned\x1b\\b", "ab"},
		{"clear screen", "a\x1b[2Jb\x1b[H", "ab"},
		{"SGR", "\x1b[1;31mred\x1b[0m", "red"},
		{"private CSI", "\x1b[?1049hx\x1b[?25l", "x"},
		{"DCS", "a\x1bPq#0;2;0;0;0\x1b\\b", "ab"},
		{"APC PM SOS", "\x1b_x\x1b\\\x1b^y\x1b\\\x1bXz\x1b\\ok", "ok"},
		{"two-byte", "a\x1bcb\x1b7c\x1b(Bd", "abcd"},
		{"lone ESC at end", "a\x1b", "a"},
		{"cut CSI", "a\x1b[12;", "a"},
		{"cut OSC", "a\x1b]0;title", "a"},
		{"OSC aborted by ESC", "a\x1b]0;t\x1b[2Jb", "ab"},
		{"C1 CSI", "a\u009b2Jb", "ab"},
		{"C1 OSC with C1 ST", "a\u009d0;t\u009cb", "ab"},
		{"C1 other", "a\u0085b", "a\ufffdb"},
		{"raw 8-bit CSI byte", "a\x9b2Jb", "a\ufffd2Jb"},
		{"BEL BS", "a\ab\bc", "a␇b␈c"},
		{"DEL", "a\x7fb", "a␡b"},
		{"CRLF", "a\r\nb", "a\nb"},
		{"lone CR", "a\rb", "a␍b"},
		{"NUL", "a\x00b", "a␀b"},
		{"invalid UTF-8", "a\xffb\xe6\x97", "a\ufffdb\ufffd\ufffd"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Sanitize(tc.in); got != tc.want {
				t.Errorf("Sanitize(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

// hasControl reports a byte that a terminal acts on: C0 but tab and newline, DEL, or a C1
// code point.
func hasControl(s string) bool {
	for _, r := range s {
		if (r < 0x20 && r != '\t' && r != '\n') || (r >= 0x7f && r <= 0x9f) {
			return true
		}
	}
	return false
}

func TestSanitizeRandomBytes(t *testing.T) {
	rng := rand.New(rand.NewSource(11))
	alphabet := []string{"\x1b", "[", "]", "P", "_", "\\", "\a", "\r", "\n", "\t", "a", "0", ";", "\u009b", "\u009c", "\u009d", "é", "\xff", "\xc2", "J", "m"}
	for n := 0; n < 5000; n++ {
		var b strings.Builder
		for i := rng.Intn(40); i > 0; i-- {
			b.WriteString(alphabet[rng.Intn(len(alphabet))])
		}
		in := b.String()
		got := Sanitize(in)
		if hasControl(got) || !utf8.ValidString(got) {
			t.Fatalf("Sanitize(%q) = %q still holds a control character or invalid UTF-8", in, got)
		}
		if Sanitize(got) != got {
			t.Fatalf("Sanitize is not idempotent on %q: %q then %q", in, got, Sanitize(got))
		}
		// Split anywhere: the streamed form equals the whole.
		var z StreamSanitizer
		var out strings.Builder
		for rest := in; rest != ""; {
			k := rng.Intn(len(rest) + 1)
			out.WriteString(z.Next(rest[:k]))
			rest = rest[k:]
		}
		out.WriteString(z.End())
		if out.String() != got {
			t.Fatalf("streamed %q gave %q, whole gave %q", in, out.String(), got)
		}
	}
}

func TestSanitizeKeepsCleanStringUncopied(t *testing.T) {
	s := strings.Repeat("héllo wörld\n", 100)
	if got := Sanitize(s); got != s {
		t.Fatal("clean text changed")
	}
	if n := testing.AllocsPerRun(10, func() { Sanitize(s) }); n != 0 {
		t.Errorf("Sanitize allocated %v times for clean text", n)
	}
}

// TestIsCleanStringAndBytesAgree: the one check serves Sanitize (strings) and the markdown
// source lines (byte slices), with the same answer, and a byte slice is not copied.
func TestIsCleanStringAndBytesAgree(t *testing.T) {
	rng := rand.New(rand.NewSource(12))
	alphabet := []string{"\x1b", "\a", "\r", "\n", "\t", "a", "\x7f", "\u0080", "\u009b", "\u009f", "\u00a0", "é", "月", "🌙", "\xff", "\xc2", "\xe6\x9c", "\xf0\x9f"}
	clean := 0
	for n := 0; n < 5000; n++ {
		var b strings.Builder
		for i := rng.Intn(12); i > 0; i-- {
			b.WriteString(alphabet[rng.Intn(len(alphabet))])
		}
		in := b.String()
		want := utf8.ValidString(in) && !hasControl(in)
		if isClean(in) != want || isClean([]byte(in)) != want {
			t.Fatalf("isClean(%q): string %v, bytes %v, want %v", in, isClean(in), isClean([]byte(in)), want)
		}
		if want {
			clean++
		}
	}
	if clean == 0 {
		t.Fatal("no clean input was drawn")
	}
	line := []byte(strings.Repeat("月の光 moonlight é 🌙\t", 50))
	if n := testing.AllocsPerRun(10, func() { isClean(line) }); n != 0 {
		t.Errorf("isClean allocated %v times for a byte slice", n)
	}
}

func TestRemoveEscapes(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"plain kept uncopied", "héllo\tworld\n", "héllo\tworld\n"},
		{"OSC 52 with its body", "hi \x1b]52;c;Y2xpcA==\a there", "hi  there"},
		{"OSC 0 ST", "a\x1b]0;pwned\x1b\\b", "ab"},
		{"CSI", "a\x1b[2Jb\x1b[1;31mc", "abc"},
		{"DCS", "a\x1bP0;1|x\x1b\\b", "ab"},
		{"C1 CSI and OSC", "a\u009b2Jb\u009d0;t\ac", "abc"},
		{"OSC body over a newline", "a\x1b]0;x\ny\ab", "ab"},
		{"cut OSC", "a\x1b]0;title", "a"},
		{"other controls kept", "a\ab\r\n\u0085c", "a\ab\r\n\u0085c"},
		{"invalid bytes cannot join around a removed sequence", "a\xc2\x1bc\x9b2Jb", "a\ufffd\ufffd2Jb"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := RemoveEscapes(tc.in); got != tc.want {
				t.Errorf("RemoveEscapes(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

// RemoveEscapes removes what Sanitize removes and leaves no sequence: showing its result is
// showing the text, and no introducer is left for a later cut to separate from its body.
func TestRemoveEscapesRandomBytes(t *testing.T) {
	rng := rand.New(rand.NewSource(13))
	// No CR: one before a removed sequence and a newline after it becomes a CRLF, which
	// Sanitize drops where it would show a lone CR as ␍, a difference of no consequence.
	alphabet := []string{"\x1b", "[", "]", "P", "_", "\\", "\a", "\n", "\t", "a", "0", ";", "\u009b", "\u009c", "\u009d", "\u0085", "é", "\xff", "\xc2", "\x9b", "J", "m"}
	for n := 0; n < 5000; n++ {
		var b strings.Builder
		for i := rng.Intn(40); i > 0; i-- {
			b.WriteString(alphabet[rng.Intn(len(alphabet))])
		}
		in := b.String()
		got := RemoveEscapes(in)
		if strings.IndexByte(got, 0x1b) >= 0 || hasC1Introducer(got) || !utf8.ValidString(got) {
			t.Fatalf("RemoveEscapes(%q) = %q still holds a sequence or invalid UTF-8", in, got)
		}
		if Sanitize(got) != Sanitize(in) {
			t.Fatalf("Sanitize(RemoveEscapes(%q)) = %q, Sanitize alone %q", in, Sanitize(got), Sanitize(in))
		}
	}
}
