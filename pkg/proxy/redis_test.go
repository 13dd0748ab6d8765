package proxy

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/moonchat/moonchat/pkg/emulator"
	"github.com/moonchat/moonchat/pkg/redistest"
	"github.com/redis/go-redis/v9"
)

func redisSettings(s *redistest.Server) RedisSettings {
	host, port := s.HostPort()
	return RedisSettings{Host: host, Port: port}
}

func TestTwoReplicasShareOneRPMBudget(t *testing.T) {
	rs := redistest.Start(t)
	up := startUpstream(t, emulator.Config{})
	d := deploy("kimi", "kimi-k2.6", up)
	d.RPM = 3
	clock := newFakeClock()
	clock.Advance(20 * time.Second)
	cfg := &Config{Deployments: []Deployment{d}, Redis: redisSettings(rs)}
	p1 := startProxy(t, cfg, Options{Now: clock.Now})
	p2 := startProxy(t, cfg, Options{Now: clock.Now})
	if where, err := p1.h.SharedState(context.Background()); err != nil || where != "redis "+rs.Addr {
		t.Fatalf("%s %v", where, err)
	}
	statuses := func() string {
		var out []string
		for _, p := range []*testProxy{p1, p2, p1, p2} {
			resp, _ := p.do(t, "POST", "/v1/chat/completions", chatJSON("kimi", ""))
			out = append(out, strconv.Itoa(resp.StatusCode)+resp.Header.Get("Retry-After"))
		}
		return strings.Join(out, " ")
	}
	// 3 a minute between the two replicas: the fourth request, on the second, is refused.
	if got := statuses(); got != "200 200 200 42940" {
		t.Fatalf("statuses %s, want 200 200 200 429 with Retry-After 40", got)
	}
	if n := len(up.ChatBodies()); n != 3 {
		t.Fatalf("%d upstream requests", n)
	}
	clock.Advance(time.Minute)
	if got := statuses(); got != "200 200 200 42940" {
		t.Fatalf("next minute: %s", got)
	}
}

func TestReplicasShareCooldowns(t *testing.T) {
	rs := redistest.Start(t)
	a := startUpstream(t, emulator.Config{})
	b := startUpstream(t, emulator.Config{})
	cfg := &Config{Deployments: []Deployment{deploy("kimi", "kimi-k2.6", a), deploy("kimi", "kimi-k2.6", b)}, NumRetries: 1,
		CooldownTime: time.Hour, Redis: redisSettings(rs)}
	p1 := startProxy(t, cfg, Options{})
	p2 := startProxy(t, cfg, Options{})
	a.Inject(emulator.Fault{Kind: emulator.RateLimit})
	if resp, _ := p1.do(t, "POST", "/v1/chat/completions", chatJSON("kimi", "")); resp.StatusCode != 200 {
		t.Fatalf("%d", resp.StatusCode)
	}
	a.Reset()
	for range 4 {
		p2.do(t, "POST", "/v1/chat/completions", chatJSON("kimi", ""))
	}
	if n := len(a.ChatBodies()); n != 0 {
		t.Fatalf("the other replica sent %d requests to the deployment cooling down", n)
	}
}

func TestRedisGoingAwayDegradesToLocalCounts(t *testing.T) {
	rs := redistest.Start(t)
	a := startUpstream(t, emulator.Config{})
	b := startUpstream(t, emulator.Config{})
	d := deploy("kimi", "kimi-k2.6", a)
	d.RPM = 2
	clock := newFakeClock()
	p := startProxy(t, &Config{Deployments: []Deployment{d, deploy("kimi", "kimi-k2.6", b)}, Redis: redisSettings(rs)}, Options{Now: clock.Now})
	if resp, _ := p.do(t, "POST", "/v1/chat/completions", chatJSON("kimi", "")); resp.StatusCode != 200 {
		t.Fatal(resp.StatusCode)
	}
	rs.Stop()
	for i := range 6 {
		if resp, b := p.do(t, "POST", "/v1/chat/completions", chatJSON("kimi", "")); resp.StatusCode != 200 {
			t.Fatalf("request %d without Redis: %d %s", i, resp.StatusCode, b)
		}
	}
	logs := p.logs.String()
	if strings.Count(logs, "Redis is unavailable") != 1 {
		t.Fatalf("want one warning:\n%s", logs)
	}
	if _, err := p.h.SharedState(context.Background()); err == nil {
		t.Fatal("SharedState reports a stopped Redis as answering")
	}
	// The local counts still enforce the deployment's rpm: of the 6, a (rpm 2) took 2.
	if n := len(a.ChatBodies()); n != 3 {
		t.Fatalf("a got %d requests: 1 counted in Redis, then 2 counted locally", n)
	}
	_, body := p.do(t, "GET", "/metrics", "")
	if !strings.Contains(string(body), "moonchat_proxy_shared_state_errors_total ") || strings.Contains(string(body), "moonchat_proxy_shared_state_errors_total 0\n") {
		t.Fatalf("metrics:\n%s", body)
	}
}

