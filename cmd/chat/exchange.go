package chat

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/moonchat/moonchat/cmd/cli"
	"github.com/moonchat/moonchat/pkg/config"
	"github.com/moonchat/moonchat/pkg/converse"
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
func (opts *Options) exchange(ctx context.Context, client *moonshot.Client, th *thread, set *Settings, q question, format string) (*result, error) {
	start := opts.Factory.Now()
	if opts.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeoutCause(ctx, opts.Timeout, fmt.Errorf("no complete answer within --timeout %s: %w", opts.Timeout, context.DeadlineExceeded))
		defer cancel()
	}
	req := buildRequest(opts, set, q.prompt)
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
	obs := opts.answerObserver(progress, shown, format)
	eng := opts.engine(client, &set.Features)
	prepared, err := opts.prepare(ctx, eng, &set.Features, set.tools, req, obs)
	if err != nil {
		if ferr := obs.finish(&result{Err: err, Model: req.Model, Elapsed: opts.Factory.Now().Sub(start)}); ferr != nil {
			return nil, ferr
		}
		return nil, err
	}
	fixed := prepared.Request
	if r, first := th.firstUseOfRetired(client, fixed.Model); first {
		opts.notice("%s", r.Notice(fixed.Model))
	}
	if opts.DryRun {
		return nil, dryRun(opts, client, fixed)
	}
	res := &result{Model: fixed.Model, N: 1}
	if fixed.N != nil {
		res.N = *fixed.N
	}
	progress.waiting()
	answered := eng.Answer(ctx, prepared, obs)
	res.Completion, res.Err, res.Adjustments, res.SearchTokens = answered.Completion, answered.Err, answered.Adjustments, answered.SearchTokens
	res.ToolSteps = answered.ToolSteps
	if t, ok := eng.Truncation(answered); ok && res.Err == nil {
		res.Err = &cli.TruncatedError{Model: t.Model, Budget: t.Budget, ReasoningOnly: t.ReasoningOnly,
			EffortTunable: t.EffortTunable, ThinkingSwitchable: t.ThinkingSwitchable}
	}
	res.Elapsed = opts.Factory.Now().Sub(start)
	if errors.Is(res.Err, context.DeadlineExceeded) && context.Cause(ctx) != nil {
		res.Err = context.Cause(ctx)
	}

	// The attachments put the question's document messages before its user message, and
	// the fixes may add their own after it (rule 3): what was asked is in between.
	sent := sentMessages(fixed.Messages[base:prepared.Asked], set.Features.Images)
	sent = append(sent, toolTurns(answered.ToolTurns, fixed.Model)...)
	answer, keep := answerMessage(res, fixed.Model)
	save := func() {
		if keep {
			opts.keep(ctx, th, set, history.TitleFromPrompt(q.prompt), sent, answer)
			res.ConversationID = th.conv.ID
		}
	}
	idInOutput := format == "json" || format == "jsonl"
	if idInOutput {
		save()
	}
	ferr := obs.finish(res)
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

// buildRequest turns the options into the request the user asked for, before the fixes.
func buildRequest(opts *Options, set *Settings, prompt string) *moonshot.ChatRequest {
	req := &moonshot.ChatRequest{
		Model:       set.Model,
		Temperature: set.Temperature,
		TopP:        opts.TopP,
		N:           opts.N,
		Stop:        opts.Stop,
	}
	// The output limit goes in the field the model's family documents (-m auto: the newer one).
	if spec, _ := moonshot.LookupModel(set.Model); spec.OutputField() == "max_tokens" && set.Model != "auto" {
		req.MaxTokens = opts.MaxTokens
	} else {
		req.MaxCompletionTokens = opts.MaxTokens
	}
	if set.System != "" {
		req.Messages = append(req.Messages, moonshot.TextMessage("system", set.System))
	}
	req.Messages = append(req.Messages, moonshot.TextMessage("user", prompt))
	if opts.JSONMode {
		req.ResponseFormat = &moonshot.ResponseFormat{Type: "json_object"}
	}
	return req
}

// engine is the conversation engine with the options' settings, for one question.
func (opts *Options) engine(client *moonshot.Client, f *Features) *converse.Engine {
	return &converse.Engine{Client: client, NoStream: opts.NoStream, FileCache: opts.fileCache,
		DeleteFiles: !f.KeepFiles, DryRun: opts.DryRun, AutoModels: f.AutoModels}
}

