//go:build linux

package mcphost

import (
	"context"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

// alive reports whether pid is a live process. A zombie (killed, not yet reaped by init) is
// dead: in a container the reaper may be slow or absent.
func alive(t *testing.T, pid int) bool {
	t.Helper()
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	// pid (comm) STATE ...; comm may hold spaces, so read after the last ')'.
	s := string(data)
	i := strings.LastIndexByte(s, ')')
	return i < 0 || i+2 >= len(s) || s[i+2] != 'Z'
}

// spawnChild asks the echo server to start a long-lived child and returns the server's and
// the child's pids.
func spawnChild(t *testing.T, h *Host, name string) (server, child int) {
	t.Helper()
	r, err := h.Call(context.Background(), name, "spawn", `{}`)
	if err != nil || r.IsError {
		t.Fatalf("spawn: %+v, %v", r, err)
	}
	child, err = strconv.Atoi(r.Text)
	if err != nil {
		t.Fatalf("spawn said %q", r.Text)
	}
	h.mu.Lock()
	server = h.servers[name].proc.Process.Pid
	h.mu.Unlock()
	if !alive(t, child) || !alive(t, server) {
		t.Fatal("the server or its child is not running")
	}
	return server, child
}

func TestNoProcessOutlivesClose(t *testing.T) {
	h := newHost(t, map[string]ServerConfig{
		"polite":   {Command: echoServer(t)},
		"stubborn": {Command: echoServer(t), Args: []string{"-ignore-eof"}},
	}, Options{StopGrace: 100 * time.Millisecond})
	p1, c1 := spawnChild(t, h, "polite")
	p2, c2 := spawnChild(t, h, "stubborn")
	if err := h.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	for _, pid := range []int{p1, c1, p2, c2} {
		if alive(t, pid) {
			t.Errorf("process %d outlived Close", pid)
		}
	}
}

func TestCrashedServerLeavesNothingBehind(t *testing.T) {
	h := newHost(t, map[string]ServerConfig{"echo": {Command: echoServer(t)}}, Options{})
	server, child := spawnChild(t, h, "echo")
	_, err := h.Call(context.Background(), "echo", "crash", `{}`)
	if err == nil || !strings.Contains(err.Error(), "MCP server echo is gone") || !strings.Contains(err.Error(), "echo.log") {
		t.Fatalf("crash: %v", err)
	}
	// The broken pipe can reach us before the kernel has finished the server's exit: wait
	// for the host's own Wait of the process, then look.
	h.mu.Lock()
	exited := h.servers["echo"].exited
	h.mu.Unlock()
	<-exited
	if alive(t, server) {
		t.Error("the crashed server is still running")
	}
	// Its child is still there (the server died without cleaning up) until Close.
	if !alive(t, child) {
		t.Fatal("the child died with the server: the test proves nothing")
	}
	if err := h.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if alive(t, child) {
		t.Errorf("child %d of the crashed server outlived Close", child)
	}
}

func TestCancelMidCallThenClose(t *testing.T) {
	h := newHost(t, map[string]ServerConfig{"echo": {Command: echoServer(t)}}, Options{})
	server, child := spawnChild(t, h, "echo")
	cancelledCall(h)
	if err := h.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	for _, pid := range []int{server, child} {
		if alive(t, pid) {
			t.Errorf("process %d outlived Close", pid)
		}
	}
}
