package moonshot

import (
	"strings"
	"testing"
)

func TestRedactURL(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"http://proxy:8080", "http://proxy:8080"},
		{"http://user:s3cret@proxy:8080", "http://user:xxxxx@proxy:8080"},
		{"socks5://u:p%40ss@h:1080/x", "socks5://u:xxxxx@h:1080/x"},
		{"redis://:s3cret@localhost:6379/0", "redis://:xxxxx@localhost:6379/0"},
		{"http://user@proxy", "http://user@proxy"},
		{"not a url", "not a url"},
		// Malformed URLs still hide the password.
		{"http://user:s3cret@proxy:80x80", "http://user:xxxxx@proxy:80x80"},
		{"http://user:s3cret@pro xy/path@x", "http://user:xxxxx@pro xy/path@x"},
		{"http://us er:p@ss:w@rd@host:bad", "http://us er:xxxxx@host:bad"},
	} {
		got := RedactURL(c.in)
		if got != c.want {
			t.Errorf("RedactURL(%q) = %q, want %q", c.in, got, c.want)
		}
		if strings.Contains(got, "s3cret") || strings.Contains(got, "p%40ss") || strings.Contains(got, "w@rd") {
			t.Errorf("RedactURL(%q) leaks the password: %q", c.in, got)
		}
	}
}
