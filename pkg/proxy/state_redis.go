package proxy

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"sync"
	"time"

	"github.com/moonchat/moonchat/pkg/moonshot"
	"github.com/redis/go-redis/v9"
	"github.com/redis/go-redis/v9/logging"
)

// RedisTimeout bounds each operation on the shared state: a request never waits longer for
// Redis than this, and a failure falls back to local counts.
const RedisTimeout = 250 * time.Millisecond

// redisRetryAfter is how long the proxy answers from local counts after Redis failed, before
// it asks Redis again (so a dead Redis does not cost every request a timeout).
const redisRetryAfter = time.Second

// RedisWarnInterval spaces the warnings about a failing Redis: one a request would flood the
// log while Redis is down.
const RedisWarnInterval = 30 * time.Second

// redisState keeps the State in Redis, shared by every replica that uses the same server:
// the counts of a deployment ID live under moonchat:proxy:{id}:… keys that expire on their
// own. Each operation is one round trip (a Lua script runs it atomically). When Redis fails,
// the operation is answered from a local memoryState, a warning is logged (at most every
// RedisWarnInterval), and no request fails because of it.
type redisState struct {
	client *redis.Client
	local  *memoryState
	log    *slog.Logger
	failed func() // counts a fallback in the metrics

	mu       sync.Mutex
	downTill time.Time // until then, answer locally
	warned   time.Time
}

// The scripts are built on first use: NewScript hashes its text, work every moonchat start
// did before main, though only `serve` with Redis runs them.
var (
	admitScript = sync.OnceValue(func() *redis.Script {
		return redis.NewScript(`
local cool = redis.call('PTTL', KEYS[1])
if cool > 0 then return {0, cool} end
local tpm = tonumber(ARGV[2])
if tpm > 0 and tonumber(redis.call('GET', KEYS[3]) or '0') >= tpm then return {0, -1} end
local rpm = tonumber(ARGV[1])
if rpm > 0 and tonumber(redis.call('GET', KEYS[2]) or '0') >= rpm then return {0, -1} end
if rpm > 0 then
  redis.call('INCR', KEYS[2])
  redis.call('EXPIRE', KEYS[2], 120)
end
return {1, 0}`)
	})
	failScript = sync.OnceValue(func() *redis.Script {
		return redis.NewScript(`
local n = redis.call('INCR', KEYS[1])
redis.call('EXPIRE', KEYS[1], 120)
if ARGV[1] == '1' or n > tonumber(ARGV[2]) then
  redis.call('SET', KEYS[2], '1', 'PX', ARGV[3])
  return 1
end
return 0`)
	})
)

// redisOptions turns LiteLLM's settings into the client's options: REDIS_URL (or redis_url)
// wins, else redis_host, redis_port (6379) and redis_password.
func redisOptions(s RedisSettings) (*redis.Options, error) {
	var o *redis.Options
	if s.URL != "" {
		var err error
		if o, err = redis.ParseURL(s.URL); err != nil {
			return nil, fmt.Errorf("REDIS_URL/redis_url: %s is not a redis:// URL: %w", moonshot.RedactURL(s.URL), err)
		}
	} else {
		port := s.Port
		if port == "" {
			port = "6379"
		}
		if n, err := strconv.Atoi(port); err != nil || n <= 0 || n > 65535 {
			return nil, fmt.Errorf("redis_port %q is not a port number", port)
		}
		o = &redis.Options{Addr: net.JoinHostPort(s.Host, port), Password: s.Password}
	}
	o.DialTimeout, o.ReadTimeout, o.WriteTimeout = RedisTimeout, RedisTimeout, RedisTimeout
	o.MaxRetries = -1 // a failure falls back at once; the next request asks again
	o.DialerRetries, o.DialerRetryTimeout = 1, 10*time.Millisecond
	o.Protocol = 2
	o.DisableIdentity = true
	return o, nil
}

// quietRedis silences go-redis's own log (a process-wide setting): the proxy logs Redis
// failures itself, once in a while, in its own format.
var quietRedis sync.Once

func newRedisState(s RedisSettings, log *slog.Logger, failed func()) (*redisState, error) {
	o, err := redisOptions(s)
	if err != nil {
		return nil, err
	}
	quietRedis.Do(func() { redis.SetLogger(&logging.VoidLogger{}) })
	return &redisState{client: redis.NewClient(o), local: newMemoryState(), log: log, failed: failed}, nil
}

// Ping checks that Redis answers (serve says at start whether it does).
func (s *redisState) Ping(ctx context.Context) error { return s.client.Ping(ctx).Err() }

func (s *redisState) Close() error { return s.client.Close() }

func redisKey(id, what string, minute int64) string {
	if minute == 0 {
		return "moonchat:proxy:{" + id + "}:" + what
	}
	return fmt.Sprintf("moonchat:proxy:{%s}:%s:%d", id, what, minute)
}

// up reports whether Redis is worth asking now.
func (s *redisState) up(now time.Time) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return !now.Before(s.downTill)
}

// down notes a failure: local counts for a while, and a warning now and then.
func (s *redisState) down(err error) {
	s.failed()
	now := time.Now()
	s.mu.Lock()
	s.downTill = now.Add(redisRetryAfter)
	warn := now.Sub(s.warned) >= RedisWarnInterval
	if warn {
		s.warned = now
	}
	s.mu.Unlock()
	if warn {
		s.log.Warn("shared state: Redis is unavailable; rpm/tpm and cooldowns are counted by this replica alone until it answers again",
			"error", err.Error())
	}
}

func (s *redisState) ctx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), RedisTimeout)
}

func (s *redisState) Admit(id string, rpm, tpm int, now time.Time) (bool, time.Duration) {
	if s.up(time.Now()) {
		ctx, cancel := s.ctx()
		defer cancel()
		m := minuteOf(now)
		res, err := admitScript().Run(ctx, s.client, []string{redisKey(id, "cool", 0), redisKey(id, "reqs", m), redisKey(id, "tokens", m)}, rpm, tpm).Int64Slice()
		if err == nil && len(res) == 2 {
			switch {
			case res[0] == 1:
				return true, 0
			case res[1] > 0:
				return false, time.Duration(res[1]) * time.Millisecond
			}
			return false, untilNextMinute(now)
		}
		if err == nil {
			err = fmt.Errorf("unexpected answer %v", res)
		}
		s.down(err)
	}
	return s.local.Admit(id, rpm, tpm, now)
}

func (s *redisState) AddTokens(id string, tokens int, now time.Time) {
	s.local.AddTokens(id, tokens, now)
	if !s.up(time.Now()) {
		return
	}
	ctx, cancel := s.ctx()
	defer cancel()
	key := redisKey(id, "tokens", minuteOf(now))
	_, err := s.client.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.IncrBy(ctx, key, int64(tokens))
		p.Expire(ctx, key, 120*time.Second)
		return nil
	})
	if err != nil {
		s.down(err)
	}
}

func (s *redisState) Fail(id string, allowed int, cooldown time.Duration, immediate bool, now time.Time) bool {
	if s.up(time.Now()) {
		ctx, cancel := s.ctx()
		defer cancel()
		imm := "0"
		if immediate {
			imm = "1"
		}
		n, err := failScript().Run(ctx, s.client, []string{redisKey(id, "fails", minuteOf(now)), redisKey(id, "cool", 0)},
			imm, allowed, max(cooldown.Milliseconds(), 1)).Int64()
		if err == nil {
			return n == 1
		}
		s.down(err)
	}
	return s.local.Fail(id, allowed, cooldown, immediate, now)
}
