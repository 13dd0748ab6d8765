package proxy

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/moonchat/moonchat/pkg/emulator"
)

// The benchmarks run the client, the proxy and the emulator in one process on loopback. Each
// client alternates a request straight to the emulator with the same request through the
// proxy, so both paths see the same load; "added" is the proxy path's percentile minus the
// direct path's. Run them with a fixed count, enough for the percentiles:
//
//	go test -run '^$' -bench . -benchtime 4000x ./pkg/proxy

// benchAnswer is a realistic short answer: about 600 bytes, 38 stream chunks.
var benchAnswer = strings.Repeat("Kimi answers through the proxy. ", 19)

type benchEnv struct {
	up       *emulator.Server
	proxyURL string
	client   *http.Client
	handler  *Handler

	mu        sync.Mutex
	residence []time.Duration // time spent in the proxy by each proxied request
}

func newBenchEnv(b *testing.B, delay time.Duration) *benchEnv {
	b.Helper()
	up := startUpstream(b, emulator.Config{NoRecord: true, Delay: delay, Reply: func(*emulator.ChatRequest) emulator.Reply {
		return emulator.Reply{Content: benchAnswer}
	}})
	// The access log is formatted as in production, and thrown away.
	h, err := New(&Config{Deployments: []Deployment{deploy("kimi", "kimi-k2-turbo-preview", up)}},
		Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), HTTPClient: &http.Client{Transport: timedTransport{upstreamTransport()}}})
	if err != nil {
		b.Fatal(err)
	}
	e := &benchEnv{up: up, handler: h}
	srv := httptest.NewServer(http.HandlerFunc(e.timed))
	e.client = &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 2000, MaxIdleConns: 4000}}
	e.proxyURL = srv.URL + "/v1"
	b.Cleanup(func() {
		e.client.CloseIdleConnections()
		srv.Close()
		h.CloseIdleConnections()
	})
	return e
}

// The proxy's residence time is what it adds besides one more loopback hop: from the arrival
// of a request to its upstream request, plus from the upstream's answer (its headers, which
// the emulator sends with the first event) to the first bytes written to the client. Measured
// on each request, it does not depend on the client's and the emulator's own delays, which
// the end-to-end comparison also contains.
type timing struct{ arrived, sent, answered time.Time }

type timingKey struct{}

// timedTransport notes when the proxy's upstream request leaves and when its answer begins.
type timedTransport struct{ base http.RoundTripper }

func (t timedTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	tm, _ := r.Context().Value(timingKey{}).(*timing)
	if tm != nil {
		tm.sent = time.Now()
	}
	resp, err := t.base.RoundTrip(r)
	if tm != nil {
		tm.answered = time.Now()
	}
	return resp, err
}

// upstreamTransport is what New gives a plain client (which it cannot see behind the wrapper).
func upstreamTransport() *http.Transport {
	return transportOf(upstreamClient(nil)).(*http.Transport)
}

// firstWrite notes the first bytes written to the client.
type firstWrite struct {
	http.ResponseWriter
	at time.Time
}

func (w *firstWrite) Write(b []byte) (int, error) {
	if w.at.IsZero() {
		w.at = time.Now()
	}
	return w.ResponseWriter.Write(b)
}

func (w *firstWrite) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (e *benchEnv) timed(w http.ResponseWriter, r *http.Request) {
	tm := &timing{arrived: time.Now()}
	fw := &firstWrite{ResponseWriter: w}
	e.handler.ServeHTTP(fw, r.WithContext(context.WithValue(r.Context(), timingKey{}, tm)))
	if tm.sent.IsZero() || tm.answered.IsZero() || fw.at.IsZero() {
		return
	}
	d := tm.sent.Sub(tm.arrived) + fw.at.Sub(tm.answered)
	e.mu.Lock()
	e.residence = append(e.residence, d)
	e.mu.Unlock()
}

