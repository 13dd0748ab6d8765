package chat

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/moonchat/moonchat/cmd/cli"
)

// confirmer is an editor that can ask for one key: Enter or Esc. The terminal editor is one;
// another (a test's) is asked for a line instead, an empty one meaning Enter.
type confirmer interface {
	confirm(prompt string) (bool, error)
}

const confirmPrompt = "Enter sends · Esc discards "

// confirm asks whether to send text, which the user has just seen.
func (s *session) confirm() (bool, error) {
	if c, ok := s.editor.(confirmer); ok {
		return c.confirm(s.opts.dim(confirmPrompt))
	}
	line, err := s.editor.ReadLine(confirmPrompt)
	if errors.Is(err, errLineInterrupted) {
		return false, nil
	}
	return err == nil && strings.TrimSpace(line) == "", err
}

// edit is /edit [TEXT] and /edit last. The message is written in $VISUAL or $EDITOR, shown,
// and sent only after Enter: closing the editor is not sending. /edit last starts from the
// last question and replaces the last exchange with the new one; the replaced exchange stays
// in the history, marked replaced.
func (s *session) edit(ctx context.Context, arg string) {
	o := s.opts
	last := arg == "last"
	initial := arg
	if last {
		q, ok := s.th.lastQuestion()
		if !ok {
			s.report(errors.New("there is no question to edit yet"))
			return
		}
		initial = q
	}
	text, err := s.compose(initial)
	if err != nil {
		s.report(err)
		return
	}
	if strings.TrimSpace(text) == "" {
		s.note("nothing written; nothing sent")
		return
	}
	fmt.Fprintln(o.IO.Out, cli.Shown(text))
	ok, err := s.confirm()
	switch {
	case err != nil:
		s.report(err)
		return
	case !ok:
		s.note("discarded; nothing sent")
		return
	}
	if last {
		if err := s.replaceLastExchange(ctx); err != nil {
			s.report(err)
			return
		}
	}
	s.ask(ctx, question{prompt: text})
}

// lastQuestion is the text of the last exchange's question.
func (th *thread) lastQuestion() (string, bool) {
	start, ok := th.lastExchange()
	if !ok {
		return "", false
	}
	for i := len(th.turns) - 2; i >= start; i-- {
		if m := th.turns[i].stored; m.Role == "user" {
			return m.Content, true
		}
	}
	return "", false
}

// replaceLastExchange takes the last exchange out of the thread. In the history it stays,
// marked replaced: history show lists it, and a continuation does not send it again.
func (s *session) replaceLastExchange(ctx context.Context) error {
	start, ok := s.th.lastExchange()
	if !ok {
		return errors.New("there is no exchange to replace yet")
	}
	if s.th.save && s.th.conv.ID != "" {
		store, from, err := s.th.storedTail(ctx, s.th.turns[start:], "/edit last")
		if err != nil {
			return err
		}
		if _, err := store.MarkReplaced(ctx, s.th.conv.ID, from); err != nil {
			return err
		}
	}
	s.th.turns = s.th.turns[:start]
	return nil
}

// compose is /edit: the next message is written in $VISUAL or $EDITOR (vi, or notepad on
// Windows, when neither is set), in a private temporary file.
func (s *session) compose(initial string) (string, error) {
	f, err := os.CreateTemp("", "moonchat-*.md")
	if err != nil {
		return "", err
	}
	path := f.Name()
	defer os.Remove(path)
	_, werr := f.WriteString(initial)
	if err := errors.Join(werr, f.Close()); err != nil {
		return "", err
	}
	if err := cli.RunEditor(s.opts.IO, cli.EditorCommand(), path); err != nil {
		return "", err
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	return strings.TrimRight(string(data), " \t\r\n"), nil
}
