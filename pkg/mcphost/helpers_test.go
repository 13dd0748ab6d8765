package mcphost

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// EverythingVersion is the npm-published reference server the tests run; .ci/run installs the
// same version.
const EverythingVersion = "2026.8.31"

var (
	echoOnce sync.Once
	echoPath string
	echoErr  error
)

// echoServer builds testdata/echoserver (an MCP server made with the official Go SDK) once.
func echoServer(t *testing.T) string {
	t.Helper()
	echoOnce.Do(func() {
		dir, err := os.MkdirTemp("", "mcphost-echo-")
		if err != nil {
			echoErr = err
			return
		}
		echoPath = filepath.Join(dir, "echoserver")
		if runtime.GOOS == "windows" {
			echoPath += ".exe"
		}
		out, err := exec.Command("go", "build", "-o", echoPath, "./testdata/echoserver").CombinedOutput()
		if err != nil {
			echoErr = fmt.Errorf("building testdata/echoserver: %v\n%s", err, out)
		}
	})
	if echoErr != nil {
		t.Fatal(echoErr)
	}
	return echoPath
}

func TestMain(m *testing.M) {
	code := m.Run()
	if echoPath != "" {
		os.RemoveAll(filepath.Dir(echoPath))
	}
	os.Exit(code)
}

// everything returns the command that runs @modelcontextprotocol/server-everything over stdio:
// $MOONCHAT_MCP_EVERYTHING when set (the path of its mcp-server-everything script, as .ci/run
// installs it), else an install with npm into a scratch directory kept between runs. Without
// node and npm the test is skipped, unless MOONCHAT_REQUIRE_NPM=1 (CI), where it fails.
func everything(t *testing.T) ServerConfig {
	t.Helper()
	if p := os.Getenv("MOONCHAT_MCP_EVERYTHING"); p != "" {
		return ServerConfig{Command: "node", Args: []string{p, "stdio"}}
	}
	for _, tool := range []string{"node", "npm"} {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv("MOONCHAT_REQUIRE_NPM") == "1" {
				t.Fatalf("%s is not installed, and MOONCHAT_REQUIRE_NPM=1 requires the npm reference MCP server", tool)
			}
			t.Skipf("%s is not installed: skipping the test against the npm MCP server @modelcontextprotocol/server-everything", tool)
		}
	}
	dir := filepath.Join(os.TempDir(), "moonchat-test-npm", "server-everything-"+EverythingVersion)
	script := filepath.Join(dir, "node_modules", "@modelcontextprotocol", "server-everything", "dist", "index.js")
	if _, err := os.Stat(script); err != nil {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command("npm", "install", "--no-audit", "--no-fund", "--prefix", dir,
			"@modelcontextprotocol/server-everything@"+EverythingVersion)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("npm install @modelcontextprotocol/server-everything@%s: %v\n%s", EverythingVersion, err, out)
		}
	}
	return ServerConfig{Command: "node", Args: []string{script, "stdio"}}
}

// httpEchoServer runs the echo server over streamable HTTP and returns its URL; it is killed
// when the test ends.
func httpEchoServer(t *testing.T, token string) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, echoServer(t), "-http", "127.0.0.1:0", "-token", token)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		_ = cmd.Wait()
	})
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		t.Fatalf("the HTTP echo server did not print its URL: %v", err)
	}
	return strings.TrimSpace(line)
}

// newHost makes a Host that is closed when the test ends.
func newHost(t *testing.T, configs map[string]ServerConfig, opts Options) *Host {
	t.Helper()
	if opts.LogDir == "" {
		opts.LogDir = t.TempDir()
	}
	if opts.StopGrace == 0 {
		opts.StopGrace = 5 * time.Second
	}
	h, err := New(configs, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = h.Close() })
	return h
}
