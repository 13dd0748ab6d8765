package chat

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/moonchat/moonchat/internal/clitest"
	"github.com/moonchat/moonchat/pkg/config"
	"github.com/moonchat/moonchat/pkg/history"
)

// latest is the newest saved conversation (zero when there is none).
func latest(t *testing.T, store *history.Store) history.Conversation {
	t.Helper()
	c, err := store.Latest(context.Background())
	if err != nil && !errors.Is(err, history.ErrNotFound) {
		t.Fatal(err)
	}
	return c
}

// fuzzServer answers every request with the response the fuzzer made up.
type fuzzServer struct {
	mu     sync.Mutex
	body   []byte
	mode   uint8
	repeat int
}

func (s *fuzzServer) set(body []byte, mode uint8, repeat int) {
	s.mu.Lock()
	s.body, s.mode, s.repeat = body, mode, repeat
	s.mu.Unlock()
}

func (s *fuzzServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	body, mode, repeat := s.body, s.mode, s.repeat
	s.mu.Unlock()
	switch mode & 3 {
	case 0:
		w.Header().Set("Content-Type", "text/event-stream")
	case 1:
		w.Header().Set("Content-Type", "application/json")
	case 2:
		w.Header().Set("Content-Type", "text/html")
	}
	piece := body
	if mode&4 != 0 {
		// gzip members may follow one another: one compressed copy, repeated, inflates to
		// the body repeated, at no cost here.
		w.Header().Set("Content-Encoding", "gzip")
		var z bytes.Buffer
		zw := gzip.NewWriter(&z)
		zw.Write(body)
		zw.Close()
		piece = z.Bytes()
	}
	out := bytes.Repeat(piece, repeat)
	status := http.StatusOK
	if mode&0x30 == 0x30 {
		status = http.StatusInternalServerError
	}
	w.WriteHeader(status)
	w.Write(out)
}

// FuzzClientPath drives the whole client path of `moonchat chat` with made-up HTTP responses
// from an in-process server: the response bytes (repeated, optionally gzip-encoded, under
// one of several content types) go through the Stream, the Accumulator, a renderer (plain
// or markdown) and the history. It must never panic, must stay within a memory bound, and
// what was printed of an answer must be what was saved of it.
//
//	go test -run='^$' -fuzz=FuzzClientPath -fuzztime=10m ./cmd/chat/
func FuzzClientPath(f *testing.F) {
	srv := &fuzzServer{}
	ts := httptest.NewUnstartedServer(srv)
	// Each run builds its own client, as a process does; kept-alive connections would pile
	// up over millions of runs.
	ts.Config.SetKeepAlivesEnabled(false)
	ts.Start()
	defer ts.Close()
	dir := f.TempDir()
	for _, k := range config.Keys() {
		for _, name := range k.Env {
			f.Setenv(name, "")
		}
	}
	// One history database for all runs: creating one per run would be most of the work.
	// Each run looks at what it added.
	for name, value := range map[string]string{
		"XDG_CONFIG_HOME": filepath.Join(dir, "config"), "XDG_CACHE_HOME": filepath.Join(dir, "cache"),
		"XDG_DATA_HOME": filepath.Join(dir, "data"),
		"HOME":          filepath.Join(dir, "home"), "MOONCHAT_CONFIG": "", "HTTPS_PROXY": "", "HTTP_PROXY": "",
		"MOONSHOT_API_BASE": ts.URL + "/v1", "MOONSHOT_API_KEY": testKey,
	} {
		f.Setenv(name, value)
	}

	chunk := func(content string) string {
		return `data: {"id":"c","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":` + content + `}}]}` + "\n\n"
	}
	f.Add([]byte(chunk(`"月の光 "`)+chunk(`"**moon**"`)+"data: [DONE]\n\n"), uint8(0), uint16(1))
	f.Add([]byte(chunk(`"\xe6\x9c"`)+chunk(`"\x88"`)+"data: [DONE]\n\n"), uint8(8), uint16(1))
	f.Add([]byte(chunk(`"part"`)+`data: {"choices":[{"index":-1,"delta":{"content":"x"}}]}`+"\n\n"), uint8(0), uint16(1))
	f.Add([]byte(chunk(`"part"`)+`data: {"choices":[{"index":3000000,"delta":{"content":"x"}}]}`+"\n\n"), uint8(4), uint16(1))
	f.Add([]byte(`data: {"choices":[{"index":0,"delta":{"content":"a"},"usage":{"prompt_tokens":1e300}}]}`+"\n\ndata: [DONE]\n\n"), uint8(0), uint16(1))
	f.Add([]byte(`{"id":"x","choices":[{"index":0,"message":{"role":"assistant","content":"whole"},"finish_reason":"stop"}]}`), uint8(1), uint16(1))
	f.Add([]byte("<html><body>login</body></html>"), uint8(2), uint16(1))
	f.Add([]byte(`data: {"error":{"type":"rate_limit_reached_error","message":"slow down"}}`+"\n\n"), uint8(0), uint16(1))
	f.Add([]byte(chunk(`"# T\n\n`+"```go\\nx\\n"+`"`)), uint8(8), uint16(3))
	f.Add([]byte("aaaaaaaaaaaaaaaa"), uint8(4), uint16(65535))

	f.Fuzz(func(t *testing.T, body []byte, mode uint8, repeat uint16) {
		n := int(repeat)%64 + 1
		if mode&4 != 0 {
			n = int(repeat) + 1 // gzip: up to 64K copies, a bomb of up to a few hundred MB
		}
		srv.set(body, mode, n)
		e := &testEnv{t: t}
		store := clitest.OpenHistory(t)
		before := latest(t, store)
		format := "text"
		if mode&8 != 0 {
			format = "markdown"
		}
		var memBefore, memAfter runtime.MemStats
		runtime.ReadMemStats(&memBefore)
		r := e.runWith(invocation{}, "-m", "kimi-k2.6", "--max-retries", "0", "--format", format, "hi")
		runtime.ReadMemStats(&memAfter)
		// Bounded: the caps are 8 MB a stream event and 32 MB a body; whatever the
		// response, one run stays within a small multiple of them.
		if grown := memAfter.HeapAlloc - min(memBefore.HeapAlloc, memAfter.HeapAlloc); grown > 256<<20 {
			t.Errorf("the heap grew by %d MB", grown>>20)
		}
		switch r.code {
		case 0, 3, 4, 5, 6, 75:
		default:
			t.Fatalf("exit %d: %v\nstderr: %s", r.code, r.err, r.stderr)
		}
		saved := latest(t, store)
		if saved.ID == "" || saved.ID == before.ID {
			return // nothing saved: the answer did not begin
		}
		if format == "text" {
			_, msgs, err := store.Get(context.Background(), saved.ID)
			if err != nil {
				t.Fatal(err)
			}
			if len(msgs) != 2 {
				t.Fatalf("saved %d messages", len(msgs))
			}
			if printed := strings.TrimSuffix(r.stdout, "\n"); printed != strings.TrimSuffix(msgs[1].Content, "\n") {
				t.Fatalf("printed %q, saved %q", printed, msgs[1].Content)
			}
		}
	})
}
