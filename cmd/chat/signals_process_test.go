//go:build unix

package chat_test

import (
	"bytes"
	"io"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/moonchat/moonchat/internal/clitest"
	"github.com/moonchat/moonchat/pkg/emulator"
)

// slowAnswer makes the emulator stream a long answer slowly, so that the process is in the
// middle of it when the test acts.
func slowAnswer(srv *emulator.Server) string {
	full := strings.Repeat("word ", 400)
	srv.SetReply(func(*emulator.ChatRequest) emulator.Reply { return emulator.Reply{Content: full} })
	srv.Inject(emulator.Fault{Kind: emulator.Slow, Delay: 20 * time.Millisecond})
	return full
}

// A closed terminal (SIGHUP) and SIGTERM end the answer like Ctrl-C: the partial answer is
// saved marked interrupted, and the exit status names the signal.
func TestHangupAndTermSaveThePartialAnswer(t *testing.T) {
	for _, tt := range []struct {
		sig  syscall.Signal
		code int
	}{{syscall.SIGHUP, 129}, {syscall.SIGTERM, 143}} {
		t.Run(tt.sig.String(), func(t *testing.T) {
			srv := isolated(t)
			full := slowAnswer(srv)
			c, stdout, stderr, first := startAnswer(t, 4)
			if err := c.Process.Signal(tt.sig); err != nil {
				t.Fatal(err)
			}
			rest, _ := io.ReadAll(stdout)
			err := c.Wait()
			if code := c.ProcessState.ExitCode(); code != tt.code {
				t.Fatalf("exit %d (%v), want %d: %s", code, err, tt.code, stderr.String())
			}
			printed := strings.TrimSuffix(string(first)+string(rest), "\n")
			convs := clitest.Conversations(t)
			if len(convs) != 1 || len(convs[0].Msgs) != 2 {
				t.Fatalf("saved %d conversations", len(convs))
			}
			answer := convs[0].Msgs[1]
			if !answer.Interrupted || answer.Content == "" || !strings.HasPrefix(full, answer.Content) || answer.Content == full {
				t.Errorf("saved %q (interrupted %v)", answer.Content, answer.Interrupted)
			}
			if !strings.HasPrefix(answer.Content, printed) {
				t.Errorf("printed %q is not what was saved, %q", printed, answer.Content)
			}
		})
	}
}

// `moonchat chat … | head -c 10`: when the reader of stdout goes away the process stops
// writing, saves the answer marked interrupted and exits quietly (status 0, no message).
func TestStdoutGoingAwaySavesAndExitsQuietly(t *testing.T) {
	srv := isolated(t)
	full := slowAnswer(srv)
	c, stdout, stderr, head := startAnswer(t, 10)
	stdout.Close() // what head does after 10 bytes
	err := c.Wait()
	if code := c.ProcessState.ExitCode(); code != 0 {
		t.Fatalf("exit %d (%v): %s", code, err, stderr.String())
	}
	if stderr.Len() != 0 {
		t.Errorf("stderr = %q, want nothing", stderr.String())
	}
	convs := clitest.Conversations(t)
	if len(convs) != 1 || len(convs[0].Msgs) != 2 {
		t.Fatalf("saved %d conversations", len(convs))
	}
	answer := convs[0].Msgs[1]
	if !answer.Interrupted || !strings.HasPrefix(answer.Content, string(head)) || answer.Content == full {
		t.Errorf("saved %q (interrupted %v)", answer.Content, answer.Interrupted)
	}
}

// startAnswer starts a one-shot chat whose answer streams slowly and returns once its first n
// bytes were printed, with the process, the rest of its stdout, its stderr and those bytes.
func startAnswer(t *testing.T, n int) (*exec.Cmd, io.ReadCloser, *bytes.Buffer, []byte) {
	t.Helper()
	c := moonchat("chat", "-m", "kimi-k2.6", "talk")
	stdout, err := c.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr := &bytes.Buffer{}
	c.Stderr = stderr
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	first := make([]byte, n)
	if _, err := io.ReadFull(stdout, first); err != nil {
		t.Fatal(err)
	}
	return c, stdout, stderr, first
}
