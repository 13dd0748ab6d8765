package proxy

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/moonchat/moonchat/pkg/emulator"
)

// After streams end, whether completed or abandoned by their clients, nothing of them may stay
// behind: no handler, no upstream request, no connection goroutine once the idle connections
// are closed.
func TestNoGoroutineLeftAfterStreams(t *testing.T) {
	up := startUpstream(t, emulator.Config{NoRecord: true})
	p := startProxy(t, &Config{Deployments: []Deployment{deploy("kimi", "kimi-k2-turbo-preview", up)}}, Options{})
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 200}}
	defer client.CloseIdleConnections()
	body := chatJSON("kimi", `,"stream":true,"stream_options":{"include_usage":true}`)

	base := runtime.NumGoroutine()
	const completed, abandoned = 60, 20
	var wg sync.WaitGroup
	errs := make(chan error, completed+abandoned)
	for i := 0; i < completed; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, err := client.Post(p.srv.URL+"/v1/chat/completions", "application/json", strings.NewReader(body))
			if err != nil {
				errs <- err
				return
			}
			defer resp.Body.Close()
			b, err := io.ReadAll(resp.Body)
			if err != nil || !strings.HasSuffix(string(b), "data: [DONE]\n\n") {
				errs <- io.ErrUnexpectedEOF
			}
		}()
	}
	wg.Wait()

	// Streams that stall upstream and whose clients leave after the first event.
	up.Inject(emulator.Fault{Kind: emulator.Slow, Delay: time.Hour, Times: abandoned})
	for i := 0; i < abandoned; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			req, _ := http.NewRequestWithContext(ctx, "POST", p.srv.URL+"/v1/chat/completions", strings.NewReader(body))
			resp, err := client.Do(req)
			if err != nil {
				errs <- err
				return
			}
			defer resp.Body.Close()
			if _, err := bufio.NewReader(resp.Body).ReadSlice('\n'); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if err := up.WaitCanceled(waitCtx(t), abandoned); err != nil {
		t.Fatalf("abandoned streams still run upstream: %v", err)
	}

	client.CloseIdleConnections()
	p.h.CloseIdleConnections()
	// Connection goroutines end when they read the close, which happens on their own schedule:
	// wait for the count to come back, failing with the stacks if it does not.
	deadline := time.Now().Add(10 * time.Second)
	for runtime.NumGoroutine() > base {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			t.Fatalf("%d goroutines, %d before the streams:\n%s", runtime.NumGoroutine(), base, buf[:runtime.Stack(buf, true)])
		}
		runtime.Gosched()
	}
}
