package chat

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/moonchat/moonchat/cmd/cli"
	"github.com/moonchat/moonchat/pkg/config"
	"github.com/moonchat/moonchat/pkg/history"
	"github.com/moonchat/moonchat/pkg/moonshot"
)

// saveTimeout bounds a save. It runs on a context of its own, because after Ctrl-C or
// --timeout the command's context is already done and the partial answer must still be
// kept; the history database waits up to 5 s for other writers.
const saveTimeout = 15 * time.Second

// What history keeps of each exchange, and why:
//   - the messages as sent after the fixes: the document system messages of -f, then the user
//     message with its inlined files. An image is kept as a one-line marker, not its data (a
//     screenshot would add megabytes of base64 to the database per turn); within a session the
//     image itself is sent again with the later questions.
//   - not the request plumbing: the user message that replaces tool_choice "required" (rule 3
//     adds it to every request anyway) and the partial assistant message of --prefill (the
//     answer starts with the prefill and is saved whole), nor the $web_search round trips,
//     whose results only the server sees; the answer they lead to is saved.
//   - the answer: content, reasoning_content, tool calls, usage, finish reason, and whether
//     it was interrupted (Ctrl-C) or is incomplete (a cut stream, an error, --timeout).
//   - the system prompt (-s, /system) belongs to the conversation, not to a turn.
//
// A request refused before its answer began (a bad key, a rejected parameter, an exhausted
// retry) saves nothing; Ctrl-C saves the question with whatever answer had arrived, possibly
// none.

// thread is the conversation a chat adds to: its earlier turns, which every new question is
// sent after, and where new exchanges are saved.
type thread struct {
	conv      history.Conversation // ID is "" until the first exchange is saved
	turns     []turn
	save      bool // new exchanges go to the history database
	open      func() (*history.Store, error)
	announced bool // the conversation id was shown
	// retiredShown are the retired models whose notice was shown: once per model.
	retiredShown map[string]bool
}

// firstUseOfRetired reports whether model is retired (and not listed by the server) and its
// notice was not shown yet in this thread.
func (th *thread) firstUseOfRetired(client *moonshot.Client, model string) (*moonshot.Retirement, bool) {
	spec, _ := client.Catalog().Lookup(model)
	if spec.Retired == nil || th.retiredShown[spec.ID] {
		return nil, false
	}
	if th.retiredShown == nil {
		th.retiredShown = map[string]bool{}
	}
	th.retiredShown[spec.ID] = true
	return spec.Retired, true
}

// turn is one message of the thread: as history keeps it and, for the messages sent in this
// run, exactly as sent (with images).
type turn struct {
	stored history.Message
	sent   *moonshot.Message
}

// newThread starts a thread: a new conversation, or the one -c/--conversation names. A
// continued conversation also gives the model and the system prompt, unless -m or -s say
// otherwise.
func (opts *Options) newThread(ctx context.Context, set *Settings) (*thread, error) {
	th := &thread{open: opts.Factory.History}
	th.save = !opts.NoSave && opts.Config.Value(config.KeySaveHistory).Bool() && th.open != nil
	if !opts.Continue && opts.Conversation == "" {
		return th, nil
	}
	if th.open == nil {
		return nil, errors.New("no conversation history is available")
	}
	store, err := th.open()
	if err != nil {
		return nil, err
	}
	var conv history.Conversation
	if opts.Continue {
		conv, err = store.Latest(ctx)
	} else {
		conv, err = store.Resolve(ctx, opts.Conversation)
	}
	if err != nil {
		return nil, continueError(opts, err)
	}
	conv, msgs, err := store.Get(ctx, conv.ID)
	if err != nil {
		return nil, continueError(opts, err)
	}
	th.conv, th.turns = conv, storedTurns(msgs)
	if !set.modelGiven && conv.Model != "" {
		set.Model = conv.Model
	}
	if !set.systemGiven {
		set.System = conv.System
	}
	return th, nil
}

