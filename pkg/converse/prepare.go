package converse

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/moonchat/moonchat/pkg/moonshot"
)

// Prepared is a turn ready to be sent: the request after the fixes, as it goes on the wire.
type Prepared struct {
	Request     *moonshot.ChatRequest
	Adjustments []moonshot.Adjustment
	// Asked is how many messages of Request are the caller's, with the attachments' document
	// messages: what the fixes add (rule 3's user message, Partial Mode's assistant message)
	// comes after them.
	Asked int

	turn *Turn
}

// ErrNoPrompt: the question has no text, and no text file was attached to stand for it.
var ErrNoPrompt = errors.New("no prompt")

// NoModelError is "auto" finding no candidate that takes the request.
type NoModelError struct {
	Candidates []string
	Skipped    []Skipped
	// Prompt and Answer are the tokens that did not fit; Prompt is 0 when no candidate
	// counted them.
	Prompt, Answer int
}

// Skipped is a candidate of "auto" passed over: Reason says why, or it is "" and Window is
// the context the prompt and answer did not fit.
type Skipped struct {
	Model  string
	Reason string
	Window int
}

func (e *NoModelError) Error() string {
	var skipped []string
	for _, s := range e.Skipped {
		if s.Reason != "" {
			skipped = append(skipped, s.Model+" ("+s.Reason+")")
		} else {
			skipped = append(skipped, fmt.Sprintf("%s (%d tokens)", s.Model, s.Window))
		}
	}
	if e.Prompt > 0 {
		return fmt.Sprintf("auto: %d prompt + %d answer tokens fit no candidate: %s", e.Prompt, e.Answer, strings.Join(skipped, ", "))
	}
	return "auto: no candidate fits: " + strings.Join(skipped, ", ")
}

// Prepare puts the attachments into the request, picks the model of "auto", gives a thinking
// model an output budget it can finish in, and applies Moonshot's fixes (each change goes to
// obs.Adjusted). Partial Mode's message is added after the fixes: rule 3 of the fixes
// appends a user message, and the partial message must stay last.
func (e *Engine) Prepare(ctx context.Context, t *Turn, obs Observer) (*Prepared, error) {
	req := t.Request.Clone()
	req.Messages = slices.Clone(t.Request.Messages)
	if len(req.Messages) == 0 {
		return nil, ErrNoPrompt
	}
	if err := e.attach(ctx, req, t.Files, t.Images, obs); err != nil {
		return nil, err
	}
	if req.Model == "auto" {
		model, err := e.pickModel(ctx, t, req, obs)
		if err != nil {
			return nil, err
		}
		req.Model = model
	}
	given := req.MaxTokens != nil || req.MaxCompletionTokens != nil
	thinkingOff := req.Thinking != nil && req.Thinking.Type == "disabled"
	if !given && !thinkingOff {
		// A thinking model shares one budget between reasoning and answer: where its server
		// default is unknown or small, send one that lets it finish.
		spec, _ := e.Client.Catalog().Lookup(req.Model)
		if n := spec.DefaultBudget(moonshot.EstimatePromptTokens(req.Messages)); n > 0 {
			if spec.OutputField() == "max_tokens" {
				req.MaxTokens = &n
			} else {
				req.MaxCompletionTokens = &n
			}
		}
	}
	fixed, adj, err := e.Client.Prepare(req, moonshot.FixOptions{})
	if err != nil {
		return nil, err
	}
	for _, a := range adj {
		obs.Adjusted(a)
	}
	if t.Prefill != "" {
		fixed.Messages = append(fixed.Messages, partialMessage(t.Prefill))
	}
	return &Prepared{Request: fixed, Adjustments: adj, Asked: len(req.Messages), turn: t}, nil
}

// pickModel is "auto": the first model of AutoModels (cheapest first) that takes the
// request's features and whose context holds the prompt, counted by Moonshot's tokenizer for
// that model, plus the answer (the request's limit, else AutoAnswerTokens).
func (e *Engine) pickModel(ctx context.Context, t *Turn, req *moonshot.ChatRequest, obs Observer) (string, error) {
	client := e.Client
	answer := AutoAnswerTokens
	switch {
	case req.MaxCompletionTokens != nil:
		answer = *req.MaxCompletionTokens
	case req.MaxTokens != nil:
		answer = *req.MaxTokens
	}
	messages := req.Messages
	if t.Prefill != "" {
		messages = append(slices.Clip(messages), partialMessage(t.Prefill))
	}
	var (
		fetched bool
		skipped []Skipped
		prompt  int
	)
	for _, id := range e.AutoModels {
		if t.Accepts != nil {
			if err := t.Accepts(id); err != nil {
				skipped = append(skipped, Skipped{Model: id, Reason: "it does not take the flags given"})
				continue
			}
		}
		spec, _ := client.Catalog().Lookup(id)
		window := spec.Context
		if window == 0 {
			// A model the built-in table does not know: the server says how large it is.
			if !fetched {
				fetched = true
				if _, _ = client.Models(ctx); ctx.Err() != nil {
					return "", ctx.Err()
				}
			}
			spec, _ = client.Catalog().Lookup(id)
			if window = spec.Context; window == 0 {
				skipped = append(skipped, Skipped{Model: id, Reason: "context length unknown"})
				continue
			}
		}
		n, err := client.EstimateTokens(ctx, id, messages)
		if err != nil {
			var apiErr *moonshot.APIError
			if errors.As(err, &apiErr) && apiErr.StatusCode == http.StatusNotFound {
				skipped = append(skipped, Skipped{Model: id, Reason: "not available to your key"})
				continue
			}
			return "", fmt.Errorf("-m auto: counting the prompt for %s: %w", id, err)
		}
		prompt = n
		if n+answer <= window {
			obs.Picked(Pick{Model: id, Prompt: n, Answer: answer, Window: window})
			return id, nil
		}
		skipped = append(skipped, Skipped{Model: id, Window: window})
	}
	return "", &NoModelError{Candidates: e.AutoModels, Skipped: skipped, Prompt: prompt, Answer: answer}
}
