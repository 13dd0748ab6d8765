package converse

import (
	"strings"
	"testing"

	"github.com/moonchat/moonchat/pkg/moonshot"
)

func TestIsText(t *testing.T) {
	// "界" is three bytes; placed so that the 8 KB boundary cuts it.
	cut := strings.Repeat("a", sniffBytes-1) + "界" + "tail"
	tests := []struct {
		name string
		data string
		want bool
	}{
		{"ascii", "hello\n", true},
		{"empty", "", true},
		{"utf-8", "naïve 界\n", true},
		{"character cut by the sniff boundary", cut, true},
		{"invalid utf-8", "caf\xe9", false},
		{"nul byte", "a\x00b", false},
		{"ascii pdf", "%PDF-1.4\n1 0 obj\n", false},
		{"docx (zip)", "PK\x03\x04rest", false},
		{"doc (ole)", "\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1", false},
		{"rtf", `{\rtf1\ansi hello}`, false},
		{"png", "\x89PNG\r\n\x1a\n", false},
		{"invalid after the sniffed part", strings.Repeat("a", sniffBytes) + "\xff", true},
	}
	for _, tt := range tests {
		if got := IsText([]byte(tt.data)); got != tt.want {
			t.Errorf("%s: IsText = %v", tt.name, got)
		}
	}
}

func TestFenced(t *testing.T) {
	tests := []struct{ name, text, want string }{
		{"plain", "x := 1\n", "File: a.go\n```\nx := 1\n```"},
		{"no final newline", "x", "File: a.go\n```\nx\n```"},
		{"empty", "", "File: a.go\n```\n```"},
		{"backticks inside", "a ```` b ` c", "File: a.go\n`````\na ```` b ` c\n`````"},
		{"byte order mark dropped", "\uFEFFhi\n", "File: a.go\n```\nhi\n```"},
	}
	for _, tt := range tests {
		if got := fenced("a.go", []byte(tt.text)); got != tt.want {
			t.Errorf("%s: %q, want %q", tt.name, got, tt.want)
		}
	}
}

func completion(content, finish string, prompt, completionTokens int) *moonshot.ChatCompletion {
	c := &moonshot.ChatCompletion{ID: "id-" + content, Choices: []moonshot.Choice{{Message: moonshot.ResponseMessage{Role: "assistant", Content: content}, FinishReason: finish}}}
	if prompt > 0 {
		c.Usage = &moonshot.Usage{PromptTokens: prompt, CompletionTokens: completionTokens, TotalTokens: prompt + completionTokens, CachedTokens: 1}
	}
	return c
}

func TestStitch(t *testing.T) {
	one := completion("whole", "stop", 5, 2)
	if got := stitch([]*moonshot.ChatCompletion{one}, ""); got != one {
		t.Fatal("a single part without prefill must be returned as is")
	}
	if stitch(nil, "x") != nil {
		t.Fatal("no parts, no answer")
	}
	got := stitch([]*moonshot.ChatCompletion{completion("Once ", "length", 10, 3), completion("upon a time", "stop", 14, 4)}, "> ")
	ch := got.Choices[0]
	if ch.Message.Content != "> Once upon a time" || ch.FinishReason != "stop" || got.ID != "id-upon a time" {
		t.Fatalf("stitched %+v", got)
	}
	if u := got.Usage; u.PromptTokens != 24 || u.CompletionTokens != 7 || u.TotalTokens != 31 || u.Cached() != 2 {
		t.Fatalf("usage %+v", u)
	}
	// The reasoning of each request stays apart.
	first, second := completion("", "tool_calls", 5, 1), completion("answer", "stop", 9, 2)
	first.Choices[0].Message.ReasoningContent, second.Choices[0].Message.ReasoningContent = "search first", "now answer"
	if got := stitch([]*moonshot.ChatCompletion{first, second}, ""); got.Choices[0].Message.ReasoningContent != "search first\n\nnow answer" {
		t.Fatalf("reasoning %q", got.Choices[0].Message.ReasoningContent)
	}
	// A part without usage (cut short) makes the total unknown rather than too low.
	if got := stitch([]*moonshot.ChatCompletion{completion("a", "length", 10, 3), completion("b", "", 0, 0)}, ""); got.Usage != nil || got.Choices[0].Message.Content != "ab" {
		t.Fatalf("partial usage %+v", got)
	}
}
