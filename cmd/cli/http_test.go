package cli

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/moonchat/moonchat/internal/clitest"
	"github.com/moonchat/moonchat/pkg/emulator"
	"github.com/moonchat/moonchat/pkg/moonshot"
)

// fakeHost is a name that only the test proxies resolve (to 127.0.0.1). x/net's httpproxy
// never proxies loopback addresses, so the emulator must be reached under a name; and a
// request that bypassed the proxy could not resolve it, which would fail the test. .test is
// reserved (RFC 2606) and never resolves in real DNS.
const fakeHost = "emulator.test"

const proxyTestKey = "sk-proxy-test-0123456789"

// resolve maps fakeHost:port to the loopback address; every other name is unknown.
func resolve(hostport string) (string, bool) {
	host, port, err := net.SplitHostPort(hostport)
	if err != nil {
		return "", false
	}
	if host == fakeHost {
		return net.JoinHostPort("127.0.0.1", port), true
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return hostport, true
	}
	return "", false
}

// journal records what a proxy was asked to reach.
type journal struct {
	mu   sync.Mutex
	seen []string
}

func (j *journal) add(s string) {
	j.mu.Lock()
	j.seen = append(j.seen, s)
	j.mu.Unlock()
}

func (j *journal) entries() []string {
	j.mu.Lock()
	defer j.mu.Unlock()
	return append([]string(nil), j.seen...)
}

// httpProxy is an HTTP proxy: CONNECT tunnels (for https targets) and absolute-URI forwarding
// (for http targets), as corporate proxies and v2rayN's HTTP port do.
type httpProxy struct {
	journal
	URL string
}

func startHTTPProxy(t *testing.T) *httpProxy {
	t.Helper()
	p := &httpProxy{}
	srv := httptest.NewServer(p)
	t.Cleanup(srv.Close)
	p.URL = srv.URL
	return p
}

func (p *httpProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p.add(r.Method + " " + r.Host)
	target, ok := resolve(r.Host)
	if !ok {
		http.Error(w, "proxy: unknown host "+r.Host, http.StatusBadGateway)
		return
	}
	if r.Method == http.MethodConnect {
		p.tunnel(w, target)
		return
	}
	if !r.URL.IsAbs() {
		http.Error(w, "proxy: not a proxy request", http.StatusBadRequest)
		return
	}
	clitest.Forward(w, r, target)
}

func (p *httpProxy) tunnel(w http.ResponseWriter, target string) {
	up, err := net.Dial("tcp", target)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	conn, buf, err := w.(http.Hijacker).Hijack()
	if err != nil {
		up.Close()
		return
	}
	_, _ = conn.Write([]byte("HTTP/1.1 200 Connection established\r\n\r\n"))
	splice(conn, buf.Reader, up)
}

// splice copies both ways until either side closes, then closes both.
func splice(client net.Conn, fromClient io.Reader, up net.Conn) {
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		_, _ = io.Copy(up, fromClient)
		up.Close()
		client.Close()
	}()
	go func() {
		defer wg.Done()
		_, _ = io.Copy(client, up)
		up.Close()
		client.Close()
	}()
	wg.Wait()
}

// socksProxy is a minimal RFC 1928 SOCKS5 server (CONNECT only) with optional RFC 1929
// username/password authentication. It records the address each client asked for, as sent:
// a domain name proves that the name was resolved by the proxy, not the client.
type socksProxy struct {
	journal
	Addr       string
	user, pass string
	ln         net.Listener
	wg         sync.WaitGroup
}

func startSOCKS(t *testing.T, user, pass string) *socksProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &socksProxy{Addr: ln.Addr().String(), user: user, pass: pass, ln: ln}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			s.wg.Add(1)
			go func() {
				defer s.wg.Done()
				s.serve(conn)
			}()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		s.wg.Wait()
	})
	return s
}