// storedTurns are the saved messages a continuation sends again: all but the exchanges that
// /edit last replaced.
func storedTurns(msgs []history.Message) []turn {
	var turns []turn
	for _, m := range msgs {
		if !m.Replaced {
			turns = append(turns, turn{stored: m})
		}
	}
	return turns
}

func continueError(opts *Options, err error) error {
	flag := "--conversation " + opts.Conversation
	if opts.Continue {
		flag = "-c"
	}
	var amb *history.AmbiguousError
	switch {
	case errors.As(err, &amb):
		return &cli.UsageError{Err: fmt.Errorf("%s: %w", flag, err)}
	case errors.Is(err, history.ErrNotFound) && opts.Continue:
		return &cli.UsageError{Err: errors.New("-c: there is no saved conversation to continue"),
			Hint: `start one with moonchat chat "QUESTION"`}
	case errors.Is(err, history.ErrNotFound):
		return &cli.UsageError{Err: fmt.Errorf("%s: %w", flag, err),
			Hint: "give an id, a unique id prefix or an exact title; `moonchat history list` shows them"}
	}
	return err
}

// replay is the earlier turns as the next request sends them. Each assistant tool-call turn
// carries its own reasoning_content, which thinking models refuse the turn without; the
// models that keep their thinking across turns (kimi-k2.7-code, kimi-k3) get every turn's.
// Other turns go without: kimi-k2.6 ignores earlier reasoning unless asked to keep it, and
// models that do not think have no use for it. An answer stopped before its first word is
// left out (Moonshot refuses an empty message); the question before it stays.
func (th *thread) replay(model string) ([]moonshot.Message, error) {
	spec, _ := moonshot.LookupModel(model)
	keepAll := spec.PreservesThinking
	var out []moonshot.Message
	for _, t := range th.turns {
		m := t.stored
		if m.Role != "assistant" {
			if t.sent != nil {
				out = append(out, *t.sent)
			} else {
				out = append(out, moonshot.Message{Role: m.Role, Content: moonshot.Text(m.Content), Name: m.Name, ToolCallID: m.ToolCallID})
			}
			continue
		}
		msg := moonshot.Message{Role: "assistant", Content: moonshot.Text(m.Content), Name: m.Name}
		if len(m.ToolCalls) > 0 {
			if err := json.Unmarshal(m.ToolCalls, &msg.ToolCalls); err != nil {
				return nil, fmt.Errorf("conversation %s: the tool calls of message %d are not valid JSON: %w", th.conv.ID, m.ID, err)
			}
		}
		if m.Content == "" && len(msg.ToolCalls) == 0 {
			continue
		}
		if m.ReasoningContent != "" && (len(msg.ToolCalls) > 0 || keepAll) {
			r := m.ReasoningContent
			msg.ReasoningContent = &r
		}
		out = append(out, msg)
	}
	return out, nil
}

// sentMessages converts the messages of one question, as sent, for history. images are the
// names of the -i files, in the order of the image parts.
func sentMessages(msgs []moonshot.Message, images []string) []turn {
	out := make([]turn, 0, len(msgs))
	for i := range msgs {
		m := msgs[i]
		stored := history.Message{Role: m.Role, Content: keptContent(m.Content, images), Name: m.Name, ToolCallID: m.ToolCallID}
		out = append(out, turn{stored: stored, sent: &m})
	}
	return out
}

// toolTurns converts the messages of the tool loop for history: each assistant turn with its
// calls and reasoning (which thinking models need when the conversation is continued), and
// the tool messages with their results.
func toolTurns(msgs []moonshot.Message, model string) []turn {
	out := make([]turn, 0, len(msgs))
	for i := range msgs {
		m := msgs[i]
		stored := history.Message{Role: m.Role, Content: m.Content.String(), Name: m.Name, ToolCallID: m.ToolCallID}
		if m.Role == "assistant" {
			stored.Model = model
			if m.ReasoningContent != nil {
				stored.ReasoningContent = *m.ReasoningContent
			}
			if len(m.ToolCalls) > 0 {
				stored.ToolCalls, _ = json.Marshal(m.ToolCalls) // plain strings and structs: cannot fail
			}
		}
		out = append(out, turn{stored: stored, sent: &m})
	}
	return out
}

