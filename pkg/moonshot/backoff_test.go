package moonshot

import (
	"errors"
	"fmt"
	"testing"
	"time"
)

func TestRetryDelay(t *testing.T) {
	base, maxDelay := 100*time.Millisecond, 2*time.Second
	plain := errors.New("connection reset")
	for attempt := range 4 {
		d := base << attempt
		for range 200 { // the jitter is random: every draw must stay in its band
			got, asked := RetryDelay(attempt, plain, base, maxDelay)
			if asked || got < d*3/4 || got > d*5/4 {
				t.Fatalf("attempt %d: %v (asked %v), want within [%v, %v]", attempt, got, asked, d*3/4, d*5/4)
			}
		}
	}
	for _, attempt := range []int{5, 16, 63, 1 << 20, -1} {
		got, _ := RetryDelay(attempt, plain, base, maxDelay)
		if got > maxDelay || got < 0 || (attempt > 0 && got != maxDelay) {
			t.Errorf("attempt %d: %v, want capped at %v", attempt, got, maxDelay)
		}
	}
	asked := fmt.Errorf("wrapped: %w", &APIError{StatusCode: 429, RetryAfter: 7.5})
	if got, ok := RetryDelay(0, asked, base, maxDelay); !ok || got != 7500*time.Millisecond {
		t.Errorf("server's wait: %v %v, want 7.5s as asked (the caller caps it)", got, ok)
	}
	if got, ok := RetryDelay(0, &APIError{StatusCode: 429, RetryAfter: 1e300}, base, maxDelay); !ok || got != maxServerWait {
		t.Errorf("an absurd wait: %v %v, want %v (not an overflow to a negative wait)", got, ok, maxServerWait)
	}
	if got, ok := RetryDelay(3, &APIError{StatusCode: 500}, 0, maxDelay); ok || got != 0 {
		t.Errorf("no base delay: %v %v", got, ok)
	}
}
