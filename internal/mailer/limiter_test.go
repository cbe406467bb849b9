package mailer_test

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/outreach-campaign/outreach/internal/mailer"
	"github.com/outreach-campaign/outreach/internal/testservers"
)

// redisClient returns a new client of the Redis at addr: each is one
// worker's own connection pool, as workers on two machines would have.
func redisClient(tb testing.TB, addr string) *redis.Client {
	tb.Helper()
	rdb := redis.NewClient(&redis.Options{Addr: addr})
	tb.Cleanup(func() { _ = rdb.Close() })
	return rdb
}

// grant brackets one granted reservation: Redis decided it at some instant
// between asked and answered.
type grant struct{ asked, answered time.Time }

// TestLimiterSharedAcrossWorkers runs two Limiters on two Redis clients,
// four goroutines each, reserving for one domain as fast as they are
// allowed, and checks that no window of length Window holds more than
// PerDomain grants.
//
// The grant instants are Redis's (TIME inside the script); the test only
// knows that each lies between the moment it asked and the moment it got
// the answer. For any N+1 grants, Redis's instants span at least N
// emission intervals = Window; so the latest answer among them minus the
// earliest question must be at least Window. Using these bounds instead of
// a single timestamp per grant leaves no room for scheduling delays (a
// goroutine descheduled between the reply and time.Now would otherwise look
// like a violation); the remaining tolerance covers only the difference
// between Redis's wall clock and Go's monotonic one over a second.
func TestLimiterSharedAcrossWorkers(t *testing.T) {
	t.Parallel()
	addr := testservers.Redis(t)
	const (
		perDomain = 3
		window    = 300 * time.Millisecond
		want      = 4*perDomain + 1 // grants to collect: four windows' worth
		tolerance = 2 * time.Millisecond
	)
	limits := mailer.Limits{PerDomain: perDomain, Window: window, Prefix: "test:shared:"}
	workers := []*mailer.Limiter{
		mailer.NewLimiter(redisClient(t, addr), limits),
		mailer.NewLimiter(redisClient(t, addr), limits),
	}

	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	var (
		mu     sync.Mutex
		grants []grant
		errs   []error
	)
	var wg sync.WaitGroup
	for w, l := range workers {
		// The workers spell the domain differently: the limit is per
		// domain, whatever its case.
		domain := []string{"comune.example.it", "Comune.Example.IT"}[w]
		for range 4 {
			wg.Go(func() {
				for ctx.Err() == nil {
					asked := time.Now()
					wait, err := l.Reserve(ctx, domain)
					answered := time.Now()
					if err != nil {
						if ctx.Err() == nil {
							mu.Lock()
							errs = append(errs, err)
							mu.Unlock()
						}
						return
					}
					if wait > 0 {
						// The limiter's own answer, not a guess.
						timer := time.NewTimer(wait)
						select {
						case <-timer.C:
						case <-ctx.Done():
							timer.Stop()
						}
						continue
					}
					mu.Lock()
					grants = append(grants, grant{asked, answered})
					if len(grants) >= want {
						cancel()
					}
					mu.Unlock()
				}
			})
		}
	}
	wg.Wait()
	if len(errs) > 0 {
		t.Fatalf("reserve: %v", errs[0])
	}
	if len(grants) < want {
		t.Fatalf("only %d grants before the deadline, want %d", len(grants), want)
	}

	slices.SortFunc(grants, func(a, b grant) int { return a.answered.Compare(b.answered) })
	for i := 0; i+perDomain < len(grants); i++ {
		group := grants[i : i+perDomain+1]
		earliest := group[0].asked
		for _, g := range group {
			if g.asked.Before(earliest) {
				earliest = g.asked
			}
		}
		if span := group[perDomain].answered.Sub(earliest); span < window-tolerance {
			t.Errorf("grants %d..%d (%d of them) fit in %v, less than the window %v",
				i, i+perDomain, perDomain+1, span, window)
		}
	}
	t.Logf("%d grants in %v", len(grants), grants[len(grants)-1].answered.Sub(grants[0].asked))
}

