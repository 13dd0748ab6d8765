package historycmd

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/moonchat/moonchat/cmd/cli"
	"github.com/moonchat/moonchat/pkg/history"
	"github.com/moonchat/moonchat/pkg/iostreams"
	"github.com/moonchat/moonchat/pkg/moonshot"
	"github.com/moonchat/moonchat/pkg/render"
)

// messageJSON is a message with every field the store keeps.
type messageJSON struct {
	ID               int64           `json:"id"`
	Role             string          `json:"role"`
	Content          string          `json:"content"`
	ReasoningContent string          `json:"reasoning_content"`
	Name             string          `json:"name"`
	ToolCallID       string          `json:"tool_call_id"`
	ToolCalls        json.RawMessage `json:"tool_calls"`
	PromptTokens     int             `json:"prompt_tokens"`
	CompletionTokens int             `json:"completion_tokens"`
	CachedTokens     int             `json:"cached_tokens"`
	FinishReason     string          `json:"finish_reason"`
	Interrupted      bool            `json:"interrupted"`
	Incomplete       bool            `json:"incomplete"`
	Replaced         bool            `json:"replaced"`
	Model            string          `json:"model"`
	CreatedAt        time.Time       `json:"created_at"`
}

// documentJSON is a whole conversation: show --json and export --format json.
type documentJSON struct {
	conversationJSON
	Messages []messageJSON `json:"messages"`
}

func document(c history.Conversation, msgs []history.Message) documentJSON {
	doc := documentJSON{conversationJSON: toJSON(c), Messages: make([]messageJSON, len(msgs))}
	for i, m := range msgs {
		doc.Messages[i] = messageJSON{ID: m.ID, Role: m.Role, Content: m.Content, ReasoningContent: m.ReasoningContent,
			Name: m.Name, ToolCallID: m.ToolCallID, ToolCalls: m.ToolCalls, PromptTokens: m.PromptTokens,
			CompletionTokens: m.CompletionTokens, CachedTokens: m.CachedTokens, FinishReason: m.FinishReason,
			Interrupted: m.Interrupted, Incomplete: m.Incomplete, Replaced: m.Replaced, Model: m.Model, CreatedAt: m.CreatedAt.UTC()}
	}
	return doc
}

// load resolves the one ID of show and export and reads the conversation.
func load(ctx context.Context, opts *Options) (history.Conversation, []history.Message, error) {
	store, err := opts.store()
	if err != nil {
		return history.Conversation{}, nil, err
	}
	c, err := resolve(ctx, store, opts.Refs[0])
	if err != nil {
		return history.Conversation{}, nil, err
	}
	return store.Get(ctx, c.ID)
}

func showRun(ctx context.Context, opts *Options) error {
	c, msgs, err := load(ctx, opts)
	if err != nil {
		return err
	}
	if opts.JSON {
		return cli.WriteJSON(opts.IO.Out, document(c, msgs))
	}
	out := bufio.NewWriterSize(opts.IO.Out, 32<<10)
	t := &transcript{w: out, st: opts.IO.ColorScheme(), tty: opts.IO.IsStdoutTTY()}
	if opts.IO.RenderEnabled() {
		t.markdown = &render.Options{
			Width: opts.IO.Width(),
			Style: opts.Style,
			Color: opts.IO.ColorEnabled(),
			// Height 0: no live tail, so no cursor movement; the whole answer is known and
			// rendered when the renderer closes.
			Clock: noFrames{},
		}
		if opts.Wrap > 0 {
			t.markdown.Width = opts.Wrap
		}
		if t.markdown.Style == "" || t.markdown.Style == "auto" {
			t.markdown.Style = opts.IO.Style()
		}
		t.header(c, opts.now())
	}
	if err := t.conversation(c, msgs); err != nil {
		return err
	}
	return out.Flush()
}

// noFrames is a render.Clock that never ticks: show writes each answer whole, so one render
// when the renderer closes is all the work there is.
type noFrames struct{}

func (noFrames) Every(time.Duration, func()) func() { return func() {} }

// transcript prints a conversation like chat printed it. With markdown set (a terminal) the
// answers are rendered and the text the user typed is cleaned of control characters;
// without, everything is printed byte for byte.
type transcript struct {
	w        *bufio.Writer
	st       iostreams.ColorScheme
	markdown *render.Options
	tty      bool // stdout is a terminal, even one that gets no markdown (TERM=dumb)
	gap      bool // a blank line is owed before the next part
}

func (t *transcript) header(c history.Conversation, now time.Time) {
	parts := []string{c.ID, displayTitle(c.Title)}
	if c.Model != "" {
		parts = append(parts, t.text(c.Model))
	}
	messages := fmt.Sprintf("%d messages", c.MessageCount)
	if c.MessageCount == 1 {
		messages = "1 message"
	}
	parts = append(parts, messages, "updated "+when(now, c.UpdatedAt))
	fmt.Fprintln(t.w, t.st.Dim(strings.Join(parts, " · ")))
	t.gap = true
}

