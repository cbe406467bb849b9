package queue

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"time"

	"github.com/hibiken/asynq"
	"github.com/wneessen/go-mail"

	"github.com/outreach-campaign/outreach/internal/campaign"
	"github.com/outreach-campaign/outreach/internal/letter"
	"github.com/outreach-campaign/outreach/internal/mailer"
	"github.com/outreach-campaign/outreach/internal/store"
)

// SenderStore is what sending a letter needs of the store.
type SenderStore interface {
	Letter(ctx context.Context, id string) (campaign.Letter, error)
	TargetByID(ctx context.Context, id int64) (campaign.Target, error)
	BeginSending(ctx context.Context, id, messageID string) error
	KeepAsSent(ctx context.Context, id string, a campaign.AsSent) error
	LetterAsSent(ctx context.Context, id string) (campaign.AsSent, error)
	Requeue(ctx context.Context, id, reason string) error
	MarkSent(ctx context.Context, id string, at time.Time, reply string, campaignDate campaign.Date) error
	MarkFailed(ctx context.Context, id, reason, reply string, suspect bool) error
	MarkUncertain(ctx context.Context, id, reason string) error
	CancelLetter(ctx context.Context, id, reason string) error
}

// Mailer sends one message over SMTP, written or kept as written;
// *mailer.Mailer is one.
type Mailer interface {
	Send(ctx context.Context, msg *mail.Msg) (reply string, err error)
	SendRaw(ctx context.Context, r mailer.Raw) (reply string, err error)
}

// Limiter takes a sending slot for a recipient domain, or says how long to
// wait; *mailer.Limiter is one.
type Limiter interface {
	Reserve(ctx context.Context, domain string) (wait time.Duration, err error)
}

// Writer writes the message of a letter of one kind. The message's
// Message-ID must be the signer's for the letter's id. target is the
// letter's office, or the zero Target for a letter to someone else.
type Writer interface {
	Write(ctx context.Context, l campaign.Letter, target campaign.Target, date time.Time) (*mail.Msg, error)
}

// Sender is the worker's handler for letter tasks. It sends each letter at
// most once: the store's state, changed only by compare-and-set, decides,
// whatever Redis delivers.
type Sender struct {
	Store SenderStore
	// Writers write each kind of letter.
	Writers map[campaign.LetterKind]Writer
	Signer  *letter.Signer
	Mailer  Mailer
	// Limiter, when set, holds letters back to the configured rates.
	Limiter Limiter
	// MailLimiter, when set, holds back the mail of QueueMail
	// (confirmation mails) to a rate of its own instead of Limiter's, so
	// that a flood of signings never takes the letters' slots. Such mail
	// never waits in place for a slot: it goes back to Redis and frees
	// the worker for letters.
	MailLimiter Limiter
	Log         *slog.Logger
	Now         func() time.Time
}

// NewSender returns a Sender of wave letters and their follow-ups composed
// by comp; other kinds of letters are added to its Writers.
func NewSender(st interface {
	SenderStore
	WaveWriterStore
}, comp *letter.Composer, m Mailer, lim Limiter, log *slog.Logger) *Sender {
	// A follow-up is written like the wave's letter, with its own
	// template and In-Reply-To the first letter.
	ww := &WaveWriter{Store: st, Composer: comp}
	return &Sender{
		Store:   st,
		Writers: map[campaign.LetterKind]Writer{campaign.KindWave: ww, campaign.KindFollowUp: ww},
		Signer:  comp.Signer, Mailer: m, Limiter: lim, Log: log,
	}
}

// RateLimited is returned for a letter held back by a rate limit: the task
// is retried after Wait, and the attempt does not count as a failure.
type RateLimited struct {
	Domain string
	Wait   time.Duration
}

func (e *RateLimited) Error() string {
	return fmt.Sprintf("rate limit for %s: next slot in %s", e.Domain, e.Wait.Round(time.Millisecond))
}

