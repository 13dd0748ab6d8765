package historycmd

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"github.com/moonchat/moonchat/cmd/cli"
	"github.com/moonchat/moonchat/pkg/history"
	"github.com/moonchat/moonchat/pkg/iostreams"
	"github.com/moonchat/moonchat/pkg/render"
)

// fixture is a history database in a temporary directory, seeded directly through
// pkg/history, and a clock for the commands.
type fixture struct {
	t     *testing.T
	store *history.Store
	now   time.Time
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	dir := t.TempDir()
	t.Setenv("XDG_CONFIG_HOME", filepath.Join(dir, "config"))
	t.Setenv("XDG_DATA_HOME", filepath.Join(dir, "data"))
	for _, v := range []string{"MOONCHAT_CONFIG", "MOONCHAT_WRAP", "MOONCHAT_STYLE"} {
		t.Setenv(v, "")
	}
	store, err := history.Open(filepath.Join(dir, "history.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	// UTC, so that absolute dates in the table do not depend on the machine's time zone.
	return &fixture{t: t, store: store, now: time.Now().UTC()}
}

// seed creates a conversation with the given messages.
func (fx *fixture) seed(c history.Conversation, msgs ...history.Message) history.Conversation {
	fx.t.Helper()
	ctx := context.Background()
	c, err := fx.store.Create(ctx, c)
	if err != nil {
		fx.t.Fatal(err)
	}
	if len(msgs) > 0 {
		if err := fx.store.Append(ctx, c.ID, msgs...); err != nil {
			fx.t.Fatal(err)
		}
	}
	return c
}

type result struct {
	stdout, stderr string
	err            error
}

// Stream setups: a terminal (colour on), a terminal with NO_COLOR, and a pipe.
func terminal(ios *iostreams.IOStreams) {
	ios.SetStdoutTTY(true)
	ios.SetStderrTTY(true)
}

func noColorTerminal(ios *iostreams.IOStreams) {
	terminal(ios)
	ios.SetEnv("NO_COLOR", "1")
}

func piped(*iostreams.IOStreams) {}

// run executes `history ARGS...` the way the root would, and returns what it printed.
func (fx *fixture) run(setup func(*iostreams.IOStreams), args ...string) result {
	fx.t.Helper()
	ios, _, out, errOut := iostreams.Test()
	setup(ios)
	f := cli.New(ios)
	f.History = func() (*history.Store, error) { return fx.store, nil }
	f.Now = func() time.Time { return fx.now }
	cmd := NewCmdHistory(f, nil)
	cmd.SetArgs(args)
	cmd.SetOut(out)
	cmd.SetErr(errOut)
	cmd.SilenceErrors, cmd.SilenceUsage = true, true
	err := cmd.ExecuteContext(context.Background())
	return result{stdout: out.String(), stderr: errOut.String(), err: err}
}

// mustRun is run for commands that must succeed.
func (fx *fixture) mustRun(setup func(*iostreams.IOStreams), args ...string) result {
	fx.t.Helper()
	r := fx.run(setup, args...)
	if r.err != nil {
		fx.t.Fatalf("history %v: %v (stderr %q)", args, r.err, r.stderr)
	}
	return r
}

var ansi = regexp.MustCompile(`\x1b\[[0-9;?]*[A-Za-z]`)

func stripANSI(s string) string { return ansi.ReplaceAllString(s, "") }

// threeConversations seeds an old empty conversation and two recent ones; the newest is
// returned first.
func threeConversations(fx *fixture) []history.Conversation {
	old := fx.seed(history.Conversation{ID: "0ld00001", Title: "Old planning notes", Model: "moonshot-v1-8k",
		CreatedAt: time.Date(2025, 1, 2, 15, 4, 0, 0, time.UTC)})
	first := fx.seed(history.Conversation{ID: "ab12cd34", Model: "kimi-k2.6"},
		history.Message{Role: "user", Content: "How do I reverse a slice in Go?"},
		history.Message{Role: "assistant", Content: "Use `slices.Reverse(s)`.", FinishReason: "stop"})
	second := fx.seed(history.Conversation{ID: "ab98ef76", Model: "kimi-k2.6"},
		history.Message{Role: "user", Content: "什么是数据库连接池？"},
		history.Message{Role: "assistant", Content: "连接池复用数据库连接。", FinishReason: "stop"},
		history.Message{Role: "user", Content: "Thanks"},
		history.Message{Role: "assistant", Content: "You're welcome"})
	return []history.Conversation{second, first, old}
}

func TestListOnATerminalIsAnAlignedTable(t *testing.T) {
	fx := newFixture(t)
	threeConversations(fx)
	r := fx.mustRun(func(ios *iostreams.IOStreams) { terminal(ios); ios.SetSize(100, 30) }, "list")
	want := "" +
		"ID        UPDATED           MODEL           MESSAGES  TITLE\n" +
		"ab98ef76  just now          kimi-k2.6              4  什么是数据库连接池？\n" +
		"ab12cd34  just now          kimi-k2.6              2  How do I reverse a slice in Go?\n" +
		"0ld00001  2025-01-02 15:04  moonshot-v1-8k         0  Old planning notes\n"
	if r.stdout != want {
		t.Fatalf("stdout:\n%s\nwant:\n%s", r.stdout, want)
	}
	if r.stderr != "" {
		t.Fatalf("stderr: %q", r.stderr)
	}
}

func TestListRelativeTimes(t *testing.T) {
	now := time.Date(2026, 5, 10, 12, 0, 0, 0, time.UTC)
	for _, tt := range []struct {
		ago  time.Duration
		want string
	}{
		{-time.Minute, "just now"}, // a clock slightly behind the database
		{30 * time.Second, "just now"},
		{time.Minute, "1 minute ago"},
		{59 * time.Minute, "59 minutes ago"},
		{3 * time.Hour, "3 hours ago"},
		{36 * time.Hour, "1 day ago"},
		{6 * 24 * time.Hour, "6 days ago"},
		{8 * 24 * time.Hour, "2026-05-02 12:00"},
	} {
		if got := when(now, now.Add(-tt.ago)); got != tt.want {
			t.Errorf("when(now - %v) = %q, want %q", tt.ago, got, tt.want)
		}
	}
}

func TestListCutsTitlesToTheTerminalWidth(t *testing.T) {
	fx := newFixture(t)
	fx.seed(history.Conversation{ID: "ab12cd34", Model: "kimi-k2.6"},
		history.Message{Role: "user", Content: strings.Repeat("长标题", 30)})
	fx.seed(history.Conversation{ID: "cd34ef56", Model: "kimi-k2.6"},
		history.Message{Role: "user", Content: strings.Repeat("a long title ", 10)})
	r := fx.mustRun(func(ios *iostreams.IOStreams) { terminal(ios); ios.SetSize(64, 24) }, "list")
	for _, line := range strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n") {
		if w := render.Width(line); w > 64 {
			t.Errorf("line %q is %d columns wide on a 64-column terminal", line, w)
		}
	}
	if strings.Count(r.stdout, "…") != 2 {
		t.Fatalf("titles not cut with an ellipsis:\n%s", r.stdout)
	}
}

func TestListPipedIsIDTabTitle(t *testing.T) {
	fx := newFixture(t)
	threeConversations(fx)
	fx.seed(history.Conversation{ID: "ee000000"}) // no title yet
	r := fx.mustRun(piped, "list")
	want := "ee000000\t\nab98ef76\t什么是数据库连接池？\nab12cd34\tHow do I reverse a slice in Go?\n0ld00001\tOld planning notes\n"
	if r.stdout != want || r.stderr != "" {
		t.Fatalf("stdout %q, stderr %q", r.stdout, r.stderr)
	}
}

func TestListJSON(t *testing.T) {
	fx := newFixture(t)
	convs := threeConversations(fx)
	r := fx.mustRun(terminal, "list", "--json")
	var got []map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &got); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, r.stdout)
	}
	if len(got) != 3 {
		t.Fatalf("%d conversations", len(got))
	}
	for i, c := range convs {
		if got[i]["id"] != c.ID {
			t.Fatalf("item %d is %v, want %s (newest first)", i, got[i]["id"], c.ID)
		}
	}
	keys := sortedKeys(got[0])
	want := []string{"created_at", "id", "message_count", "model", "system", "title", "updated_at"}
	if !slices.Equal(keys, want) {
		t.Fatalf("keys %v, want %v", keys, want)
	}
	if got[0]["message_count"] != 4.0 || got[0]["title"] != "什么是数据库连接池？" || got[2]["created_at"] != "2025-01-02T15:04:00Z" {
		t.Fatalf("fields: %v / %v", got[0], got[2])
	}
}

