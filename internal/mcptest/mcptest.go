// Package mcptest finds the MCP servers the tests run moonchat against: the echo server that
// pkg/mcphost/testdata builds with the official Go SDK, and the npm-published reference
// server @modelcontextprotocol/server-everything.
package mcptest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
)

// EverythingVersion is the npm-published reference server the tests run; .ci/run installs the
// same version.
const EverythingVersion = "2026.8.31"

// Everything returns the command and arguments that run @modelcontextprotocol/server-everything
// over stdio: $MOONCHAT_MCP_EVERYTHING when set (the path of its dist/index.js, as .ci/run
// installs it), else an install with npm into a scratch directory kept between runs. Without
// node and npm the test is skipped, unless MOONCHAT_REQUIRE_NPM=1 (CI), where it fails.
func Everything(t testing.TB) (command string, args []string) {
	t.Helper()
	if p := os.Getenv("MOONCHAT_MCP_EVERYTHING"); p != "" {
		return "node", []string{p, "stdio"}
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
	return "node", []string{script, "stdio"}
}

var (
	echoOnce sync.Once
	echoPath string
	echoErr  error
)

// EchoServer builds pkg/mcphost/testdata/echoserver once per test binary and returns its
// path; the test's TestMain calls Cleanup to remove it.
func EchoServer(t testing.TB) string {
	t.Helper()
	echoOnce.Do(func() {
		dir, err := os.MkdirTemp("", "moonchat-mcp-echo-")
		if err != nil {
			echoErr = err
			return
		}
		echoPath = filepath.Join(dir, "echoserver")
		if runtime.GOOS == "windows" {
			echoPath += ".exe"
		}
		build := exec.Command("go", "build", "-o", echoPath, "github.com/moonchat/moonchat/pkg/mcphost/testdata/echoserver")
		build.Env = append(os.Environ(), goCaches...)
		out, err := build.CombinedOutput()
		if err != nil {
			echoErr = fmt.Errorf("building pkg/mcphost/testdata/echoserver: %v\n%s", err, out)
		}
	})
	if echoErr != nil {
		t.Fatal(echoErr)
	}
	return echoPath
}

// goCaches are the Go build and module caches as they were before the tests ran (set by Main):
// tests point HOME and XDG_CACHE_HOME at empty directories, and a build of the echo server
// there would fetch and compile every module again.
var goCaches []string

// Main runs the tests of a package that uses EchoServer, then removes what it built, and
// exits with the tests' status. A package's TestMain calls it.
func Main(m *testing.M) {
	if out, err := exec.Command("go", "env", "GOCACHE", "GOMODCACHE", "GOPATH").Output(); err == nil {
		if v := strings.Split(strings.TrimSpace(string(out)), "\n"); len(v) == 3 {
			goCaches = []string{"GOCACHE=" + v[0], "GOMODCACHE=" + v[1], "GOPATH=" + v[2]}
		}
	}
	code := m.Run()
	Cleanup()
	os.Exit(code)
}

// Cleanup removes what EchoServer built.
func Cleanup() {
	if echoPath != "" {
		os.RemoveAll(filepath.Dir(echoPath))
	}
}
