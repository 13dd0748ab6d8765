package render

import (
	"strings"
	"testing"
)

// splitAll runs the splitter over a whole document and describes what it handed out: each
// unit as its text, code fences as "```lang", one "> line" per code line, and "```".
func splitAll(doc string) []string {
	var s splitter
	lines := strings.Split(strings.TrimSuffix(doc, "\n"), "\n")
	for _, ln := range lines {
		s.feed([]byte(ln))
	}
	s.finish()
	var out []string
	for _, e := range s.events {
		switch e.kind {
		case evUnit:
			out = append(out, string(e.text))
		case evCodeOpen:
			out = append(out, "```"+e.lang)
		case evCodeLine:
			out = append(out, "> "+string(e.text))
		case evCodeClose:
			out = append(out, "```")
		}
	}
	return out
}

func TestSplitter(t *testing.T) {
	tests := []struct {
		name string
		doc  string
		want []string
	}{
		{"paragraphs", "a\nb\n\nc\n", []string{"a\nb\n", "c\n"}},
		{"blank lines between units are dropped", "\n\na\n\n\n\nb\n\n", []string{"a\n", "b\n"}},
		{"heading is final at its end of line", "# T\ntext\n## U\n", []string{"# T\n", "text\n", "## U\n"}},
		{"not a heading without a space", "#tag\nmore\n", []string{"#tag\nmore\n"}},
		{"loose list stays one unit", "1. a\n\n2. b\n\n3. c\n\nafter\n", []string{"1. a\n\n2. b\n\n3. c\n", "after\n"}},
		{"indented paragraph continues an item", "- a\n\n  more of a\n\n- b\n", []string{"- a\n\n  more of a\n\n- b\n"}},
		{"other bullet starts a new list", "- a\n\n* b\n", []string{"- a\n", "* b\n"}},
		{"other delimiter starts a new list", "1. a\n\n1) b\n", []string{"1. a\n", "1) b\n"}},
		{"thematic break is not an item", "- a\n\n- - -\n", []string{"- a\n", "- - -\n"}},
		{"nested fence in a list keeps blank lines", "1. run:\n   ```sh\n   a\n\n   b\n   ```\n\n2. done\n", []string{"1. run:\n   ```sh\n   a\n\n   b\n   ```\n\n2. done\n"}},
		{"unindented fence after a list is top-level", "- a\n```go\nx\n```\n- b\n", []string{"- a\n", "```go", "> x", "```", "- b\n"}},
		{"unindented line closes a fence in a list item", "- a\n  ```\n  x\n\n- b\n```\ny\n```\n", []string{"- a\n  ```\n  x\n\n- b\n", "```", "> y", "```"}},
		{"an unindented line ends the list with the fence", "1. a\n   ```\n   x\nls\n   ```\n\n2. b\n", []string{"1. a\n   ```\n   x\nls\n   ```\n\n2. b\n"}},
		{"fence lines, blank ones too", "```python\ndef f():\n\n    pass\n```\n", []string{"```python", "> def f():", "> ", ">     pass", "```"}},
		{"longer closing fence, tilde fence", "~~~~\n~~~\n```\n~~~~~\n", []string{"```", "> ~~~", "> ```", "```"}},
		{"backticks in the info string: not a fence", "```a`b\n", []string{"```a`b\n"}},
		{"unclosed fence closes at the end", "```\ncode", []string{"```", "> code", "```"}},
		{"indented code spans blank lines", "    a\n\n    b\n\nc\n", []string{"    a\n\n    b\n", "c\n"}},
		{"html comment spans blank lines", "<!--\n\n# not a heading\n-->\ntext\n\nnext\n", []string{"<!--\n\n# not a heading\n-->\ntext\n", "next\n"}},
		{"html block hides headings and fences", "<div>\n# x\n```\n</div>\n\nnext\n", []string{"<div>\n# x\n```\n</div>\n", "next\n"}},
		{"table ends at a blank line", "| a |\n|---|\n| 1 |\n\n| b |\n|---|\n", []string{"| a |\n|---|\n| 1 |\n", "| b |\n|---|\n"}},
		{"quote with lazy continuation", "> a\nb\n\n> c\n", []string{"> a\nb\n", "> c\n"}},
		{"setext heading", "Title\n=====\n\ntext\n", []string{"Title\n=====\n", "text\n"}},
		{"definition list", "Term\n\n: definition\n\nnext\n", []string{"Term\n\n: definition\n", "next\n"}},
		{"tabs count as indentation", "- a\n\n\tcode in item\n", []string{"- a\n\n\tcode in item\n"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := splitAll(tt.doc)
			if strings.Join(got, "|") != strings.Join(tt.want, "|") {
				t.Errorf("got  %q\nwant %q", got, tt.want)
			}
		})
	}
}