func TestLimiterDomainsIndependent(t *testing.T) {
	t.Parallel()
	l := mailer.NewLimiter(redisClient(t, testservers.Redis(t)),
		mailer.Limits{PerDomain: 1, Window: time.Hour, Prefix: "test:domains:"})
	ctx := t.Context()
	reserve := func(domain string) time.Duration {
		t.Helper()
		wait, err := l.Reserve(ctx, domain)
		if err != nil {
			t.Fatalf("reserve %s: %v", domain, err)
		}
		return wait
	}
	if w := reserve("milano.example.it"); w != 0 {
		t.Fatalf("first letter to milano waits %v", w)
	}
	if w := reserve("MILANO.example.it"); w <= 0 || w > time.Hour {
		t.Fatalf("second letter to milano waits %v, want (0, 1h]", w)
	}
	if w := reserve("montreal.example.ca"); w != 0 {
		t.Fatalf("a letter to montreal waits %v behind milano's limit", w)
	}
}

func TestLimiterOverallCapsAllDomains(t *testing.T) {
	t.Parallel()
	l := mailer.NewLimiter(redisClient(t, testservers.Redis(t)),
		mailer.Limits{Overall: 2, PerDomain: 10, Window: time.Hour, Prefix: "test:overall:"})
	ctx := t.Context()
	for i, domain := range []string{"a.example", "b.example", "c.example", "d.example"} {
		wait, err := l.Reserve(ctx, domain)
		if err != nil {
			t.Fatal(err)
		}
		// T = 1h/2: the first is granted, the next waits up to 30 minutes.
		switch {
		case i == 0 && wait != 0:
			t.Errorf("first letter (%s) waits %v", domain, wait)
		case i > 0 && (wait <= 0 || wait > 30*time.Minute):
			t.Errorf("letter %d (%s) waits %v, want (0, 30m]", i+1, domain, wait)
		}
	}
}

// TestLimiterWaitThenGranted: a denied Reserve says how long to wait, and
// after that wait the slot is there. The denial came from the overall
// limit; had it taken the domain's slot anyway, the domain would still be
// blocked after the wait.
func TestLimiterWaitThenGranted(t *testing.T) {
	t.Parallel()
	l := mailer.NewLimiter(redisClient(t, testservers.Redis(t)),
		mailer.Limits{Overall: 1, PerDomain: 1, Window: 250 * time.Millisecond, Prefix: "test:wait:"})
	ctx := t.Context()
	if wait, err := l.Reserve(ctx, "a.example"); err != nil || wait != 0 {
		t.Fatalf("first reserve: wait %v, err %v", wait, err)
	}
	wait, err := l.Reserve(ctx, "b.example")
	if err != nil {
		t.Fatal(err)
	}
	if wait <= 0 || wait > 250*time.Millisecond {
		t.Fatalf("denied reserve waits %v, want (0, 250ms]", wait)
	}
	timer := time.NewTimer(wait)
	<-timer.C
	if again, err := l.Reserve(ctx, "b.example"); err != nil || again != 0 {
		t.Fatalf("after waiting %v: wait %v, err %v; want the slot", wait, again, err)
	}
}

func TestLimiterWithoutLimits(t *testing.T) {
	t.Parallel()
	// No limit set: Redis is not even asked (this client has no server).
	l := mailer.NewLimiter(redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"}), mailer.Limits{})
	for range 3 {
		if wait, err := l.Reserve(t.Context(), "a.example"); err != nil || wait != 0 {
			t.Fatalf("wait %v, err %v", wait, err)
		}
	}
}

func TestLimiterKeysExpire(t *testing.T) {
	t.Parallel()
	rdb := redisClient(t, testservers.Redis(t))
	l := mailer.NewLimiter(rdb, mailer.Limits{Overall: 10, PerDomain: 2, Window: time.Minute, Prefix: "test:ttl:"})
	if _, err := l.Reserve(t.Context(), "a.example"); err != nil {
		t.Fatal(err)
	}
	keys, err := rdb.Keys(t.Context(), "test:ttl:*").Result()
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 2 {
		t.Fatalf("keys = %v, want the overall and the domain key", keys)
	}
	for _, k := range keys {
		ttl, err := rdb.PTTL(t.Context(), k).Result()
		if err != nil {
			t.Fatal(err)
		}
		// The TTL is the key's emission interval: 6s overall, 30s per domain.
		if ttl <= 0 || ttl > 30*time.Second {
			t.Errorf("key %s expires in %v, want (0, 30s]", k, ttl)
		}
	}
}
