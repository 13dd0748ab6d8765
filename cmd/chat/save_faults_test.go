package chat

import (
	"database/sql"
	"strings"
	"testing"

	"github.com/moonchat/moonchat/internal/clitest"
	"github.com/moonchat/moonchat/pkg/history"
)

// A save that fails half way (the disk fills up while the messages are written) leaves no
// conversation behind: an empty one would be what `chat -c` continues, with no context.
func TestAFailedSaveLeavesNoGhostConversation(t *testing.T) {
	e := newTestEnv(t)
	clitest.OpenHistory(t) // creates the database
	path, _ := history.DefaultPath()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	// What a full disk does to the message insert, after the conversation row went in.
	if _, err := db.Exec(`CREATE TRIGGER disk_full BEFORE INSERT ON messages BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	r := e.run("-m", "kimi-k2-turbo-preview", "hello")
	if r.code != 0 || !strings.Contains(r.stdout, "You said: hello") {
		t.Fatalf("exit %d, stdout %q: %s", r.code, r.stdout, r.stderr)
	}
	if !strings.Contains(r.stderr, "warning: the conversation was not saved") || !strings.Contains(r.stderr, "disk is full") {
		t.Errorf("stderr = %q", r.stderr)
	}
	if convs := clitest.Conversations(t); len(convs) != 0 {
		t.Errorf("a failed save left %d conversation(s): %+v", len(convs), convs[0].Conversation)
	}
}