func sortedKeys(m map[string]any) []string {
	var keys []string
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func TestListLimit(t *testing.T) {
	fx := newFixture(t)
	threeConversations(fx)
	r := fx.mustRun(terminal, "list", "--limit", "2")
	if n := strings.Count(r.stdout, "\n"); n != 3 { // header and two rows
		t.Fatalf("%d lines:\n%s", n, r.stdout)
	}
	if !strings.Contains(r.stderr, "showing the 2 most recent; --limit 0 lists all") {
		t.Fatalf("stderr %q", r.stderr)
	}
	if r := fx.mustRun(terminal, "list", "--limit", "3"); r.stderr != "" {
		t.Fatalf("all listed, yet stderr %q", r.stderr)
	}
	if r := fx.mustRun(piped, "list", "-L", "1"); r.stdout != "ab98ef76\t什么是数据库连接池？\n" {
		t.Fatalf("piped -L 1: %q", r.stdout)
	}
	for range defaultListLimit {
		fx.seed(history.Conversation{})
	}
	if r := fx.mustRun(piped, "list"); strings.Count(r.stdout, "\n") != defaultListLimit {
		t.Fatalf("default limit: %d lines", strings.Count(r.stdout, "\n"))
	}
	if r := fx.mustRun(piped, "list", "--limit", "0"); strings.Count(r.stdout, "\n") != defaultListLimit+3 {
		t.Fatalf("--limit 0: %d lines", strings.Count(r.stdout, "\n"))
	}
	if err := fx.run(piped, "list", "--limit", "-1").err; cli.ExitCode(err) != cli.ExitUsage {
		t.Fatalf("--limit -1: %v", err)
	}
}

func TestEmptyHistory(t *testing.T) {
	fx := newFixture(t)
	if r := fx.mustRun(terminal, "list"); r.stdout != "" || r.stderr != "no conversations yet\n" {
		t.Fatalf("terminal: stdout %q, stderr %q", r.stdout, r.stderr)
	}
	if r := fx.mustRun(piped, "list"); r.stdout != "" || r.stderr != "" {
		t.Fatalf("piped: stdout %q, stderr %q", r.stdout, r.stderr)
	}
	if r := fx.mustRun(piped, "list", "--json"); r.stdout != "[]\n" {
		t.Fatalf("--json: %q", r.stdout)
	}
	if r := fx.run(terminal, "search", "anything"); r.stdout != "" || r.stderr != "no conversations yet\n" || cli.ExitCode(r.err) != cli.ExitFailure {
		t.Fatalf("search: stdout %q, stderr %q, %v", r.stdout, r.stderr, r.err)
	}
	err := fx.run(terminal, "show", "ab12").err
	msg, hint := cli.Describe(err, "")
	if cli.ExitCode(err) != cli.ExitUsage || msg != `no conversation matches "ab12"` || !strings.HasPrefix(hint, "no conversations yet") {
		t.Fatalf("show on an empty history: exit %d, %q, hint %q", cli.ExitCode(err), msg, hint)
	}
}

// conversationWithEverything has a system prompt, markdown, reasoning, a tool call and its
// result, an interrupted answer inside a code block, and control characters in a prompt.
func conversationWithEverything(fx *fixture) history.Conversation {
	return fx.seed(history.Conversation{ID: "ab12cd34", Model: "kimi-k2.6", System: "Be terse."},
		history.Message{Role: "user", Content: "How do I **reverse** a slice?\nIn Go.\x1b[2J"},
		history.Message{Role: "assistant", Content: "Use **slices.Reverse**:\n\n```go\nslices.Reverse(s)\n```\n",
			ReasoningContent: "The user wants Go.", Model: "kimi-k2.6", FinishReason: "stop",
			PromptTokens: 20, CompletionTokens: 12, CachedTokens: 8},
		history.Message{Role: "user", Content: "Weather in Paris?"},
		history.Message{Role: "assistant", FinishReason: "tool_calls",
			ToolCalls: json.RawMessage(`[{"id":"call_1","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}}]`)},
		history.Message{Role: "tool", Name: "get_weather", ToolCallID: "call_1", Content: `{"sky": "clear",` + "\n" + `"temp": 21}`},
		history.Message{Role: "assistant", Content: "Sunny, 21 °C.", FinishReason: "stop"},
		history.Message{Role: "user", Content: "And a map?"},
		history.Message{Role: "assistant", Content: "Maps have no order:\n\n```go\nfor k := range m {", Interrupted: true},
		history.Message{Role: "user", Content: "Long?"},
		history.Message{Role: "assistant", Content: "It goes on", Incomplete: true, FinishReason: "length"})
}

func TestShowPipedIsTheRawTranscript(t *testing.T) {
	fx := newFixture(t)
	conversationWithEverything(fx)
	r := fx.mustRun(piped, "show", "ab12")
	want := "system: Be terse.\n" +
		"\n> How do I **reverse** a slice?\n> In Go.\x1b[2J\n" +
		"\nUse **slices.Reverse**:\n\n```go\nslices.Reverse(s)\n```\n" +
		"\n> Weather in Paris?\n" +
		"\ntool call get_weather({\"city\":\"Paris\"})\n" +
		"\ntool result (get_weather): {\"sky\": \"clear\", \"temp\": 21}\n" +
		"\nSunny, 21 °C.\n" +
		"\n> And a map?\n" +
		"\nMaps have no order:\n\n```go\nfor k := range m {\n[interrupted: stopped before the answer was complete]\n" +
		"\n> Long?\n" +
		"\nIt goes on\n[incomplete: the stream was cut before the answer was complete]\n[cut short: the answer reached max_tokens]\n"
	if r.stdout != want {
		t.Fatalf("stdout:\n%q\nwant:\n%q", r.stdout, want)
	}
}

func TestShowOnATerminalRendersTheAnswers(t *testing.T) {
	fx := newFixture(t)
	conversationWithEverything(fx)
	r := fx.mustRun(terminal, "show", "ab12cd34")
	plain := stripANSI(r.stdout)
	lines := strings.Split(plain, "\n")
	if !strings.HasPrefix(lines[0], "ab12cd34 · How do I **reverse** a slice? · kimi-k2.6 · 10 messages · updated ") {
		t.Fatalf("header %q", lines[0])
	}
	for _, want := range []string{
		"> How do I **reverse** a slice?\n> In Go.\n", // the prompt as typed, marked, without its escape sequence
		"Use slices.Reverse:",                         // the answer rendered: no asterisks
		"slices.Reverse(s)",
		"tool call get_weather({\"city\":\"Paris\"})",
		"[interrupted: stopped before the answer was complete]",
		"[incomplete: the stream was cut before the answer was complete]",
		"for k := range m {", // the unclosed fence of the interrupted answer is still shown
	} {
		if !strings.Contains(plain, want) {
			t.Errorf("missing %q in:\n%s", want, plain)
		}
	}
	if strings.Contains(plain, "```") || strings.Contains(plain, "**slices") {
		t.Errorf("markdown not rendered:\n%s", plain)
	}
	if strings.Contains(r.stdout, "\x1b[2J") {
		t.Error("a control sequence saved in a prompt reached the terminal")
	}
	if !strings.Contains(r.stdout, "\x1b[1;36m> \x1b[0m") {
		t.Error("prompt marker not coloured")
	}
	if strings.Contains(plain, "The user wants Go.") {
		t.Error("reasoning shown")
	}
	if strings.Contains(plain, "\n\n\n") {
		t.Errorf("more than one blank line between parts:\n%q", plain)
	}

	// NO_COLOR keeps the rendering and drops every escape sequence.
	r = fx.mustRun(noColorTerminal, "show", "ab12cd34")
	if strings.Contains(r.stdout, "\x1b") {
		t.Fatalf("escape sequences with NO_COLOR: %q", r.stdout)
	}
	if !strings.Contains(r.stdout, "> And a map?") || strings.Contains(r.stdout, "```") {
		t.Fatalf("NO_COLOR output:\n%s", r.stdout)
	}

	// TERM=dumb gets the raw transcript, as when piped, but without escape sequences.
	r = fx.mustRun(func(ios *iostreams.IOStreams) { terminal(ios); ios.SetEnv("TERM", "dumb") }, "show", "ab12cd34")
	if raw := strings.Replace(fx.mustRun(piped, "show", "ab12cd34").stdout, "\x1b[2J", "", 1); r.stdout != raw {
		t.Fatalf("TERM=dumb output:\n%q\nwant the piped transcript:\n%q", r.stdout, raw)
	}
}

func TestShowHonoursWrapSetting(t *testing.T) {
	fx := newFixture(t)
	fx.seed(history.Conversation{ID: "ab12cd34"},
		history.Message{Role: "user", Content: "words"},
		history.Message{Role: "assistant", Content: strings.Repeat("word ", 60)})
	t.Setenv("MOONCHAT_WRAP", "40")
	r := fx.mustRun(noColorTerminal, "show", "ab12cd34")
	for _, line := range strings.Split(r.stdout, "\n")[1:] {
		if render.Width(strings.TrimRight(line, " ")) > 40 {
			t.Fatalf("line wider than wrap=40: %q", line)
		}
	}
	if strings.Count(r.stdout, "word") != 62 { // the header, the prompt and 60 in the answer
		t.Fatalf("words lost:\n%s", r.stdout)
	}
}

func TestShowJSONHasEveryField(t *testing.T) {
	fx := newFixture(t)
	conversationWithEverything(fx)
	r := fx.mustRun(terminal, "show", "ab12cd34", "--json")
	var doc struct {
		ID       string           `json:"id"`
		System   string           `json:"system"`
		Count    int              `json:"message_count"`
		Messages []map[string]any `json:"messages"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, r.stdout)
	}
	if doc.ID != "ab12cd34" || doc.System != "Be terse." || doc.Count != 10 || len(doc.Messages) != 10 {
		t.Fatalf("document: %+v", doc)
	}
	want := []string{"cached_tokens", "completion_tokens", "content", "created_at", "finish_reason", "id",
		"incomplete", "interrupted", "model", "name", "prompt_tokens", "reasoning_content", "replaced", "role",
		"tool_call_id", "tool_calls"}
	for i, m := range doc.Messages {
		if keys := sortedKeys(m); !slices.Equal(keys, want) {
			t.Fatalf("message %d keys %v, want %v", i, keys, want)
		}
	}
	answer := doc.Messages[1]
	if answer["reasoning_content"] != "The user wants Go." || answer["prompt_tokens"] != 20.0 ||
		answer["cached_tokens"] != 8.0 || answer["tool_calls"] != nil || answer["model"] != "kimi-k2.6" {
		t.Fatalf("answer: %v", answer)
	}
	calls, ok := doc.Messages[3]["tool_calls"].([]any)
	if !ok || len(calls) != 1 || calls[0].(map[string]any)["id"] != "call_1" {
		t.Fatalf("tool_calls: %v", doc.Messages[3]["tool_calls"])
	}
	if doc.Messages[7]["interrupted"] != true || doc.Messages[9]["incomplete"] != true {
		t.Fatalf("marks: %v / %v", doc.Messages[7], doc.Messages[9])
	}
	if doc.Messages[0]["content"] != "How do I **reverse** a slice?\nIn Go.\x1b[2J" {
		t.Fatalf("content not exact in JSON: %q", doc.Messages[0]["content"])
	}
}

func TestShowFindsByPrefixAnyCaseAndTitle(t *testing.T) {
	fx := newFixture(t)
	threeConversations(fx)
	for _, ref := range []string{"ab12cd34", "ab12", "AB12C", "How do I reverse a slice in Go?"} {
		r := fx.mustRun(piped, "show", ref)
		if !strings.HasPrefix(r.stdout, "> How do I reverse a slice in Go?\n") {
			t.Errorf("show %q: %q", ref, r.stdout)
		}
	}
}

func TestUnknownAndAmbiguousIDs(t *testing.T) {
	fx := newFixture(t)
	threeConversations(fx)
	for _, args := range [][]string{{"show", "ab"}, {"export", "ab"}, {"rm", "ab"}} {
		err := fx.run(piped, args...).err
		var amb *history.AmbiguousError
		if cli.ExitCode(err) != cli.ExitUsage || !errors.As(err, &amb) {
			t.Fatalf("%v: %v (exit %d)", args, err, cli.ExitCode(err))
		}
		msg, hint := cli.Describe(err, "")
		if msg != `"ab" matches 2 conversations` {
			t.Errorf("%v: message %q", args, msg)
		}
		wantHint := "use more of the id, or the exact title; it matches:\n" +
			"    ab98ef76  什么是数据库连接池？\n" +
			"    ab12cd34  How do I reverse a slice in Go?"
		if hint != wantHint {
			t.Errorf("%v: hint\n%s\nwant\n%s", args, hint, wantHint)
		}
	}
	for _, ref := range []string{"ffff", "f", "no such title"} {
		err := fx.run(piped, "show", ref).err
		msg, hint := cli.Describe(err, "")
		if cli.ExitCode(err) != cli.ExitUsage || !errors.Is(err, history.ErrNotFound) ||
			msg != `no conversation matches "`+ref+`"` || !strings.Contains(hint, "`moonchat history list` shows the ids") {
			t.Errorf("show %q: exit %d, %q, hint %q", ref, cli.ExitCode(err), msg, hint)
		}
	}
	if _, hint := cli.Describe(fx.run(piped, "show", "a").err, ""); !strings.HasPrefix(hint, "give at least two characters of the id") {
		t.Errorf("one-character prefix: hint %q", hint)
	}
	// More candidates than the hint lists.
	for i := range 12 {
		fx.seed(history.Conversation{ID: "cc" + string(rune('a'+i)) + "00000", Title: "same"})
	}
	_, hint := cli.Describe(fx.run(piped, "show", "same").err, "")
	if strings.Count(hint, "\n") != 11 || !strings.HasSuffix(hint, "… and 2 more") {
		t.Fatalf("hint for 12 candidates:\n%s", hint)
	}
}

func TestCorruptDatabase(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("XDG_DATA_HOME", dir)
	t.Setenv("XDG_CONFIG_HOME", filepath.Join(dir, "config"))
	path := filepath.Join(dir, "moonchat", "history.db")
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	junk := []byte("these are somebody's notes, not a database\n")
	if err := os.WriteFile(path, junk, 0o600); err != nil {
		t.Fatal(err)
	}
	ios, _, out, _ := iostreams.Test()
	cmd := NewCmdHistory(cli.New(ios), nil) // the production History: DefaultPath, opened lazily
	cmd.SetArgs([]string{"list"})
	cmd.SilenceErrors, cmd.SilenceUsage = true, true
	err := cmd.Execute()
	var corrupt *history.CorruptError
	if !errors.As(err, &corrupt) || cli.ExitCode(err) != cli.ExitFailure {
		t.Fatalf("err %v, exit %d", err, cli.ExitCode(err))
	}
	msg, hint := cli.Describe(err, "")
	if !strings.Contains(msg, path) || !strings.Contains(msg, "not a valid SQLite database") ||
		hint != `moonchat leaves the file as it is; to start an empty history, rename it: mv "`+path+`" "`+path+`.broken"` {
		t.Fatalf("message %q, hint %q", msg, hint)
	}
	if out.Len() != 0 {
		t.Fatalf("stdout %q", out.String())
	}
	if got, _ := os.ReadFile(path); string(got) != string(junk) {
		t.Fatalf("the file was modified: %q", got)
	}
}

func TestProductionFactoryOpensTheDefaultPathOnce(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("XDG_DATA_HOME", dir)
	ios, _, _, _ := iostreams.Test()
	f := cli.New(ios)
	path := filepath.Join(dir, "moonchat", "history.db")
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Fatalf("database exists before first use: %v", err)
	}
	s1, err := f.History()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s1.Close() })
	s2, _ := f.History()
	if s1 != s2 || s1.Path() != path {
		t.Fatalf("stores %p %p at %s", s1, s2, s1.Path())
	}
}

func TestSearch(t *testing.T) {
	fx := newFixture(t)
	threeConversations(fx)

	r := fx.mustRun(terminal, "search", "reverse", "slice")
	want := "\x1b[1mab12cd34\x1b[0m  How do I reverse a slice in Go?  \x1b[2mjust now\x1b[0m\n" +
		"  \x1b[2massistant:\x1b[0m Use `\x1b[1;33mslice\x1b[0ms.\x1b[1;33mReverse\x1b[0m(s)`.\n" +
		"  \x1b[2muser:\x1b[0m How do I \x1b[1;33mreverse\x1b[0m a \x1b[1;33mslice\x1b[0m in Go?\n" +
		"  \x1b[2mtitle:\x1b[0m How do I \x1b[1;33mreverse\x1b[0m a \x1b[1;33mslice\x1b[0m in Go?\n"
	if r.stdout != want {
		t.Fatalf("terminal:\n%q\nwant\n%q", r.stdout, want)
	}
	if r := fx.mustRun(noColorTerminal, "search", "reverse"); strings.Contains(r.stdout, "\x1b") {
		t.Fatalf("NO_COLOR: %q", r.stdout)
	}

	r = fx.mustRun(piped, "search", "连接池")
	want = "ab98ef76\t什么是数据库连接池？\t连接池复用数据库连接。\n" +
		"ab98ef76\t什么是数据库连接池？\t什么是数据库连接池？\n" +
		"ab98ef76\t什么是数据库连接池？\t什么是数据库连接池？\n"
	if r.stdout != want {
		t.Fatalf("piped:\n%q\nwant\n%q", r.stdout, want)
	}

	r = fx.mustRun(piped, "search", "--json", "--limit", "1", "连接池")
	var hits []struct {
		ID        string   `json:"id"`
		Title     string   `json:"title"`
		MessageID *int64   `json:"message_id"`
		Role      string   `json:"role"`
		Snippet   string   `json:"snippet"`
		Matches   [][2]int `json:"matches"`
		UpdatedAt string   `json:"updated_at"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &hits); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, r.stdout)
	}
	if len(hits) != 1 || hits[0].ID != "ab98ef76" || hits[0].MessageID == nil || hits[0].Role != "assistant" ||
		len(hits[0].Matches) != 1 || hits[0].UpdatedAt == "" {
		t.Fatalf("hits: %+v", hits)
	}
	if m := hits[0].Matches[0]; hits[0].Snippet[m[0]:m[1]] != "连接池" {
		t.Fatalf("match %v is %q", m, hits[0].Snippet[m[0]:m[1]])
	}

	r = fx.mustRun(piped, "search", "--json", "planning")
	if !strings.Contains(r.stdout, `"message_id": null`) || !strings.Contains(r.stdout, `"role": ""`) {
		t.Fatalf("title hit: %s", r.stdout)
	}

	// No match is exit 1, as with grep, in every output.
	if r := fx.run(terminal, "search", "nothing like this"); r.stdout != "" || r.stderr != "no matches for \"nothing like this\"\n" || cli.ExitCode(r.err) != cli.ExitFailure {
		t.Fatalf("no hits: stdout %q, stderr %q, %v", r.stdout, r.stderr, r.err)
	}
	if r := fx.run(piped, "search", "--json", "nothing like this"); r.stdout != "[]\n" || cli.ExitCode(r.err) != cli.ExitFailure {
		t.Fatalf("no hits, --json: %q, %v", r.stdout, r.err)
	}
	if r := fx.run(piped, "search", "nothing like this"); r.stdout != "" || r.stderr != "" || cli.ExitCode(r.err) != cli.ExitFailure {
		t.Fatalf("no hits, piped: %q %q, %v", r.stdout, r.stderr, r.err)
	}
	if err := fx.run(piped, "search", " ").err; cli.ExitCode(err) != cli.ExitUsage {
		t.Fatalf("blank search: %v", err)
	}
}

// A search that must first index many megabytes says so on a terminal while it
// works; once they are indexed it shows nothing. (Into a pipe the spinner never
// shows: pkg/iostreams.)
func TestSearchShowsSlowIndexing(t *testing.T) {
	fx := newFixture(t)
	big := func(word string) history.Message {
		return history.Message{Role: "assistant", Content: strings.Repeat("a long answer line\n", (slowIndexBytes/2)/19+1) + word}
	}
	fx.seed(history.Conversation{Title: "big"}, big("first"), big("second"))
	label := "messages saved since the last search…"

	r := fx.mustRun(terminal, "search", "second")
	if got := stripANSI(r.stderr); !strings.Contains(got, "indexing 8.0 MB of "+label) {
		t.Errorf("stderr %q does not say what the search waits for", got)
	}
	if strings.Contains(r.stdout, label) || !strings.Contains(r.stdout, "second") {
		t.Errorf("stdout %q", r.stdout)
	}
	if r := fx.mustRun(terminal, "search", "first"); strings.Contains(r.stderr, label) {
		t.Errorf("an indexed history still shows the spinner: %q", r.stderr)
	}
}

func TestRmByID(t *testing.T) {
	fx := newFixture(t)
	threeConversations(fx)
	// An unknown id among known ones deletes nothing.
	if err := fx.run(piped, "rm", "ab12", "zzzz").err; cli.ExitCode(err) != cli.ExitUsage {
		t.Fatalf("rm with an unknown id: %v", err)
	}
	if r := fx.mustRun(piped, "list"); strings.Count(r.stdout, "\n") != 3 {
		t.Fatalf("something was deleted:\n%s", r.stdout)
	}
	// A prefix and a title, one of them twice.
	r := fx.mustRun(piped, "rm", "ab12", "Old planning notes", "ab12cd34")
	if r.stdout != "" || r.stderr != "removed 2 conversations: ab12cd34, 0ld00001\n" {
		t.Fatalf("stdout %q, stderr %q", r.stdout, r.stderr)
	}
	if r := fx.mustRun(piped, "list"); r.stdout != "ab98ef76\t什么是数据库连接池？\n" {
		t.Fatalf("left: %q", r.stdout)
	}
	if _, _, err := fx.store.Get(context.Background(), "ab12cd34"); !errors.Is(err, history.ErrNotFound) {
		t.Fatalf("deleted conversation still there: %v", err)
	}
	if r := fx.mustRun(piped, "rm", "ab98ef76"); r.stderr != "removed 1 conversation: ab98ef76\n" {
		t.Fatalf("stderr %q", r.stderr)
	}
}

func TestRmOlderThan(t *testing.T) {
	fx := newFixture(t)
	threeConversations(fx) // one is from 2025, two are from now
	fx.seed(history.Conversation{ID: "0ld00002", CreatedAt: fx.now.Add(-31 * 24 * time.Hour)})
	fx.seed(history.Conversation{ID: "new00001", CreatedAt: fx.now.Add(-29 * 24 * time.Hour)})
	r := fx.mustRun(terminal, "rm", "--older-than", "30d")
	if r.stdout != "" || r.stderr != "removed 2 conversations last updated more than 30d ago\n" {
		t.Fatalf("stdout %q, stderr %q", r.stdout, r.stderr)
	}
	if r := fx.mustRun(piped, "list"); strings.Contains(r.stdout, "0ld") || strings.Count(r.stdout, "\n") != 3 {
		t.Fatalf("left:\n%s", r.stdout)
	}
	if r := fx.mustRun(piped, "rm", "--older-than", "1w"); r.stderr != "removed 1 conversation last updated more than 7d ago\n" {
		t.Fatalf("stderr %q", r.stderr)
	}
	fx.now = fx.now.Add(2 * time.Hour)
	if r := fx.mustRun(piped, "rm", "--older-than=90m"); r.stderr != "removed 2 conversations last updated more than 1h30m ago\n" {
		t.Fatalf("stderr %q", r.stderr)
	}
	if r := fx.mustRun(piped, "rm", "--older-than", "1h"); r.stderr != "removed 0 conversations last updated more than 1h ago\n" {
		t.Fatalf("stderr %q", r.stderr)
	}
}

func TestRmRefusesBadForms(t *testing.T) {
	fx := newFixture(t)
	threeConversations(fx)
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"rm"}, "give the ids of the conversations to delete, or --older-than AGE"},
		{[]string{"rm", "ab12", "--older-than", "30d"}, "give either conversation ids or --older-than, not both"},
		{[]string{"rm", "--older-than", "0d"}, "--older-than must be more than 0"},
		{[]string{"rm", "--older-than", "30"}, `"30" is not an age`},
		{[]string{"rm", "--older-than", "-3d"}, `"-3d" is not an age`},
		{[]string{"rm", "--older-than", ""}, `"" is not an age`},
		{[]string{"rm", "--older-than"}, "flag needs an argument"},
	} {
		err := fx.run(piped, tt.args...).err
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%v: %v, want %q", tt.args, err, tt.want)
		}
		var ue *cli.UsageError
		// Flag parse errors become usage errors at the root (SetFlagErrorFunc).
		if strings.Contains(tt.want, "give") || strings.Contains(tt.want, "more than 0") {
			if !errors.As(err, &ue) {
				t.Errorf("%v: not a usage error: %v", tt.args, err)
			}
		}
	}
	if r := fx.mustRun(piped, "list"); strings.Count(r.stdout, "\n") != 3 {
		t.Fatalf("a refused rm deleted something:\n%s", r.stdout)
	}
}