func (s *socksProxy) serve(conn net.Conn) {
	ok := false
	defer func() {
		if !ok {
			conn.Close()
		}
	}()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	r := bufio.NewReader(conn)
	var head [2]byte
	if _, err := io.ReadFull(r, head[:]); err != nil || head[0] != 5 {
		return
	}
	methods := make([]byte, head[1])
	if _, err := io.ReadFull(r, methods); err != nil {
		return
	}
	want := byte(0) // no authentication
	if s.user != "" {
		want = 2 // username/password
	}
	if !strings.Contains(string(methods), string([]byte{want})) {
		_, _ = conn.Write([]byte{5, 0xff})
		return
	}
	_, _ = conn.Write([]byte{5, want})
	if want == 2 && !s.authenticate(r, conn) {
		return
	}
	var req [4]byte
	if _, err := io.ReadFull(r, req[:]); err != nil || req[0] != 5 || req[1] != 1 {
		return
	}
	var host string
	switch req[3] {
	case 1:
		ip := make([]byte, 4)
		if _, err := io.ReadFull(r, ip); err != nil {
			return
		}
		host = net.IP(ip).String()
	case 3:
		n, err := r.ReadByte()
		if err != nil {
			return
		}
		name := make([]byte, n)
		if _, err := io.ReadFull(r, name); err != nil {
			return
		}
		host = string(name)
	case 4:
		ip := make([]byte, 16)
		if _, err := io.ReadFull(r, ip); err != nil {
			return
		}
		host = net.IP(ip).String()
	default:
		return
	}
	var port [2]byte
	if _, err := io.ReadFull(r, port[:]); err != nil {
		return
	}
	addr := net.JoinHostPort(host, strconv.Itoa(int(binary.BigEndian.Uint16(port[:]))))
	s.add(addr)
	target, known := resolve(addr)
	var up net.Conn
	var err error
	if known {
		up, err = net.Dial("tcp", target)
	}
	if !known || err != nil {
		_, _ = conn.Write([]byte{5, 4, 0, 1, 0, 0, 0, 0, 0, 0}) // host unreachable
		return
	}
	_, _ = conn.Write([]byte{5, 0, 0, 1, 0, 0, 0, 0, 0, 0})
	_ = conn.SetDeadline(time.Time{})
	ok = true
	splice(conn, r, up)
}

func (s *socksProxy) authenticate(r *bufio.Reader, conn net.Conn) bool {
	field := func() (string, bool) {
		n, err := r.ReadByte()
		if err != nil {
			return "", false
		}
		b := make([]byte, n)
		_, err = io.ReadFull(r, b)
		return string(b), err == nil
	}
	if v, err := r.ReadByte(); err != nil || v != 1 {
		return false
	}
	user, ok1 := field()
	pass, ok2 := field()
	if !ok1 || !ok2 || user != s.user || pass != s.pass {
		_, _ = conn.Write([]byte{1, 1})
		return false
	}
	_, _ = conn.Write([]byte{1, 0})
	return true
}

// clearProxyEnv unsets every proxy variable for the test.
func clearProxyEnv(t *testing.T) {
	for _, v := range []string{"HTTPS_PROXY", "HTTP_PROXY", "ALL_PROXY", "NO_PROXY", "REQUEST_METHOD",
		"https_proxy", "http_proxy", "all_proxy", "no_proxy"} {
		t.Setenv(v, "")
	}
}

// emulatorURLs starts the emulator over HTTP and over HTTPS and returns their base URLs under
// fakeHost, with a function that makes a client trust the HTTPS one.
func emulatorURLs(t *testing.T) (plain, secure string, trust func(*http.Client)) {
	t.Helper()
	srv := emulator.StartTB(t, emulator.Config{APIKey: proxyTestKey})
	plain = strings.Replace(srv.URL, "127.0.0.1", fakeHost, 1)

	tlsSrv := httptest.NewUnstartedServer(emulator.NewHandler(emulator.Config{APIKey: proxyTestKey}))
	tlsSrv.StartTLS()
	t.Cleanup(tlsSrv.Close)
	secure = strings.Replace(tlsSrv.URL, "127.0.0.1", fakeHost, 1) + "/v1"
	pool := x509.NewCertPool()
	pool.AddCert(tlsSrv.Certificate())
	trust = func(c *http.Client) {
		// httptest's certificate names example.com, not the made-up host.
		c.Transport.(*http.Transport).TLSClientConfig = &tls.Config{RootCAs: pool, ServerName: "example.com"}
	}
	return plain, secure, trust
}

