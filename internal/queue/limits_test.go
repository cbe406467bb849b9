package queue

import (
	"context"
	"errors"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/outreach-campaign/outreach/internal/campaign"
	"github.com/outreach-campaign/outreach/internal/mailer"
	"github.com/outreach-campaign/outreach/internal/testservers"
)

// TestConfirmationMailHasItsOwnRate: confirmation mails take their slots
// from a limiter of their own, so a flood of them leaves the letters'
// slots alone, and a held-back one goes back to Redis at once instead of
// keeping a worker waiting.
func TestConfirmationMailHasItsOwnRate(t *testing.T) {
	rdb := redis.NewClient(&redis.Options{Addr: testservers.Redis(t)})
	t.Cleanup(func() { rdb.Close() })
	// One slot a minute each: a second reservation would wait.
	s := &Sender{
		Limiter:     mailer.NewLimiter(rdb, mailer.Limits{Overall: 1, Prefix: "test:letters:"}),
		MailLimiter: mailer.NewLimiter(rdb, mailer.Limits{Overall: 1, Prefix: "test:mail:"}),
	}
	ctx := context.Background()
	if err := s.reserve(ctx, campaign.KindConfirmation, "people.example"); err != nil {
		t.Fatalf("the first confirmation: %v", err)
	}
	for range 5 {
		var rl *RateLimited
		if err := s.reserve(ctx, campaign.KindConfirmation, "people.example"); !errors.As(err, &rl) || rl.Wait <= 0 {
			t.Fatalf("a confirmation over its rate: %v, want RateLimited", err)
		}
	}
	// The letters' slot is untouched by the confirmations.
	if err := s.reserve(ctx, campaign.KindWave, "office.example"); err != nil {
		t.Fatalf("a letter after a flood of confirmations: %v", err)
	}
	var rl *RateLimited
	if err := s.reserve(ctx, campaign.KindSupporter, "office.example"); !errors.As(err, &rl) {
		t.Errorf("a second letter in the minute: %v, want RateLimited by the letters' rate", err)
	}

	// A confirmation whose slot is a second away goes back to Redis; a
	// letter would wait for it in place.
	fast := &Sender{
		Limiter:     mailer.NewLimiter(rdb, mailer.Limits{Overall: 60, Prefix: "test:fast-letters:"}),
		MailLimiter: mailer.NewLimiter(rdb, mailer.Limits{Overall: 60, Prefix: "test:fast-mail:"}),
	}
	for _, k := range []campaign.LetterKind{campaign.KindConfirmation, campaign.KindWave} {
		if err := fast.reserve(ctx, k, "people.example"); err != nil {
			t.Fatal(err)
		}
	}
	if err := fast.reserve(ctx, campaign.KindConfirmation, "people.example"); !errors.As(err, &rl) {
		t.Errorf("a confirmation a second from its slot: %v, want RateLimited at once", err)
	}
	if err := fast.reserve(ctx, campaign.KindWave, "people.example"); err != nil {
		t.Errorf("a letter a second from its slot: %v, want it to wait for it", err)
	}

	// Without a limiter of their own, confirmations share the letters'.
	shared := &Sender{Limiter: mailer.NewLimiter(rdb, mailer.Limits{Overall: 1, Prefix: "test:shared:"})}
	if err := shared.reserve(ctx, campaign.KindConfirmation, "people.example"); err != nil {
		t.Fatal(err)
	}
	if err := shared.reserve(ctx, campaign.KindWave, "office.example"); !errors.As(err, &rl) {
		t.Errorf("a shared limiter let a letter through after a confirmation: %v", err)
	}
}
