package cli

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/moonchat/moonchat/pkg/config"
	"github.com/moonchat/moonchat/pkg/history"
	"github.com/moonchat/moonchat/pkg/moonshot"
)

// Exit codes, one per kind of failure so scripts can tell them apart (listed under EXIT STATUS in
// `moonchat --help` and the man pages; ExitCode is the one place errors are mapped to them).
const (
	ExitOK          = 0
	ExitFailure     = 1
	ExitUsage       = 2
	ExitAuth        = 3
	ExitQuota       = 4
	ExitRejected    = 5
	ExitTruncated   = 6
	ExitTemporary   = 75
	ExitInterrupted = 130
)

// ExitStatusHelp is the EXIT STATUS text shown in help and man pages.
const ExitStatusHelp = `  0    success
  1    failure not covered below
  2    usage or configuration error (bad flag, bad value, unreadable config)
  3    authentication or permission (401/403, missing key)
  4    quota or balance exhausted (exceeded_current_quota_error)
  5    request rejected by the API (400/404/422: bad parameters, context too long,
       content filter, unknown model)
  6    answer truncated at the token limit (finish_reason "length" after any
       --max-continues rounds; the partial answer is printed and saved)
  75   temporary failure after retries (429 rate limit/overload, 5xx, network,
       timeout, incomplete stream, an answer that is not the API's shape)
  129  interrupted by SIGHUP (terminal closed); the partial answer is saved
  130  interrupted (Ctrl-C); the partial answer is saved
  143  interrupted by SIGTERM; the partial answer is saved`

// UsageError is a bad flag, argument or value: exit 2. Hint, when set, is printed under it.
type UsageError struct {
	Err  error
	Hint string
}

func (e *UsageError) Error() string { return e.Err.Error() }
func (e *UsageError) Unwrap() error { return e.Err }

// Usagef builds a UsageError.
func Usagef(format string, args ...any) error {
	return &UsageError{Err: fmt.Errorf(format, args...)}
}

// TruncatedError is an answer that stopped at the token limit (finish_reason "length") after
// any --max-continues rounds: what arrived is printed and saved, and the run exits 6 so that a
// script cannot take half an answer for a whole one.
type TruncatedError struct {
	Model string
	// Budget is the output limit the request had (sent, or the server's known default); 0 when
	// unknown.
	Budget int
	// ReasoningOnly: the model spent the whole budget reasoning and wrote no answer.
	ReasoningOnly bool
	// EffortTunable: the model takes --reasoning-effort; ThinkingSwitchable: --no-thinking.
	EffortTunable, ThinkingSwitchable bool
}

func (e *TruncatedError) Error() string {
	limit := "the token limit"
	if e.Budget > 0 {
		limit = fmt.Sprintf("the token limit (%s tokens)", FormatInt(e.Budget))
	}
	if e.ReasoningOnly {
		return fmt.Sprintf("no answer: %s spent its whole output budget on reasoning and stopped at %s before writing one", e.Model, limit)
	}
	return "answer truncated at " + limit
}

// ExitCode is 6.
func (e *TruncatedError) ExitCode() int { return ExitTruncated }

func (e *TruncatedError) hint() string {
	more := "raise --max-tokens"
	if e.Budget > 0 {
		more = fmt.Sprintf("raise --max-tokens (e.g. --max-tokens %d)", max(e.Budget*2, 16000))
	}
	if e.ReasoningOnly {
		h := more + "; reasoning and answer share one budget"
		if e.EffortTunable {
			h += ", or lower --reasoning-effort (low thinks least)"
		}
		if e.ThinkingSwitchable {
			h += ", or answer without thinking: --no-thinking"
		}
		return h
	}
	return more + ", or let moonchat continue the answer: --max-continues 3"
}

// ExitError carries an exit code for a failure that was already reported (for example in a
// JSON error object on stdout): the root prints nothing more.
type ExitError struct {
	Code int
	Err  error
}

func (e *ExitError) Error() string {
	if e.Err == nil {
		return fmt.Sprintf("exit %d", e.Code)
	}
	return e.Err.Error()
}
func (e *ExitError) Unwrap() error { return e.Err }

// CodedError lets a package outside cmd declare its exit code (config errors say 2).
type CodedError interface {
	error
	ExitCode() int
}