// listModels makes one API call through hc.
func listModels(t *testing.T, hc *http.Client, base string) error {
	t.Helper()
	// Idle keep-alive connections would hold the proxies' tunnels open past the test.
	defer hc.CloseIdleConnections()
	zero := 0
	c, err := moonshot.NewClient(moonshot.Options{APIKey: proxyTestKey, BaseURL: base, HTTPClient: hc, MaxRetries: &zero})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	models, err := c.Models(ctx)
	if err == nil && len(models) == 0 {
		t.Fatal("no models listed")
	}
	return err
}

func hostPort(t *testing.T, base string) string {
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	return u.Host
}

func TestProxies(t *testing.T) {
	plain, secure, trust := emulatorURLs(t)
	httpP := startHTTPProxy(t)
	socks := startSOCKS(t, "", "")
	socksAuth := startSOCKS(t, "alice", "s3cret")
	dead := "http://127.0.0.1:1" // nothing listens there: a request sent to it fails

	tests := []struct {
		name  string
		env   map[string]string
		flag  string // --proxy
		base  string
		via   *journal
		entry string // what the proxy must have been asked for
	}{
		{"HTTPS_PROXY tunnels https with CONNECT", map[string]string{"HTTPS_PROXY": httpP.URL, "HTTP_PROXY": dead},
			"", secure, &httpP.journal, "CONNECT " + hostPort(t, secure)},
		{"https_proxy in lower case", map[string]string{"https_proxy": httpP.URL},
			"", secure, &httpP.journal, "CONNECT " + hostPort(t, secure)},
		{"HTTP_PROXY forwards http", map[string]string{"HTTP_PROXY": httpP.URL, "HTTPS_PROXY": dead},
			"", plain, &httpP.journal, "GET " + hostPort(t, plain)},
		{"ALL_PROXY socks5://", map[string]string{"ALL_PROXY": "socks5://" + socks.Addr},
			"", plain, &socks.journal, hostPort(t, plain)},
		{"ALL_PROXY socks5h:// resolves on the proxy", map[string]string{"ALL_PROXY": "socks5h://" + socks.Addr},
			"", plain, &socks.journal, hostPort(t, plain)},
		{"ALL_PROXY socks:// (v2rayN) is socks5", map[string]string{"all_proxy": "socks://" + socks.Addr},
			"", plain, &socks.journal, hostPort(t, plain)},
		{"ALL_PROXY covers https too", map[string]string{"ALL_PROXY": "socks5h://" + socks.Addr},
			"", secure, &socks.journal, hostPort(t, secure)},
		{"SOCKS5 with username and password", map[string]string{"ALL_PROXY": "socks5h://alice:s3cret@" + socksAuth.Addr},
			"", plain, &socksAuth.journal, hostPort(t, plain)},
		{"--proxy overrides the environment", map[string]string{"HTTPS_PROXY": dead, "HTTP_PROXY": dead, "ALL_PROXY": "socks5://" + dead[7:]},
			"socks5h://" + socks.Addr, plain, &socks.journal, hostPort(t, plain)},
		{"--proxy http overrides ALL_PROXY", map[string]string{"ALL_PROXY": "socks5://127.0.0.1:1"},
			httpP.URL, secure, &httpP.journal, "CONNECT " + hostPort(t, secure)},
		{"IPv6 and CIDR entries in NO_PROXY do not get in the way",
			map[string]string{"HTTP_PROXY": httpP.URL, "NO_PROXY": "::1,[2001:db8::2]:8080,10.0.0.0/8,fd00::/8,[fe80::1,:80,*.internal.example"},
			"", plain, &httpP.journal, "GET " + hostPort(t, plain)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clearProxyEnv(t)
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			before := len(tt.via.entries())
			hc, err := NewHTTPClient(tt.flag)
			if err != nil {
				t.Fatal(err)
			}
			if strings.HasPrefix(tt.base, "https") {
				trust(hc)
			}
			if err := listModels(t, hc, tt.base); err != nil {
				t.Fatalf("request through the proxy failed: %v", err)
			}
			seen := tt.via.entries()[before:]
			if len(seen) == 0 || seen[0] != tt.entry {
				t.Fatalf("proxy saw %q, want %q first", seen, tt.entry)
			}
		})
	}
}

