package proxy

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/moonchat/moonchat/pkg/emulator"
)

// Load benchmarks: each runs one scenario whatever b.N is (run them with -benchtime 1x), for
// a duration and at a rate given by the environment, so that the same code gives the short
// run of a shared machine and the long run of a quiet one:
//
//	MOONCHAT_BENCH_RATE=1000 MOONCHAT_BENCH_DURATION=60s go test -run '^$' -bench 'Rate' -benchtime 1x ./pkg/proxy
//	MOONCHAT_BENCH_DURATION=10m go test -run '^$' -bench 'Soak' -benchtime 1x -timeout 30m ./pkg/proxy

func envDuration(b *testing.B, name string, def time.Duration) time.Duration {
	if v := os.Getenv(name); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			b.Fatalf("%s: %v", name, err)
		}
		return d
	}
	return def
}

func envInt(b *testing.B, name string, def int) int {
	if v := os.Getenv(name); v != "" {
		var n int
		if _, err := fmt.Sscan(v, &n); err != nil || n <= 0 {
			b.Fatalf("%s: %q is not a positive number", name, v)
		}
		return n
	}
	return def
}

// BenchmarkRate sends MOONCHAT_BENCH_RATE (default 1,000) non-streamed requests a second
// through the proxy for MOONCHAT_BENCH_DURATION (default 10 s), each paired with the same
// request straight to the emulator (the order alternates), on an open schedule: a request
// starts at its time whether or not the earlier ones are done, so a slow proxy cannot slow
// the test down and hide its queue. Any failed request fails the benchmark. Client, proxy and
// emulator share the machine's CPUs.
func BenchmarkRate(b *testing.B) {
	rate := envInt(b, "MOONCHAT_BENCH_RATE", 1000)
	dur := envDuration(b, "MOONCHAT_BENCH_DURATION", 10*time.Second)
	e := newBenchEnv(b, 0)
	ctx := context.Background()
	for range 50 { // warm the connections
		if _, err := e.request(ctx, true, false); err != nil {
			b.Fatal(err)
		}
	}
	e.mu.Lock()
	e.residence = e.residence[:0]
	e.mu.Unlock()
	interval := time.Second / time.Duration(rate)
	n := int(dur / interval)
	direct, proxied := make([]time.Duration, n), make([]time.Duration, n)
	var failed atomic.Int64
	var firstErr atomic.Value
	var wg sync.WaitGroup
	b.ResetTimer()
	start := time.Now()
	lateMax := time.Duration(0)
	for i := range n {
		at := start.Add(time.Duration(i) * interval)
		if d := time.Until(at); d > 0 {
			time.Sleep(d)
		} else {
			lateMax = max(lateMax, -d)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			d, p, err := e.pair(ctx, i%2 == 0, false)
			if err != nil {
				failed.Add(1)
				firstErr.CompareAndSwap(nil, err.Error())
				return
			}
			direct[i], proxied[i] = d, p
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	if f := failed.Load(); f > 0 {
		b.Fatalf("%d of %d pairs failed; the first: %v", f, n, firstErr.Load())
	}
	b.ReportMetric(float64(n)/elapsed.Seconds(), "proxied-req/s")
	b.ReportMetric(float64(n), "requests")
	b.ReportMetric(0, "failures")
	b.ReportMetric(float64(lateMax.Microseconds())/1000, "schedule-late-max-ms")
	e.reportLatency(b, direct, proxied)
}

// BenchmarkSoak runs a mixed load through a proxy in a process of its own for
// MOONCHAT_BENCH_DURATION (default 60 s; the target is 10 minutes) at MOONCHAT_BENCH_RATE
// (default 200) requests a second: non-streamed answers, streams read to the end, streams
// abandoned after their first event, and requests refused locally (400, 404). It fails when a
// request gets an answer other than the expected one, when the proxy's memory grows, or when
// goroutines are left once the load is over and the idle connections are closed. Memory is
// sampled 40 times: the RSS, and the live heap and stacks after a collection. Their floor in
// the last quarter of the run (the lowest sample: the highest follow the load, which on a
// shared machine comes in bursts) may not be above the first quarter's highest by more than
// 20% + 4 MB (RSS) or 20% + 2 MB (live).
func BenchmarkSoak(b *testing.B) {
	rate := envInt(b, "MOONCHAT_BENCH_RATE", 200)
	dur := envDuration(b, "MOONCHAT_BENCH_DURATION", time.Minute)
	up := startUpstream(b, emulator.Config{NoRecord: true, Delay: 2 * time.Millisecond, Reply: func(*emulator.ChatRequest) emulator.Reply {
		return emulator.Reply{Content: benchAnswer}
	}})
	addr, pid := startProxyProcess(b, up)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 2000, MaxIdleConns: 4000}}
	defer client.CloseIdleConnections()
	e := &benchEnv{up: up, proxyURL: "http://" + addr + "/v1", client: client}
	if _, err := e.request(context.Background(), true, false); err != nil {
		b.Fatal(err)
	}
	client.CloseIdleConnections()
	idle := e.stats(b, addr, true)

	kinds := []struct {
		name   string
		body   string
		status int
		mode   string // "read", "abandon"
	}{
		{"chat", `{"model":"kimi","messages":[{"role":"user","content":"hi"}]}`, 200, "read"},
		{"chat", `{"model":"kimi","messages":[{"role":"user","content":"hi"}]}`, 200, "read"},
		{"chat", `{"model":"kimi","messages":[{"role":"user","content":"hi"}]}`, 200, "read"},
		{"stream", `{"model":"kimi","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"hi"}]}`, 200, "read"},
		{"stream", `{"model":"kimi","stream":true,"messages":[{"role":"user","content":"hi"}]}`, 200, "read"},
		{"abandoned", `{"model":"kimi","stream":true,"messages":[{"role":"user","content":"hi"}]}`, 200, "abandon"},
		{"invalid", `{"model":"kimi","stop":["a","b","c","d","e","f"],"messages":[{"role":"user","content":"hi"}]}`, 400, "read"},
		{"unknown", `{"model":"nope","messages":[{"role":"user","content":"hi"}]}`, 404, "read"},
	}
	send := func(i int) error {
		k := kinds[i%len(kinds)]
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		req, _ := http.NewRequestWithContext(ctx, "POST", e.proxyURL+"/chat/completions", strings.NewReader(k.body))
		req.Header.Set("Content-Type", "application/json")
		resp, err := client.Do(req)
		if err != nil {
			return fmt.Errorf("%s: %w", k.name, err)
		}
		defer resp.Body.Close()
		if resp.StatusCode != k.status {
			return fmt.Errorf("%s: status %d, want %d", k.name, resp.StatusCode, k.status)
		}
		if k.mode == "abandon" {
			_, err := bufio.NewReader(resp.Body).ReadSlice('\n')
			return err
		}
		body, err := io.ReadAll(resp.Body)
		if err == nil && strings.Contains(k.body, `"stream":true`) && !strings.HasSuffix(string(body), "data: [DONE]\n\n") {
			err = fmt.Errorf("%s: no [DONE]", k.name)
		}
		return err
	}

	interval := time.Second / time.Duration(rate)
	n := int(dur / interval)
	var failed atomic.Int64
	var firstErr atomic.Value
	var wg sync.WaitGroup
	var samples, live []uint64
	nextSample := time.Now()
	start := time.Now()
	b.ResetTimer()
	for i := range n {
		if d := time.Until(start.Add(time.Duration(i) * interval)); d > 0 {
			time.Sleep(d)
		}
		if time.Now().After(nextSample) {
			samples = append(samples, rss(pid))
			live = append(live, e.stats(b, addr, false).Live)
			nextSample = nextSample.Add(dur / 40)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := send(i); err != nil {
				failed.Add(1)
				firstErr.CompareAndSwap(nil, err.Error())
			}
		}()
	}
	wg.Wait()
	b.StopTimer()
	samples = append(samples, rss(pid))
	live = append(live, e.stats(b, addr, false).Live)
	if f := failed.Load(); f > 0 {
		b.Fatalf("%d of %d requests failed; the first: %v", f, n, firstErr.Load())
	}
	flat := func(what string, s []uint64, slack float64) (early, floor uint64) {
		q := max(len(s)/4, 1)
		early, floor = slices.Max(s[:q]), slices.Min(s[len(s)-q:])
		if float64(floor) > float64(early)*1.2+slack {
			b.Errorf("%s grew: at most %.1f MB in the first quarter, at least %.1f MB in the last (samples %v)", what, mb(early), mb(floor), s)
		}
		return early, floor
	}
	early, late := flat("RSS", samples, 4<<20)
	liveEarly, liveLate := flat("live heap and stacks", live, 2<<20)
	// Nothing left behind: back to the idle goroutine count once the idle connections close.
	client.CloseIdleConnections()
	left := e.goroutinesLeft(b, addr, idle)
	if left > 0 {
		b.Errorf("%d goroutines left in the proxy after the load", left)
	}
	b.ReportMetric(float64(n), "requests")
	b.ReportMetric(mb(early), "rss-first-quarter-max-MB")
	b.ReportMetric(mb(late), "rss-last-quarter-min-MB")
	b.ReportMetric(mb(slices.Max(samples)), "rss-max-MB")
	b.ReportMetric(mb(liveEarly), "live-first-quarter-max-MB")
	b.ReportMetric(mb(liveLate), "live-last-quarter-min-MB")
	b.ReportMetric(float64(max(left, 0)), "goroutines-left")
}

func mb(n uint64) float64 { return float64(n) / (1 << 20) }
