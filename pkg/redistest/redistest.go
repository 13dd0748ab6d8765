// Package redistest starts a redis-server of a test's own, as net/http/httptest starts an
// HTTP server: on a free loopback port, in a temporary directory, saving nothing to disk.
package redistest

import (
	"bufio"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
)

// RequireEnv, set to 1, makes a missing redis-server a test failure rather than a skip;
// .ci/run sets it so CI cannot pass without the shared-state tests.
const RequireEnv = "MOONCHAT_REQUIRE_REDIS"

// Server is a running redis-server.
type Server struct {
	Addr string // 127.0.0.1:PORT
	cmd  *exec.Cmd
}

// Start starts Debian's redis-server for the test and stops it when the test ends. Without
// the program the test is skipped with a message naming it (a failure when RequireEnv is 1).
func Start(t testing.TB) *Server {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		if os.Getenv(RequireEnv) == "1" {
			t.Fatalf("redis-server is not installed and %s=1 (apt-get install redis-server)", RequireEnv)
		}
		t.Skip("redis-server is not installed (apt-get install redis-server); skipping the shared-state test")
	}
	// A free port: the kernel picks one, which is released for redis-server to take.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	cmd := exec.Command(bin, "--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--dir", t.TempDir(),
		"--save", "", "--appendonly", "no", "--protected-mode", "no")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s := &Server{Addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), cmd: cmd}
	t.Cleanup(s.Stop)
	// redis-server says when it accepts connections: no polling.
	sc := bufio.NewScanner(out)
	var log []string
	for sc.Scan() {
		log = append(log, sc.Text())
		if strings.Contains(sc.Text(), "Ready to accept connections") {
			go func() {
				for sc.Scan() { // drain, so redis-server never blocks on its log
				}
			}()
			return s
		}
	}
	t.Fatalf("redis-server did not start:\n%s", strings.Join(log, "\n"))
	return nil
}

// Stop kills the server (a Redis that goes away) and waits for it to exit.
func (s *Server) Stop() {
	if s.cmd.ProcessState == nil {
		_ = s.cmd.Process.Kill()
		_ = s.cmd.Wait()
	}
}

// HostPort splits Addr as LiteLLM's redis_host and redis_port.
func (s *Server) HostPort() (host, port string) {
	host, port, _ = net.SplitHostPort(s.Addr)
	return host, port
}
