package chat

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/moonchat/moonchat/internal/clitest"
	"github.com/moonchat/moonchat/pkg/emulator"
	"github.com/moonchat/moonchat/pkg/history"
	"github.com/moonchat/moonchat/pkg/moonshot"
)

func TestEveryChatIsSaved(t *testing.T) {
	e := newTestEnv(t)
	e.srv.SetReply(func(*emulator.ChatRequest) emulator.Reply {
		return emulator.Reply{Content: "Ulaanbaatar.", Reasoning: "Capital of Mongolia."}
	})
	r := e.run("-s", "Be brief.", "What is the capital\nof Mongolia?")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	if strings.Contains(r.stderr, "conversation") {
		t.Errorf("the id is shown on a stderr that is not a terminal: %q", r.stderr)
	}
	convs := clitest.Conversations(t)
	if len(convs) != 1 {
		t.Fatalf("%d conversations saved, want 1", len(convs))
	}
	c := convs[0]
	if c.Title != "What is the capital" || c.Model != "kimi-k2.6" || c.System != "Be brief." {
		t.Errorf("conversation = %+v", c.Conversation)
	}
	if roles(c.Msgs) != "user,assistant" {
		t.Fatalf("roles = %s", roles(c.Msgs))
	}
	user, answer := c.Msgs[0], c.Msgs[1]
	if user.Content != "What is the capital\nof Mongolia?" {
		t.Errorf("user message = %q", user.Content)
	}
	if answer.Content != "Ulaanbaatar." || answer.ReasoningContent != "Capital of Mongolia." ||
		answer.FinishReason != "stop" || answer.Model != "kimi-k2.6" || answer.Interrupted || answer.Incomplete {
		t.Errorf("answer = %+v", answer)
	}
	if answer.PromptTokens == 0 || answer.CompletionTokens == 0 {
		t.Errorf("usage not kept: %+v", answer)
	}
}

func TestConversationIDOnATerminalAndInJSON(t *testing.T) {
	e := newTestEnv(t)
	r := e.runWith(invocation{stderrTTY: true}, "hello")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	id := clitest.Conversations(t)[0].ID
	if !strings.Contains(r.stderr, "conversation "+id) {
		t.Errorf("stderr on a terminal = %q, want the id %s", r.stderr, id)
	}
	if strings.Contains(r.stdout, id) {
		t.Errorf("the id went to stdout: %q", r.stdout)
	}

	for _, format := range []string{"json", "jsonl"} {
		r = e.run("--format", format, "again")
		if r.code != 0 {
			t.Fatalf("exit %d: %s", r.code, r.stderr)
		}
		lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
		var last struct {
			ConversationID string `json:"conversation_id"`
		}
		if err := json.Unmarshal([]byte(lines[len(lines)-1]), &last); err != nil {
			t.Fatalf("%s: %v in %q", format, err, r.stdout)
		}
		if got := clitest.Conversations(t)[0].ID; last.ConversationID != got {
			t.Errorf("%s: conversation_id = %q, newest saved is %q", format, last.ConversationID, got)
		}
	}
}

func TestNoSaveAndSaveHistoryFalse(t *testing.T) {
	t.Run("--no-save", func(t *testing.T) {
		e := newTestEnv(t)
		if r := e.runWith(invocation{stderrTTY: true}, "--no-save", "secret"); r.code != 0 || strings.Contains(r.stderr, "conversation") {
			t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
		}
		if n := len(clitest.Conversations(t)); n != 0 {
			t.Errorf("%d conversations saved", n)
		}
	})
	t.Run("save_history false", func(t *testing.T) {
		e := newTestEnv(t)
		t.Setenv("MOONCHAT_SAVE_HISTORY", "false")
		if r := e.run("secret"); r.code != 0 {
			t.Fatalf("exit %d: %s", r.code, r.stderr)
		}
		path, _ := history.DefaultPath()
		if _, err := os.Stat(path); !os.IsNotExist(err) {
			t.Errorf("the history database was created: %v", err)
		}
	})
}

