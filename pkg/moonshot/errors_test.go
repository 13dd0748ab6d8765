package moonshot

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/moonchat/moonchat/internal/errfixture"
)

// TestDocumentedErrorsClassify parses every error answer of testdata/errors (written from
// Moonshot's error reference) and checks its class: exactly one of auth, quota, rejected and
// temporary, as its expected exit code says, and the wait the server asked for.
func TestDocumentedErrorsClassify(t *testing.T) {
	for name, f := range errfixture.All(t) {
		h := http.Header{}
		for k, v := range f.Headers {
			h.Set(k, v)
		}
		e := parseAPIError(f.Status, h, f.Body)
		class := map[int]bool{3: IsAuth(e), 4: IsQuota(e), 5: IsRejected(e), 75: IsTemporary(e)}
		for code, is := range class {
			if is != (code == f.Expect.Exit) {
				t.Errorf("%s: class %d is %v (expected exit %d)", name, code, is, f.Expect.Exit)
			}
		}
		if e.RetryAfter != f.Expect.WaitSeconds {
			t.Errorf("%s: wait %v, want %v", name, e.RetryAfter, f.Expect.WaitSeconds)
		}
		if strings.Contains(name, "quota") && retryable(e) {
			t.Errorf("%s: a billing error is retried", name)
		}
	}
}

func TestXRateLimitResetForms(t *testing.T) {
	for v, want := range map[string]float64{"6": 6, "1.5": 1.5, "6s": 6, "1m30s": 90, "": 0, "soon": 0, "-3": 0, "NaN": 0} {
		h := http.Header{}
		if v != "" {
			h.Set("X-RateLimit-Reset", v)
		}
		if got := serverWait(h, ""); got != want {
			t.Errorf("X-RateLimit-Reset %q: %v, want %v", v, got, want)
		}
	}
	// A Unix time: the wait until then (within the test's own run time).
	h := http.Header{}
	h.Set("X-RateLimit-Reset", strconvInt(time.Now().Add(100*time.Second).Unix()))
	if got := serverWait(h, ""); got <= 90 || got > 100 {
		t.Errorf("a reset time 100 s ahead gives %v", got)
	}
	// Retry-After wins over the reset header.
	h.Set("Retry-After", "2")
	if got := serverWait(h, ""); got != 2 {
		t.Errorf("Retry-After ignored: %v", got)
	}
}

func strconvInt(n int64) string { b, _ := json.Marshal(n); return string(b) }