// ProcessTask implements asynq.Handler.
func (s *Sender) ProcessTask(ctx context.Context, t *asynq.Task) error {
	p, err := parsePayload(t)
	if err != nil {
		return err
	}
	l, err := s.Store.Letter(ctx, p.LetterID)
	if errors.Is(err, campaign.ErrNotFound) {
		// Letters are never deleted; a task for an unknown letter did not
		// come from this store.
		return fmt.Errorf("queue: letter %s is not in the store: %w", p.LetterID, asynq.SkipRetry)
	}
	if err != nil {
		return err
	}
	log := s.logger().With("letter", l.ID)
	if p.Resend != l.Resends {
		log.Debug("stale task of an earlier send", "task_resend", p.Resend, "letter_resends", l.Resends)
		return nil
	}
	// Which states a send may begin from, and which one an interrupted send
	// leaves, is the lifecycle's to say (campaign.Lifecycle).
	_, interrupted := campaign.Allowed(l.State, campaign.CauseInterrupted)
	_, sendable := campaign.Allowed(l.State, campaign.CauseSendBegan)
	switch {
	case interrupted:
		// The worker that began this send stopped before recording how it
		// ended: the message may or may not have left. Sending it again
		// could write to a mayor twice, so staff decide.
		if err := s.Store.MarkUncertain(ctx, l.ID, "the send was interrupted (worker stopped mid-send); not resent automatically"); err != nil && !errors.Is(err, store.ErrConflict) {
			return err
		}
		log.Warn("letter found mid-send: marked uncertain")
		return nil
	case !sendable:
		return nil // already done, or cancelled
	}

	// A letter to an office honours the office's flags and time zone.
	var target campaign.Target
	if l.TargetID != 0 {
		if target, err = s.Store.TargetByID(ctx, l.TargetID); err != nil {
			return err
		}
		if target.DoNotContact {
			err := s.Store.CancelLetter(ctx, l.ID, "the office was marked do-not-contact")
			if err != nil && !errors.Is(err, store.ErrConflict) {
				return err
			}
			return nil
		}
	}
	send, err := s.message(ctx, l, target)
	if err != nil {
		return err
	}
	msgID := s.Signer.MessageID(l.ID)
	domain := campaign.AddressDomain(l.Email)

	if err := s.reserve(ctx, l.Kind, domain); err != nil {
		return err
	}

	if err := s.Store.BeginSending(ctx, l.ID, msgID); err != nil {
		if errors.Is(err, store.ErrConflict) {
			return nil // another worker has it, or it was cancelled meanwhile
		}
		return err
	}
	// From here the send runs to its end even if the worker is asked to
	// stop, so that a letter in flight is recorded as sent or not.
	ctx = context.WithoutCancel(ctx)
	reply, sendErr := send(ctx)
	if sendErr == nil {
		now := s.now()
		// A wave's letter opens its campaigns: the day it left, in the
		// office's time zone, becomes their campaign date if they have none.
		var campaignDate campaign.Date
		if l.Kind == campaign.KindWave {
			loc, err := time.LoadLocation(target.TimeZone)
			if err != nil {
				loc = time.UTC
			}
			campaignDate = campaign.DateOf(now.In(loc))
		}
		if err := s.Store.MarkSent(ctx, l.ID, now, reply, campaignDate); err != nil {
			return err
		}
		if l.TargetID != 0 {
			log.Info("letter sent", "to", l.Email)
		} else {
			// Not an office: the address is a person's, kept out of logs.
			log.Info("letter sent", "kind", l.Kind)
		}
		return nil
	}
	return s.failed(ctx, log, l, sendErr)
}

// message returns what sends letter l: on its first attempt, the letter
// written from its template and kept as it leaves; on a retry or a
// resend, the copy kept then, byte for byte (same Message-ID, same text,
// whatever the templates say today).
func (s *Sender) message(ctx context.Context, l campaign.Letter, target campaign.Target) (func(context.Context) (string, error), error) {
	// A letter that cannot be written, or whose copy cannot be read, will
	// not be on a retry either.
	unsendable := func(err error) error {
		if ferr := s.Store.MarkFailed(ctx, l.ID, err.Error(), "", false); ferr != nil && !errors.Is(ferr, store.ErrConflict) {
			return ferr
		}
		return fmt.Errorf("%w: %w", err, asynq.SkipRetry)
	}
	kept, err := s.Store.LetterAsSent(ctx, l.ID)
	if err == nil {
		raw, err := rawOf(kept)
		if err != nil {
			return nil, unsendable(fmt.Errorf("queue: letter %s as kept: %w", l.ID, err))
		}
		return func(ctx context.Context) (string, error) { return s.Mailer.SendRaw(ctx, raw) }, nil
	}
	if !errors.Is(err, campaign.ErrNotFound) {
		return nil, err
	}
	w, ok := s.Writers[l.Kind]
	if !ok {
		return nil, fmt.Errorf("queue: letter %s: no writer for letters of kind %q: %w", l.ID, l.Kind, asynq.SkipRetry)
	}
	msg, err := w.Write(ctx, l, target, s.now())
	if err != nil {
		return nil, unsendable(err)
	}
	if kept, err = asSent(msg); err != nil {
		return nil, fmt.Errorf("queue: letter %s: %w", l.ID, err)
	}
	if err := s.Store.KeepAsSent(ctx, l.ID, kept); err != nil {
		return nil, err
	}
	return func(ctx context.Context) (string, error) { return s.Mailer.Send(ctx, msg) }, nil
}

// maxInlineWait is the longest a worker waits for a rate-limit slot itself;
// a longer wait goes back to Redis as a retry, which asynq checks for only
// every second or so, and which frees the worker for other letters.
const maxInlineWait = 2 * time.Second

