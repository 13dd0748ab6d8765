// Package converse runs one user turn of a conversation with a Kimi model to its end, on top
// of pkg/moonshot: it prepares the request (Moonshot's parameter fixes and the per-family
// rules), puts attachments in (text inlined, documents extracted through Moonshot's files
// API), picks a model for "auto", starts the answer with a prefill (Partial Mode), streams it,
// performs the round trips Moonshot's protocol leaves to the client ($web_search), and
// continues an answer cut at its token limit when asked to. Everything that happens on the
// way is reported to an Observer; the answer, stitched from all its requests, comes back in
// a Result.
//
// The package knows nothing of terminals, flags or storage: a command line plugs its
// renderers and its history in as observers, a Go program its own.
package converse

import (
	"context"
	"time"

	"github.com/moonchat/moonchat/pkg/moonshot"
)

// Engine runs turns against one client. Its fields are settings; a turn's state lives in the
// turn, so one Engine may run turns one after another (not concurrently on one Observer).
type Engine struct {
	Client *moonshot.Client

	// NoStream waits for each whole answer instead of streaming it; the observer still sees
	// Start, Reasoning and Content, once per request.
	NoStream bool

	// FileCache returns the cache of uploaded documents, asked for when a turn first needs
	// one; nil (or a nil cache) uploads every document again.
	FileCache func() *moonshot.FileCache
	// DeleteFiles deletes each upload once its text is extracted (and forgets it in the cache).
	DeleteFiles bool
	// DryRun uploads nothing: a document that is not on the server yet is put in as a
	// placeholder. Answer must not be called on a dry run's Prepared.
	DryRun bool

	// AutoModels are the candidates of the model "auto", cheapest first.
	AutoModels []string
}

// Run prepares the turn and answers it (Prepare, then Answer). A turn that cannot be prepared
// ends with the error in the Result and no request sent.
func (e *Engine) Run(ctx context.Context, t *Turn, obs Observer) *Result {
	p, err := e.Prepare(ctx, t, obs)
	if err != nil {
		return &Result{Request: t.Request, Err: err}
	}
	return e.Answer(ctx, p, obs)
}

// Turn is one question: the request as the caller wants it before the fixes, and what the
// engine adds to it.
type Turn struct {
	// Request holds the system prompt, the earlier turns and the new question, whose last
	// message is the user message the attachments join. Model may be "auto". Prepare does not
	// change it.
	Request *moonshot.ChatRequest
	// Files are attached to the question: text is inlined after the user's text in a fenced
	// block, anything else extracted by Moonshot into a system message before it.
	Files []File
	// Images go into the user message as content parts, before its text.
	Images []moonshot.ContentPart
	// Prefill starts the answer (Partial Mode): the model continues it, and the answer the
	// observer sees and the Result holds begins with it.
	Prefill string
	// MaxContinues is how many times an answer cut at its token limit (finish_reason
	// "length") is continued in Partial Mode.
	MaxContinues int
	// Tools run the calls of the request's functions that they know (see Tools); nil: a
	// call is the answer, for the caller to show.
	Tools Tools
	// MaxSteps bounds the tool round trips (0: DefaultMaxSteps); ToolTimeout bounds each
	// call (0: none but the context's).
	MaxSteps    int
	ToolTimeout time.Duration
	// Accepts reports whether a candidate of "auto" takes the request's features (images,
	// thinking switches…); nil: every candidate does.
	Accepts func(model string) error
}

// File is an attachment's name (as the user knows it) and content.
type File struct {
	Name string
	Data []byte
}

// AutoAnswerTokens is what "auto" reserves for the answer when the request sets no limit.
const AutoAnswerTokens = 4096

// MaxSearches bounds the $web_search round trips of one answer: a model that keeps asking is
// not allowed to run up search fees.
const MaxSearches = 5

// Observer is told what happens during a turn, in order, on the goroutine that runs it.
// Embed Discard to implement only some methods.
type Observer interface {
	// Start: the first request of the answer was accepted (once per turn).
	Start(model, requestID string)
	// Reasoning and Content are the answer as it arrives, per choice (-n). Between the
	// requests of one answer, reasoning is kept apart by ReasoningBreak.
	Reasoning(choice int, text string)
	Content(choice int, text string)
	// Flush: nothing more is buffered from the network right now.
	Flush()
	// Adjusted reports a change the fixes made to the request.
	Adjusted(a moonshot.Adjustment)
	// Picked reports the model "auto" chose.
	Picked(p Pick)
	// RoundTrip reports that the answer paused for a request the engine sends by itself.
	RoundTrip(r RoundTrip)
	// Usage reports the usage of one request (nil when the server sent none).
	Usage(u *moonshot.Usage)
	// ToolCall reports a call the engine is about to run; ToolResult what it produced.
	ToolCall(call moonshot.ToolCall)
	ToolResult(step ToolStep)
	// Status is a passing state ("extracting a.pdf…"); "" ends it.
	Status(text string)
	// Notice is something the user should know that is not the answer (an upload, a cache
	// that cannot be written, a file that could not be deleted).
	Notice(text string)
}

// Pick is the choice of "auto": the model, the prompt's tokens by Moonshot's tokenizer, the
// tokens reserved for the answer, and the model's context window.
type Pick struct {
	Model                  string
	Prompt, Answer, Window int
}

// RoundTripKind says why an answer went on with another request.
type RoundTripKind int

const (
	// WebSearch: the model called $web_search; its arguments are sent back as the result.
	WebSearch RoundTripKind = iota + 1
	// Continue: the answer reached its token limit and is continued (Partial Mode).
	Continue
	// ToolCalls: the model called functions of Turn.Tools; their results are sent back.
	ToolCalls
)

// RoundTrip is one more request of the same answer.
type RoundTrip struct {
	Kind  RoundTripKind
	Calls []moonshot.ToolCall // WebSearch: the calls answered
	// Tokens: WebSearch: the prompt tokens the results add, as the calls announce them.
	Tokens int
	// N of Max: Continue: which continuation this is, of how many allowed; ToolCalls:
	// which step this is, of Turn.MaxSteps.
	N, Max int
}

// Discard is an Observer that ignores everything; embed it to implement a few methods.
type Discard struct{}

func (Discard) Start(string, string)         {}
func (Discard) Reasoning(int, string)        {}
func (Discard) Content(int, string)          {}
func (Discard) Flush()                       {}
func (Discard) Adjusted(moonshot.Adjustment) {}
func (Discard) Picked(Pick)                  {}
func (Discard) RoundTrip(RoundTrip)          {}
func (Discard) Usage(*moonshot.Usage)        {}
func (Discard) ToolCall(moonshot.ToolCall)   {}
func (Discard) ToolResult(ToolStep)          {}
func (Discard) Status(string)                {}
func (Discard) Notice(string)                {}

// ReasoningBreak separates the reasoning of successive requests of one answer (before and
// after a web search), in what the observer sees and in the stitched answer alike.
const ReasoningBreak = "\n\n"
