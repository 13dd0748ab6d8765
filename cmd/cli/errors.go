package cli

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/moonchat/moonchat/pkg/config"
	"github.com/moonchat/moonchat/pkg/history"
	"github.com/moonchat/moonchat/pkg/moonshot"
)

// Exit codes (design.md; listed under EXIT STATUS in `moonchat --help` and the man pages).
const (
	ExitOK          = 0
	ExitFailure     = 1
	ExitUsage       = 2
	ExitAuth        = 3
	ExitQuota       = 4
	ExitRejected    = 5
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
  75   temporary failure after retries (429 rate limit/overload, 5xx, network,
       timeout, incomplete stream)
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
	case ExitTemporary:
		return "temporary"
	case ExitInterrupted:
		return "interrupted"
	}
	return "failure"
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
	var readOnly *history.ReadOnlyError
	switch {
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
			"export MOONSHOT_API_KEY=sk-... or run `moonchat config set api_key` (keys: platform.moonshot.ai, or platform.moonshot.cn with --region cn); try `moonchat chat --offline` without one"
	case moonshot.IsAuth(err):
		other := "--region cn (platform.moonshot.cn)"
		if region == "cn" {
			other = "--region global (platform.moonshot.ai)"
		}
		return msg, "check MOONSHOT_API_KEY / `moonchat config get api_key`; keys of api.moonshot.ai and api.moonshot.cn are not interchangeable: if your key is from the other platform, use " + other
	case moonshot.IsQuota(err):
		return msg, "your quota or balance is used up: check it with `moonchat balance` and top up on the Moonshot platform"
	case moonshot.IsContextTooLong(err):
		return msg, "shorten the input, lower --max-tokens, or pick a model with a larger context (`moonchat models`, or -m auto)"
	case apiErr != nil && apiErr.StatusCode == 404:
		return msg, "list the models your key can use with `moonchat models`"
	case apiErr != nil && apiErr.Type == moonshot.ErrTypeIncompleteStream:
		return msg, "the partial answer was kept; run the command again (with -c to continue the conversation)"
	case apiErr != nil && apiErr.Type == moonshot.ErrTypeUnexpectedOutput:
		return msg, "the server at the API base does not answer like Moonshot's API: check MOONSHOT_API_BASE (or `moonchat config get api_base`) and any proxy in between; any partial answer was kept"
	case moonshot.IsTemporary(err):
		return msg, "Moonshot is busy or unreachable; try again later, raise --max-retries, or check your proxy settings"
	}
	return msg, ""
}