// request sends one chat request straight to the emulator or through the proxy. It returns the
// time until the answer is complete (not streamed) or until the first event (streamed); a
// stream is read to its end either way.
func (e *benchEnv) request(ctx context.Context, viaProxy, stream bool) (time.Duration, error) {
	base, model, key := e.up.URL, "kimi-k2-turbo-preview", upstreamKey
	if viaProxy {
		base, model = e.proxyURL, "kimi"
	}
	body := `{"model":"` + model + `","messages":[{"role":"user","content":"Say something about proxies."}]`
	if stream {
		body += `,"stream":true`
	}
	body += "}"
	req, err := http.NewRequestWithContext(ctx, "POST", base+"/chat/completions", strings.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", "application/json")
	start := time.Now()
	resp, err := e.client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		b, _ := io.ReadAll(resp.Body)
		return 0, fmt.Errorf("status %d: %s", resp.StatusCode, b)
	}
	if !stream {
		_, err := io.Copy(io.Discard, resp.Body)
		return time.Since(start), err
	}
	br := bufio.NewReader(resp.Body)
	line, err := br.ReadSlice('\n')
	first := time.Since(start)
	if err != nil || !bytes.HasPrefix(line, []byte("data: {")) {
		return 0, fmt.Errorf("first event %q: %v", line, err)
	}
	rest, err := io.ReadAll(br)
	if err == nil && !bytes.HasSuffix(rest, []byte("data: [DONE]\n\n")) {
		err = fmt.Errorf("stream did not end with [DONE]")
	}
	return first, err
}

// compare runs pairs of requests (direct, then proxied, or the reverse) on `clients`
// goroutines and reports the percentiles of both paths and the difference. The clients start
// spread over `spread` (a request's duration), as independent users would: started together,
// they would keep arriving in bursts of `clients` at once, and measure the burst.
func (e *benchEnv) compare(b *testing.B, clients int, stream bool, spread time.Duration) {
	perClient := max(b.N/clients, 1)
	direct := make([][]time.Duration, clients)
	proxied := make([][]time.Duration, clients)
	var wg sync.WaitGroup
	errs := make(chan error, clients)
	ctx := context.Background()
	e.mu.Lock()
	e.residence = e.residence[:0] // not the warm-up
	e.mu.Unlock()
	b.ResetTimer()
	start := time.Now()
	for c := 0; c < clients; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			time.Sleep(spread * time.Duration(c) / time.Duration(clients))
			for i := 0; i < perClient; i++ {
				d, p, err := e.pair(ctx, (i+c)%2 == 0, stream)
				if err != nil {
					errs <- err
					return
				}
				direct[c], proxied[c] = append(direct[c], d), append(proxied[c], p)
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	close(errs)
	for err := range errs {
		b.Fatal(err)
	}
	b.ReportMetric(float64(elapsed.Nanoseconds())/float64(clients*perClient), "ns/op")
	e.reportLatency(b, slices.Concat(direct...), slices.Concat(proxied...))
}

// reportLatency reports the median and 99th percentile of the direct and proxied request
// times, the difference (what the proxy adds), and the time requests spent inside the proxy.
func (e *benchEnv) reportLatency(b *testing.B, direct, proxied []time.Duration) {
	slices.Sort(direct)
	slices.Sort(proxied)
	e.mu.Lock()
	in := slices.Clone(e.residence)
	e.mu.Unlock()
	slices.Sort(in)
	ms := func(x time.Duration) float64 { return float64(x.Microseconds()) / 1000 }
	pct := func(s []time.Duration, q float64) time.Duration { return s[min(int(q*float64(len(s))), len(s)-1)] }
	b.ReportMetric(ms(pct(direct, 0.50)), "direct-p50-ms")
	b.ReportMetric(ms(pct(direct, 0.99)), "direct-p99-ms")
	b.ReportMetric(ms(pct(proxied, 0.50)), "proxy-p50-ms")
	b.ReportMetric(ms(pct(proxied, 0.99)), "proxy-p99-ms")
	b.ReportMetric(ms(pct(proxied, 0.50)-pct(direct, 0.50)), "added-p50-ms")
	b.ReportMetric(ms(pct(proxied, 0.99)-pct(direct, 0.99)), "added-p99-ms")
	b.ReportMetric(ms(pct(in, 0.50)), "in-proxy-p50-ms")
	b.ReportMetric(ms(pct(in, 0.99)), "in-proxy-p99-ms")
}

// BenchmarkAddedLatency: the time to the whole answer of a non-streamed request, and to the
// first event of a streamed one. One client shows the proxy's cost alone, with an emulator
// that answers at once. The 200 clients are paced like a model, so that 200 requests are in
// flight at any time without the test itself saturating the machine: a non-streamed answer
// comes after 200 ms, a stream sends an event every 20 ms (38 of them, about 0.8 s).
func BenchmarkAddedLatency(b *testing.B) {
	for _, tc := range []struct {
		name    string
		clients int
		stream  bool
		delay   time.Duration // the emulator's pause (between events when streaming)
		spread  time.Duration // about one request's duration
	}{
		{"nonstream/clients=1", 1, false, 0, 0},
		{"nonstream/clients=200", 200, false, 200 * time.Millisecond, 200 * time.Millisecond},
		{"first-chunk/streams=1", 1, true, 0, 0},
		{"first-chunk/streams=200", 200, true, 20 * time.Millisecond, 800 * time.Millisecond},
	} {
		b.Run(tc.name, func(b *testing.B) {
			e := newBenchEnv(b, tc.delay)
			if _, err := e.request(context.Background(), true, tc.stream); err != nil { // warm the connections
				b.Fatal(err)
			}
			e.compare(b, tc.clients, tc.stream, tc.spread)
		})
	}
}

// The open-streams benchmark runs the proxy in a process of its own, so that its memory is
// measured apart from the client and the emulator: the test binary, started again with
// proxyProcessEnv set to the emulator's URL, serves the proxy (see TestMain).
const proxyProcessEnv = "MOONCHAT_PROXY_BENCH_UPSTREAM"

func TestMain(m *testing.M) {
	if upstream := os.Getenv(proxyProcessEnv); upstream != "" {
		os.Exit(proxyProcess(upstream))
	}
	os.Exit(m.Run())
}

// processStats is what the proxy process says about itself after a collection.
type processStats struct {
	Goroutines int    `json:"goroutines"`
	Live       uint64 `json:"live"` // heap in use plus goroutine stacks
	Sys        uint64 `json:"sys"`
	CPU        int64  `json:"cpu_ns"` // user and system time so far
}

// BenchmarkProxyCPU measures the CPU time the proxy process spends per request, with 200
// clients: per non-streamed request, and per stream of 38 content events. Unlike latency, it
// hardly depends on what else the machine is doing.
func BenchmarkProxyCPU(b *testing.B) {
	up := startUpstream(b, emulator.Config{NoRecord: true, Reply: func(*emulator.ChatRequest) emulator.Reply {
		return emulator.Reply{Content: benchAnswer}
	}})
	addr, _ := startProxyProcess(b, up)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 2000, MaxIdleConns: 4000}}
	defer client.CloseIdleConnections()
	e := &benchEnv{up: up, proxyURL: "http://" + addr + "/v1", client: client}
	const clients = 200
	perClient := max(b.N/clients, 1)
	for _, stream := range []bool{false, true} {
		before := e.stats(b, addr, false)
		var wg sync.WaitGroup
		errs := make(chan error, clients)
		for c := 0; c < clients; c++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; i < perClient; i++ {
					if _, err := e.request(context.Background(), true, stream); err != nil {
						errs <- err
						return
					}
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			b.Fatal(err)
		}
		after := e.stats(b, addr, false)
		unit := "cpu-µs/request"
		if stream {
			unit = "cpu-µs/stream"
		}
		b.ReportMetric(float64(after.CPU-before.CPU)/float64(clients*perClient)/1000, unit)
	}
}