// keptContent is the text of a message for history: images and videos become markers.
func keptContent(c moonshot.Content, images []string) string {
	if !c.IsParts() {
		return c.Text
	}
	var media, text []string
	n := 0
	for _, p := range c.Parts {
		switch p.Type {
		case "text":
			text = append(text, p.Text)
		case "image_url":
			name := "image"
			if n < len(images) {
				name = "image: " + images[n]
			}
			n++
			media = append(media, "["+name+"]")
		case "video_url":
			media = append(media, "[video]")
		}
	}
	if len(media) == 0 {
		return strings.Join(text, "")
	}
	return strings.Join(media, "\n") + "\n\n" + strings.Join(text, "")
}

// answerMessage is the answer as history keeps it (the first one when -n asked for several),
// with the model it was asked of: the one a continuation asks again. ok is false when there
// is nothing to keep: the request failed before its answer began.
func answerMessage(res *result, model string) (m history.Message, ok bool) {
	interrupted := errors.Is(res.Err, context.Canceled)
	if res.Completion == nil && !interrupted {
		return m, false
	}
	// A truncated answer is whole up to the limit: its finish_reason "length" marks it.
	var truncated *cli.TruncatedError
	m = history.Message{Role: "assistant", Model: model, Interrupted: interrupted,
		Incomplete: res.Err != nil && !interrupted && !errors.As(res.Err, &truncated)}
	c := res.Completion
	if c == nil {
		return m, true
	}
	if u := c.Usage; u != nil {
		m.PromptTokens, m.CompletionTokens, m.CachedTokens = u.PromptTokens, u.CompletionTokens, u.Cached()
	}
	if len(c.Choices) == 0 {
		return m, true
	}
	ch := c.Choices[0]
	m.Content, m.ReasoningContent, m.FinishReason = ch.Message.Content, ch.Message.ReasoningContent, ch.FinishReason
	if ch.Usage != nil && c.Usage == nil {
		m.PromptTokens, m.CompletionTokens, m.CachedTokens = ch.Usage.PromptTokens, ch.Usage.CompletionTokens, ch.Usage.Cached()
	}
	if len(ch.Message.ToolCalls) > 0 {
		calls := make([]moonshot.ToolCall, len(ch.Message.ToolCalls))
		for i, tc := range ch.Message.ToolCalls {
			tc.Index = nil // a position in the stream, not part of the conversation
			if tc.Type == "" {
				tc.Type = "function"
			}
			calls[i] = tc
		}
		m.ToolCalls, _ = json.Marshal(calls) // plain strings and structs: cannot fail
	}
	return m, true
}

// record adds one exchange to the thread, and saves it when the thread is saved. The turns
// are added in memory even when saving fails, so a session goes on.
func (th *thread) record(ctx context.Context, opts *Options, set *Settings, title string, sent []turn, answer history.Message) error {
	now := opts.Factory.Now()
	answer.CreatedAt = now
	for i := range sent {
		sent[i].stored.CreatedAt = now
	}
	th.turns = append(append(th.turns, sent...), turn{stored: answer})
	if !th.save {
		return nil
	}
	store, err := th.open()
	if err != nil {
		return err
	}
	if set.Title != "" {
		title = set.Title // --title
	}
	msgs := make([]history.Message, 0, len(sent)+1)
	for _, t := range sent {
		msgs = append(msgs, t.stored)
	}
	msgs = append(msgs, answer)
	if th.conv.ID == "" {
		// One transaction: a conversation without its messages would be continued by -c
		// with no context.
		conv, err := store.Create(ctx, history.Conversation{Title: title, Model: answer.Model, System: set.System, CreatedAt: now}, msgs...)
		if err != nil {
			return err
		}
		th.conv = conv
		return nil
	}
	if th.conv.Model != answer.Model || th.conv.System != set.System || (set.Title != "" && th.conv.Title != set.Title) {
		c := th.conv
		c.Model, c.System = answer.Model, set.System
		if set.Title != "" {
			c.Title = set.Title
		}
		if c, err = store.Update(ctx, c); err != nil {
			return err
		}
		th.conv = c
	}
	return store.Append(ctx, th.conv.ID, msgs...)
}

