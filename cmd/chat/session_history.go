package chat

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/moonchat/moonchat/cmd/cli"
	"github.com/moonchat/moonchat/pkg/history"
)

// recentShown is how many conversations /history lists.
const recentShown = 10

// store is the history for a session command (/history, /resume, /fork); when there is none
// to use, the session is told why and ok is false.
func (s *session) store() (store *history.Store, ok bool) {
	if s.th.open == nil {
		s.report(errors.New("no conversation history is available"))
		return nil, false
	}
	store, err := s.th.open()
	if err != nil {
		s.report(err)
		return nil, false
	}
	return store, true
}

// listRecent is /history: the latest conversations, this one marked.
func (s *session) listRecent(ctx context.Context) {
	o := s.opts
	store, ok := s.store()
	if !ok {
		return
	}
	recent, err := store.List(ctx, history.ListOptions{Limit: recentShown})
	if err != nil {
		s.report(err)
		return
	}
	if len(recent) == 0 {
		fmt.Fprintln(o.IO.Out, "(no saved conversations yet)")
		return
	}
	now := o.Factory.Now()
	for _, c := range recent {
		mark := " "
		if c.ID == s.th.conv.ID {
			mark = "*"
		}
		fmt.Fprintf(o.IO.Out, "%s %s  %-9s %3d  %s\n", mark, c.ID, ago(now, c.UpdatedAt), c.MessageCount, cli.ShownLine(history.TitleFromPrompt(c.Title)))
	}
	fmt.Fprintln(o.IO.Out, o.dim("switch to one with: /resume ID"))
}

// ago is a short relative time: "just now", "5m ago", "3h ago", "2d ago".
func ago(now, t time.Time) string {
	d := now.Sub(t)
	switch {
	case d < time.Minute:
		return "just now"
	case d < time.Hour:
		return fmt.Sprintf("%dm ago", int(d/time.Minute))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh ago", int(d/time.Hour))
	}
	return fmt.Sprintf("%dd ago", int(d/(24*time.Hour)))
}
