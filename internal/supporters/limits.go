package supporters

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// Limits bound how often letters may be signed from one IP address and for
// one e-mail address, and how many confirmation mails signings make in
// all and to one domain: every signing taken sends a mail, from the
// organisation's domain, to whatever address was typed. Every `outreach
// serve` process that uses the same Redis shares them.
type Limits struct {
	PerIP    int           // signings per IPWindow from one address; 0: no limit
	IPWindow time.Duration // 0: one hour
	// PerEmail counts signings per EmailWindow for one mailbox, its
	// address normalised (NormalAddress); 0: no limit.
	PerEmail    int
	EmailWindow time.Duration // 0: one day
	// PerHour and PerDomainPerHour cap the signings (so the confirmation
	// mails) taken in an hour, in all and for one recipient domain; 0: no
	// cap.
	PerHour          int
	PerDomainPerHour int
	// Prefix of the Redis keys; "" means "outreach:supporters:".
	Prefix string
}

// RateLimiter counts signings in Redis in fixed windows that start at the
// first signing: simple and cheap, and its one flaw (up to twice the limit
// across a window's edge) does not matter for keeping a form from being
// used to flood people with confirmation mails.
type RateLimiter struct {
	rdb redis.UniversalClient
	l   Limits
}

// NewRateLimiter returns a RateLimiter on rdb.
func NewRateLimiter(rdb redis.UniversalClient, l Limits) *RateLimiter {
	if l.IPWindow <= 0 {
		l.IPWindow = time.Hour
	}
	if l.EmailWindow <= 0 {
		l.EmailWindow = 24 * time.Hour
	}
	if l.Prefix == "" {
		l.Prefix = "outreach:supporters:"
	}
	return &RateLimiter{rdb: rdb, l: l}
}

// count increments a key and starts its window on the first increment,
// in one step so that no key is left without an expiry.
var count = redis.NewScript(`
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return {n, redis.call('PTTL', KEYS[1])}
`)

// Allow counts one signing from ip for email, and returns how long to wait
// when a limit is reached (0 when allowed). Limits are checked in turn
// (IP, mailbox, domain, in all) and an attempt counts against each up to
// the first that refuses it. Addresses and domains are kept in Redis only
// as hashes.
func (r *RateLimiter) Allow(ctx context.Context, ip, email string) (time.Duration, error) {
	normal := NormalAddress(email)
	for _, c := range []struct {
		key    string
		limit  int
		window time.Duration
	}{
		{r.l.Prefix + "ip:" + ip, r.l.PerIP, r.l.IPWindow},
		{r.l.Prefix + "email:" + hash(normal), r.l.PerEmail, r.l.EmailWindow},
		{r.l.Prefix + "domain:" + hash(addressDomain(normal)), r.l.PerDomainPerHour, time.Hour},
		{r.l.Prefix + "all", r.l.PerHour, time.Hour},
	} {
		if c.limit <= 0 {
			continue
		}
		res, err := count.Run(ctx, r.rdb, []string{c.key}, c.window.Milliseconds()).Int64Slice()
		if err != nil {
			return 0, fmt.Errorf("supporters: rate limit: %w", err)
		}
		if res[0] > int64(c.limit) {
			return max(time.Duration(res[1])*time.Millisecond, time.Second), nil
		}
	}
	return 0, nil
}

func hash(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:16])
}

// Lease is a lock in Redis held for a while, so that of several batchers
// (one per `outreach scheduler`) one plans at a time and a daily cap cannot
// be passed by two planning at once.
type Lease struct {
	rdb redis.UniversalClient
	key string
}

// NewLease returns the lease named key on rdb.
func NewLease(rdb redis.UniversalClient, key string) *Lease {
	return &Lease{rdb: rdb, key: key}
}

var release = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`)

// Acquire takes the lease for at most ttl; ok is false when another holder
// has it. unlock gives it back (only if still ours).
func (l *Lease) Acquire(ctx context.Context, ttl time.Duration) (unlock func(), ok bool, err error) {
	b := make([]byte, 16)
	rand.Read(b)
	token := hex.EncodeToString(b)
	ok, err = l.rdb.SetNX(ctx, l.key, token, ttl).Result()
	if err != nil || !ok {
		return func() {}, false, err
	}
	return func() {
		// Released even when the round's context has ended.
		release.Run(context.WithoutCancel(ctx), l.rdb, []string{l.key}, token)
	}, true, nil
}
