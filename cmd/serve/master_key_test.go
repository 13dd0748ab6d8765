package serve

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/moonchat/moonchat/cmd/cli"
	"github.com/moonchat/moonchat/internal/syncbuf"
)

// A master key no client can send (blank, spaces around it, a control character) is refused
// at start (exit 2), before anything listens.
func TestRefusesAMasterKeyNobodyCanSend(t *testing.T) {
	for _, key := range []string{"   ", "\t", " sk-team", "sk-team\n", "sk-\x07team"} {
		isolate(t)
		t.Setenv("MOONCHAT_MASTER_KEY", key)
		stderr := &syncbuf.Buffer{}
		// Canceled: a server that starts stops at once instead of serving for ever.
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		err := execute(t, ctx, stderr, []string{"--offline", "--host", "0.0.0.0", "--port", "0"}, nil)
		var ue *cli.UsageError
		if cli.ExitCode(err) != 2 || !errors.As(err, &ue) || !strings.Contains(err.Error(), "master key is blank, has spaces around it") {
			t.Errorf("MOONCHAT_MASTER_KEY=%q: %v (stderr %s)", key, err, stderr)
		}
		if strings.Contains(stderr.String(), "listening") {
			t.Errorf("MOONCHAT_MASTER_KEY=%q: the server started: %s", key, stderr)
		}
	}
}