// prepare completes the request with the features, checks locally what the model cannot take
// (before any request), reads the attachments, and has the engine prepare the turn.
func (opts *Options) prepare(ctx context.Context, eng *converse.Engine, f *Features, tools *toolbox, req *moonshot.ChatRequest, obs converse.Observer) (*converse.Prepared, error) {
	if req.Model != "auto" {
		if err := f.checkModel(req.Model); err != nil {
			return nil, err
		}
	} else if err := f.checkAutoModels(); err != nil {
		return nil, err
	}
	files, images, err := opts.loadAttachments(ctx, f.Files, f.Images)
	if err != nil {
		return nil, err
	}
	f.applyRequestFlags(req)
	turn := &converse.Turn{Request: req, Files: files, Images: images, Prefill: f.Prefill,
		MaxContinues: f.MaxContinues, Accepts: f.checkModel, MaxSteps: f.MaxSteps, ToolTimeout: ToolTimeout}
	if turn.Tools, err = tools.prepare(ctx, eng.Client, f, req); err != nil {
		return nil, err
	}
	p, err := eng.Prepare(ctx, turn, obs)
	var noModel *converse.NoModelError
	switch {
	case errors.Is(err, converse.ErrNoPrompt):
		return nil, cli.Usagef("no prompt: give it as arguments (moonchat chat \"question\") or pipe text in")
	case errors.As(err, &noModel):
		return nil, autoModelError(noModel)
	}
	return p, err
}

// autoModelError says why -m auto found no model, with the token counts as the user reads them.
func autoModelError(e *converse.NoModelError) error {
	var skipped []string
	for _, s := range e.Skipped {
		if s.Reason != "" {
			skipped = append(skipped, s.Model+" ("+s.Reason+")")
		} else {
			skipped = append(skipped, fmt.Sprintf("%s (%s tokens)", s.Model, cli.FormatInt(s.Window)))
		}
	}
	msg := fmt.Sprintf("-m auto: no model of auto_models fits: %s", strings.Join(skipped, ", "))
	if e.Prompt > 0 {
		msg = fmt.Sprintf("-m auto: %s prompt + %s answer tokens fit no model of auto_models: %s",
			cli.FormatInt(e.Prompt), cli.FormatInt(e.Answer), strings.Join(skipped, ", "))
	}
	return &cli.UsageError{Err: errors.New(msg),
		Hint: "shorten the input, lower --max-tokens, or add a larger model: moonchat config set auto_models " + strings.Join(e.Candidates, ",") + ",..."}
}

func dryRun(opts *Options, client *moonshot.Client, fixed *moonshot.ChatRequest) error {
	fixed.Stream = !opts.NoStream
	body, err := json.Marshal(fixed)
	if err != nil {
		return err
	}
	fmt.Fprintf(opts.IO.ErrOut, "POST %s\n", client.URL("/chat/completions"))
	_, err = fmt.Fprintf(opts.IO.Out, "%s\n", body)
	return err
}

func printUsage(opts *Options, res *result) {
	u := res.Completion.Usage
	if u == nil {
		fmt.Fprintln(opts.IO.ErrOut, "usage: not reported (the answer was cut short)")
		return
	}
	line := fmt.Sprintf("usage: %d prompt + %d completion tokens (%d cached)", u.PromptTokens, u.CompletionTokens, u.Cached())
	if r := u.ReasoningTokens(); r > 0 {
		line += fmt.Sprintf(", %d of them reasoning", r)
	}
	if res.SearchTokens > 0 {
		line += fmt.Sprintf(", %d prompt tokens of web search results", res.SearchTokens)
	}
	spec, _ := moonshot.LookupModel(res.Model)
	if spec.Price.Known() {
		line += fmt.Sprintf(" · ≈ %s %.6f", spec.Price.Currency, spec.Price.Cost(u))
	} else {
		line += " · cost unknown for " + res.Model
	}
	fmt.Fprintln(opts.IO.ErrOut, line)
}

// keep records the exchange in the thread and saves it; a failure to save is a warning.
func (opts *Options) keep(ctx context.Context, th *thread, set *Settings, title string, sent []turn, answer history.Message) {
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
	if err := th.record(ctx, opts, set, title, sent, answer); err != nil {
		opts.warnNotSaved(err)
		return
	}
	if th.save && !th.announced && th.conv.ID != "" {
		th.announced = true
		opts.announce(th.conv.ID, set.inSession)
	}
}

// newClient is the API client of a run (one question, or the whole session): a retry before
// the answer starts is a notice.
func (opts *Options) newClient() (*moonshot.Client, error) {
	return opts.Factory.Client(opts.Config, cli.ClientOptions{
		Offline:   opts.Offline,
		Streaming: !opts.NoStream,
		OnRetry: func(attempt int, wait time.Duration, err error) {
			msg, _ := cli.Describe(err, opts.Config.Value(config.KeyRegion).Raw)
			opts.notice("%s; retry %d in %s", msg, attempt, wait.Round(10*time.Millisecond))
		},
	})
}