func TestWithoutProxyTheMadeUpHostIsUnreachable(t *testing.T) {
	// The control for TestProxies: only a proxy can reach fakeHost, so a passing request there
	// proves it went through the proxy.
	clearProxyEnv(t)
	plain, _, _ := emulatorURLs(t)
	hc, err := NewHTTPClient("")
	if err != nil {
		t.Fatal(err)
	}
	if err := listModels(t, hc, plain); err == nil {
		t.Fatal("reached the made-up host without a proxy")
	}
	direct := strings.Replace(plain, fakeHost, "127.0.0.1", 1)
	if err := listModels(t, hc, direct); err != nil {
		t.Fatalf("direct request failed: %v", err)
	}
}

func TestSOCKSRejectsWrongPassword(t *testing.T) {
	clearProxyEnv(t)
	plain, _, _ := emulatorURLs(t)
	socks := startSOCKS(t, "alice", "s3cret")
	t.Setenv("ALL_PROXY", "socks5h://alice:wrong@"+socks.Addr)
	hc, err := NewHTTPClient("")
	if err != nil {
		t.Fatal(err)
	}
	err = listModels(t, hc, plain)
	if err == nil {
		t.Fatal("request succeeded with a wrong proxy password")
	}
	if strings.Contains(err.Error(), "wrong") {
		t.Errorf("the proxy password leaked into the error: %v", err)
	}
}

func TestNoProxyDecisions(t *testing.T) {
	clearProxyEnv(t)
	t.Setenv("HTTP_PROXY", "http://proxy.example:3128")
	t.Setenv("HTTPS_PROXY", "http://proxy.example:3128")
	t.Setenv("NO_PROXY", "2001:db8::1, [2001:db8::2]:8080,10.0.0.0/8,fd00::/8,.corp.example,[fe80::1,:80,fe80::/99")
	hc, err := NewHTTPClient("")
	if err != nil {
		t.Fatal(err)
	}
	proxyFor := hc.Transport.(*http.Transport).Proxy
	tests := []struct {
		url     string
		proxied bool
	}{
		{"http://[2001:db8::1]/v1", false},
		{"https://[2001:db8::1]:443/v1", false},
		{"http://[2001:db8::2]:8080/v1", false},
		{"http://[2001:db8::2]:9090/v1", true}, // the entry names port 8080 only
		{"http://10.1.2.3/v1", false},
		{"http://11.1.2.3/v1", true},
		{"https://[fd00::5]/v1", false},
		{"https://[2001:db8::3]/v1", true},
		{"https://api.corp.example/v1", false},
		{"https://api.moonshot.ai/v1", true},
		{"http://localhost:8080/v1", false}, // loopback is never proxied
		{"http://[::1]:8080/v1", false},
	}
	for _, tt := range tests {
		req, err := http.NewRequest(http.MethodGet, tt.url, nil)
		if err != nil {
			t.Fatal(err)
		}
		got, err := proxyFor(req)
		if err != nil {
			t.Fatalf("%s: %v", tt.url, err)
		}
		if (got != nil) != tt.proxied {
			t.Errorf("%s: proxy = %v, want proxied %v", tt.url, got, tt.proxied)
		}
	}
}

func TestInvalidProxyIsUsageError(t *testing.T) {
	tests := []struct {
		name, env, flag string
	}{
		{"unparsable --proxy", "", "http://[::1"},
		{"--proxy without a host", "", "http://"},
		{"unsupported scheme in --proxy", "", "ftp://user:hunter2@proxy.example:21"},
		{"unsupported scheme in ALL_PROXY", "ftp://proxy.example:21", ""},
		{"unparsable HTTPS_PROXY", "http://%zz", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clearProxyEnv(t)
			if tt.env != "" {
				t.Setenv("ALL_PROXY", tt.env)
				t.Setenv("HTTPS_PROXY", tt.env)
			}
			_, err := NewHTTPClient(tt.flag)
			var ue *UsageError
			if !errors.As(err, &ue) || ExitCode(err) != ExitUsage {
				t.Fatalf("NewHTTPClient = %v, want a usage error (exit 2)", err)
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Errorf("the proxy password leaked: %v", err)
			}
		})
	}
}