func TestExportMarkdown(t *testing.T) {
	fx := newFixture(t)
	c := conversationWithEverything(fx)
	r := fx.mustRun(piped, "export", "ab12")
	created := c.CreatedAt.UTC().Format(time.RFC3339)
	got := regexp.MustCompile(`(?m)^- updated: .*$`).ReplaceAllString(r.stdout, "- updated: UPDATED")
	want := "# How do I **reverse** a slice?\n" +
		"\n- id: `ab12cd34`\n- model: kimi-k2.6\n- created: " + created + "\n- updated: UPDATED\n" +
		"\n## System\n\nBe terse.\n" +
		"\n## User\n\nHow do I **reverse** a slice?\nIn Go.\x1b[2J\n" +
		"\n## Assistant (kimi-k2.6)\n\n<details>\n<summary>Reasoning</summary>\n\nThe user wants Go.\n\n</details>\n\n" +
		"Use **slices.Reverse**:\n\n```go\nslices.Reverse(s)\n```\n" +
		"\n## User\n\nWeather in Paris?\n" +
		"\n## Assistant\n\n\nTool call `get_weather`:\n\n```json\n{\"city\":\"Paris\"}\n```\n" +
		"\n## Tool result (get_weather)\n\n```\n{\"sky\": \"clear\",\n\"temp\": 21}\n```\n" +
		"\n## Assistant\n\nSunny, 21 °C.\n" +
		"\n## User\n\nAnd a map?\n" +
		"\n## Assistant\n\nMaps have no order:\n\n```go\nfor k := range m {\n```\n" +
		"\n> **interrupted: stopped before the answer was complete**\n" +
		"\n## User\n\nLong?\n" +
		"\n## Assistant\n\nIt goes on\n" +
		"\n> **incomplete: the stream was cut before the answer was complete**\n" +
		"\n> **cut short: the answer reached max_tokens**\n"
	if got != want {
		t.Fatalf("export:\n%q\nwant:\n%q", got, want)
	}
	if md := fx.mustRun(piped, "export", "ab12", "--format", "md").stdout; md != r.stdout {
		t.Fatalf("--format md differs from the default:\n%q", md)
	}
	// On a terminal the document is the same without the prompt's escape sequence.
	if tty := fx.mustRun(terminal, "export", "ab12").stdout; tty != strings.Replace(r.stdout, "\x1b[2J", "", 1) {
		t.Fatalf("export on a terminal:\n%q", tty)
	}
}