// reserve takes a sending slot for a letter of kind to domain: at once,
// after a short wait in place, or it returns RateLimited for asynq to
// retry the letter later.
func (s *Sender) reserve(ctx context.Context, kind campaign.LetterKind, domain string) error {
	lim, inline := s.Limiter, maxInlineWait
	if s.MailLimiter != nil && QueueOf(kind) == QueueMail {
		lim, inline = s.MailLimiter, 0
	}
	if lim == nil {
		return nil
	}
	for {
		wait, err := lim.Reserve(ctx, domain)
		if err != nil {
			return fmt.Errorf("queue: rate limit: %w", err)
		}
		if wait == 0 {
			return nil
		}
		if wait > inline {
			return &RateLimited{Domain: domain, Wait: wait}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(wait):
		}
	}
}

// failed records a send that did not succeed, by the rules: a permanent
// refusal fails the letter and makes the address suspect; a loss of the
// connection once the message was on its way makes it uncertain; anything
// else is retried with backoff until the retries run out.
func (s *Sender) failed(ctx context.Context, log *slog.Logger, l campaign.Letter, sendErr error) error {
	var me *mailer.Error
	kind := mailer.Temporary
	reply := ""
	// Only a refusal of the recipient says the office's address is bad; a
	// 5xx to MAIL FROM or to the content is about us.
	suspect := false
	if errors.As(sendErr, &me) {
		kind, reply = me.Kind, me.Reply
		if me.Code != 0 {
			reply = fmt.Sprintf("%d %s", me.Code, me.Reply)
		}
		suspect = me.Stage == mailer.StageRcpt
	}
	switch kind {
	case mailer.Permanent:
		if err := s.Store.MarkFailed(ctx, l.ID, sendErr.Error(), reply, suspect); err != nil {
			return err
		}
		log.Warn("letter refused by the server", "reply", reply)
		return fmt.Errorf("%w: %w", sendErr, asynq.SkipRetry)
	case mailer.Ambiguous:
		if err := s.Store.MarkUncertain(ctx, l.ID, sendErr.Error()); err != nil {
			return err
		}
		log.Warn("letter may or may not have been delivered: marked uncertain", "err", sendErr)
		return nil
	}
	retried, _ := asynq.GetRetryCount(ctx)
	maxRetry, _ := asynq.GetMaxRetry(ctx)
	if retried >= maxRetry {
		reason := fmt.Sprintf("gave up after %d attempts: %v", retried+1, sendErr)
		if err := s.Store.MarkFailed(ctx, l.ID, reason, reply, false); err != nil {
			return err
		}
		log.Warn("letter failed: retries exhausted", "err", sendErr)
		return fmt.Errorf("%w: %w", sendErr, asynq.SkipRetry)
	}
	if err := s.Store.Requeue(ctx, l.ID, sendErr.Error()); err != nil {
		return err
	}
	log.Info("temporary failure: will retry", "err", sendErr, "retry", retried+1)
	return sendErr
}

func (s *Sender) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Sender) logger() *slog.Logger {
	if s.Log != nil {
		return s.Log
	}
	return slog.Default()
}

// RetryDelay is the worker's backoff: a rate-limited letter waits for its
// slot; any other failure waits base·2ⁿ (n retries so far), capped at
// maxDelay, with up to a quarter of jitter so that letters failed together
// do not come back together.
func RetryDelay(base, maxDelay time.Duration) asynq.RetryDelayFunc {
	return func(n int, err error, _ *asynq.Task) time.Duration {
		var rl *RateLimited
		if errors.As(err, &rl) {
			return rl.Wait + time.Duration(rand.Int64N(int64(50*time.Millisecond)))
		}
		d := base
		for i := 0; i < n && d < maxDelay; i++ {
			d *= 2
		}
		d = min(d, maxDelay)
		return d + time.Duration(rand.Int64N(int64(d)/4+1))
	}
}

// IsFailure tells asynq which errors count against a letter's retries: a
// rate limit is a wait, not a failure.
func IsFailure(err error) bool {
	var rl *RateLimited
	return !errors.As(err, &rl)
}

// WaveWriterStore is what writing an office's letter needs of the store.
type WaveWriterStore interface {
	Campaigns(ctx context.Context, f store.CampaignFilter) ([]campaign.Campaign, error)
}

// WaveWriter writes a wave's letter to an office: its template, in the
// office's language, naming the partners of the letter's campaigns.
type WaveWriter struct {
	Store    WaveWriterStore
	Composer *letter.Composer
}

// Write implements Writer.
func (w *WaveWriter) Write(ctx context.Context, l campaign.Letter, target campaign.Target, date time.Time) (*mail.Msg, error) {
	if target.ID == 0 || len(l.CampaignIDs) == 0 {
		return nil, fmt.Errorf("letter %s names no office or no campaign", l.ID)
	}
	cs, err := w.Store.Campaigns(ctx, store.CampaignFilter{IDs: l.CampaignIDs})
	if err != nil {
		return nil, err
	}
	msg, _, err := w.Composer.Compose(letter.Letter{
		ID: l.ID, Template: l.Template, Target: target, Campaigns: cs, Date: date, InReplyTo: l.InReplyTo,
	})
	return msg, err
}