// ExitCode maps an error to the process exit code.
func ExitCode(err error) int {
	if err == nil {
		return ExitOK
	}
	var ee *ExitError
	if errors.As(err, &ee) {
		return ee.Code
	}
	var ue *UsageError
	if errors.As(err, &ue) {
		return ExitUsage
	}
	var inv *moonshot.InvalidRequestError
	var fileErr *config.FileError
	var valErr *config.ValueError
	if errors.As(err, &inv) || errors.As(err, &fileErr) || errors.As(err, &valErr) || errors.Is(err, config.ErrUnknownKey) {
		return ExitUsage
	}
	var ce CodedError
	if errors.As(err, &ce) {
		return ce.ExitCode()
	}
	switch {
	case errors.Is(err, context.Canceled):
		return ExitInterrupted
	case moonshot.IsAuth(err):
		return ExitAuth
	case moonshot.IsQuota(err):
		return ExitQuota
	case moonshot.IsRejected(err):
		return ExitRejected
	case moonshot.IsTemporary(err):
		return ExitTemporary
	}
	return ExitFailure
}

// ErrorKind is a short class name for JSON error objects ("auth", "quota", ...).
func ErrorKind(err error) string {
	switch ExitCode(err) {
	case ExitUsage:
		return "usage"
	case ExitAuth:
		return "auth"
	case ExitQuota:
		return "quota"
	case ExitRejected:
		return "rejected"
	case ExitTruncated:
		return "truncated"
	case ExitTemporary:
		return "temporary"
	case ExitInterrupted:
		return "interrupted"
	}
	return "failure"
}

// ServerWait is how long the server asked to wait before the next request, for a temporary
// failure whose answer said so (Retry-After, X-RateLimit-Reset, "try again after N seconds"):
// both a wait longer than moonchat retries after and one it honoured until the retries ran
// out. Other failures report none: a quota or a rejected request does not clear by waiting.
func ServerWait(err error) (time.Duration, bool) {
	if ExitCode(err) != ExitTemporary {
		return 0, false
	}
	// With no base delay, RetryDelay reports only a wait the server asked for; a
	// WaitTooLongError unwraps to the error that asked, so its Wait is this same value.
	d, asked := moonshot.RetryDelay(0, err, 0, 0)
	return d, asked && d > 0
}

// Describe returns the one-line message and the hint (possibly empty) that the root prints.
// region is the configured region, used to point a 401 at the other platform.
func Describe(err error, region string) (msg, hint string) {
	msg = err.Error()
	var ue *UsageError
	if errors.As(err, &ue) && ue.Hint != "" {
		return msg, ue.Hint
	}
	var apiErr *moonshot.APIError
	if errors.As(err, &apiErr) {
		msg = strings.TrimPrefix(apiErr.Error(), "moonshot: ")
	}
	var corrupt *history.CorruptError
	var truncated *TruncatedError
	var readOnly *history.ReadOnlyError
	var tooLong *moonshot.WaitTooLongError
	switch {
	case errors.As(err, &truncated):
		return msg, truncated.hint()
	case errors.As(err, &readOnly):
		return msg, fmt.Sprintf("reading the history still works; to save, make %s writable, or pass --no-save", filepath.Dir(readOnly.Path))
	case errors.Is(err, context.Canceled):
		return "interrupted", ""
	case errors.As(err, &corrupt):
		return msg, fmt.Sprintf("moonchat leaves the file as it is; to start an empty history, rename it: mv %q %q", corrupt.Path, corrupt.Path+".broken")
	case errors.Is(err, context.DeadlineExceeded):
		return msg, "raise --timeout (or `moonchat config set timeout 20m`) or try again later"
	case apiErr != nil && apiErr.Type == moonshot.ErrTypeMissingAPIKey:
		return "no Moonshot API key is set",
			"run `moonchat config init` to set one up (or export MOONSHOT_API_KEY=sk-...); keys are made at platform.moonshot.ai, or platform.moonshot.cn for the China platform; `moonchat chat --offline` works without one"
	case moonshot.IsAuth(err):
		other := "--region cn (platform.moonshot.cn)"
		if region == "cn" {
			other = "--region global (platform.moonshot.ai)"
		}
		return msg, "check MOONSHOT_API_KEY / `moonchat config get api_key`; keys of api.moonshot.ai and api.moonshot.cn are not interchangeable: if your key is from the other platform, use " + other
	case moonshot.IsQuota(err):
		return msg, "your quota or balance is used up: check it with `moonchat balance` and top up on the Moonshot platform"
	case apiErr != nil && apiErr.Type == moonshot.ErrTypeContentFilter:
		return msg, "Moonshot's content filter refused the request (its input or the answer being written); rephrase it"
	case moonshot.IsContextTooLong(err):
		return msg, "shorten the input, lower --max-tokens, or pick a model with a larger context (`moonchat models`, or -m auto)"
	case apiErr != nil && apiErr.StatusCode == 404 && retired(err) != "":
		return msg, retired(err)
	case apiErr != nil && apiErr.StatusCode == 404:
		return msg, "list the models your key can use with `moonchat models`"
	case apiErr != nil && apiErr.StatusCode == 400 && documentedHint(apiErr.Message) != "":
		return msg, documentedHint(apiErr.Message)
	case apiErr != nil && apiErr.Type == moonshot.ErrTypeIncompleteStream:
		return msg, "the partial answer was kept; run the command again (with -c to continue the conversation)"
	case apiErr != nil && apiErr.Type == moonshot.ErrTypeUnexpectedOutput:
		return msg, "the server at the API base does not answer like Moonshot's API: check MOONSHOT_API_BASE (or `moonchat config get api_base`) and any proxy in between; any partial answer was kept"
	case errors.As(err, &tooLong):
		return msg, fmt.Sprintf("Moonshot asks to wait %s before the next request (moonchat retries only after waits of up to %s); try again later",
			waitText(tooLong.Wait), waitText(tooLong.Limit))
	case moonshot.IsTemporary(err):
		return msg, "Moonshot is busy or unreachable; try again later, raise --max-retries, or check your proxy settings"
	}
	return msg, ""
}

