package moonshot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Moonshot's error types (docs/moonshot-api.md §5).
const (
	ErrTypeInvalidRequest   = "invalid_request_error"
	ErrTypeContentFilter    = "content_filter"
	ErrTypeInvalidAuth      = "invalid_authentication_error"
	ErrTypeIncorrectKey     = "incorrect_api_key_error"
	ErrTypePermissionDenied = "permission_denied_error"
	ErrTypeNotFound         = "resource_not_found_error"
	ErrTypeEngineOverloaded = "engine_overloaded_error"
	ErrTypeQuotaExceeded    = "exceeded_current_quota_error"
	ErrTypeRateLimit        = "rate_limit_reached_error"
	ErrTypeServer           = "server_error"
	ErrTypeUnexpectedOutput = "unexpected_output"
	ErrTypeIncompleteStream = "incomplete_stream"
	ErrTypeMissingAPIKey    = "missing_api_key"
)

// APIError is an error reported by Moonshot: an HTTP error, an error event inside a stream, or a
// stream that ended without [DONE].
type APIError struct {
	StatusCode int    `json:"status,omitempty"` // 0 for errors inside a 200 stream
	Type       string `json:"type"`
	Message    string `json:"message"`
	Code       string `json:"code,omitempty"`
	RequestID  string `json:"request_id,omitempty"`
	// RetryAfter is the wait the server asked for, in seconds, when it said so.
	RetryAfter float64 `json:"-"`
}

func (e *APIError) Error() string {
	var b strings.Builder
	b.WriteString("moonshot: ")
	if e.StatusCode != 0 {
		fmt.Fprintf(&b, "%d ", e.StatusCode)
	}
	if e.Type != "" {
		b.WriteString(e.Type)
		b.WriteString(": ")
	}
	b.WriteString(e.Message)
	if e.RequestID != "" {
		fmt.Fprintf(&b, " (request id %s)", e.RequestID)
	}
	return b.String()
}

// ErrMissingAPIKey is returned before any request when no key is configured.
var ErrMissingAPIKey = &APIError{Type: ErrTypeMissingAPIKey, Message: "no Moonshot API key is set"}

// errorBody is Moonshot's (and OpenAI's) error envelope.
type errorBody struct {
	Error *struct {
		Type    string          `json:"type"`
		Message string          `json:"message"`
		Code    json.RawMessage `json:"code"`
	} `json:"error"`
}

// parseAPIError builds an APIError from a non-2xx response body.
func parseAPIError(status int, header http.Header, body []byte) *APIError {
	e := &APIError{StatusCode: status, RequestID: requestID(header)}
	var eb errorBody
	if json.Unmarshal(body, &eb) == nil && eb.Error != nil {
		e.Type = eb.Error.Type
		e.Message = eb.Error.Message
		if len(eb.Error.Code) > 0 && string(eb.Error.Code) != "null" {
			var s string
			if json.Unmarshal(eb.Error.Code, &s) != nil {
				s = string(eb.Error.Code)
			}
			e.Code = s
		}
	} else {
		msg := strings.TrimSpace(string(body))
		if len(msg) > 200 {
			msg = msg[:200] + "…"
		}
		if msg == "" {
			msg = http.StatusText(status)
		}
		e.Message = msg
	}
	if e.Type == "" {
		e.Type = defaultTypeFor(status)
	}
	e.RetryAfter = serverWait(header, e.Message)
	return e
}

// serverWait is the wait a 429 or 5xx asked for, in seconds: Retry-After or Moonshot's "try
// again after N seconds", else X-RateLimit-Reset, which the kimi.com help centre names. Its
// format is not documented, so a duration ("6s", "1m30s"), seconds, or a Unix time are read.
func serverWait(h http.Header, message string) float64 {
	if s := retryAfter(h, message); s > 0 {
		return s
	}
	v := strings.TrimSpace(h.Get("X-RateLimit-Reset"))
	if v == "" {
		return 0
	}
	if d, err := time.ParseDuration(v); err == nil && d > 0 {
		return d.Seconds()
	}
	s, err := strconv.ParseFloat(v, 64)
	switch {
	case err != nil || s <= 0 || math.IsInf(s, 0) || math.IsNaN(s):
		return 0
	case s > 1e9: // a Unix time, not a number of seconds
		return max(time.Until(time.Unix(int64(s), 0)).Seconds(), 0)
	}
	return s
}

