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
//	oneshot-ms  CPU time of the one whole-document render (the same TermRenderer options),
//	            measured in every iteration next to the stream
var benchSizes = []int{4, 32, 128, 512}

func BenchmarkMarkdown(b *testing.B) {
	for _, mode := range []string{"burst", "paced"} {
		for _, kb := range benchSizes {
			b.Run(fmt.Sprintf("%s/%dKB", mode, kb), func(b *testing.B) {
				step := 2 * time.Microsecond
				if mode == "paced" {
					step = 10 * time.Millisecond
				}
				benchStream(b, benchDoc(kb), step, 0)
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
	benchStream(b, doc, 10*time.Millisecond, 0)
}

func benchOptions() Options {
	return Options{Width: 100, Height: 40, Style: "dark", Color: true}
}

var (
	benchMu   sync.Mutex
	benchDocs = map[int][]byte{}
)

// benchDoc generates each size once for all benchmarks.
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

type countingWriter struct{ n int }

func (w *countingWriter) Write(p []byte) (int, error) {
	w.n += len(p)
	return len(p), nil
}

// BenchmarkResize streams a 128 KB answer at 100 tokens a second into a 100x40 terminal
// that is resized 100 times along the way, between 100 and 60 columns and 40 and 20 rows
// (a tmux pane split and joined 50 times). resize-ms is the costliest Resize call, the
// other metrics are those of BenchmarkMarkdown: a resize costs one layout of the live tail
// (and a new glamour renderer for the new width), never a render of the answer so far.
func BenchmarkResize(b *testing.B) {
	benchStream(b, benchDoc(128), 10*time.Millisecond, 100)
}

// benchStream streams doc in 4-byte deltas, moving the fake clock by step after each, and
// renders it whole once per iteration too, outside the timer, so that both costs are
// measured under the same conditions (the machine may be shared). With resizes > 0 the
// terminal changes size that many times, evenly spread over the stream.
func benchStream(b *testing.B, doc []byte, step time.Duration, resizes int) {
	th, err := newTheme(benchOptions())
	if err != nil {
		b.Fatal(err)
	}
	tr, err := th.newGlamour()
	if err != nil {
		b.Fatal(err)
	}
	if _, err := tr.RenderBytes(doc); err != nil { // compile chroma's lexers before timing
		b.Fatal(err)
	}
	// Frames run synchronously on this goroutine; keep it on one thread to time them.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	var (
		cpu, oneShot time.Duration
		maxFrame     time.Duration
		maxResize    time.Duration
		written      int
		oneShotBytes int
	)
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		start := cpuTime()
		out, err := tr.RenderBytes(doc)
		if err != nil {
			b.Fatal(err)
		}
		oneShot += cpuTime() - start
		oneShotBytes = len(out)
		b.StartTimer()

		clock := &fakeClock{}
		opts := benchOptions()
		opts.Clock = clock
		var term countingWriter
		start = cpuTime()
		m, err := NewMarkdown(&term, opts)
		if err != nil {
			b.Fatal(err)
		}
		every, n := 0, 0
		if resizes > 0 {
			every = len(doc) / 4 / (resizes + 1)
		}
		for i := 0; i < len(doc); i += 4 {
			if every > 0 && i/4 > 0 && (i/4)%every == 0 && n < resizes {
				cols, rows := 60, 20
				if n%2 == 1 {
					cols, rows = opts.Width, opts.Height
				}
				n++
				t0 := threadTime()
				if err := m.Resize(cols, cols, rows); err != nil {
					b.Fatal(err)
				}
				maxResize = max(maxResize, threadTime()-t0)
			}
			m.Write(doc[i:min(i+4, len(doc))])
			if !clock.Due(step) {
				clock.Advance(step)
				continue
			}
			t0 := threadTime()
			clock.Advance(step)
			maxFrame = max(maxFrame, threadTime()-t0)
		}
		t0 := threadTime()
		if err := m.Close(); err != nil {
			b.Fatal(err)
		}
		maxFrame = max(maxFrame, threadTime()-t0)
		cpu += cpuTime() - start
		written = term.n
	}
	b.StopTimer()
	n := time.Duration(b.N)
	b.ReportMetric(float64(cpu/n)/1e6, "cpu-ms")
	b.ReportMetric(float64(cpu)/float64(oneShot), "x-oneshot")
	b.ReportMetric(float64(maxFrame)/1e6, "frame-ms")
	b.ReportMetric(float64(written)/float64(oneShotBytes), "bytes-x")
	b.ReportMetric(float64(oneShot/n)/1e6, "oneshot-ms")
	if resizes > 0 {
		b.ReportMetric(float64(maxResize)/1e6, "resize-ms")
	}
}
