package chat

import (
	"context"
	"errors"
	"fmt"
)

// ask sends one question. Ctrl-C stops its answer, not the session: the answer's context is
// canceled, the part that arrived is kept (and saved, marked interrupted), and the prompt
// comes back. Other failures are reported and the session goes on.
func (s *session) ask(ctx context.Context, q question) {
	o := s.opts
	answerCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	s.drainPresses()
	done := make(chan struct{})
	defer close(done)
	if s.presses != nil {
		go func() {
			select {
			case <-s.presses:
				cancel()
			case <-done:
			}
		}()
	}
	turns := len(s.th.turns)
	res, err := o.exchange(answerCtx, s.client, s.th, s.set, q, s.format)
	if s.set.Model == "auto" && res != nil && res.Model != "" {
		// -m auto picks for the first question; the session goes on with that model.
		s.set.Model = res.Model
	}
	if len(s.th.turns) == turns {
		s.failed = &q
	} else {
		// The attachments and the prefill belong to the first question that was answered.
		s.failed = nil
		s.set.Features.Files, s.set.Features.Images, s.set.Features.Prefill = nil, nil, ""
	}
	switch {
	case err == nil:
	case errors.Is(err, context.Canceled) && ctx.Err() == nil:
		if res != nil && res.ConversationID != "" {
			s.note("stopped; the answer so far is saved")
		} else {
			s.note("stopped")
		}
	case ctx.Err() != nil:
		// The whole command is ending (SIGTERM); the loop returns.
	default:
		s.report(err)
	}
	// -u: after the answer's own usage line, the conversation's running total.
	if o.Usage && res != nil && res.Completion != nil {
		fmt.Fprintln(o.IO.ErrOut, "conversation so far: "+s.th.usageTotal().String())
	}
	fmt.Fprintln(o.IO.Out)
}

// drainPresses forgets a Ctrl-C that arrived while no answer was streaming (in $EDITOR, say),
// so that it does not stop the next answer the moment it starts.
func (s *session) drainPresses() {
	for {
		select {
		case <-s.presses:
		default:
			return
		}
	}
}