// separate puts a blank line between two parts of the transcript; every part but a rendered
// answer ends by owing one.
func (t *transcript) separate() {
	if t.gap {
		t.w.WriteByte('\n')
	}
	t.gap = true
}

func (t *transcript) conversation(c history.Conversation, msgs []history.Message) error {
	// The system prompt is a conversation field; a store that also keeps it as the first
	// message must not show it twice.
	if c.System != "" && (len(msgs) == 0 || msgs[0].Role != "system" || msgs[0].Content != c.System) {
		t.system(c.System)
	}
	for _, m := range msgs {
		switch m.Role {
		case "user":
			t.user(m.Content)
		case "assistant":
			if err := t.assistant(m); err != nil {
				return err
			}
		case "system":
			t.system(m.Content)
		case "tool":
			t.separate()
			name := m.Name
			if name == "" {
				name = m.ToolCallID
			}
			// Sanitized before it is made one line: summary drops control characters, which
			// would leave the body of an escape sequence for Sanitize to show as text.
			fmt.Fprintln(t.w, t.st.Dim(t.text("tool result ("+name+"): "+summary(t.text(m.Content), 100))))
		default:
			t.separate()
			fmt.Fprintf(t.w, "%s %s\n", t.st.Dim(t.text(m.Role)+":"), t.text(m.Content))
		}
	}
	return nil
}

func (t *transcript) system(text string) {
	t.separate()
	fmt.Fprintln(t.w, t.st.Dim("system: "+strings.ReplaceAll(t.text(strings.TrimRight(text, "\n")), "\n", "\n        ")))
}

// user marks every line of a prompt with "> ", as a quote.
func (t *transcript) user(text string) {
	t.separate()
	text = strings.TrimRight(t.text(text), "\n")
	for line := range strings.Lines(text + "\n") {
		fmt.Fprintf(t.w, "%s%s\n", t.st.Prompt("> "), t.st.Bold(strings.TrimSuffix(line, "\n")))
	}
}

func (t *transcript) assistant(m history.Message) error {
	switch {
	case m.Content != "" && t.markdown != nil:
		// The renderer starts with a blank line and ends with one, like chat's answers.
		if err := t.render(m.Content); err != nil {
			return err
		}
		t.gap = false
	case m.Content != "":
		t.separate()
		content := t.text(m.Content)
		t.w.WriteString(content)
		if !strings.HasSuffix(content, "\n") {
			t.w.WriteByte('\n')
		}
	default:
		t.separate()
	}
	for _, call := range toolCalls(m) {
		fmt.Fprintf(t.w, "tool call %s(%s)\n", t.text(call.Function.Name), t.text(call.Function.Arguments))
		t.gap = true
	}
	for _, note := range notes(m) {
		fmt.Fprintln(t.w, t.st.Warning("["+note+"]"))
		t.gap = true
	}
	return nil
}

// render prints an answer as markdown with the renderer chat uses.
func (t *transcript) render(content string) error {
	md, err := render.NewMarkdown(t.w, *t.markdown)
	if err != nil {
		return err
	}
	if _, err := md.WriteString(content); err != nil {
		md.Close()
		return err
	}
	return md.Close()
}

// text is s as it may be printed: untouched into a pipe; on a terminal through
// render.Sanitize (escape sequences in a saved prompt must not drive the terminal).
func (t *transcript) text(s string) string {
	if t.markdown == nil && !t.tty {
		return s
	}
	return render.Sanitize(s)
}

// toolCalls decodes the calls an answer made; calls that do not decode are left out (the
// JSON outputs carry them as saved).
func toolCalls(m history.Message) []moonshot.ToolCall {
	if len(m.ToolCalls) == 0 {
		return nil
	}
	var calls []moonshot.ToolCall
	if json.Unmarshal(m.ToolCalls, &calls) != nil {
		return nil
	}
	return calls
}

// notes say why an answer is not whole.
func notes(m history.Message) []string {
	var out []string
	if m.Interrupted {
		out = append(out, "interrupted: stopped before the answer was complete")
	}
	if m.Incomplete {
		out = append(out, "incomplete: the stream was cut before the answer was complete")
	}
	if m.Replaced {
		out = append(out, "replaced: /edit last asked an edited question instead; later turns do not include this exchange")
	}
	switch m.FinishReason {
	case "length":
		out = append(out, "cut short: the answer reached max_tokens")
	case "content_filter":
		out = append(out, "stopped by Moonshot's content filter")
	}
	return out
}

// summary is s on one line, cut to n runes.
func summary(s string, n int) string {
	s = strings.Join(strings.FieldsFunc(s, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }), " ")
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n-1]) + "…"
}

// highlight marks the spans of text (byte ranges, in order, not overlapping).
// It is for a terminal: each piece goes through render.Sanitize (the spans count bytes of
// the stored text, so the pieces are cut first).
func highlight(cs iostreams.ColorScheme, text string, spans []history.Span) string {
	if !cs.Enabled() {
		return render.Sanitize(text)
	}
	var b strings.Builder
	at := 0
	for _, sp := range spans {
		if sp.Start < at || sp.End > len(text) || sp.Start >= sp.End {
			continue
		}
		b.WriteString(render.Sanitize(text[at:sp.Start]))
		b.WriteString(cs.Match(render.Sanitize(text[sp.Start:sp.End])))
		at = sp.End
	}
	b.WriteString(render.Sanitize(text[at:]))
	return b.String()
}

