package render

import (
	"time"
)

// fakeClock is a Clock for tests and benchmarks: time only moves when Advance is called, and
// due frames run synchronously inside Advance, like a time.Ticker that drops missed ticks.
type fakeClock struct {
	now     time.Duration
	tickers []*fakeTicker
}

type fakeTicker struct {
	every, next time.Duration
	f           func()
	stopped     bool
}

func (c *fakeClock) Every(d time.Duration, f func()) func() {
	t := &fakeTicker{every: d, next: c.now + d, f: f}
	c.tickers = append(c.tickers, t)
	return func() { t.stopped = true }
}

// Due reports whether Advance(d) would run a frame.
func (c *fakeClock) Due(d time.Duration) bool {
	for _, t := range c.tickers {
		if !t.stopped && t.next <= c.now+d {
			return true
		}
	}
	return false
}

// Advance moves time forward and reports whether a frame ran.
func (c *fakeClock) Advance(d time.Duration) bool {
	c.now += d
	ran := false
	for _, t := range c.tickers {
		if t.stopped || t.next > c.now {
			continue
		}
		for t.next <= c.now {
			t.next += t.every
		}
		t.f()
		ran = true
	}
	return ran
}
