package cli

import (
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strings"

	"github.com/moonchat/moonchat/pkg/moonshot"
	"golang.org/x/net/http/httpproxy"
)

// NewHTTPClient returns the client every request goes through. Proxies come from HTTPS_PROXY,
// HTTP_PROXY, NO_PROXY and ALL_PROXY (upper or lower case), or from proxyURL (--proxy / config)
// which overrides them. socks5://, socks5h:// and v2rayN's socks:// spelling are accepted.
// NO_PROXY is parsed by x/net's httpproxy, which understands IPv6 and CIDR entries.
func NewHTTPClient(proxyURL string) (*http.Client, error) {
	cfg := httpproxy.FromEnvironment()
	all := firstEnv("ALL_PROXY", "all_proxy")
	if cfg.HTTPSProxy == "" {
		cfg.HTTPSProxy = all
	}
	if cfg.HTTPProxy == "" {
		cfg.HTTPProxy = all
	}
	if proxyURL != "" {
		cfg.HTTPProxy, cfg.HTTPSProxy = proxyURL, proxyURL
	}
	var err error
	if cfg.HTTPProxy, err = normalizeProxy(cfg.HTTPProxy); err != nil {
		return nil, err
	}
	if cfg.HTTPSProxy, err = normalizeProxy(cfg.HTTPSProxy); err != nil {
		return nil, err
	}
	proxyFor := cfg.ProxyFunc()
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.Proxy = func(r *http.Request) (*url.URL, error) { return proxyFor(r.URL) }
	return &http.Client{Transport: tr}, nil
}

func firstEnv(names ...string) string {
	for _, n := range names {
		if v := os.Getenv(n); v != "" {
			return v
		}
	}
	return ""
}

// normalizeProxy checks a proxy URL and rewrites socks:// (v2rayN) as socks5://.
func normalizeProxy(raw string) (string, error) {
	if raw == "" {
		return "", nil
	}
	s := raw
	if !strings.Contains(s, "://") {
		s = "http://" + s
	}
	u, err := url.Parse(s)
	if err != nil || u.Host == "" {
		return "", &UsageError{Err: fmt.Errorf("proxy %q is not a valid URL (e.g. http://host:8080 or socks5://host:1080)", moonshot.RedactURL(raw))}
	}
	switch strings.ToLower(u.Scheme) {
	case "socks", "socks4a":
		u.Scheme = "socks5"
	case "http", "https", "socks5", "socks5h":
		u.Scheme = strings.ToLower(u.Scheme)
	default:
		return "", &UsageError{Err: fmt.Errorf("proxy scheme %q is not supported (use http, https, socks5 or socks5h)", u.Scheme)}
	}
	return u.String(), nil
}
