package moonshot_test

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/moonchat/moonchat/pkg/moonshot"
)

// keyCatcher answers GET /v1/models and remembers the Authorization header it got.
type keyCatcher struct {
	mu  sync.Mutex
	got []string
}

func (k *keyCatcher) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	k.mu.Lock()
	k.got = append(k.got, r.Header.Get("Authorization"))
	k.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	w.Write([]byte(`{"data":[{"id":"kimi-k2.6"}]}`))
}

func (k *keyCatcher) seen() []string {
	k.mu.Lock()
	defer k.mu.Unlock()
	return append([]string(nil), k.got...)
}

// A redirect to another port of the same host (or another host) must not carry the key; a
// redirect within the origin keeps it.
func TestRedirectKeepsTheKeyOnItsOrigin(t *testing.T) {
	target := &keyCatcher{}
	other := httptest.NewServer(target)
	defer other.Close()
	otherURL := other.URL
	// The same host name as the API, on another port: "localhost" for both.
	_, otherPort, _ := net.SplitHostPort(strings.TrimPrefix(otherURL, "http://"))

	mux := http.NewServeMux()
	mux.HandleFunc("/v1/models", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "http://localhost:"+otherPort+"/v1/models", http.StatusTemporaryRedirect)
	})
	same := &keyCatcher{}
	mux.Handle("/v2/models", same)
	mux.HandleFunc("/moved/models", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/v2/models", http.StatusFound)
	})
	api := httptest.NewServer(mux)
	defer api.Close()
	_, apiPort, _ := net.SplitHostPort(strings.TrimPrefix(api.URL, "http://"))

	for _, tt := range []struct {
		base    string
		catcher *keyCatcher
		want    string
	}{
		{"http://localhost:" + apiPort + "/v1", target, ""},
		{"http://localhost:" + apiPort + "/moved", same, "Bearer " + key},
	} {
		c, err := moonshot.NewClient(moonshot.Options{APIKey: key, BaseURL: tt.base, MaxRetries: intp(0)})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.Models(context.Background()); err != nil {
			t.Fatalf("%s: %v", tt.base, err)
		}
		got := tt.catcher.seen()
		if len(got) != 1 || got[0] != tt.want {
			t.Errorf("%s: the redirect target got Authorization %q, want %q", tt.base, got, tt.want)
		}
	}
}
