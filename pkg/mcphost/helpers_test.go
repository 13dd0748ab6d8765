package mcphost

import (
	"bufio"
	"context"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/moonchat/moonchat/internal/mcptest"
)

// echoServer is testdata/echoserver (an MCP server made with the official Go SDK), built once.
func echoServer(t *testing.T) string { return mcptest.EchoServer(t) }

func TestMain(m *testing.M) { mcptest.Main(m) }

// cancelledCall calls the echo server's slow tool and cancels the call at once; it returns
// the call's error.
func cancelledCall(h *Host) error {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := h.Call(ctx, "echo", "slow", `{}`)
		done <- err
	}()
	cancel()
	return <-done
}

// everything is the npm reference server @modelcontextprotocol/server-everything over stdio
// (skipped without node and npm, unless MOONCHAT_REQUIRE_NPM=1).
func everything(t *testing.T) ServerConfig {
	command, args := mcptest.Everything(t)
	return ServerConfig{Command: command, Args: args}
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
