package chat

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/moonchat/moonchat/cmd/cli"
	"github.com/moonchat/moonchat/pkg/moonshot"
)

// readPrompt is cli.ReadPrompt, except that with -f - stdin is an attachment (attach.go), not
// part of the prompt.
func readPrompt(opts *Options) (string, error) {
	if slices.Contains(opts.Features.Files, "-") {
		return strings.Join(opts.Prompt, " "), nil
	}
	return cli.ReadPrompt(opts.IO, opts.Prompt)
}

// buildRequest turns the options into the request the user asked for, before the fixes.
func buildRequest(opts *Options, prompt string) *moonshot.ChatRequest {
	req := &moonshot.ChatRequest{
		Model:       opts.Model,
		Temperature: opts.Temperature,
		TopP:        opts.TopP,
		N:           opts.N,
		Stop:        opts.Stop,
	}
	// The output limit goes in the field the model's family documents (-m auto: the newer one).
	if spec, _ := moonshot.LookupModel(opts.Model); spec.OutputField() == "max_tokens" && opts.Model != "auto" {
		req.MaxTokens = opts.MaxTokens
	} else {
		req.MaxCompletionTokens = opts.MaxTokens
	}
	if opts.System != "" {
		req.Messages = append(req.Messages, moonshot.TextMessage("system", opts.System))
	}
	req.Messages = append(req.Messages, moonshot.TextMessage("user", prompt))
	if opts.JSONMode {
		req.ResponseFormat = &moonshot.ResponseFormat{Type: "json_object"}
	}
	return req
}

func (opts *Options) notice(format string, args ...any) {
	if !opts.Quiet {
		// Notices quote outside text at times (a file name, an upstream message).
		fmt.Fprintln(opts.IO.ErrOut, opts.IO.ErrPrintable("moonchat: "+fmt.Sprintf(format, args...)))
	}
}

func chatRun(ctx context.Context, opts *Options) error {
	if session, err := opts.wantsSession(); err != nil {
		return err
	} else if session {
		return sessionRun(ctx, opts)
	}
	format, err := resolveFormat(opts)
	if err != nil {
		return err
	}
	prompt, err := readPrompt(opts)
	if err != nil {
		return err
	}
	if strings.TrimSpace(prompt) == "" && len(opts.Features.Files) == 0 {
		return cli.Usagef("no prompt: give it as arguments (moonchat chat \"question\") or pipe text in")
	}
	th, err := opts.newThread(ctx)
	if err != nil {
		return err
	}
	client, err := opts.newClient()
	if err != nil {
		return err
	}
	res, err := opts.exchange(ctx, client, th, question{prompt: prompt}, format)
	if opts.Copy != "" && res != nil && res.Completion != nil && len(res.Completion.Choices) > 0 {
		// After the answer is shown: a clipboard failure is a warning, not the command's.
		if cerr := opts.copyAnswer(res.Completion.Choices[0].Message.Content, opts.Copy); cerr != nil {
			fmt.Fprintf(opts.IO.ErrOut, "moonchat: warning: not copied: %v\n", cerr)
		}
	}
	return err
}

func (opts *Options) newClient() (*moonshot.Client, error) {
	return opts.Factory.Client(opts.Config, cli.ClientOptions{
		Offline:   opts.Offline,
		Streaming: !opts.NoStream,
		OnRetry: func(attempt int, wait time.Duration, err error) {
			msg, _ := cli.Describe(err, opts.Config.Value("region").Raw)
			opts.notice("%s; retry %d in %s", msg, attempt, wait.Round(10*time.Millisecond))
		},
	})
}

// streamAnswer reads the stream into out and res; whatever arrived before an error is kept.
func streamAnswer(ctx context.Context, client *moonshot.Client, fixed *moonshot.ChatRequest, adj []moonshot.Adjustment, out output, res *result) {
	stream, err := client.StreamPrepared(ctx, fixed, adj)
	if err != nil {
		res.Err = err
		return
	}
	defer stream.Close()
	out.Start(fixed.Model, stream.RequestID())
	var acc moonshot.Accumulator
	for stream.Next() {
		chunk := stream.Current()
		acc.Add(chunk)
		for i := range chunk.Choices {
			c := &chunk.Choices[i]
			if c.Delta.ReasoningContent != "" {
				out.Reasoning(c.Index, c.Delta.ReasoningContent)
			}
			if c.Delta.Content != "" {
				out.Content(c.Index, c.Delta.Content)
			}
		}
		if stream.Buffered() == 0 {
			out.Flush()
		}
	}
	res.Err = stream.Err()
	res.Completion = acc.Result()
	res.Completion.RequestID = stream.RequestID()
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
