package mcphost

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A chatty server's log stays under the cap, run after run: the older lines move to
// NAME.log.1 and the newest are in NAME.log.
func TestServerLogIsRotated(t *testing.T) {
	const capBytes = 10_000
	logs := t.TempDir()
	logPath := filepath.Join(logs, "echo.log")
	for run := 1; run <= 2; run++ {
		h := newHost(t, map[string]ServerConfig{"echo": {Command: echoServer(t)}}, Options{LogDir: logs, MaxLogBytes: capBytes})
		if r, err := h.Call(context.Background(), "echo", "noisy", `{"bytes":25000}`); err != nil || r.Content() != "ok" {
			t.Fatalf("run %d: noisy = %+v, %v", run, r, err)
		}
		if err := h.Close(); err != nil {
			t.Fatal(err)
		}
		total := 0
		for _, p := range []string{logPath, logPath + ".1"} {
			fi, err := os.Stat(p)
			if err != nil {
				t.Fatalf("run %d: %v", run, err)
			}
			if fi.Size() > capBytes || fi.Mode().Perm()&0o077 != 0 {
				t.Errorf("run %d: %s is %d bytes (cap %d), mode %v", run, p, fi.Size(), capBytes, fi.Mode().Perm())
			}
			total += int(fi.Size())
		}
		if total < capBytes {
			t.Errorf("run %d: %d bytes kept in all: the rotation threw away more than it had to", run, total)
		}
		data, err := os.ReadFile(logPath)
		if err != nil {
			t.Fatal(err)
		}
		// The newest lines are kept: the end of the noise and the exit of the server.
		if !strings.Contains(string(data), "echoserver: noisy done") || !strings.Contains(string(data), "the server exited") {
			t.Errorf("run %d: the newest lines are not in the log; it ends %q", run, data[max(0, len(data)-200):])
		}
	}
	if matches, _ := filepath.Glob(filepath.Join(logs, "*")); len(matches) != 2 {
		t.Errorf("files in the log directory: %v", matches)
	}
}
