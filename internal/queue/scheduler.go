package queue

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/outreach-campaign/outreach/internal/campaign"
	"github.com/outreach-campaign/outreach/internal/store"
)

// SchedulerStore is what the scheduler needs of the store.
type SchedulerStore interface {
	Wave(ctx context.Context, id int64) (campaign.Wave, error)
	StartWave(ctx context.Context, id int64) (campaign.Wave, error)
	CancelWave(ctx context.Context, id int64) (int, error)
	LetterCounts(ctx context.Context, waveID int64) (map[campaign.LetterState]int, error)
	Letters(ctx context.Context, f store.LetterFilter) ([]campaign.Letter, error)
	MarkQueued(ctx context.Context, ids []string) (int, error)
	Resend(ctx context.Context, id string) (campaign.Letter, error)
	CreateDueFollowUps(ctx context.Context, now time.Time) ([]campaign.Letter, error)
	MarkUncertain(ctx context.Context, id, reason string) error
}

// Scheduler queues the letters of started waves. Starting a wave queues its
// planned letters at once; the scheduler's loop then catches what a start
// could not queue (Redis was down), marks uncertain a letter left mid-send
// whose task is gone, and re-queues letters whose task Redis
// lost (a restart without persistence), so that no letter is lost.
type Scheduler struct {
	Store SchedulerStore
	Queue *Client
	Log   *slog.Logger
	Now   func() time.Time
	// Interval is the pause between two rounds of the loop.
	Interval time.Duration
	// StaleAfter is how long a letter may stay queued before the loop
	// checks that Redis still has its task.
	StaleAfter time.Duration
	// Parallel is how many enqueue calls run at once (asynq has no batch
	// enqueue; parallel calls are several times faster).
	Parallel int
}

// batchSize bounds the letters marked queued in one store transaction.
const batchSize = 500

// StartWave marks a wave started and queues its planned letters. Starting a
// started wave again queues only what is still planned: nothing twice. It
// returns how many letters left "planned" for the queue while it ran: a
// scheduler running elsewhere may queue some of them first, once the wave
// is marked started, and those count too.
func (s *Scheduler) StartWave(ctx context.Context, id int64) (int, error) {
	before, err := s.Store.LetterCounts(ctx, id)
	if err != nil {
		return 0, err
	}
	if _, err := s.Store.StartWave(ctx, id); err != nil {
		return 0, err
	}
	if _, err := s.queuePlanned(ctx, store.LetterFilter{WaveID: id, States: campaign.FromStates(campaign.CauseQueue)}); err != nil {
		return 0, err
	}
	after, err := s.Store.LetterCounts(ctx, id)
	if err != nil {
		return 0, err
	}
	// Letters cancelled meanwhile left "planned" too, but not for the queue.
	cancelled := after[campaign.Cancelled] - before[campaign.Cancelled]
	return before[campaign.Planned] - after[campaign.Planned] - cancelled, nil
}

// queuePlanned enqueues the planned letters f selects, then marks those
// queued. Enqueueing comes first: a letter marked queued whose task never
// reached Redis would wait for ever, while a task whose letter is still
// marked planned is harmless (the worker accepts planned letters, and
// enqueueing again is refused by its task id).
func (s *Scheduler) queuePlanned(ctx context.Context, f store.LetterFilter) (int, error) {
	f.Limit = batchSize
	total := 0
	for {
		ls, err := s.Store.Letters(ctx, f)
		if err != nil {
			return total, err
		}
		if len(ls) == 0 {
			return total, nil
		}
		if err := s.enqueueAll(ctx, ls); err != nil {
			return total, err
		}
		ids := make([]string, len(ls))
		for i, l := range ls {
			ids[i] = l.ID
		}
		n, err := s.Store.MarkQueued(ctx, ids)
		if err != nil {
			return total, err
		}
		total += n
		if len(ls) < batchSize {
			return total, nil
		}
	}
}

