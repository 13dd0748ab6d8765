package chat

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/moonchat/moonchat/cmd/cli"
	"github.com/moonchat/moonchat/pkg/history"
	"github.com/moonchat/moonchat/pkg/moonshot"
)

// question is what one exchange sends: a prompt (with the -f and -i attachments, which only
// the first question of a session carries), or the messages of the last exchange again
// (/retry).
type question struct {
	prompt string
	resend []moonshot.Message
}

// exchange sends q after the thread's earlier turns, shows the answer in format and keeps
// the exchange in the thread. It returns the result of the answer (nil when no request was
// sent) and the error the question ended with.
//
// The answer is shown before it is saved, so a history failure cannot cost it; a failed save
// is a warning and changes no exit code. JSON output carries the conversation id, so there
// the save comes first.
func (opts *Options) exchange(ctx context.Context, client *moonshot.Client, th *thread, q question, format string) (*result, error) {
	start := opts.Factory.Now()
	if opts.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeoutCause(ctx, opts.Timeout, fmt.Errorf("no complete answer within --timeout %s: %w", opts.Timeout, context.DeadlineExceeded))
		defer cancel()
	}
	req := buildRequest(opts, q.prompt)
	head, turn := req.Messages[:len(req.Messages)-1], req.Messages[len(req.Messages)-1:]
	if q.resend != nil {
		turn = q.resend
	}
	earlier, err := th.replay(req.Model)
	if err != nil {
		return nil, err
	}
	req.Messages = slices.Concat(head, earlier, turn)
	base := len(head) + len(earlier)

	shown, err := newOutput(format, opts)
	if err != nil {
		return nil, err
	}
	progress := opts.progressOutput(shown, format)
	out := opts.featureOutput(progress, format)
	fixed, adj, err := opts.prepare(ctx, client, req)
	if err != nil {
		if ferr := out.Finish(&result{Err: err, Model: req.Model, Elapsed: opts.Factory.Now().Sub(start)}); ferr != nil {
			return nil, ferr
		}
		return nil, err
	}
	for _, a := range adj {
		opts.notice("%s", a)
	}
	if r, first := th.firstUseOfRetired(client, fixed.Model); first {
		opts.notice("%s", r.Notice(fixed.Model))
	}
	if opts.DryRun {
		return nil, dryRun(opts, client, fixed)
	}
	res := &result{Model: fixed.Model, Adjustments: adj, N: 1}
	if fixed.N != nil {
		res.N = *fixed.N
	}
	progress.waiting()
	opts.converse(ctx, client, fixed, adj, out, res)
	if res.Err == nil {
		res.Err = truncation(client, fixed, res)
	}
	res.Elapsed = opts.Factory.Now().Sub(start)
	if errors.Is(res.Err, context.DeadlineExceeded) && context.Cause(ctx) != nil {
		res.Err = context.Cause(ctx)
	}

	// The attachments put the question's document messages before its user message, and
	// the fixes may add their own after it (rule 3): what was asked is in between.
	sent := sentMessages(fixed.Messages[base:len(req.Messages)], opts.Features.Images)
	answer, keep := answerMessage(res, fixed.Model)
	save := func() {
		if keep {
			opts.keep(ctx, th, history.TitleFromPrompt(q.prompt), sent, answer)
			res.ConversationID = th.conv.ID
		}
	}
	idInOutput := format == "json" || format == "jsonl"
	if idInOutput {
		save()
	}
	ferr := out.Finish(res)
	if !idInOutput {
		save()
	}
	if ferr != nil {
		return res, ferr
	}
	if opts.Usage && res.Completion != nil {
		printUsage(opts, res)
	}
	return res, res.Err
}

// keep records the exchange in the thread and saves it; a failure to save is a warning.
func (opts *Options) keep(ctx context.Context, th *thread, title string, sent []turn, answer history.Message) {
	// The command's context may be done (Ctrl-C, --timeout): the partial answer is saved all
	// the same, within a bound of its own.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), saveTimeout)
	defer cancel()
	if th.save {
		if _, err := th.open(); err != nil {
			// The database cannot be opened: say so once and stop trying.
			th.save = false
			opts.warnNotSaved(err)
		}
	}
	if err := th.record(ctx, opts, title, sent, answer); err != nil {
		opts.warnNotSaved(err)
		return
	}
	if th.save && !th.announced && th.conv.ID != "" {
		th.announced = true
		opts.announce(th.conv.ID)
	}
}

func (opts *Options) warnNotSaved(err error) {
	msg, hint := cli.Describe(err, "")
	msg, hint = opts.IO.ErrPrintable(msg), opts.IO.ErrPrintable(hint)
	fmt.Fprintf(opts.IO.ErrOut, "moonchat: warning: the conversation was not saved: %s\n", msg)
	if hint != "" {
		fmt.Fprintf(opts.IO.ErrOut, "  hint: %s\n", hint)
	}
}

// announce shows the id of the conversation on a terminal, dimmed: scripts get it from the
// JSON output instead, and a pipe's reader has no use for it.
func (opts *Options) announce(id string) {
	if opts.Quiet || !opts.IO.IsStderrTTY() {
		return
	}
	line := fmt.Sprintf("conversation %s · continue it with: moonchat chat -c", id)
	if opts.inSession {
		line = fmt.Sprintf("saved as conversation %s", id)
	}
	fmt.Fprintln(opts.IO.ErrOut, opts.dim(line))
}

// dim greys text on a terminal that takes colour.
func (opts *Options) dim(text string) string {
	if !opts.IO.ErrColorEnabled() {
		return text
	}
	return "\x1b[2m" + text + "\x1b[0m"
}

// truncation is the error of an answer that stopped at the token limit after any
// --max-continues rounds (nil otherwise): the answer is kept and shown, the run exits 6.
func truncation(client *moonshot.Client, fixed *moonshot.ChatRequest, res *result) error {
	c := res.Completion
	if c == nil {
		return nil
	}
	for _, ch := range c.Choices {
		if ch.FinishReason != "length" {
			continue
		}
		spec, _ := client.Catalog().Lookup(fixed.Model)
		te := &cli.TruncatedError{Model: fixed.Model, Budget: spec.DefaultOutput,
			EffortTunable: spec.Family == moonshot.FamilyK3, ThinkingSwitchable: spec.Thinking == moonshot.ThinkingDefault,
			ReasoningOnly: strings.TrimSpace(ch.Message.Content) == "" && len(ch.Message.ToolCalls) == 0 &&
				(ch.Message.ReasoningContent != "" || c.Usage.ReasoningTokens() > 0)}
		switch {
		case fixed.MaxCompletionTokens != nil:
			te.Budget = *fixed.MaxCompletionTokens
		case fixed.MaxTokens != nil:
			te.Budget = *fixed.MaxTokens
		}
		return te
	}
	return nil
}
