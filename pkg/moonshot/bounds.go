package moonshot

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
)

// Caps on what is read from a server, counted after decompression: a gzip body of 1 MB can
// inflate to 1 GiB, and a broken or hostile endpoint (a misconfigured api_base, a corporate
// proxy's error page) must cost an error, not the process's memory.
const (
	// MaxResponseBytes caps a non-streamed body (a completion, the model list).
	MaxResponseBytes = 32 << 20
	// MaxEventBytes caps one line and one event of a stream.
	MaxEventBytes = 8 << 20
	// MaxErrorBytes caps the body of an HTTP error.
	MaxErrorBytes = 1 << 20
	// MaxAnswerBytes caps the text an Accumulator keeps (content, reasoning and tool-call
	// arguments of all choices): a model's longest answer is about a megabyte, and a server
	// that streams small events for ever must end in an error, not in swap.
	MaxAnswerBytes = 64 << 20
	// MaxUsageTokens is the largest token count believed in a usage report. Contexts are a
	// few hundred thousand tokens; anything above this (or below 0) is a broken report.
	MaxUsageTokens = 100_000_000
	// MaxChoices caps the choice index an Accumulator takes when it was not told n (Moonshot
	// allows n up to MaxN). MaxToolCalls caps the tool-call indexes of one choice.
	MaxChoices   = 64
	MaxToolCalls = 1024
)

// overCap is the error for a read over one of the caps.
func overCap(what string, limit int, requestID string) *APIError {
	return &APIError{Type: ErrTypeUnexpectedOutput, RequestID: requestID,
		Message: fmt.Sprintf("%s is larger than moonchat's limit of %s; the server is not answering like the API", what, sizeName(limit))}
}

func sizeName(n int) string {
	if n%(1<<20) == 0 {
		return fmt.Sprintf("%d MB", n>>20)
	}
	return fmt.Sprintf("%d bytes", n)
}

// readCapped reads all of r, or fails with overCap once it passes limit.
func readCapped(r io.Reader, limit int, what, requestID string) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, int64(limit)+1))
	if len(data) > limit {
		return nil, overCap(what, limit, requestID)
	}
	return data, err
}

// notTheAPI names a successful response that cannot be the API's answer: an HTML page (a
// captive portal, a proxy's login, a web server at the wrong path). It returns nil for the
// types the API uses and for a missing type.
func notTheAPI(resp *http.Response) error {
	ct := resp.Header.Get("Content-Type")
	if ct == "" {
		return nil
	}
	media, _, err := mime.ParseMediaType(ct)
	if err != nil {
		media = strings.ToLower(strings.TrimSpace(ct))
	}
	host := "?"
	if resp.Request != nil && resp.Request.URL != nil {
		host = resp.Request.URL.Host
	}
	if media == "text/html" || media == "application/xhtml+xml" {
		return &APIError{Type: ErrTypeUnexpectedOutput, RequestID: requestID(resp.Header),
			Message: fmt.Sprintf("the server at %s answered with an HTML page, not the API (check the API base URL and any proxy in between)", host)}
	}
	return nil
}

// isJSON reports whether a response says it carries JSON.
func isJSON(resp *http.Response) bool {
	media, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	return media == "application/json" || strings.HasSuffix(media, "+json")
}

// decodeBody decodes a JSON answer. A usage report whose numbers do not fit (1e300) is not a
// reason to lose the answer: that error is ignored and reported as usageBroken, and the caller
// drops the usage.
func decodeBody(data []byte, out any) (usageBroken bool, err error) {
	err = json.Unmarshal(data, out)
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) && isUsageField(te.Field) {
		// Unmarshal goes on after a type error, so everything else was decoded.
		return true, nil
	}
	return false, err
}

func isUsageField(path string) bool {
	return path == "usage" || strings.HasPrefix(path, "usage.") || strings.Contains(path, ".usage.") || strings.HasSuffix(path, ".usage")
}

// saneUsage reports whether every count of u is within [0, MaxUsageTokens].
func saneUsage(u *Usage) bool {
	if u == nil {
		return true
	}
	counts := []int{u.PromptTokens, u.CompletionTokens, u.TotalTokens, u.CachedTokens}
	if u.PromptTokensDetails != nil {
		counts = append(counts, u.PromptTokensDetails.CachedTokens)
	}
	if u.CompletionTokensDetails != nil {
		counts = append(counts, u.CompletionTokensDetails.ReasoningTokens)
	}
	for _, n := range counts {
		if n < 0 || n > MaxUsageTokens {
			return false
		}
	}
	return true
}

// dropBrokenUsage removes usage reports that are out of range, or all of them when decoding
// found one that did not fit, and reports whether it removed any.
func (c *ChatCompletionChunk) dropBrokenUsage(undecodable bool) bool {
	dropped := dropIfBroken(&c.Usage, undecodable)
	for i := range c.Choices {
		dropped = dropIfBroken(&c.Choices[i].Usage, undecodable) || dropped
	}
	return dropped
}

// dropBrokenUsage is the same for a non-streamed answer.
func (c *ChatCompletion) dropBrokenUsage(undecodable bool) bool {
	dropped := dropIfBroken(&c.Usage, undecodable)
	for i := range c.Choices {
		dropped = dropIfBroken(&c.Choices[i].Usage, undecodable) || dropped
	}
	return dropped
}

// dropIfBroken sets *u to nil when it is out of range (or any report is suspect because
// decoding failed) and reports whether it did.
func dropIfBroken(u **Usage, undecodable bool) bool {
	if *u == nil || (!undecodable && saneUsage(*u)) {
		return false
	}
	*u = nil
	return true
}

// UsageWarning is the one warning a command prints when a usage report was ignored.
const UsageWarning = "the server reported token usage out of range; it was ignored (the answer is complete, its cost is unknown)"
