package render

import (
	"fmt"
	"runtime"
	"sync"
	"testing"
	"time"
)

// The benchmarks stream generated answers of 4 to 512 KB in 4-byte deltas, as a model does,
// and compare the cost with one glamour render of the whole answer, measured in the same run:
//
//   - burst: deltas arrive much faster than frames (the fake clock moves 2 µs per delta, so a
//     frame takes about 64 KB), as when the network delivers a backlog;
//   - paced: the clock moves 10 ms per delta (100 tokens a second), a frame every 33 ms.
//
// Metrics, per answer:
//
//	cpu-ms      CPU time of the whole stream (all threads, garbage collection included)
//	x-oneshot   cpu-ms divided by the CPU time of one whole-document render
//	frame-ms    CPU time of the costliest frame (Close included), on the frame's thread
//	bytes-x     bytes written to the terminal divided by the size of the one-shot output
//	oneshot-ms  CPU time of the one whole-document render
var benchSizes = []int{4, 32, 128, 512}

func BenchmarkMarkdown(b *testing.B) {
	for _, mode := range []string{"burst", "paced"} {
		for _, kb := range benchSizes {
			b.Run(fmt.Sprintf("%s/%dKB", mode, kb), func(b *testing.B) {
				step := 2 * time.Microsecond
				if mode == "paced" {
					step = 10 * time.Millisecond
				}
				benchStream(b, benchDoc(kb), step)
			})
		}
	}
}

// BenchmarkLongLine streams a 64 KB paragraph without a line break at 100 tokens a second:
// the live tail must cost each frame its new bytes only, not the whole line again.
func BenchmarkLongLine(b *testing.B) {
	var doc []byte
	for len(doc) < 64<<10 {
		doc = append(doc, "The bounded stream flushes the lazy buffer 流式输出 again. "...)
	}
	doc = append(doc, '\n')
	benchStream(b, doc, 10*time.Millisecond)
}

func benchOptions() Options {
	return Options{Width: 100, Height: 40, Style: "dark", Color: true}
}

type oneShotCost struct {
	cpu   time.Duration
	bytes int
}

// Documents and their one-shot costs are computed once and shared by both modes.
var (
	benchMu      sync.Mutex
	benchDocs    = map[int][]byte{}
	oneShotCosts = map[string]oneShotCost{}
)

func benchDoc(kb int) []byte {
	benchMu.Lock()
	defer benchMu.Unlock()
	if d, ok := benchDocs[kb]; ok {
		return d
	}
	d := []byte(genDoc(kb<<10, 42))
	benchDocs[kb] = d
	return d
}

// benchOneShot measures one whole-document glamour render with the same style, the mean of
// as many runs as fit in a second (at least one).
func benchOneShot(b *testing.B, doc []byte) oneShotCost {
	benchMu.Lock()
	defer benchMu.Unlock()
	if c, ok := oneShotCosts[string(doc)]; ok {
		return c
	}
	th, err := newTheme(benchOptions())
	if err != nil {
		b.Fatal(err)
	}
	tr, err := th.newGlamour()
	if err != nil {
		b.Fatal(err)
	}
	if _, err := tr.RenderBytes(doc); err != nil { // warm up chroma's lexers
		b.Fatal(err)
	}
	var c oneShotCost
	runs := 0
	start := cpuTime()
	for runs == 0 || (cpuTime()-start < time.Second && runs < 10) {
		out, err := tr.RenderBytes(doc)
		if err != nil {
			b.Fatal(err)
		}
		c.bytes = len(out)
		runs++
	}
	c.cpu = (cpuTime() - start) / time.Duration(runs)
	oneShotCosts[string(doc)] = c
	return c
}

type countingWriter struct{ n int }

func (w *countingWriter) Write(p []byte) (int, error) {
	w.n += len(p)
	return len(p), nil
}

func benchStream(b *testing.B, doc []byte, step time.Duration) {
	ref := benchOneShot(b, doc)
	var (
		cpu      time.Duration
		maxFrame time.Duration
		written  int
	)
	// Frames run synchronously on this goroutine; keep it on one thread to time them.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	b.ResetTimer()
	for range b.N {
		clock := &fakeClock{}
		opts := benchOptions()
		opts.Clock = clock
		var out countingWriter
		start := cpuTime()
		m, err := NewMarkdown(&out, opts)
		if err != nil {
			b.Fatal(err)
		}
		for i := 0; i < len(doc); i += 4 {
			m.Write(doc[i:min(i+4, len(doc))])
			t0 := threadTime()
			if clock.Advance(step) {
				maxFrame = max(maxFrame, threadTime()-t0)
			}
		}
		t0 := threadTime()
		if err := m.Close(); err != nil {
			b.Fatal(err)
		}
		maxFrame = max(maxFrame, threadTime()-t0)
		cpu += cpuTime() - start
		written = out.n
	}
	b.StopTimer()
	perOp := cpu / time.Duration(b.N)
	b.ReportMetric(float64(perOp)/1e6, "cpu-ms")
	b.ReportMetric(float64(perOp)/float64(ref.cpu), "x-oneshot")
	b.ReportMetric(float64(maxFrame)/1e6, "frame-ms")
	b.ReportMetric(float64(written)/float64(ref.bytes), "bytes-x")
	b.ReportMetric(float64(ref.cpu)/1e6, "oneshot-ms")
}