// TestReplicasShareTheServerWait: a 429 whose server asks for longer than cooldown_time, met
// by one replica, keeps the deployment out of both replicas that share a Redis for the wait
// it asked for, capped at MaxServerCooldown, as TestServerWaitSetsTheCooldown shows for one
// replica. With Redis the cooldown is the key's expiry on Redis's clock, not the replicas'
// (the clock seam moves only their rpm/tpm minutes), so the wait is read from the key: its
// expiry time less Redis's TIME taken before and after the 429 brackets the cooldown that was
// set, to the millisecond, however slowly the test runs.
func TestReplicasShareTheServerWait(t *testing.T) {
	for _, tc := range []struct {
		retryAfter int
		cooled     time.Duration
	}{
		{120, 120 * time.Second},
		{3 * 3600, MaxServerCooldown},
	} {
		t.Run(strconv.Itoa(tc.retryAfter), func(t *testing.T) {
			rs := redistest.Start(t)
			rdb := redis.NewClient(&redis.Options{Addr: rs.Addr})
			t.Cleanup(func() { rdb.Close() })
			ctx := waitCtx(t)
			a := startUpstream(t, emulator.Config{})
			b := startUpstream(t, emulator.Config{})
			da := deploy("kimi", "kimi-k2.6", a)
			da.ID = "a"
			clock := newFakeClock()
			cfg := &Config{Deployments: []Deployment{da, deploy("kimi", "kimi-k2.6", b)}, NumRetries: 1, Redis: redisSettings(rs)}
			p1 := startProxy(t, cfg, Options{Now: clock.Now})
			p2 := startProxy(t, cfg, Options{Now: clock.Now})
			send := func(p *testProxy, n int) {
				t.Helper()
				for range n {
					if resp, body := p.do(t, "POST", "/v1/chat/completions", chatJSON("kimi", "")); resp.StatusCode != 200 {
						t.Fatalf("%d %s", resp.StatusCode, body)
					}
				}
			}

			before, err := rdb.Time(ctx).Result()
			if err != nil {
				t.Fatal(err)
			}
			a.Inject(emulator.Fault{Kind: emulator.RateLimit, RetryAfter: tc.retryAfter})
			send(p1, 1) // round-robin starts at a, which refuses; the retry goes to b
			after, err := rdb.Time(ctx).Result()
			if err != nil {
				t.Fatal(err)
			}
			if n := len(a.Requests()); n != 1 {
				t.Fatalf("a got %d requests, want the one it refused", n)
			}
			expires, err := rdb.Do(ctx, "PEXPIRETIME", redisKey("a", "cool", 0)).Int64()
			if err != nil || expires <= 0 {
				t.Fatalf("a has no cooldown in Redis: %d %v", expires, err)
			}
			longest, shortest := time.Duration(expires-before.UnixMilli())*time.Millisecond, time.Duration(expires-after.UnixMilli())*time.Millisecond
			if tc.cooled < shortest || tc.cooled > longest {
				t.Fatalf("Retry-After %d: the cooldown set in Redis is between %v and %v, want %v", tc.retryAfter, shortest, longest, tc.cooled)
			}

			// Long past cooldown_time (5 s) on the replicas' clock, neither sends to a.
			clock.Advance(DefaultCooldownTime + time.Second)
			send(p2, 4)
			send(p1, 4)
			if n := len(a.Requests()); n != 1 {
				t.Fatalf("Retry-After %d: a got %d more requests while cooling down", tc.retryAfter, n-1)
			}
			if n := len(b.Requests()); n != 9 {
				t.Fatalf("b got %d requests, want 9", n)
			}
		})
	}
}
