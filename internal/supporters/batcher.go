package supporters

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/outreach-campaign/outreach/internal/campaign"
	"github.com/outreach-campaign/outreach/internal/store"
)

// Batcher turns confirmed letters into deliveries to the offices, queues
// what is planned, expires letters left unconfirmed and erases personal
// data kept long enough. `outreach scheduler` runs it.
type Batcher struct {
	Store Store
	Queue Enqueuer
	// Defaults are the delivery settings of campaigns that have none of
	// their own.
	Defaults campaign.Delivery
	// Hours are the offices' working hours, in each office's time zone.
	Hours campaign.WorkingHours
	// ConfirmWithin is how long a letter may wait for its confirmation;
	// KeepFor how long personal data is kept after delivery (0: for ever).
	ConfirmWithin time.Duration
	KeepFor       time.Duration
	// Lease, when set, lets one batcher at a time plan, of several
	// sharing a store.
	Lease    *Lease
	Interval time.Duration
	Now      func() time.Time
	Log      *slog.Logger
}

// Run repeats Round every Interval until ctx ends.
func (b *Batcher) Run(ctx context.Context) error {
	interval := b.Interval
	if interval <= 0 {
		interval = time.Minute
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if err := b.Round(ctx); err != nil && ctx.Err() == nil {
			b.logger().Error("supporters batcher round", "err", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// Round does one pass: expire, erase, plan deliveries, queue.
func (b *Batcher) Round(ctx context.Context) error {
	now := b.now()
	var errs []error
	if b.ConfirmWithin > 0 {
		n, err := b.Store.ExpireSignatures(ctx, now.Add(-b.ConfirmWithin))
		errs = append(errs, err)
		if n > 0 {
			b.logger().Info("unconfirmed supporters' letters expired and erased", "count", n)
		}
	}
	if b.KeepFor > 0 {
		n, err := b.Store.EraseDelivered(ctx, now.Add(-b.KeepFor))
		errs = append(errs, err)
		if n > 0 {
			b.logger().Info("supporters' personal data erased after delivery", "count", n)
		}
	}
	errs = append(errs, b.plan(ctx, now), b.queue(ctx))
	return errors.Join(errs...)
}

// plan gives waiting letters their deliveries, office by office.
func (b *Batcher) plan(ctx context.Context, now time.Time) error {
	if b.Lease != nil {
		unlock, ok, err := b.Lease.Acquire(ctx, 5*time.Minute)
		if err != nil {
			return fmt.Errorf("supporters: batch lease: %w", err)
		}
		if !ok {
			return nil // another batcher is planning
		}
		defer unlock()
	}
	waiting, err := b.Store.WaitingSignatures(ctx)
	if err != nil || len(waiting) == 0 {
		return err
	}
	settings, err := b.Store.Deliveries(ctx)
	if err != nil {
		return err
	}
	var ids []int64
	for _, s := range waiting {
		if !slices.Contains(ids, s.CampaignID) {
			ids = append(ids, s.CampaignID)
		}
	}
	cs, err := b.Store.Campaigns(ctx, store.CampaignFilter{IDs: ids})
	if err != nil {
		return err
	}
	campaigns := map[int64]campaign.Campaign{}
	for _, c := range cs {
		campaigns[c.ID] = c
	}

	// Group by office: the cap and the digest are per office, whichever of
	// its campaigns the letters are for.
	type office struct {
		target     campaign.Target
		individual []campaign.Signature
		cap        int
		digests    map[campaign.DigestPeriod][]campaign.Signature
	}
	offices := map[string]*office{}
	var order []string
	var errs []error
	for _, s := range waiting {
		c := campaigns[s.CampaignID]
		key := strings.ToLower(c.TargetEmail)
		o, ok := offices[key]
		if !ok {
			t, err := b.Store.Target(ctx, c.TargetEmail)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			o = &office{target: t, digests: map[campaign.DigestPeriod][]campaign.Signature{}}
			offices[key] = o
			order = append(order, key)
		}
		d := settings[s.CampaignID].Or(b.Defaults)
		if d.Mode == campaign.Digest {
			o.digests[d.Period] = append(o.digests[d.Period], s)
			continue
		}
		o.individual = append(o.individual, s)
		if o.cap == 0 || d.DailyCap < o.cap {
			o.cap = d.DailyCap
		}
	}
	for _, key := range order {
		o := offices[key]
		if o.target.DoNotContact {
			continue // its letters wait; staff decide
		}
		loc, err := time.LoadLocation(o.target.TimeZone)
		if err != nil {
			errs = append(errs, fmt.Errorf("office %s: time zone: %w", o.target.Email, err))
			continue
		}
		local := now.In(loc)
		if len(o.individual) > 0 {
			errs = append(errs, b.planIndividual(ctx, o.target, local, o.individual, max(o.cap, 1)))
		}
		for _, p := range []campaign.DigestPeriod{campaign.Daily, campaign.Weekly} {
			if sigs := o.digests[p]; len(sigs) > 0 {
				errs = append(errs, b.planDigest(ctx, o.target, local, p, sigs))
			}
		}
	}
	return errors.Join(errs...)
}

// planIndividual gives letters send times within the office's working
// hours, today and on its next working day, at most cap a day and at
// least (working hours)/cap apart, so that they arrive spread over the
// day rather than together. What does not fit waits for a later round.
func (b *Batcher) planIndividual(ctx context.Context, t campaign.Target, now time.Time, sigs []campaign.Signature, cap int) error {
	loc := now.Location()
	tomorrow := time.Date(now.Year(), now.Month(), now.Day()+1, 0, 0, 0, 0, loc)
	for _, day := range []time.Time{now, b.Hours.Next(tomorrow)} {
		start, end, working := b.Hours.On(day)
		if !working || !now.Before(end) || len(sigs) == 0 {
			continue
		}
		taken, err := b.Store.SupporterSendTimes(ctx, t.ID, start, end)
		if err != nil {
			return err
		}
		gap := end.Sub(start) / time.Duration(cap)
		next := start
		if len(taken) > 0 {
			next = later(next, taken[len(taken)-1].Add(gap))
		}
		next = later(next, now)
		for room := cap - len(taken); room > 0 && next.Before(end) && len(sigs) > 0; {
			s := sigs[0]
			sigs = sigs[1:]
			_, err := b.Store.PlanSupporterLetter(ctx, campaign.Letter{
				Kind: campaign.KindSupporter, TargetID: t.ID, Email: t.Email, Template: "supporter", SendAt: next,
			}, func(attempt int) string { return campaign.SupporterLetterID(s.ID, attempt) }, []int64{s.ID})
			if errors.Is(err, store.ErrConflict) {
				continue // withdrawn or signed again meanwhile: the slot stays free
			}
			if err != nil {
				return err
			}
			next = next.Add(gap)
			room--
		}
	}
	return nil
}

// planDigest makes one digest for an office of the letters confirmed
// before the current period began, sent at once. It is made only within
// the office's working hours, so that periods that ended over a weekend
// reach it as one message on Monday, not one each.
func (b *Batcher) planDigest(ctx context.Context, t campaign.Target, now time.Time, p campaign.DigestPeriod, sigs []campaign.Signature) error {
	if !b.Hours.Contains(now) {
		return nil
	}
	current, _ := p.Bounds(now)
	var ids []int64
	for _, s := range sigs {
		if s.ConfirmedAt.Before(current) {
			ids = append(ids, s.ID)
		}
	}
	if len(ids) == 0 {
		return nil
	}
	ended, _ := p.Bounds(current.Add(-time.Nanosecond))
	_, err := b.Store.PlanSupporterLetter(ctx, campaign.Letter{
		Kind: campaign.KindDigest, TargetID: t.ID, Email: t.Email, Template: "digest", SendAt: now,
	}, func(attempt int) string {
		return campaign.DigestLetterID(t.ID, p, campaign.DateOf(ended), attempt)
	}, ids)
	if errors.Is(err, store.ErrConflict) {
		return nil
	}
	return err
}

// queue queues the supporters' letters that are planned: deliveries just
// made, and confirmation mails whose queueing failed at intake.
func (b *Batcher) queue(ctx context.Context) error {
	const batch = 500
	for {
		ls, err := b.Store.UnqueuedSupporterLetters(ctx, batch)
		if err != nil || len(ls) == 0 {
			return err
		}
		ids := make([]string, 0, len(ls))
		for _, l := range ls {
			if err := b.Queue.EnqueueLetter(ctx, l); err != nil {
				return err
			}
			ids = append(ids, l.ID)
		}
		if _, err := b.Store.MarkQueued(ctx, ids); err != nil {
			return err
		}
		if len(ls) < batch {
			return nil
		}
	}
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

func (b *Batcher) now() time.Time {
	if b.Now != nil {
		return b.Now()
	}
	return time.Now()
}

func (b *Batcher) logger() *slog.Logger {
	if b.Log != nil {
		return b.Log
	}
	return slog.Default()
}
