package chat

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func values(cands []candidate) string {
	var v []string
	for _, c := range cands {
		v = append(v, c.value)
	}
	return strings.Join(v, " ")
}

func TestPathCandidates(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"a.txt", "a.PNG", ".hidden", "ab/x"} {
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), nil, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	d := dir + "/"
	for _, c := range []struct {
		word string
		exts []string
		want string
	}{
		{d + "a", nil, d + "a.PNG " + d + "a.txt " + d + "ab/"},
		{d + "a", imageExts, d + "a.PNG " + d + "ab/"},
		{d, nil, d + "a.PNG " + d + "a.txt " + d + "ab/"},
		{d + ".", nil, d + ".hidden"},
		{d + "zz", nil, ""},
		{d + "missing/", nil, ""},
	} {
		if got := values(pathCandidates(c.word, c.exts)); got != c.want {
			t.Errorf("pathCandidates(%q, %v) = %q, want %q", c.word, c.exts, got, c.want)
		}
	}
}

func TestCompleteCommandNames(t *testing.T) {
	s := &session{}
	if got := values(s.complete("/re")); got != "/resume /retry" {
		t.Errorf("/re completes to %q", got)
	}
	if got := s.complete("hello /mo"); got != nil {
		t.Errorf("a message completed to %q", values(got))
	}
	if got := s.complete("//mo"); got != nil {
		t.Errorf("a doubled slash completed to %q", values(got))
	}
}
