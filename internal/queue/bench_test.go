package queue

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/wneessen/go-mail"

	"github.com/outreach-campaign/outreach/internal/campaign"
	"github.com/outreach-campaign/outreach/internal/letter"
	"github.com/outreach-campaign/outreach/internal/mailer/smtptest"
	"github.com/outreach-campaign/outreach/internal/store"
)

const (
	benchLetters     = 20000
	benchConnections = 16
)

// BenchmarkWavePipeline measures letters per second through the whole
// pipeline for a wave of 20,000 letters: the wave created, its letters
// queued in Redis, sent by a worker to a local SMTP sink and marked sent in
// the store. In the same run it measures go-mail alone sending the same
// messages straight to the same sink over as many connections, and reports
// the ratio. It runs once whatever b.N (make bench passes -benchtime 1x).
func BenchmarkWavePipeline(b *testing.B) {
	h := newHarness(b, smtptest.Discard())
	ctx := context.Background()
	h.seed(benchLetters, false)

	// go-mail alone: the same letters, composed beforehand, sent over
	// benchConnections connections.
	raw := rawGoMailRate(b, h, benchLetters)

	h.worker(benchConnections, nil)
	start := time.Now()
	w, plan, err := CreateWave(ctx, h.st, h.comp, WaveSpec{Name: "bench"}, start)
	if err != nil {
		b.Fatal(err)
	}
	if len(plan.Letters) != benchLetters {
		b.Fatalf("%d letters planned", len(plan.Letters))
	}
	if _, err := h.sched.StartWave(ctx, w.ID); err != nil {
		b.Fatal(err)
	}
	for {
		counts, err := h.st.LetterCounts(ctx, w.ID)
		if err != nil {
			b.Fatal(err)
		}
		if counts[campaign.Sent] == benchLetters {
			break
		}
		if counts[campaign.Failed]+counts[campaign.Uncertain] > 0 {
			b.Fatalf("letters failed: %v", counts)
		}
		time.Sleep(10 * time.Millisecond)
	}
	elapsed := time.Since(start)
	rate := benchLetters / elapsed.Seconds()
	b.ReportMetric(rate, "letters/s")
	b.ReportMetric(raw, "go-mail-alone/s")
	b.ReportMetric(rate/raw, "ratio")
	b.Logf("pipeline: %d letters in %s = %.0f letters/s; go-mail alone: %.0f msgs/s; ratio %.2f",
		benchLetters, elapsed.Round(time.Millisecond), rate, raw, rate/raw)
}

func rawGoMailRate(b *testing.B, h *harness, n int) float64 {
	ctx := context.Background()
	targets, err := h.st.Targets(ctx, store.TargetFilter{})
	if err != nil {
		b.Fatal(err)
	}
	msgs := make([]*mail.Msg, 0, n)
	for _, t := range targets {
		cs, err := h.st.Campaigns(ctx, store.CampaignFilter{TargetID: t.ID})
		if err != nil {
			b.Fatal(err)
		}
		m, _, err := h.comp.Compose(letter.Letter{ID: fmt.Sprintf("raw-t%d", t.ID), Template: "appeal", Target: t, Campaigns: cs, Date: time.Now()})
		if err != nil {
			b.Fatal(err)
		}
		msgs = append(msgs, m)
	}
	start := time.Now()
	var wg sync.WaitGroup
	next := make(chan *mail.Msg)
	for range benchConnections {
		c, err := mail.NewClient(h.sink.Host, mail.WithPort(h.sink.Port), mail.WithTLSPolicy(mail.NoTLS),
			mail.WithoutNoop(), mail.WithoutRset())
		if err != nil {
			b.Fatal(err)
		}
		if err := c.DialWithContext(ctx); err != nil {
			b.Fatal(err)
		}
		wg.Go(func() {
			defer c.Close()
			for m := range next {
				if err := c.Send(m); err != nil {
					b.Error(err)
				}
			}
		})
	}
	for _, m := range msgs {
		next <- m
	}
	close(next)
	wg.Wait()
	return float64(len(msgs)) / time.Since(start).Seconds()
}
