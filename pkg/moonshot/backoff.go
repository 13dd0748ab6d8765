package moonshot

import (
	"math/rand/v2"
	"time"
)

// maxServerWait bounds a wait read from a server: far beyond any cap, far below overflow.
const maxServerWait = 100 * 365 * 24 * time.Hour

// RetryDelay is the pause before retry number attempt (0 for the first) after err, shared by
// the client and the proxy so both wait alike. When the server said how long to wait
// (Retry-After, or "try again after N seconds" in the message), that wait is returned as it is
// and asked is true: the caller decides whether to cap it or give up when it is longer than
// maxDelay. Otherwise the wait is base doubled per attempt, with ±25% jitter so that clients
// refused together do not come back together, capped at maxDelay.
func RetryDelay(attempt int, err error, base, maxDelay time.Duration) (d time.Duration, asked bool) {
	if ae, ok := asAPIError(err); ok && ae.RetryAfter > 0 {
		// Bounded before the conversion: "Retry-After: 1e300" would overflow to a negative
		// Duration, that is no wait at all.
		return time.Duration(min(ae.RetryAfter, maxServerWait.Seconds()) * float64(time.Second)), true
	}
	if base <= 0 {
		return 0, false
	}
	d = base << min(max(attempt, 0), 16)
	if d <= 0 || d > maxDelay*2 { // overflowed, or so long it is capped whatever the jitter
		return maxDelay, false
	}
	d = d*3/4 + time.Duration(rand.Int64N(int64(d)/2+1))
	return min(d, maxDelay), false
}

// WaitTooLongError is a failure that was not retried because the server asked for a longer
// wait than the client waits between attempts: a retry before the server's time would only be
// refused again, and holding the caller for minutes is worse than telling it when to come back.
// It unwraps to the server's error, so it classifies as that error does (temporary, exit 75).
type WaitTooLongError struct {
	Err   error
	Wait  time.Duration // what the server asked for
	Limit time.Duration // the longest wait the client accepts (Options.MaxRetryDelay)
}

func (e *WaitTooLongError) Error() string { return e.Err.Error() }
func (e *WaitTooLongError) Unwrap() error { return e.Err }