// proxyProcess serves the proxy in front of upstream on a loopback port, which it prints,
// until its standard input is closed. /debug/stats reports processStats; with ?close-idle the
// idle upstream connections are closed first.
func proxyProcess(upstream string) int {
	h, err := New(&Config{Deployments: []Deployment{{ModelName: "kimi", Model: "kimi-k2-turbo-preview", APIKey: upstreamKey, APIBase: upstream}}},
		Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	mux := http.NewServeMux()
	mux.Handle("/", h)
	mux.HandleFunc("/debug/stats", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Has("close-idle") {
			h.CloseIdleConnections()
		}
		cpu := cpuTime() // before the collection, which is the measure's own cost
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		_ = json.NewEncoder(w).Encode(processStats{Goroutines: runtime.NumGoroutine(), Live: m.HeapInuse + m.StackInuse, Sys: m.Sys, CPU: cpu})
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	fmt.Println(ln.Addr())
	go func() { _ = (&http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}).Serve(ln) }()
	_, _ = io.Copy(io.Discard, os.Stdin)
	return 0
}

// startProxyProcess runs proxyProcess in front of up and returns its address and pid.
func startProxyProcess(b *testing.B, up *emulator.Server) (addr string, pid int) {
	exe, err := os.Executable()
	if err != nil {
		b.Fatal(err)
	}
	cmd := exec.Command(exe, "-test.run=^$")
	cmd.Env = append(os.Environ(), proxyProcessEnv+"="+up.URL)
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		b.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		stdin.Close()
		_ = cmd.Wait()
	})
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		b.Fatalf("proxy process: %v", err)
	}
	return strings.TrimSpace(line), cmd.Process.Pid
}

// pair sends the same request straight to the emulator and through the proxy, the proxy first
// when proxyFirst (callers alternate), and returns the time of each.
func (e *benchEnv) pair(ctx context.Context, proxyFirst, stream bool) (direct, proxied time.Duration, err error) {
	for _, viaProxy := range [2]bool{proxyFirst, !proxyFirst} {
		d, err := e.request(ctx, viaProxy, stream)
		if err != nil {
			return 0, 0, err
		}
		if viaProxy {
			proxied = d
		} else {
			direct = d
		}
	}
	return direct, proxied, nil
}