// waitText says a wait the way a person reads it, rounded up: "45 s", "3 min", "2 h".
func waitText(d time.Duration) string {
	switch {
	case d <= 2*time.Minute:
		return fmt.Sprintf("%d s", CeilSeconds(d))
	case d <= 2*time.Hour:
		return fmt.Sprintf("%d min", int64((d+time.Minute-1)/time.Minute))
	}
	return fmt.Sprintf("%d h", int64((d+time.Hour-1)/time.Hour))
}

// CeilSeconds is d in whole seconds, rounded up: a script that sleeps that long after a
// server's requested wait does not come back early.
func CeilSeconds(d time.Duration) int64 {
	return int64((d + time.Second - 1) / time.Second)
}

// retired is the hint for a 404 on a model Moonshot retired: the model to use instead.
func retired(err error) string {
	spec, ok := moonshot.RetiredModel(err)
	if !ok {
		return ""
	}
	r := spec.Retired
	return fmt.Sprintf("%s: -m %s, or `moonchat config set model %s`", r.Sentence(spec.ID), r.Replacement, r.Replacement)
}

var (
	pinnedValue = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`^invalid (\w+): only (\S+) is allowed for this model`)
	})
	missingThinking = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`reasoning_content is missing in assistant tool call message at index (\d+)`)
	})
)

// documentedHint is the hint for one of the 400 messages Moonshot documents for the rules of
// its newer models, or "".
func documentedHint(message string) string {
	switch {
	case strings.HasPrefix(message, "invalid thinking: only type=enabled"):
		return "this model always thinks: leave out --no-thinking (or thinking: {type: disabled})"
	case strings.Contains(message, "is incompatible with thinking enabled"):
		return "the model refuses a forced tool choice while it thinks: use --no-thinking on a model that can switch it off, or tool_choice auto"
	}
	if m := pinnedValue().FindStringSubmatch(message); m != nil {
		return fmt.Sprintf("this model fixes the value of %s to %s: leave it out (moonchat's fixes drop it on the models they know)", m[1], m[2])
	}
	if m := missingThinking().FindStringSubmatch(message); m != nil {
		return fmt.Sprintf("the assistant tool-call turn at message %s was sent without its reasoning_content, which a thinking model needs back: send every such turn's reasoning (moonchat's history keeps it)", m[1])
	}
	return ""
}
