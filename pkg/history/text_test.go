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
		{"escape \x1b[2Jsequence\a", "escape [2Jsequence"},
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