func TestCutStreamSavesThePartialAnswerMarked(t *testing.T) {
	e := newTestEnv(t)
	const full = "first part, second part, third part, fourth part"
	e.srv.SetReply(func(*emulator.ChatRequest) emulator.Reply { return emulator.Reply{Content: full} })
	e.srv.Inject(emulator.Fault{Kind: emulator.CutStream, AfterChunks: 2})
	r := e.run("-m", "kimi-k2-turbo-preview", "--format", "json", "tell me")
	if r.code != 75 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	var out struct {
		Content        string `json:"content"`
		ConversationID string `json:"conversation_id"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &out); err != nil {
		t.Fatal(err)
	}
	convs := clitest.Conversations(t)
	if len(convs) != 1 || out.ConversationID != convs[0].ID {
		t.Fatalf("conversation_id %q, saved %d", out.ConversationID, len(convs))
	}
	answer := convs[0].Msgs[1]
	if !answer.Incomplete || answer.Interrupted {
		t.Errorf("answer flags: incomplete %v, interrupted %v", answer.Incomplete, answer.Interrupted)
	}
	if answer.Content == "" || answer.Content != out.Content || !strings.HasPrefix(full, answer.Content) || answer.Content == full {
		t.Errorf("saved %q, printed %q", answer.Content, out.Content)
	}
}

func TestCtrlCSavesThePartialAnswerBeforeExiting130(t *testing.T) {
	e := newTestEnv(t)
	full := strings.Repeat("word ", 200)
	e.srv.SetReply(func(*emulator.ChatRequest) emulator.Reply { return emulator.Reply{Content: full} })
	// Chunks come every 20 ms, the whole answer in about 1.3 s: Ctrl-C comes after the first.
	e.srv.Inject(emulator.Fault{Kind: emulator.Slow, Delay: 20 * time.Millisecond})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	out := &syncBuffer{mark: "word", onWrite: cancel} // what Ctrl-C does through the root
	r := e.runWith(invocation{ctx: ctx, out: out}, "-m", "kimi-k2-turbo-preview", "talk")
	if r.code != 130 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	convs := clitest.Conversations(t)
	if len(convs) != 1 {
		t.Fatalf("%d conversations saved", len(convs))
	}
	answer := convs[0].Msgs[1]
	printed := strings.TrimSuffix(r.stdout, "\n")
	if !answer.Interrupted || answer.Incomplete || answer.Content != printed || !strings.HasPrefix(full, printed) || printed == strings.TrimSuffix(full, " ") {
		t.Errorf("saved %+v; printed %q", answer, printed)
	}
}

func TestRefusedRequestSavesNothing(t *testing.T) {
	e := newTestEnv(t)
	e.srv.Inject(emulator.Fault{Kind: emulator.Quota})
	if r := e.run("hello"); r.code != 4 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	if n := len(clitest.Conversations(t)); n != 0 {
		t.Errorf("%d conversations saved for a refused request", n)
	}
}

func TestAHistoryFailureDoesNotLoseTheAnswer(t *testing.T) {
	e := newTestEnv(t)
	path, _ := history.DefaultPath()
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte("not a database, and it must stay so"), 0o600); err != nil {
		t.Fatal(err)
	}
	r := e.run("-m", "kimi-k2-turbo-preview", "hello")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	if !strings.Contains(r.stdout, "You said: hello") {
		t.Errorf("answer lost: %q", r.stdout)
	}
	if !strings.Contains(r.stderr, "warning: the conversation was not saved") || !strings.Contains(r.stderr, "hint:") {
		t.Errorf("stderr = %q", r.stderr)
	}
	if data, _ := os.ReadFile(path); string(data) != "not a database, and it must stay so" {
		t.Errorf("the file was changed: %q", data)
	}
}

// seed saves a first exchange and returns its conversation.
func seed(t *testing.T, e *testEnv, args ...string) clitest.Saved {
	t.Helper()
	before := len(clitest.Conversations(t))
	if r := e.run(args...); r.code != 0 {
		t.Fatalf("seeding with %q: exit %d: %s", args, r.code, r.stderr)
	}
	convs := clitest.Conversations(t)
	if len(convs) != before+1 {
		t.Fatalf("seeding with %q saved %d conversations", args, len(convs)-before)
	}
	return convs[0]
}

func TestContinueSendsTheEarlierTurns(t *testing.T) {
	e := newTestEnv(t)
	first := seed(t, e, "-m", "kimi-k2-turbo-preview", "-s", "You are terse.", "Name a color")
	other := seed(t, e, "-m", "kimi-k2-turbo-preview", "Something else entirely")
	firstAnswer := first.Msgs[1].Content

	tests := []struct {
		name string
		args []string
		want string // the conversation continued
	}{
		{"-c takes the most recent", []string{"-c", "And another?"}, other.ID},
		{"by id", []string{"--conversation", first.ID, "And another?"}, first.ID},
		{"by id prefix, any case", []string{"--conversation", strings.ToUpper(first.ID[:4]), "And another?"}, first.ID},
		{"by exact title", []string{"--conversation", "Name a color", "And another?"}, first.ID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.run(tt.args...)
			if r.code != 0 {
				t.Fatalf("exit %d: %s", r.code, r.stderr)
			}
			msgs := e.lastMessages()
			var got []string
			for _, m := range msgs {
				got = append(got, m["role"].(string)+": "+m["content"].(string))
			}
			var want []string
			if tt.want == first.ID {
				want = []string{"system: You are terse.", "user: Name a color", "assistant: " + firstAnswer}
			} else {
				want = []string{"user: Something else entirely", "assistant: " + other.Msgs[1].Content}
			}
			// Each run adds its exchange: the earlier runs of this test are there too.
			if strings.Join(got[:len(want)], "\n") != strings.Join(want, "\n") || got[len(got)-1] != "user: And another?" {
				t.Errorf("messages sent:\n%s", strings.Join(got, "\n"))
			}
			if body := e.srv.ChatBodies(); body[len(body)-1]["model"] != "kimi-k2-turbo-preview" {
				t.Errorf("model = %v, want the conversation's", body[len(body)-1]["model"])
			}
		})
	}
	// Nothing new was created, and the continued conversations grew.
	convs := clitest.Conversations(t)
	if len(convs) != 2 {
		t.Fatalf("%d conversations, want 2", len(convs))
	}
	for _, c := range convs {
		if c.ID == first.ID && len(c.Msgs) != 2+3*2 || c.ID == other.ID && len(c.Msgs) != 2+2 {
			t.Errorf("conversation %s has %d messages: %s", c.ID, len(c.Msgs), roles(c.Msgs))
		}
	}
}

func TestContinueWithPipedInputAndAnotherModel(t *testing.T) {
	e := newTestEnv(t)
	c := seed(t, e, "-m", "moonshot-v1-8k", "Review my code")
	r := e.runWith(invocation{stdin: "func main() {}\n", piped: true}, "-c", "-m", "kimi-k2-turbo-preview", "Here it is")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	msgs := e.lastMessages()
	if len(msgs) != 3 || msgs[2]["content"] != "Here it is\n\nfunc main() {}\n" {
		t.Fatalf("messages = %v", msgs)
	}
	if body := e.srv.ChatBodies(); body[1]["model"] != "kimi-k2-turbo-preview" {
		t.Errorf("model = %v, want -m's", body[1]["model"])
	}
	convs := clitest.Conversations(t)
	if len(convs) != 1 || convs[0].ID != c.ID || convs[0].Model != "kimi-k2-turbo-preview" {
		t.Errorf("conversation after -m: %+v", convs[0].Conversation)
	}
}

// A thinking model refuses a tool-call turn without its reasoning_content: the stored one
// goes back, not the " " placeholder of the fixes.
func TestContinueSendsTheReasoningOfToolCallTurns(t *testing.T) {
	tools := writeTestFile(t, "tools.json", `[{"type":"function","function":{"name":"get_weather","description":"Weather of a city",
		"parameters":{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}}}]`)
	for _, model := range []string{"kimi-k2.6", "kimi-k2-thinking", "kimi-k3"} {
		t.Run(model, func(t *testing.T) {
			e := newTestEnv(t)
			e.srv.SetReply(func(req *emulator.ChatRequest) emulator.Reply {
				if len(req.Messages) == 1 {
					return emulator.Reply{Reasoning: "The user wants the weather; call the tool.",
						ToolCalls: []emulator.ToolCall{{Name: "get_weather", Arguments: `{"city":"Paris"}`}}}
				}
				return emulator.Reply{Content: "Sunny.", Reasoning: "The tool said sunny."}
			})
			c := seed(t, e, "-m", model, "--tools", tools, "Weather in Paris?")
			stored := c.Msgs[1]
			if stored.FinishReason != "tool_calls" || stored.ReasoningContent == "" || !strings.Contains(string(stored.ToolCalls), `"get_weather"`) {
				t.Fatalf("stored tool-call turn = %+v (%s)", stored, stored.ToolCalls)
			}
			r := e.run("-c", "--tools", tools, "It is 21 degrees and sunny there.")
			if r.code != 0 {
				t.Fatalf("exit %d: %s", r.code, r.stderr)
			}
			if strings.Contains(r.stderr, "reasoning_content") {
				t.Errorf("the fixes had to invent the reasoning: %s", r.stderr)
			}
			assistant := e.lastMessages()[1]
			if assistant["reasoning_content"] != "The user wants the weather; call the tool." {
				t.Errorf("assistant turn sent = %v", assistant)
			}
			calls, _ := assistant["tool_calls"].([]any)
			if len(calls) != 1 || calls[0].(map[string]any)["function"].(map[string]any)["name"] != "get_weather" {
				t.Errorf("tool calls sent = %v", assistant["tool_calls"])
			}
		})
	}
}

// Models that keep their thinking across turns get every turn's reasoning back; the others
// get none on plain turns.
func TestReasoningOnPlainTurns(t *testing.T) {
	for model, want := range map[string]bool{"kimi-k3": true, "kimi-k2.7-code": true, "kimi-k2.6": false, "kimi-k2-thinking": false} {
		t.Run(model, func(t *testing.T) {
			e := newTestEnv(t)
			e.srv.SetReply(func(*emulator.ChatRequest) emulator.Reply {
				return emulator.Reply{Content: "An answer.", Reasoning: "Some thinking."}
			})
			seed(t, e, "-m", model, "First question")
			if r := e.run("-c", "Second question"); r.code != 0 {
				t.Fatalf("exit %d: %s", r.code, r.stderr)
			}
			_, sent := e.lastMessages()[1]["reasoning_content"]
			if sent != want {
				t.Errorf("reasoning sent on a plain turn: %v, want %v", sent, want)
			}
		})
	}
}

func TestAnInterruptedEmptyAnswerIsNotReplayed(t *testing.T) {
	e := newTestEnv(t)
	conv := clitest.OpenHistory(t)
	ctx := context.Background()
	c, err := conv.Create(ctx, history.Conversation{Model: "kimi-k2-turbo-preview"})
	if err != nil {
		t.Fatal(err)
	}
	if err := conv.Append(ctx, c.ID,
		history.Message{Role: "user", Content: "First"},
		history.Message{Role: "assistant", Interrupted: true}); err != nil {
		t.Fatal(err)
	}
	if r := e.run("-c", "Second"); r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	var got []string
	for _, m := range e.lastMessages() {
		got = append(got, m["role"].(string)+": "+m["content"].(string))
	}
	if strings.Join(got, "|") != "user: First|user: Second" {
		t.Errorf("messages = %q", got)
	}
}

func TestContinueErrors(t *testing.T) {
	e := newTestEnv(t)
	if r := e.run("-c", "hello"); r.code != 2 || !strings.Contains(r.stderr, "no saved conversation") {
		t.Errorf("-c with an empty history: exit %d, %q", r.code, r.stderr)
	}
	a := seed(t, e, "-m", "kimi-k2-turbo-preview", "Same title")
	b := seed(t, e, "-m", "kimi-k2-turbo-preview", "Same title")
	requests := len(e.srv.ChatBodies())
	tests := []struct {
		name string
		args []string
		want []string
	}{
		{"unknown id", []string{"--conversation", "zzzz", "x"}, []string{`no conversation matches "zzzz"`, "history list"}},
		{"ambiguous title", []string{"--conversation", "Same title", "x"}, []string{"matches 2 conversations", a.ID, b.ID}},
		{"both -c and --conversation", []string{"-c", "--conversation", a.ID, "x"}, []string{"use one of them"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.run(tt.args...)
			if r.code != 2 {
				t.Errorf("exit %d, want 2: %s", r.code, r.stderr)
			}
			for _, w := range tt.want {
				if !strings.Contains(r.stderr, w) {
					t.Errorf("stderr %q lacks %q", r.stderr, w)
				}
			}
		})
	}
	if n := len(e.srv.ChatBodies()); n != requests {
		t.Errorf("%d requests were sent for commands that failed", n-requests)
	}
}

func TestWhatIsSavedOfAttachments(t *testing.T) {
	e := newTestEnv(t)
	notes := writeTestFile(t, "notes.txt", "buy milk\n")
	steer := writeTestFile(t, "tools.json", `[{"type":"function","function":{"name":"add_item","parameters":{"type":"object","properties":{"item":{"type":"string"}}}}}]`)
	// tool_choice "required" on a legacy model: the fixes append a steering user message,
	// which is request plumbing and not saved.
	c := seed(t, e, "-m", "moonshot-v1-8k", "-f", notes, "--tools", steer, "--tool-choice", "required", "What is on my list?")
	if roles(c.Msgs) != "user,assistant" {
		t.Fatalf("roles = %s", roles(c.Msgs))
	}
	if got := c.Msgs[0].Content; !strings.HasPrefix(got, "What is on my list?\n\nFile: ") || !strings.Contains(got, "buy milk") {
		t.Errorf("user message saved = %q", got)
	}
	if sent := e.lastMessages(); sent[len(sent)-1]["content"] != moonshot.RequiredToolMessage {
		t.Fatalf("the steering message was not sent: %v", sent)
	}
	if c.Title != "What is on my list?" {
		t.Errorf("title = %q", c.Title)
	}
}

func TestPrefillIsSavedAsPartOfTheAnswer(t *testing.T) {
	e := newTestEnv(t)
	e.srv.SetReply(func(*emulator.ChatRequest) emulator.Reply { return emulator.Reply{Content: `{"name": "Kimi"}`} })
	c := seed(t, e, "-m", "kimi-k2-turbo-preview", "--prefill", `{"name": "`, "Describe Kimi as JSON")
	if roles(c.Msgs) != "user,assistant" || c.Msgs[1].Content != `{"name": "Kimi"}` {
		t.Errorf("saved %s: %q", roles(c.Msgs), c.Msgs[1].Content)
	}
}

// Ctrl-C during the answer that follows a tool call: the call and its result are saved with
// the part of the answer that arrived, and the command exits 130.
func TestCtrlCAfterAToolCallSavesTheLoop(t *testing.T) {
	e := newTestEnv(t)
	full := strings.Repeat("word ", 200)
	e.srv.SetReply(func(req *emulator.ChatRequest) emulator.Reply {
		if req.Messages[len(req.Messages)-1].Role == "tool" {
			return emulator.Reply{Content: full}
		}
		return emulator.Reply{ToolCalls: []emulator.ToolCall{{Name: "date", Arguments: "{}"}}}
	})
	// Every request is slow (a fault counts each request it applies to, chat or not).
	e.srv.Inject(emulator.Fault{Kind: emulator.Slow, Delay: 20 * time.Millisecond, Times: 10})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	out := &syncBuffer{mark: "word", onWrite: cancel} // what Ctrl-C does through the root
	r := e.runWith(invocation{ctx: ctx, out: out}, "-m", "kimi-k2-turbo-preview", "--tool", "moonshot/date:latest", "what day is it")
	if r.code != 130 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	convs := clitest.Conversations(t)
	if len(convs) != 1 {
		t.Fatalf("%d conversations saved", len(convs))
	}
	var roles []string
	for _, m := range convs[0].Msgs {
		roles = append(roles, m.Role)
	}
	msgs := convs[0].Msgs
	if strings.Join(roles, ",") != "user,assistant,tool,assistant" || len(msgs[1].ToolCalls) == 0 ||
		!strings.HasPrefix(msgs[2].Content, "2026-01-01") || !msgs[3].Interrupted || !strings.HasPrefix(full, msgs[3].Content) {
		t.Fatalf("saved %s: %+v", strings.Join(roles, ","), msgs)
	}
}