// goroutinesLeft is how many more goroutines the proxy process at addr runs than it did when
// idle, once they are back to that count or after 10 s: the proxy ends the goroutines of
// closed connections a little after the client closes them.
func (e *benchEnv) goroutinesLeft(b *testing.B, addr string, idle processStats) int {
	deadline := time.Now().Add(10 * time.Second)
	for {
		left := e.stats(b, addr, true).Goroutines - idle.Goroutines
		if left <= 0 || time.Now().After(deadline) {
			return left
		}
		time.Sleep(10 * time.Millisecond) // a benchmark's wait for the other process, not a test's synchronisation
	}
}

func (e *benchEnv) stats(b *testing.B, addr string, closeIdle bool) processStats {
	url := "http://" + addr + "/debug/stats"
	if closeIdle {
		url += "?close-idle"
	}
	// A connection of its own each time, so that the measure leaves nothing open.
	c := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := c.Get(url)
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	var s processStats
	if err := json.NewDecoder(resp.Body).Decode(&s); err != nil {
		b.Fatal(err)
	}
	return s
}

// rss reads a process's resident set size from /proc (0 where there is none).
func rss(pid int) uint64 {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for line := range strings.SplitSeq(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kb << 10
		}
	}
	return 0
}

// openStreams opens n streams through the proxy that stall after their first event, and
// returns a function that abandons them all.
func (e *benchEnv) openStreams(b *testing.B, n int) (closeAll func()) {
	ctx, cancel := context.WithCancel(context.Background())
	var wg, opened sync.WaitGroup
	errs := make(chan error, n)
	opened.Add(n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, _ := http.NewRequestWithContext(ctx, "POST", e.proxyURL+"/chat/completions",
				strings.NewReader(`{"model":"kimi","stream":true,"messages":[{"role":"user","content":"hold on"}]}`))
			resp, err := e.client.Do(req)
			if err != nil {
				errs <- err
				opened.Done()
				return
			}
			defer resp.Body.Close()
			if _, err = bufio.NewReader(resp.Body).ReadSlice('\n'); err != nil {
				errs <- err
			}
			opened.Done()
			<-ctx.Done()
		}()
	}
	opened.Wait()
	select {
	case err := <-errs:
		b.Fatal(err)
	default:
	}
	return func() {
		cancel()
		wg.Wait()
	}
}

// BenchmarkOpenStreams holds 1,000 streams open at once through a proxy running in a process
// of its own, and reports that process's resident memory, the memory and goroutines per open
// stream, and the goroutines left once the streams are gone and the idle connections closed.
func BenchmarkOpenStreams(b *testing.B) {
	const n = 1000
	up := startUpstream(b, emulator.Config{NoRecord: true, Delay: time.Hour}) // every stream stalls after its first event
	addr, pid := startProxyProcess(b, up)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 2000, MaxIdleConns: 4000}}
	defer client.CloseIdleConnections()
	e := &benchEnv{up: up, proxyURL: "http://" + addr + "/v1", client: client}

	e.openStreams(b, 1)() // start what starts once (transports, timers)
	if err := up.WaitCanceled(context.Background(), 1); err != nil {
		b.Fatal(err)
	}
	client.CloseIdleConnections()
	idle := e.stats(b, addr, true)
	idleRSS := rss(pid)
	// One scenario of n streams is the measure, whatever b.N asks for: more would only repeat
	// it, and -benchtime 4000x would mean four million streams.
	closeAll := e.openStreams(b, n)
	open, openRSS := e.stats(b, addr, false), rss(pid)
	closeAll()
	if err := up.WaitCanceled(context.Background(), 1+n); err != nil {
		b.Fatal(err)
	}
	client.CloseIdleConnections()
	left := e.goroutinesLeft(b, addr, idle)
	b.ReportMetric(float64(idleRSS)/(1<<20), "idle-rss-MB")
	b.ReportMetric(float64(openRSS)/(1<<20), "rss-MB")
	b.ReportMetric((float64(openRSS)-float64(idleRSS))/n/1024, "rss-KB/stream")
	b.ReportMetric((float64(open.Live)-float64(idle.Live))/n/1024, "live-KB/stream")
	b.ReportMetric(float64(open.Goroutines-idle.Goroutines)/n, "goroutines/stream")
	b.ReportMetric(float64(max(left, 0)), "goroutines-left")
}