func defaultTypeFor(status int) string {
	switch {
	case status == 401:
		return ErrTypeInvalidAuth
	case status == 403:
		return ErrTypePermissionDenied
	case status == 404:
		return ErrTypeNotFound
	case status == 429:
		return ErrTypeRateLimit
	case status >= 500:
		return ErrTypeServer
	}
	return ErrTypeInvalidRequest
}

func requestID(h http.Header) string {
	for _, k := range []string{"Msh-Request-Id", "X-Request-Id", "X-Msh-Trace-Id", "X-Trace-Id"} {
		if v := h.Get(k); v != "" {
			return v
		}
	}
	return ""
}

func asAPIError(err error) (*APIError, bool) {
	var e *APIError
	ok := errors.As(err, &e)
	return e, ok
}

// IsAuth reports an authentication or permission failure (401, 403, no key).
func IsAuth(err error) bool {
	e, ok := asAPIError(err)
	if !ok {
		return false
	}
	return e.StatusCode == 401 || e.StatusCode == 403 || e.Type == ErrTypeMissingAPIKey ||
		e.Type == ErrTypeInvalidAuth || e.Type == ErrTypeIncorrectKey || e.Type == ErrTypePermissionDenied
}

// IsQuota reports an exhausted quota or balance: a billing problem, never retried.
func IsQuota(err error) bool {
	e, ok := asAPIError(err)
	return ok && e.Type == ErrTypeQuotaExceeded
}

// IsRejected reports a request the API refused as invalid: bad parameters, context too long,
// content filter, unknown model. Local validation failures count too.
func IsRejected(err error) bool {
	var inv *InvalidRequestError
	if errors.As(err, &inv) {
		return true
	}
	e, ok := asAPIError(err)
	if !ok || IsAuth(err) || IsQuota(err) {
		return false
	}
	switch e.StatusCode {
	case 400, 404, 413, 422:
		return true
	}
	return e.StatusCode == 0 && (e.Type == ErrTypeContentFilter || e.Type == ErrTypeInvalidRequest)
}

// IsTemporary reports a failure that may succeed later: rate limit, overload, 5xx, network
// errors, timeouts, streams cut before [DONE] and answers that are not what the API sends.
func IsTemporary(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) {
		return false
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	if e, ok := asAPIError(err); ok {
		if e.Type == ErrTypeQuotaExceeded {
			return false
		}
		if e.StatusCode == 429 || e.StatusCode >= 500 {
			return true
		}
		// No HTTP status (an error inside a stream), or a success status on an answer that was
		// not what it claimed: a body that does not decode is the server's failure, as a stream
		// cut short is.
		if e.StatusCode < 400 {
			return e.Type == ErrTypeIncompleteStream || e.Type == ErrTypeServer ||
				e.Type == ErrTypeEngineOverloaded || e.Type == ErrTypeRateLimit || e.Type == ErrTypeUnexpectedOutput
		}
		return false
	}
	var ne net.Error
	if errors.As(err, &ne) {
		return true
	}
	var oe *net.OpError
	return errors.As(err, &oe)
}

var notFoundModel = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^Not found the model (\S+) or Permission denied`) })

// RetiredModel reports a 404 for a model the built-in table marks retired (Moonshot answers
// `Not found the model <id> or Permission denied`), with the model's spec.
func RetiredModel(err error) (ModelSpec, bool) {
	e, ok := asAPIError(err)
	if !ok || e.StatusCode != http.StatusNotFound {
		return ModelSpec{}, false
	}
	m := notFoundModel().FindStringSubmatch(e.Message)
	if m == nil {
		return ModelSpec{}, false
	}
	spec, known := LookupModel(m[1])
	return spec, known && spec.Retired != nil
}

// IsContextTooLong reports the API's refusal of a prompt that does not fit the model.
func IsContextTooLong(err error) bool {
	e, ok := asAPIError(err)
	return ok && e.StatusCode == 400 && (strings.Contains(e.Message, "exceeded model token limit") ||
		strings.Contains(e.Message, "Input token length too long"))
}
