package proxy

import (
	"bufio"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/moonchat/moonchat/internal/hostile"
	"github.com/moonchat/moonchat/pkg/emulator"
)

// TestAHostileUpstreamCostsOnlyItsRequest opens streams to a good upstream, then sends
// requests to deployments whose upstream misbehaves (gzip bomb, huge and negative choice
// indexes, a huge line, an HTML page) while those streams are open. Each bad request ends in
// an error of its own, the serve process's allocations stay bounded, and every good stream
// still ends with [DONE].
func TestAHostileUpstreamCostsOnlyItsRequest(t *testing.T) {
	up := startUpstream(t, emulator.Config{})
	up.SetReply(func(*emulator.ChatRequest) emulator.Reply {
		return emulator.Reply{Content: strings.Repeat("月の光 moonlight ", 200)}
	})
	bad := httptest.NewServer(&hostile.Server{BombBytes: 256 << 20, HugeLineBytes: 64 << 20})
	defer bad.Close()
	deps := []Deployment{deploy("good", "kimi-k2.6", up)}
	cases := []string{hostile.GzipBomb, hostile.HugeIndex, hostile.NegativeIndex, hostile.HugeLine, hostile.HTML}
	for _, c := range cases {
		deps = append(deps, Deployment{ModelName: c, Model: "kimi-k2.6", APIKey: upstreamKey, APIBase: bad.URL + "/" + c + "/v1"})
	}
	p := startProxy(t, &Config{Deployments: deps}, Options{})

	// Open the good streams and read their first event: they are in flight.
	const streams = 4
	type open struct {
		resp *http.Response
		rd   *bufio.Reader
	}
	var goods []open
	for range streams {
		req, _ := http.NewRequest("POST", p.srv.URL+"/v1/chat/completions", strings.NewReader(chatJSON("good", `,"stream":true`)))
		req.Header.Set("Content-Type", "application/json")
		resp, err := p.srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		rd := bufio.NewReader(resp.Body)
		if line, err := rd.ReadString('\n'); err != nil || !strings.HasPrefix(line, "data: ") {
			t.Fatalf("first line of a good stream: %q, %v", line, err)
		}
		goods = append(goods, open{resp, rd})
	}

	for _, c := range cases {
		for _, stream := range []string{`,"stream":true`, ""} {
			var body []byte
			var resp *http.Response
			n := hostile.Allocated(func() {
				resp, body = p.doCtx(t, context.Background(), "POST", "/v1/chat/completions", chatJSON(c, stream))
			})
			text := string(body)
			if resp.StatusCode == http.StatusOK && !strings.Contains(text, `"error"`) {
				t.Errorf("%s%s: answered %d without an error: %.200s", c, stream, resp.StatusCode, text)
			}
			if strings.Contains(text, "[DONE]") {
				t.Errorf("%s%s: a broken answer ended with [DONE]", c, stream)
			}
			if n > 160<<20 {
				t.Errorf("%s%s: serve allocated %d MB for one hostile request", c, stream, n>>20)
			}
		}
	}

	var wg sync.WaitGroup
	for i, g := range goods {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var last string
			for {
				line, err := g.rd.ReadString('\n')
				if strings.TrimSpace(line) != "" {
					last = strings.TrimSpace(line)
				}
				if err != nil {
					break
				}
			}
			if last != "data: [DONE]" {
				t.Errorf("good stream %d ended with %q", i, last)
			}
		}()
	}
	wg.Wait()
}