// lastExchange is where the last exchange starts in th.turns: the messages sent after the
// previous answer, then the answer. ok is false when the thread does not end with an answer
// to a question.
func (th *thread) lastExchange() (start int, ok bool) {
	n := len(th.turns)
	if n < 2 || th.turns[n-1].stored.Role != "assistant" {
		return 0, false
	}
	// The tool loop's turns (an assistant turn with calls, the tool messages answering them)
	// belong to the exchange they are in: the previous exchange ends at an answer that no
	// tool message follows.
	start = n - 1
	for start > 0 {
		prev := th.turns[start-1].stored
		if prev.Role == "assistant" && th.turns[start].stored.Role != "tool" {
			break
		}
		if prev.Role == "tool" && th.turns[start].stored.Role != "assistant" {
			break // a tool message no assistant turn of this exchange answers: not ours
		}
		start--
	}
	return start, start < n-1
}

// dropLastExchange removes the last exchange from the thread and from the database, and
// returns the messages it sent, so that /retry can ask them again.
func (th *thread) dropLastExchange(ctx context.Context) ([]moonshot.Message, error) {
	start, ok := th.lastExchange()
	if !ok {
		return nil, errors.New("there is no answer to retry yet")
	}
	dropped := th.turns[start:]
	if th.save && th.conv.ID != "" {
		if err := th.forget(ctx, dropped); err != nil {
			return nil, err
		}
	}
	var resend []moonshot.Message
	for _, t := range dropped[:len(dropped)-1] {
		if r := t.stored.Role; r == "assistant" || r == "tool" {
			continue // the tool loop's turns: asked again, the model calls again
		}
		if t.sent != nil {
			resend = append(resend, *t.sent)
		} else {
			m := t.stored
			resend = append(resend, moonshot.Message{Role: m.Role, Content: moonshot.Text(m.Content), Name: m.Name, ToolCallID: m.ToolCallID})
		}
	}
	th.turns = th.turns[:start]
	return resend, nil
}

// forget deletes the dropped messages from the end of the stored conversation.
func (th *thread) forget(ctx context.Context, dropped []turn) error {
	store, from, err := th.storedTail(ctx, dropped, "/retry")
	if err != nil {
		return err
	}
	_, err = store.DeleteMessagesFrom(ctx, th.conv.ID, from)
	return err
}

// storedTail checks that the dropped messages are still the last ones of the stored
// conversation (another moonchat may have continued it) and returns the id of the first.
// command names what leaves the conversation as it is when they are not.
func (th *thread) storedTail(ctx context.Context, dropped []turn, command string) (*history.Store, int64, error) {
	store, err := th.open()
	if err != nil {
		return nil, 0, err
	}
	_, msgs, err := store.Get(ctx, th.conv.ID)
	if err != nil {
		return nil, 0, err
	}
	changed := fmt.Errorf("conversation %s changed in another moonchat; %s left it as it is", th.conv.ID, command)
	from := len(msgs) - len(dropped)
	if from < 0 {
		return nil, 0, changed
	}
	for i, t := range dropped {
		if m := msgs[from+i]; m.Role != t.stored.Role || m.Content != t.stored.Content {
			return nil, 0, changed
		}
	}
	return store, msgs[from].ID, nil
}
