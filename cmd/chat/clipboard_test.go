package chat

import (
	"strings"
	"testing"
)

func TestCodeBlocks(t *testing.T) {
	md := "Intro\n\n```go\nfunc a() {}\n```\n\ntext\n\n~~~~\nraw ``` inside\n~~~~\n\n  ```\n  indented\n  ```\n\n```sh\nunclosed\n"
	got := codeBlocks(md)
	want := []string{"func a() {}\n", "raw ``` inside\n", "indented\n", "unclosed\n"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("codeBlocks = %q, want %q", got, want)
	}
	if got := codeBlocks("no code here"); len(got) != 0 {
		t.Errorf("codeBlocks of plain text = %q", got)
	}
}

func TestCopyTarget(t *testing.T) {
	for _, c := range []struct {
		in   string
		code bool
		n    int
		bad  bool
	}{{"", false, 0, false}, {"answer", false, 0, false}, {"code", true, 0, false}, {"code 2", true, 2, false}, {"code:3", true, 3, false},
		{"code 0", false, 0, true}, {"code x", false, 0, true}, {"all", false, 0, true}, {"code 1 2", false, 0, true}} {
		code, n, err := copyTarget(c.in)
		if code != c.code || n != c.n || (err != nil) != c.bad {
			t.Errorf("copyTarget(%q) = %v %d %v", c.in, code, n, err)
		}
	}
}
