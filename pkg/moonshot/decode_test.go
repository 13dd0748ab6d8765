package moonshot_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/moonchat/moonchat/pkg/moonshot"
)

// TestDecodeCompletionChecksLikeTheClient is the check a proxy makes on a non-streamed answer
// it relays: the same as CompletePrepared's, against the request's n.
func TestDecodeCompletionChecksLikeTheClient(t *testing.T) {
	two := 2
	r := &moonshot.ChatRequest{Model: "kimi-k2.6", N: &two}
	answer := func(indexes ...string) []byte {
		var choices []string
		for _, i := range indexes {
			choices = append(choices, `{"index":`+i+`,"message":{"role":"assistant","content":"a"},"finish_reason":"stop"}`)
		}
		return []byte(`{"id":"c1","object":"chat.completion","choices":[` + strings.Join(choices, ",") + `],"usage":{"prompt_tokens":1e300,"completion_tokens":1,"total_tokens":2}}`)
	}
	out, err := moonshot.DecodeCompletion(answer("0", "1"), r, "req-1")
	if err != nil || len(out.Choices) != 2 || out.RequestID != "req-1" {
		t.Fatalf("a good answer of two choices: %+v, %v", out, err)
	}
	if !out.UsageIgnored || out.Usage != nil {
		t.Errorf("usage out of range was kept: %+v", out.Usage)
	}
	for bad, mention := range map[string]string{"2": "choice index 2, outside the request's 0 to 1", "-1": "choice index -1", "3000000": "choice index 3000000"} {
		_, err := moonshot.DecodeCompletion(answer("0", bad), r, "req-1")
		wantUnexpected(t, err, mention)
		if !strings.Contains(err.Error(), "req-1") {
			t.Errorf("%s: the request id is not in %q", bad, err)
		}
	}
	_, err = moonshot.DecodeCompletion(answer("0", "1"), &moonshot.ChatRequest{Model: "kimi-k2.6"}, "")
	wantUnexpected(t, err, "choice index 1, outside the request's 0 to 0")
	_, err = moonshot.DecodeCompletion([]byte(`[1,2]`), r, "")
	wantUnexpected(t, err, "could not decode the response")
}

// TestUndecodableSuccessIsTemporary: a 200 whose body is not JSON is the server's failure
// (exit 75), like a stream cut short, not a failure of moonchat's (exit 1).
func TestUndecodableSuccessIsTemporary(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"data": [`)
	}))
	defer srv.Close()
	c, err := moonshot.NewClient(moonshot.Options{APIKey: key, BaseURL: srv.URL + "/v1", MaxRetries: intp(0)})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Models(context.Background())
	wantUnexpected(t, err, "could not decode the response")
	_, err = c.ChatCompletion(context.Background(), req("kimi-k2.6"))
	wantUnexpected(t, err, "could not decode the response")
}
