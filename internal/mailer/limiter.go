package mailer

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// Limits are the sending rates all workers share.
type Limits struct {
	Overall   int           // most messages per Window across all workers; 0 = no limit
	PerDomain int           // most messages per Window to one recipient domain; 0 = no limit
	Window    time.Duration // 0 means one minute
	// Prefix of the Redis keys; "" means "outreach:rate:". The keys add a
	// hash tag ("{limits}") so that the two keys a reservation touches live
	// in one Redis Cluster slot, which a script needs.
	Prefix string
}

// Limiter hands out sending slots under Limits, shared by every worker
// that uses the same Redis and Prefix. It is safe for concurrent use.
//
// The algorithm is GCRA (the generic cell rate algorithm) with a burst of
// one: each limit has an emission interval T = Window/limit and a key
// holding the theoretical arrival time (TAT) of the next message allowed.
// A reservation succeeds when now >= TAT and moves TAT to now+T. Slots are
// therefore at least T apart, so any window of length Window, wherever it
// starts, holds at most limit messages. Chosen over the alternatives:
//   - a fixed-window counter lets 2*limit through around a window's edge,
//     and workers start at the window's start all together: a flood;
//   - a sliding log (a sorted set of send times) is exact too, but costs
//     memory per message and more work per call;
//   - a token bucket with a burst would send a burst to one office's
//     server after a quiet spell, the pattern receivers throttle or
//     greylist. Even spacing is what "batches, never a flood" means.
//
// One Lua script checks both keys (overall and the domain's) and updates
// both only when both allow, so a message denied by one limit does not
// consume a slot of the other. The script reads Redis's own clock (TIME),
// so workers on machines with skewed clocks still share one clock; and each
// key expires when its TAT passes, after which it would allow anyway, so
// Redis holds nothing for idle domains.
type Limiter struct {
	rdb          redis.UniversalClient
	overallT     int64 // emission intervals in microseconds; 0 = no limit
	domainT      int64
	overallKey   string
	domainPrefix string
}

// NewLimiter returns a Limiter using rdb. Zero fields of l take their
// defaults; negative limits mean no limit.
func NewLimiter(rdb redis.UniversalClient, l Limits) *Limiter {
	if l.Window <= 0 {
		l.Window = time.Minute
	}
	if l.Prefix == "" {
		l.Prefix = "outreach:rate:"
	}
	return &Limiter{
		rdb:          rdb,
		overallT:     interval(l.Window, l.Overall),
		domainT:      interval(l.Window, l.PerDomain),
		overallKey:   l.Prefix + "{limits}:all",
		domainPrefix: l.Prefix + "{limits}:domain:",
	}
}

// interval is Window/limit in microseconds, rounded up: rounding down would
// let limit+1 slots fit in a window by a few microseconds.
func interval(window time.Duration, limit int) int64 {
	if limit <= 0 {
		return 0
	}
	us := window.Microseconds()
	return max(1, (us+int64(limit)-1)/int64(limit))
}

// reserveScript is GCRA with a burst of one over two keys. Numbers are
// microseconds; they stay below 2^53, so Lua's doubles hold them exactly,
// and string.format keeps them from being written in %.14g notation.
var reserveScript = redis.NewScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local wait = 0
for i = 1, 2 do
  if tonumber(ARGV[i]) > 0 then
    local tat = tonumber(redis.call('GET', KEYS[i]))
    if tat and tat - now > wait then
      wait = tat - now
    end
  end
end
if wait > 0 then
  return wait
end
for i = 1, 2 do
  local interval = tonumber(ARGV[i])
  if interval > 0 then
    redis.call('SET', KEYS[i], string.format('%.0f', now + interval),
      'PX', math.ceil(interval / 1000))
  end
end
return 0
`)

// Reserve takes a slot for one message to domain under both limits,
// atomically, and returns 0; or it takes none and returns how long to wait
// before trying again. The domain is compared without regard to case.
func (l *Limiter) Reserve(ctx context.Context, domain string) (wait time.Duration, err error) {
	if l.overallT == 0 && l.domainT == 0 {
		return 0, nil
	}
	d := strings.TrimSuffix(strings.ToLower(strings.TrimSpace(domain)), ".")
	if d == "" && l.domainT > 0 {
		return 0, errors.New("mailer: reserve rate slot: empty domain")
	}
	keys := []string{l.overallKey, l.domainPrefix + d}
	us, err := reserveScript.Run(ctx, l.rdb, keys, l.overallT, l.domainT).Int64()
	if err != nil {
		return 0, fmt.Errorf("mailer: reserve rate slot for %s: %w", d, err)
	}
	return time.Duration(us) * time.Microsecond, nil
}
