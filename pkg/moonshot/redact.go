package moonshot

import (
	"net/url"
	"strings"
)

// RedactURL hides the password of a URL for messages and logs ("http://user:xxxxx@host"):
// base URLs, proxies and Redis URLs often carry one. A string that does not parse as a URL is
// still redacted: everything between "://" and the last "@" before the path is replaced, so a
// malformed URL (a typo in the port, a space) cannot leak the password it holds.
func RedactURL(s string) string {
	if u, err := url.Parse(s); err == nil {
		if u.User == nil {
			return s
		}
		return u.Redacted()
	}
	scheme, rest, ok := strings.Cut(s, "://")
	if !ok {
		return s
	}
	host := rest
	if i := strings.IndexAny(rest, "/?#"); i >= 0 {
		host = rest[:i]
	}
	at := strings.LastIndex(host, "@")
	if at < 0 {
		return s
	}
	user, _, hasPass := strings.Cut(host[:at], ":")
	if !hasPass {
		return s
	}
	return scheme + "://" + user + ":xxxxx" + rest[at:]
}
