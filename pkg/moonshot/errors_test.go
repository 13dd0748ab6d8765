package moonshot

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestDocumentedErrorsClassify parses every error answer of testdata/errors (written from
// Moonshot's error reference) and checks its class: exactly one of auth, quota, rejected and
// temporary, as its expected exit code says, and the wait the server asked for.
func TestDocumentedErrorsClassify(t *testing.T) {
	paths, _ := filepath.Glob(filepath.Join("testdata", "errors", "*.json"))
	if len(paths) < 20 {
		t.Fatalf("%d fixtures", len(paths))
	}
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		var f struct {
			Status  int               `json:"status"`
			Headers map[string]string `json:"headers"`
			Body    json.RawMessage   `json:"body"`
			Expect  struct {
				Exit        int     `json:"exit"`
				WaitSeconds float64 `json:"wait_seconds"`
			} `json:"expect"`
		}
		if err := json.Unmarshal(data, &f); err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		h := http.Header{}
		for k, v := range f.Headers {
			h.Set(k, v)
		}
		e := parseAPIError(f.Status, h, f.Body)
		class := map[int]bool{3: IsAuth(e), 4: IsQuota(e), 5: IsRejected(e), 75: IsTemporary(e)}
		for code, is := range class {
			if is != (code == f.Expect.Exit) {
				t.Errorf("%s: class %d is %v (expected exit %d)", filepath.Base(p), code, is, f.Expect.Exit)
			}
		}
		if e.RetryAfter != f.Expect.WaitSeconds {
			t.Errorf("%s: wait %v, want %v", filepath.Base(p), e.RetryAfter, f.Expect.WaitSeconds)
		}
		if strings.Contains(filepath.Base(p), "quota") && retryable(e) {
			t.Errorf("%s: a billing error is retried", filepath.Base(p))
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