// enqueueAll enqueues letters from several goroutines.
func (s *Scheduler) enqueueAll(ctx context.Context, ls []campaign.Letter) error {
	par := max(s.Parallel, 1)
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
		next = make(chan campaign.Letter)
	)
	for range par {
		wg.Go(func() {
			for l := range next {
				if err := s.Queue.EnqueueLetter(ctx, l); err != nil {
					mu.Lock()
					errs = append(errs, err)
					mu.Unlock()
				}
			}
		})
	}
	for _, l := range ls {
		next <- l
	}
	close(next)
	wg.Wait()
	if len(errs) > 0 {
		return fmt.Errorf("queue: %d of %d letters not queued: %w", len(errs), len(ls), errs[0])
	}
	return nil
}

// CancelWave cancels a wave: its letters not yet being sent will not be
// sent, and their waiting tasks are removed from Redis.
func (s *Scheduler) CancelWave(ctx context.Context, id int64) (int, error) {
	n, err := s.Store.CancelWave(ctx, id)
	if err != nil {
		return 0, err
	}
	ls, err := s.Store.Letters(ctx, store.LetterFilter{WaveID: id, States: []campaign.LetterState{campaign.Cancelled}})
	if err != nil {
		return n, err
	}
	for _, l := range ls {
		if err := s.Queue.Remove(l); err != nil {
			s.logger().Debug("cancelled letter's task left in Redis", "letter", l.ID, "err", err)
		}
	}
	return n, nil
}

// Resend queues an uncertain or failed letter once more, as a new task.
func (s *Scheduler) Resend(ctx context.Context, id string) (campaign.Letter, error) {
	l, err := s.Store.Resend(ctx, id)
	if err != nil {
		return l, err
	}
	l.SendAt = time.Time{}
	return l, s.Queue.EnqueueLetter(ctx, l)
}

// Run repeats Round every Interval until ctx ends.
func (s *Scheduler) Run(ctx context.Context) error {
	interval := s.Interval
	if interval <= 0 {
		interval = 10 * time.Second
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if err := s.Round(ctx); err != nil && ctx.Err() == nil {
			s.logger().Error("scheduler round", "err", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// Round plans the follow-ups that are due, queues what is planned in
// started waves (follow-ups included) and re-queues queued letters whose
// task Redis no longer has.
func (s *Scheduler) Round(ctx context.Context) error {
	fs, ferr := s.Store.CreateDueFollowUps(ctx, s.now())
	if len(fs) > 0 {
		s.logger().Info("planned follow-ups", "count", len(fs))
	}
	n, err := s.queuePlanned(ctx, store.LetterFilter{StartedWavesOnly: true, States: campaign.FromStates(campaign.CauseQueue)})
	if n > 0 {
		s.logger().Info("queued planned letters", "count", n)
	}
	return errors.Join(ferr, err, s.requeueLost(ctx))
}

func (s *Scheduler) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Scheduler) requeueLost(ctx context.Context) error {
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	stale := s.StaleAfter
	if stale <= 0 {
		stale = 5 * time.Minute
	}
	ls, err := s.Store.Letters(ctx, store.LetterFilter{
		States: []campaign.LetterState{campaign.Queued, campaign.Sending}, UpdatedBefore: now().Add(-stale), Limit: 1000,
	})
	if err != nil {
		return err
	}
	for _, l := range ls {
		ok, err := s.Queue.Queued(l)
		if err != nil {
			return err
		}
		if ok {
			continue
		}
		if _, interrupted := campaign.Allowed(l.State, campaign.CauseInterrupted); interrupted {
			// Its worker is gone and no task will come back to it (Redis
			// lost it, or asynq gave up on it): it may or may not have
			// left, so staff decide, as when a retry finds it mid-send.
			if err := s.Store.MarkUncertain(ctx, l.ID, "its send was interrupted and its task is gone; not resent automatically"); err != nil && !errors.Is(err, store.ErrConflict) {
				return err
			}
			s.logger().Warn("a letter left mid-send without a task: marked uncertain", "letter", l.ID)
			continue
		}
		// A task kept after it finished would refuse the same id.
		if err := s.Queue.Remove(l); err != nil {
			return err
		}
		if err := s.Queue.EnqueueLetter(ctx, l); err != nil {
			return err
		}
		s.logger().Warn("re-queued a letter whose task Redis had lost", "letter", l.ID)
	}
	return nil
}

func (s *Scheduler) logger() *slog.Logger {
	if s.Log != nil {
		return s.Log
	}
	return slog.Default()
}
