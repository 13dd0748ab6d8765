package emulator

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestCountText(t *testing.T) {
	for _, tc := range []struct {
		s    string
		want int
	}{
		{"", 0},
		{"   \n\t", 0},
		{"hi", 1},
		{"word", 1},
		{"words", 2}, // 4 bytes per token within a run
		{"hello world", 4},
		{"a,b", 3},    // punctuation costs one
		{"你好", 2},     // one per CJK character
		{"🌙 moon", 2}, // emoji, then a short word
		{"abcdefghijkl", 3},
	} {
		if got := CountText(tc.s); got != tc.want {
			t.Errorf("CountText(%q) = %d, want %d", tc.s, got, tc.want)
		}
	}
}

func TestCountTokens(t *testing.T) {
	msgs := []Message{
		{Role: "system", Content: "You are Kimi."},
		{Role: "user", Parts: []Part{{Type: "text", Text: "look"}, {Type: "image_url", URL: "data:image/png;base64," + strings.Repeat("A", 10000)}}, Content: "look"},
		{Role: "assistant", ReasoningContent: "need a tool", ToolCalls: []ToolCall{{ID: "f_0", Name: "get_weather", Arguments: `{"city":"Paris"}`}}},
		{Role: "tool", Name: "get_weather", ToolCallID: "f_0", Content: "sunny"},
	}
	want := (4 + CountText("You are Kimi.")) +
		(4 + CountText("look") + tokensPerImage) + // the base64 is not counted as text
		(4 + CountText("need a tool") + CountText("get_weather") + CountText(`{"city":"Paris"}`)) +
		(4 + CountText("get_weather") + CountText("sunny"))
	first := CountTokens(msgs)
	if first != want {
		t.Errorf("CountTokens = %d, want %d", first, want)
	}
	for range 3 {
		if got := CountTokens(msgs); got != first {
			t.Fatalf("not deterministic: %d then %d", first, got)
		}
	}
	if CountTokens(nil) != 0 {
		t.Error("no messages must cost nothing")
	}
}

// FuzzTruncateTokens: a cut is a valid prefix on a rune boundary, within the
// budget, reports its own cost, and is as long as the budget allows.
func FuzzTruncateTokens(f *testing.F) {
	for _, s := range []string{"", "hello world", "日本語 text, mixed!", "aaaaaaaaaaaaa", "🌙🌙 x"} {
		for _, b := range []int{0, 1, 3, 10} {
			f.Add(s, b)
		}
	}
	f.Fuzz(func(t *testing.T, s string, budget int) {
		if budget < 0 || budget > 1<<20 {
			return
		}
		got, n := truncateTokens(s, budget)
		if !strings.HasPrefix(s, got) || n != CountText(got) || n > budget {
			t.Fatalf("truncateTokens(%q, %d) = %q, %d", s, budget, got, n)
		}
		if utf8.ValidString(s) && !utf8.ValidString(got) {
			t.Fatalf("cut inside a rune: %q", got)
		}
		if got != s {
			_, size := utf8.DecodeRuneInString(s[len(got):])
			if CountText(s[:len(got)+size]) <= budget {
				t.Fatalf("cut %q short: one more rune still fits %d", got, budget)
			}
		}
		if CountText(s) <= budget && got != s {
			t.Fatalf("cut %q although the whole fits", s)
		}
	})
}

func FuzzSplitChunks(f *testing.F) {
	f.Add("Hello, 世界! 🌙", 1)
	f.Add("abc", 16)
	f.Fuzz(func(t *testing.T, s string, n int) {
		if n < 1 || n > 64 {
			return
		}
		pieces := splitChunks(s, n)
		if strings.Join(pieces, "") != s {
			t.Fatalf("pieces %q do not rebuild %q", pieces, s)
		}
		for _, p := range pieces {
			if p == "" || utf8.ValidString(s) && (!utf8.ValidString(p) || len(p) > n+utf8.UTFMax-1) {
				t.Fatalf("bad piece %q of %q (n=%d)", p, s, n)
			}
		}
	})
}
