package mailer_test

import (
	"context"
	"log/slog"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/wneessen/go-mail"

	"github.com/outreach-campaign/outreach/internal/mailer"
)

// A worker's delivery step: wait for a rate slot, send, and act on the
// error's Kind. (Compiled, not run: it needs a real relay and Redis.)
func ExampleMailer_Send() {
	ctx := context.Background()
	m, err := mailer.New(mailer.Config{
		Host:        "smtp.campaign.example",
		TLS:         mailer.TLSStartTLS,
		Username:    "letters",
		Password:    "from the config, never logged",
		Timeout:     30 * time.Second,
		Connections: 4,
	})
	if err != nil {
		slog.Error("mailer", "err", err)
		return
	}
	defer m.Close()
	limiter := mailer.NewLimiter(redis.NewClient(&redis.Options{Addr: "127.0.0.1:6379"}),
		mailer.Limits{Overall: 60, PerDomain: 2, Window: time.Minute})

	msg := mail.NewMsg()
	_ = msg.From("Campaign <letters@campaign.example>")
	_ = msg.To("sindaco@comune.example.it")
	msg.SetMessageIDWithValue("w1-t17.SIGNATURE@campaign.example")
	msg.Subject("[ref W1-T17] ...")
	msg.SetBodyString(mail.TypeTextPlain, "...")

	for {
		wait, err := limiter.Reserve(ctx, "comune.example.it")
		if err != nil {
			slog.Error("rate limit", "err", err) // retry the task later
			return
		}
		if wait == 0 {
			break
		}
		time.Sleep(wait) // or re-enqueue the task to run after wait
	}

	reply, err := m.Send(ctx, msg)
	switch mailer.KindOf(err) {
	case 0:
		slog.Info("sent", "reply", reply) // mark the letter sent
	case mailer.Temporary:
		slog.Warn("will retry", "err", err) // return the error: asynq retries with backoff
	case mailer.Permanent:
		slog.Warn("refused", "err", err) // mark failed, the address suspect; no retry
	case mailer.Ambiguous:
		slog.Warn("maybe sent", "err", err) // mark uncertain for staff; no automatic retry
	}
}
