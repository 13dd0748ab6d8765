package proxy

import (
	"sync"
	"time"
)

// State is what replicas of the proxy share about each deployment: its request and token
// counts in the current minute (rpm/tpm, as LiteLLM counts them: per calendar minute) and its
// cooldown. It lives in memory, or in Redis for several replicas (RedisState). A State never
// fails a request: an implementation that loses its store answers from local counts.
type State interface {
	// Admit reports whether deployment id may take a request at now: not cooling down, under
	// tpm tokens this minute and, counting this request, at most rpm requests (0 = no cap).
	// When it may not, wait is how long until it may.
	Admit(id string, rpm, tpm int, now time.Time) (ok bool, wait time.Duration)
	// AddTokens counts tokens used by a request of id in the minute of now.
	AddTokens(id string, tokens int, now time.Time)
	// Fail counts a failure of id; once more than allowed failed in the minute (at once when
	// immediate), id cools down for cooldown and Fail reports true.
	Fail(id string, allowed int, cooldown time.Duration, immediate bool, now time.Time) (cooled bool)
}

// minuteOf is the calendar minute of t, the window of the rpm/tpm counts.
func minuteOf(t time.Time) int64 { return t.Unix() / 60 }

// untilNextMinute is the wait until the counts of t's minute are over.
func untilNextMinute(t time.Time) time.Duration {
	return time.Unix((minuteOf(t)+1)*60, 0).Sub(t)
}

// memoryState is the State of a single replica.
type memoryState struct {
	mu sync.Mutex
	m  map[string]*counts
}

type counts struct {
	minute              int64
	reqs, tokens, fails int
	coolUntil           time.Time
}

func newMemoryState() *memoryState { return &memoryState{m: map[string]*counts{}} }

// at returns id's counts for the minute of now; the caller holds mu.
func (s *memoryState) at(id string, now time.Time) *counts {
	c := s.m[id]
	if c == nil {
		c = &counts{}
		s.m[id] = c
	}
	if m := minuteOf(now); c.minute != m {
		c.minute, c.reqs, c.tokens, c.fails = m, 0, 0, 0
	}
	return c
}

func (s *memoryState) Admit(id string, rpm, tpm int, now time.Time) (bool, time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.at(id, now)
	switch {
	case now.Before(c.coolUntil):
		return false, c.coolUntil.Sub(now)
	case tpm > 0 && c.tokens >= tpm, rpm > 0 && c.reqs >= rpm:
		return false, untilNextMinute(now)
	}
	c.reqs++
	return true, 0
}

func (s *memoryState) AddTokens(id string, tokens int, now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.at(id, now).tokens += tokens
}

func (s *memoryState) Fail(id string, allowed int, cooldown time.Duration, immediate bool, now time.Time) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.at(id, now)
	c.fails++
	if immediate || c.fails > allowed {
		c.coolUntil = now.Add(cooldown)
		return true
	}
	return false
}