func TestExportJSONIsShowJSON(t *testing.T) {
	fx := newFixture(t)
	conversationWithEverything(fx)
	export := fx.mustRun(piped, "export", "ab12", "--format", "json").stdout
	show := fx.mustRun(piped, "show", "ab12", "--json").stdout
	if export != show || !json.Valid([]byte(export)) {
		t.Fatalf("export:\n%s\nshow --json:\n%s", export, show)
	}
	if err := fx.run(piped, "export", "ab12", "--format", "html").err; cli.ExitCode(err) != cli.ExitUsage {
		t.Fatalf("--format html: %v", err)
	}
}

func TestCloseFences(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"plain\n\n", "plain"},
		{"```go\nx := 1\n```\n", "```go\nx := 1\n```"},
		{"```go\nx := 1", "```go\nx := 1\n```"},
		{"~~~~\ncode\n~~~", "~~~~\ncode\n~~~\n~~~~"},                      // a shorter fence does not close
		{"````\n```\nstill code", "````\n```\nstill code\n````"},          // nor does a shorter backtick run
		{"```\ncode\n``` not a close", "```\ncode\n``` not a close\n```"}, // a closing fence has no info string
		{"    ```\nindented code", "    ```\nindented code"},
		{"`` `inline` ``", "`` `inline` ``"},
		{"```js `x`\nnot a fence", "```js `x`\nnot a fence"}, // backtick in a backtick fence's info
	} {
		if got := closeFences(tt.in); got != tt.want {
			t.Errorf("closeFences(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	if got := fenced("a ```` b", "json"); got != "`````json\na ```` b\n`````\n" {
		t.Errorf("fenced: %q", got)
	}
}

// complete asks cobra's hidden __complete command, as a shell's Tab does.
func (fx *fixture) complete(args ...string) []string {
	fx.t.Helper()
	r := fx.mustRun(piped, append([]string{"__complete"}, args...)...)
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	return lines[:len(lines)-1] // the last line is the directive
}

func TestCompletion(t *testing.T) {
	fx := newFixture(t)
	threeConversations(fx)
	all := []string{"ab98ef76\t什么是数据库连接池？", "ab12cd34\tHow do I reverse a slice in Go?", "0ld00001\tOld planning notes"}
	if got := fx.complete("show", ""); !slices.Equal(got, all) {
		t.Fatalf("show: %q", got)
	}
	if got := fx.complete("export", "ab1"); !slices.Equal(got, all[1:2]) {
		t.Fatalf("export ab1: %q", got)
	}
	if got := fx.complete("show", "ab12cd34", ""); len(got) != 0 {
		t.Fatalf("second argument of show: %q", got)
	}
	if got := fx.complete("rm", "ab12cd34", "0ld00001", ""); !slices.Equal(got, all[:1]) {
		t.Fatalf("rm with two given: %q", got)
	}
	if got := fx.complete("export", "ab12", "--format", ""); len(got) != 2 || !strings.HasPrefix(got[0], "markdown\t") {
		t.Fatalf("--format: %q", got)
	}
}

func TestCompleteConversationsToleratesABrokenDatabase(t *testing.T) {
	f := &cli.Factory{History: func() (*history.Store, error) { return nil, errors.New("broken") }}
	got, directive := cli.CompleteConversations(f)(&cobra.Command{}, nil, "")
	if len(got) != 0 || directive != cobra.ShellCompDirectiveNoFileComp {
		t.Fatalf("%q, %v", got, directive)
	}
}

func TestFlagParsing(t *testing.T) {
	ios, _, _, _ := iostreams.Test()
	f := cli.New(ios)
	for _, tt := range []struct {
		args  []string
		check func(*Options) bool
	}{
		{[]string{"list"}, func(o *Options) bool { return o.Action == "list" && o.Limit == defaultListLimit && !o.JSON }},
		{[]string{"ls", "-L", "5", "--json"}, func(o *Options) bool { return o.Limit == 5 && o.JSON }},
		{[]string{"search", "goroutine", "leak"}, func(o *Options) bool {
			return o.Action == "search" && o.Query == "goroutine leak" && o.Limit == defaultSearchLimit
		}},
		{[]string{"show", "ab12"}, func(o *Options) bool { return o.Action == "show" && slices.Equal(o.Refs, []string{"ab12"}) }},
		{[]string{"rm", "a1", "b2"}, func(o *Options) bool { return o.Action == "rm" && len(o.Refs) == 2 && o.OlderThan == 0 }},
		{[]string{"rm", "--older-than", "2w"}, func(o *Options) bool { return len(o.Refs) == 0 && o.OlderThan == 14*24*time.Hour }},
		{[]string{"export", "ab12"}, func(o *Options) bool { return o.Action == "export" && o.Format == "markdown" }},
		{[]string{"export", "ab12", "--format", "json"}, func(o *Options) bool { return o.Format == "json" }},
	} {
		var got *Options
		cmd := NewCmdHistory(f, func(o *Options) error { got = o; return nil })
		cmd.SetArgs(tt.args)
		if err := cmd.Execute(); err != nil {
			t.Fatalf("%v: %v", tt.args, err)
		}
		if got == nil || !tt.check(got) {
			t.Errorf("%v: options %+v", tt.args, got)
		}
	}
}

// BenchmarkShowTerminal renders a conversation of 20 exchanges with markdown answers of about
// 1.5 KB (a heading, a list, a code block), as `history show` does on a terminal.
func BenchmarkShowTerminal(b *testing.B) {
	dir := b.TempDir()
	b.Setenv("XDG_CONFIG_HOME", dir)
	store, err := history.Open(filepath.Join(dir, "history.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer store.Close()
	ctx := context.Background()
	c, _ := store.Create(ctx, history.Conversation{})
	answer := "## Steps\n\n" + strings.Repeat("- a step with `code` and **bold** text that goes on for a while\n", 10) +
		"\n```go\n" + strings.Repeat("for i := range n {\n\tfmt.Println(i)\n}\n", 15) + "```\n\n" +
		strings.Repeat("A paragraph of plain prose to wrap. ", 10) + "\n"
	for range 20 {
		if err := store.Append(ctx, c.ID, history.Message{Role: "user", Content: "next?"},
			history.Message{Role: "assistant", Content: answer}); err != nil {
			b.Fatal(err)
		}
	}
	ios, _, out, _ := iostreams.Test()
	terminal(ios)
	opts := &Options{IO: ios, History: func() (*history.Store, error) { return store, nil }, Refs: []string{c.ID}}
	b.SetBytes(int64(20 * len(answer)))
	for b.Loop() {
		out.Reset()
		if err := showRun(ctx, opts); err != nil {
			b.Fatal(err)
		}
	}
}

// A title set through Update can hold anything. Every listing shows it the same way: escape
// sequences removed whole, other control characters dropped (not shown as ␇), so a
// conversation is recognised by the same title in list, show and search, on a terminal or not.
func TestTitlesWithControlsReadTheSameEverywhere(t *testing.T) {
	fx := newFixture(t)
	fx.seed(history.Conversation{ID: "ab12cd34", Title: "bell\a and \x1b]0;pwned\atitle\x7f", Model: "kimi-k2.6"},
		history.Message{Role: "user", Content: "hello"})
	const want = "bell and title"

	show := stripANSI(fx.mustRun(terminal, "show", "ab12cd34").stdout)
	header, _, _ := strings.Cut(show, "\n")
	if parts := strings.Split(header, " · "); len(parts) < 2 || parts[1] != want {
		t.Errorf("history show header %q, want the title %q", header, want)
	}
	table := stripANSI(fx.mustRun(func(ios *iostreams.IOStreams) { terminal(ios); ios.SetSize(100, 30) }, "list").stdout)
	if !strings.Contains(table, "  "+want+"\n") {
		t.Errorf("history list on a terminal:\n%s\nwant the title %q", table, want)
	}
	if got := fx.mustRun(piped, "list").stdout; got != "ab12cd34\t"+want+"\n" {
		t.Errorf("history list piped: %q, want the title %q", got, want)
	}
	hits := stripANSI(fx.mustRun(terminal, "search", "hello").stdout)
	if !strings.Contains(hits, "ab12cd34  "+want+"  ") {
		t.Errorf("history search on a terminal:\n%s\nwant the title %q", hits, want)
	}
	for _, out := range []string{show, table, hits} {
		if strings.ContainsAny(out, "␇␡\a\x7f") || strings.Contains(out, "pwned") {
			t.Errorf("a control or a sequence's body reached the screen:\n%q", out)
		}
	}
}
