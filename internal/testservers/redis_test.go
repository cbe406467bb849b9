package testservers_test

import (
	"context"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/outreach-campaign/outreach/internal/testservers"
)

func TestRedis(t *testing.T) {
	t.Parallel()
	start := time.Now()
	addr := testservers.Redis(t)
	t.Logf("redis ready on %s in %v", addr, time.Since(start).Round(time.Millisecond))

	rdb := redis.NewClient(&redis.Options{Addr: addr})
	defer rdb.Close()
	ctx := context.Background()
	if got, err := rdb.Ping(ctx).Result(); err != nil || got != "PONG" {
		t.Fatalf("PING = %q, %v; want PONG", got, err)
	}
	if err := rdb.Set(ctx, "k", "v", 0).Err(); err != nil {
		t.Fatalf("SET: %v", err)
	}
	if got, err := rdb.Get(ctx, "k").Result(); err != nil || got != "v" {
		t.Fatalf("GET = %q, %v; want v", got, err)
	}
}

// Two servers in one test are independent: what parallel tests rely on.
func TestRedisPrivate(t *testing.T) {
	t.Parallel()
	a, b := testservers.Redis(t), testservers.Redis(t)
	if a == b {
		t.Fatalf("both servers on %s", a)
	}
	ctx := context.Background()
	ra := redis.NewClient(&redis.Options{Addr: a})
	defer ra.Close()
	rb := redis.NewClient(&redis.Options{Addr: b})
	defer rb.Close()
	if err := ra.Set(ctx, "only-in-a", "1", 0).Err(); err != nil {
		t.Fatalf("SET: %v", err)
	}
	if n, err := rb.Exists(ctx, "only-in-a").Result(); err != nil || n != 0 {
		t.Fatalf("EXISTS in b = %d, %v; want 0", n, err)
	}
}
