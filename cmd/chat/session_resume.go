package chat

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/moonchat/moonchat/cmd/cli"
	"github.com/moonchat/moonchat/pkg/history"
)

// What a recap shows of the last exchange: enough to remember where a conversation stood,
// little enough that the prompt stays on the first screen.
const (
	recapQuestionLines = 3
	recapAnswerLines   = 8
	recapMaxBytes      = 1500
)

// resume is /resume ID|prefix|title: the session goes on in that conversation, with its
// model and system prompt, after a recap of its last exchange.
func (s *session) resume(ctx context.Context, ref string) {
	if ref == "" {
		s.report(cli.Usagef("/resume needs a conversation: an id, a unique id prefix or an exact title (Tab offers the recent ones, /history lists them)"))
		return
	}
	store, ok := s.store()
	if !ok {
		return
	}
	conv, err := store.Resolve(ctx, ref)
	if err == nil {
		var msgs []history.Message
		if conv, msgs, err = store.Get(ctx, conv.ID); err == nil {
			s.th = &thread{save: s.th.save, open: s.th.open, conv: conv, announced: true, turns: storedTurns(msgs)}
			s.failed = nil
			s.set.Title = "" // --title named the conversation the session started with
		}
	}
	var amb *history.AmbiguousError
	switch {
	case errors.As(err, &amb):
		s.report(err)
		return
	case errors.Is(err, history.ErrNotFound):
		s.report(&cli.UsageError{Err: err,
			Hint: "give an id, a unique id prefix or an exact title; /history lists the recent ones"})
		return
	case err != nil:
		s.report(err)
		return
	}
	if s.th.conv.Model != "" {
		s.set.Model = s.th.conv.Model
	}
	s.set.System = s.th.conv.System
	s.set.Role = "" // the conversation's own system prompt and model replace the role's
	s.note("resumed conversation %s %q (%d messages) · model %s", s.th.conv.ID, cli.ShownLine(s.th.conv.Title), s.th.conv.MessageCount, cli.ShownLine(s.set.Model))
	s.recap()
}

// recap shows the last question of the conversation and the first lines of its answer,
// rendered as answers are, so that a resumed conversation starts where the user left it.
func (s *session) recap() {
	o := s.opts
	if o.Quiet {
		return
	}
	var question, answer string
	for i := len(s.th.turns) - 1; i >= 0; i-- {
		m := s.th.turns[i].stored
		if m.Role == "assistant" && answer == "" && question == "" {
			answer = m.Content
		}
		if m.Role == "user" {
			question = m.Content
			break
		}
	}
	if question == "" {
		return
	}
	var b strings.Builder
	q, _ := firstLines(cli.Shown(question), recapQuestionLines, recapMaxBytes/3)
	for _, l := range strings.Split(q, "\n") {
		b.WriteString("> " + l + "\n")
	}
	b.WriteString("\n")
	a, cut := firstLines(cli.Shown(answer), recapAnswerLines, recapMaxBytes)
	b.WriteString(a)
	if cut {
		b.WriteString("\n\n…")
	}
	b.WriteString("\n")
	out, err := newOutput(s.format, o)
	if err != nil {
		s.report(err)
		return
	}
	out.Content(0, b.String())
	if err := out.Finish(&result{}); err != nil {
		s.report(err)
	}
	fmt.Fprintln(o.IO.Out)
}

// firstLines is the start of text: at most n lines and max bytes (cut at a line or rune
// boundary), and whether anything was left out. An unclosed code fence is closed, so that
// what follows the recap is not taken for code.
func firstLines(text string, n, maxBytes int) (string, bool) {
	text = strings.TrimSpace(text)
	lines := strings.Split(text, "\n")
	cut := false
	if len(lines) > n {
		lines, cut = lines[:n], true
	}
	head := strings.Join(lines, "\n")
	if len(head) > maxBytes {
		head, cut = strings.ToValidUTF8(head[:maxBytes], ""), true
		if i := strings.LastIndexByte(head, '\n'); i > 0 {
			head = head[:i]
		}
	}
	fences := 0
	for _, l := range strings.Split(head, "\n") {
		if strings.HasPrefix(strings.TrimSpace(l), "```") {
			fences++
		}
	}
	if fences%2 == 1 {
		head += "\n```"
	}
	return head, cut
}

// fork is /fork: the conversation so far is copied into a new one (history fork), and the
// session goes on in the copy; the original stays as it was, to come back to with /resume.
func (s *session) fork(ctx context.Context) {
	switch {
	case !s.th.save:
		s.report(errors.New("this session saves nothing (--no-save or save_history: false), so there is nothing to fork"))
		return
	case s.th.conv.ID == "":
		s.report(errors.New("nothing to fork yet: the conversation is saved with its first answer"))
		return
	}
	store, ok := s.store()
	if !ok {
		return
	}
	from := s.th.conv
	conv, err := store.Fork(ctx, from.ID, len(s.th.turns), "")
	if err != nil {
		s.report(err)
		return
	}
	s.th = &thread{save: s.th.save, open: s.th.open, conv: conv, announced: true, turns: slices.Clone(s.th.turns)}
	s.set.Title = "" // --title named the original
	s.note("forked %s into %s %q; the next questions go to the copy (/resume %s goes back)", from.ID, conv.ID, cli.ShownLine(conv.Title), from.ID)
}