func exportRun(ctx context.Context, opts *Options) error {
	c, msgs, err := load(ctx, opts)
	if err != nil {
		return err
	}
	if opts.Format == "json" {
		return cli.WriteJSON(opts.IO.Out, document(c, msgs))
	}
	if opts.IO.IsStdoutTTY() {
		// A document read on the terminal: stored text must not drive it.
		var b strings.Builder
		writeMarkdown(&b, c, msgs)
		_, err := io.WriteString(opts.IO.Out, render.Sanitize(b.String()))
		return err
	}
	out := bufio.NewWriterSize(opts.IO.Out, 32<<10)
	writeMarkdown(out, c, msgs)
	return out.Flush()
}

// writeMarkdown writes a conversation as a markdown document.
func writeMarkdown(w io.Writer, c history.Conversation, msgs []history.Message) {
	title := history.TitleFromPrompt(c.Title)
	if title == "" {
		title = "Conversation " + c.ID
	}
	fmt.Fprintf(w, "# %s\n\n", title)
	fmt.Fprintf(w, "- id: `%s`\n", c.ID)
	if c.Model != "" {
		fmt.Fprintf(w, "- model: %s\n", c.Model)
	}
	fmt.Fprintf(w, "- created: %s\n", c.CreatedAt.UTC().Format(time.RFC3339))
	fmt.Fprintf(w, "- updated: %s\n", c.UpdatedAt.UTC().Format(time.RFC3339))
	if c.System != "" && (len(msgs) == 0 || msgs[0].Role != "system" || msgs[0].Content != c.System) {
		fmt.Fprintf(w, "\n## System\n\n%s\n", closeFences(c.System))
	}
	for _, m := range msgs {
		heading := "Message"
		if m.Role != "" {
			heading = strings.ToUpper(m.Role[:1]) + m.Role[1:]
		}
		switch {
		case m.Role == "assistant" && m.Model != "":
			heading += " (" + m.Model + ")"
		case m.Role == "tool" && m.Name != "":
			heading += " result (" + m.Name + ")"
		}
		fmt.Fprintf(w, "\n## %s\n\n", heading)
		if m.ReasoningContent != "" {
			fmt.Fprintf(w, "<details>\n<summary>Reasoning</summary>\n\n%s\n\n</details>\n\n", closeFences(m.ReasoningContent))
		}
		switch {
		case m.Role == "tool":
			fmt.Fprint(w, fenced(m.Content, ""))
		case m.Content != "":
			fmt.Fprintf(w, "%s\n", closeFences(m.Content))
		}
		for _, call := range toolCalls(m) {
			fmt.Fprintf(w, "\nTool call `%s`:\n\n%s", call.Function.Name, fenced(call.Function.Arguments, "json"))
		}
		for _, note := range notes(m) {
			fmt.Fprintf(w, "\n> **%s**\n", note)
		}
	}
}

// fenced puts s in a code block whose fence is longer than any run of backticks in s.
func fenced(s, info string) string {
	longest, run := 0, 0
	for _, r := range s {
		if r == '`' {
			run++
			longest = max(longest, run)
		} else {
			run = 0
		}
	}
	fence := strings.Repeat("`", max(3, longest+1))
	s = strings.TrimSuffix(s, "\n")
	return fence + info + "\n" + s + "\n" + fence + "\n"
}

// closeFences returns text without its trailing newlines and, when it ends inside a fenced
// code block (an answer interrupted mid-code), with that block closed, so it cannot swallow
// the rest of the document.
func closeFences(text string) string {
	text = strings.TrimRight(text, "\n")
	var open string // the fence that opened the current block; "" outside one
	for line := range strings.Lines(text) {
		line = strings.TrimRight(line, "\r\n")
		trimmed := strings.TrimLeft(line, " ")
		if len(line)-len(trimmed) > 3 {
			continue // indented code, not a fence
		}
		fence := fenceOf(trimmed)
		if fence == "" {
			continue
		}
		switch {
		case open == "":
			open = fence
		case fence[0] == open[0] && len(fence) >= len(open) && strings.TrimSpace(trimmed[len(fence):]) == "":
			open = ""
		}
	}
	if open != "" {
		text += "\n" + open
	}
	return text
}

// fenceOf returns the run of three or more backticks or tildes that starts line, or "".
// A backtick fence's info string cannot contain a backtick (CommonMark).
func fenceOf(line string) string {
	if line == "" || (line[0] != '`' && line[0] != '~') {
		return ""
	}
	n := len(line) - len(strings.TrimLeft(line, line[:1]))
	if n < 3 {
		return ""
	}
	if line[0] == '`' && strings.Contains(line[n:], "`") {
		return ""
	}
	return line[:n]
}
