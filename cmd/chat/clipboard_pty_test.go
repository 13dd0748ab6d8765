//go:build unix

package chat_test

import (
	"bytes"
	"encoding/base64"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/moonchat/moonchat/pkg/emulator"
)

// The clipboard, as /copy and --copy fill it: the OSC 52 sequence read off the terminal, and
// a fake wl-copy on PATH.

const twoBlocks = "Two ways:\n\n```go\nfmt.Println(\"one\")\n```\n\nor\n\n```sh\necho two\n```\n"

// osc52Sent decodes the clipboard contents of every OSC 52 sequence in out.
func osc52Sent(t *testing.T, out string) []string {
	t.Helper()
	var got []string
	for _, m := range regexp.MustCompile(`\x1b\]52;c;([A-Za-z0-9+/=]*)\x07`).FindAllStringSubmatch(out, -1) {
		data, err := base64.StdEncoding.DecodeString(m[1])
		if err != nil {
			t.Fatalf("OSC 52 with bad base64 %q: %v", m[1], err)
		}
		got = append(got, string(data))
	}
	return got
}

// fakeWlCopy puts a wl-copy on PATH that writes what it is given to the returned file, and
// makes it usable (WAYLAND_DISPLAY).
func fakeWlCopy(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	clip := filepath.Join(dir, "clipboard")
	script := "#!/bin/sh\ncat > '" + clip + "'\n"
	if err := os.WriteFile(filepath.Join(dir, "wl-copy"), []byte(script), 0o700); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", dir+string(os.PathListSeparator)+os.Getenv("PATH"))
	t.Setenv("WAYLAND_DISPLAY", "wayland-test")
	return clip
}

func TestSessionCopyInAPseudoTerminal(t *testing.T) {
	srv := isolated(t)
	t.Setenv("DISPLAY", "")
	t.Setenv("WAYLAND_DISPLAY", "")
	srv.SetReply(func(*emulator.ChatRequest) emulator.Reply { return emulator.Reply{Content: twoBlocks} })
	term := startSession(t, "chat", "--no-save")
	term.expect(" › ")
	term.enter("/copy", "there is no answer to copy yet")
	term.typeKeys("Say it twice\r")
	term.expectShown("echo two")
	term.expect(" › ")
	// Without a clipboard program, OSC 52 is the way, and the session says so.
	term.enter("/copy code", "copied code block 2 of 2 (9 bytes) with OSC 52 (OSC 52 needs a terminal")
	term.enter("/copy code 3", "the answer has code blocks 1 to 2")
	term.enter("/copy", "copied the answer")
	term.quit()
	if got := osc52Sent(t, term.output()); len(got) != 2 || got[0] != "echo two\n" || got[1] != twoBlocks {
		t.Errorf("OSC 52 carried %q", got)
	}
}

func TestCopyWithAClipboardProgram(t *testing.T) {
	srv := isolated(t)
	t.Setenv("DISPLAY", "")
	clip := fakeWlCopy(t)
	srv.SetReply(func(*emulator.ChatRequest) emulator.Reply { return emulator.Reply{Content: twoBlocks} })
	// In a session: OSC 52 and wl-copy both.
	term := startSession(t, "chat", "--no-save")
	term.expect(" › ")
	term.typeKeys("Say it twice\r")
	term.expectShown("echo two")
	term.expect(" › ")
	term.enter("/copy code 1", "with OSC 52 and wl-copy")
	term.quit()
	if data, err := os.ReadFile(clip); err != nil || string(data) != "fmt.Println(\"one\")\n" {
		t.Errorf("wl-copy got %q, %v", data, err)
	}
	if got := osc52Sent(t, term.output()); len(got) != 1 || got[0] != "fmt.Println(\"one\")\n" {
		t.Errorf("OSC 52 carried %q", got)
	}
	// One question, piped: no terminal for OSC 52, wl-copy alone; stdout is the answer only.
	cmd := moonchat("chat", "--no-save", "--copy=code", "Say it twice")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%v: %s", err, stderr.String())
	}
	if stdout.String() != twoBlocks {
		t.Errorf("stdout = %q", stdout.String())
	}
	if !strings.Contains(stderr.String(), "copied code block 2 of 2 (9 bytes) with wl-copy") || strings.Contains(stderr.String(), "\x1b]52") {
		t.Errorf("stderr = %q", stderr.String())
	}
	if data, _ := os.ReadFile(clip); string(data) != "echo two\n" {
		t.Errorf("wl-copy got %q", data)
	}
}
