// Package clitest runs moonchat's commands in tests: in a private home with none of the
// developer's settings, against the in-process emulator, with the streams of
// iostreams.Test. Only tests import it.
package clitest

import (
	"bytes"
	"context"
	"errors"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"github.com/moonchat/moonchat/pkg/config"
	"github.com/moonchat/moonchat/pkg/emulator"
	"github.com/moonchat/moonchat/pkg/history"
	"github.com/moonchat/moonchat/pkg/iostreams"
)

// Isolate points the config, data and cache directories and the home at a temporary
// directory, and clears every variable that sets a config key, routes requests through a
// proxy or names an editor. It returns the path of the (absent) config file.
func Isolate(t testing.TB) string {
	t.Helper()
	dir := t.TempDir()
	t.Setenv("XDG_CONFIG_HOME", filepath.Join(dir, "config"))
	t.Setenv("XDG_DATA_HOME", filepath.Join(dir, "data"))
	t.Setenv("XDG_CACHE_HOME", filepath.Join(dir, "cache"))
	t.Setenv("HOME", filepath.Join(dir, "home"))
	t.Setenv("MOONCHAT_CONFIG", "")
	for _, k := range config.Keys() {
		for _, name := range k.Env {
			t.Setenv(name, "")
		}
	}
	for _, v := range []string{"HTTPS_PROXY", "HTTP_PROXY", "ALL_PROXY", "https_proxy", "http_proxy", "all_proxy",
		"NO_PROXY", "no_proxy", "VISUAL", "EDITOR"} {
		t.Setenv(v, "")
	}
	return filepath.Join(dir, "config", "moonchat", "config.yaml")
}

// Serve isolates the test and starts an emulator with cfg, which the environment then
// names as the API base, with cfg.APIKey as the key.
func Serve(t testing.TB, cfg emulator.Config) *emulator.Server {
	t.Helper()
	Isolate(t)
	srv := emulator.StartTB(t, cfg)
	t.Setenv("MOONSHOT_API_BASE", srv.URL)
	t.Setenv("MOONSHOT_API_KEY", cfg.APIKey)
	return srv
}

// WriteFile writes text to path (a config file, mostly), making its directory.
func WriteFile(t testing.TB, path, text string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
}

// Streams are the standard streams of one run: IO is what the command is built with (set
// its terminals before), and the buffers behind it keep what it read and wrote.
type Streams struct {
	IO          *iostreams.IOStreams
	out, errOut *bytes.Buffer
}

// NewStreams returns the streams of iostreams.Test, with stdin holding the text given.
func NewStreams(stdin string) *Streams {
	ios, in, out, errOut := iostreams.Test()
	in.WriteString(stdin)
	return &Streams{IO: ios, out: out, errOut: errOut}
}

// Result is what a command printed on stdout and stderr, and the error it returned.
type Result struct {
	Out, ErrOut string
	Err         error
}

// Run executes cmd with args as the root does, with cobra's own output set aside (a
// command prints through its IOStreams), and returns what the streams received. A
// command that hangs fails at a deadline instead of stalling the test run.
func (s *Streams) Run(t testing.TB, cmd *cobra.Command, args ...string) Result {
	t.Helper()
	cmd.SetArgs(args)
	cmd.SetOut(&bytes.Buffer{})
	cmd.SetErr(&bytes.Buffer{})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	err := cmd.ExecuteContext(ctx)
	return Result{Out: s.out.String(), ErrOut: s.errOut.String(), Err: err}
}

// OpenHistory opens the history database moonchat uses in this environment; it is closed
// when the test ends.
func OpenHistory(t testing.TB) *history.Store {
	t.Helper()
	s := openHistory(t)
	t.Cleanup(func() { s.Close() })
	return s
}

// WriteHistory opens the history database moonchat uses in this environment, lets write
// fill it, and closes it again: the commands the test runs next find it as a user's.
func WriteHistory(t testing.TB, write func(context.Context, *history.Store)) {
	t.Helper()
	s := openHistory(t)
	defer s.Close()
	write(context.Background(), s)
}

func openHistory(t testing.TB) *history.Store {
	t.Helper()
	path, err := history.DefaultPath()
	if err != nil {
		t.Fatal(err)
	}
	s, err := history.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// Saved is a saved conversation with its messages.
type Saved struct {
	history.Conversation
	Msgs []history.Message
}

// Conversations reads every conversation saved in this environment, newest first, with its
// messages; none when nothing created the database. The database is closed again at once,
// so that processes the test starts next find it as moonchat left it.
func Conversations(t testing.TB) []Saved {
	t.Helper()
	path, err := history.DefaultPath()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	s := openHistory(t)
	defer s.Close()
	ctx := context.Background()
	list, err := s.List(ctx, history.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var out []Saved
	for _, c := range list {
		conv, msgs, err := s.Get(ctx, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, Saved{conv, msgs})
	}
	return out
}

// Forward does what a forward HTTP proxy does with the proxy request r: it sends r on to
// target (host:port) and copies the answer back to w.
func Forward(w http.ResponseWriter, r *http.Request, target string) {
	out := r.Clone(r.Context())
	out.RequestURI, out.URL.Host = "", target
	resp, err := http.DefaultTransport.RoundTrip(out)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	defer resp.Body.Close()
	for k, vs := range resp.Header {
		w.Header()[k] = vs
	}
	w.WriteHeader(resp.StatusCode)
	_, _ = io.Copy(w, resp.Body)
}
