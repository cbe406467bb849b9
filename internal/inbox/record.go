package inbox

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/outreach-campaign/outreach/internal/campaign"
	"github.com/outreach-campaign/outreach/internal/replies"
	"github.com/outreach-campaign/outreach/internal/store"
)

// RecordStore is what recording replies needs of the store.
type RecordStore interface {
	RecordReplies(ctx context.Context, rs []campaign.Reply, cp store.Checkpoint) ([]store.Recorded, error)
}

// Recorder is the Handler that turns fetched messages into replies: it
// parses and classifies each, matches it to its letter, and records the
// batch with the checkpoint in one store transaction.
type Recorder struct {
	Store   RecordStore
	Matcher *replies.Matcher
	// Threshold is the confidence at or above which a match is confirmed
	// without staff; 0 means replies.DefaultThreshold.
	Threshold float64
	Log       *slog.Logger
	// Now stamps messages the server gave no date; tests replace it.
	Now func() time.Time
	// Workers parse, classify and match the messages of a batch in
	// parallel; 0 means one per CPU.
	Workers int
	// MessageDeadline bounds the time reading one message (parsing,
	// classifying, matching) may take; past it the message is kept as
	// unreadable, for staff, and the batch goes on. 0 means
	// DefaultMessageDeadline.
	MessageDeadline time.Duration
	// Probes, when set, verifies the ProbeHeader of `outreach doctor`'s
	// test messages: a message whose probe token verifies is not a reply
	// and is not recorded (the checkpoint moves past it all the same).
	Probes ProbeVerifier
}

// ProbeHeader carries the signed token of a probe message sent by
// `outreach doctor` to the campaign mailbox.
const ProbeHeader = "X-Outreach-Probe"

// ProbeVerifier checks a probe token; *letter.Signer is one.
type ProbeVerifier interface {
	VerifyProbe(token string) bool
}

// errProbe marks a message that is one of our probes: skipped, not an
// error.
var errProbe = errors.New("inbox: a probe of outreach doctor")

// DefaultMessageDeadline is the imap.message_deadline setting's default.
// Reading a message costs time in proportion to its size, a few hundred
// milliseconds for the largest the poller fetches whole; the deadline is
// for what nobody foresaw, and a busy machine.
const DefaultMessageDeadline = 10 * time.Second

var _ Handler = (*Recorder)(nil)

// Handle implements Handler.
func (r *Recorder) Handle(ctx context.Context, batch []Message, cp store.Checkpoint) error {
	rs := make([]campaign.Reply, len(batch))
	errs := make([]error, len(batch))
	workers := r.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	var wg sync.WaitGroup
	next := make(chan int)
	for range min(workers, len(batch)) {
		wg.Go(func() {
			for i := range next {
				rs[i], errs[i] = r.reply(ctx, batch[i], cp)
			}
		})
	}
	for i := range batch {
		next <- i
	}
	close(next)
	wg.Wait()
	log := r.logger()
	kept := rs[:0]
	for i, err := range errs {
		switch {
		case errors.Is(err, errProbe):
			log.Info("inbox: a probe of outreach doctor, not a reply: skipped", "uid", batch[i].UID)
		case err != nil:
			return err
		default:
			kept = append(kept, rs[i])
		}
	}
	rs = kept
	recs, err := r.Store.RecordReplies(ctx, rs, cp)
	if err != nil {
		return err
	}
	for i, rec := range recs {
		rep := rs[i]
		if rec.Duplicate {
			log.Info("inbox: message recorded before (mailbox rescanned)", "reply", rec.ID, "uid", rep.UID, "message_id", rep.MessageID)
			continue
		}
		log.Info("inbox: reply recorded", "reply", rec.ID, "uid", rep.UID, "kind", rep.Kind, "status", rep.Status,
			"letter", rep.LetterID, "confidence", rep.Confidence, "from", rep.From, "oversized", rep.Oversized)
	}
	return nil
}

// reply makes the reply of one message. A message that cannot be read, or
// not within the deadline, is recorded all the same, for staff: nothing is
// dropped, and no message can hold up those after it. The reading runs in
// a goroutine of its own, so that a message that takes too long is given up
// on at once; its context ends with the deadline, and the reading stops
// soon after.
func (r *Recorder) reply(ctx context.Context, msg Message, cp store.Checkpoint) (campaign.Reply, error) {
	rep := campaign.Reply{
		Mailbox: cp.Mailbox, UIDValidity: cp.UIDValidity, UID: msg.UID, SHA256: campaign.HashRaw(msg.Raw),
		Size: msg.Size, Oversized: msg.Oversized, Raw: msg.Raw, ReceivedAt: msg.InternalDate,
	}
	if msg.Oversized {
		rep.Problems = append(rep.Problems, fmt.Sprintf("over the size limit (%d bytes): only the header was kept", msg.Size))
	}
	deadline := r.MessageDeadline
	if deadline <= 0 {
		deadline = DefaultMessageDeadline
	}
	readCtx, cancel := context.WithTimeout(ctx, deadline)
	defer cancel()
	type result struct {
		rep campaign.Reply
		err error
	}
	done := make(chan result, 1)
	go func() {
		// Its own copy: appending to Problems must not touch rep's array.
		own := rep
		own.Problems = slices.Clip(own.Problems)
		got, err := r.read(readCtx, msg, own)
		done <- result{got, err}
	}()
	select {
	case res := <-done:
		if res.err == nil || readCtx.Err() == nil || ctx.Err() != nil {
			return res.rep, res.err
		}
		// The reading gave up because the deadline passed.
	case <-readCtx.Done():
		if ctx.Err() != nil {
			return rep, ctx.Err() // stopping: the batch comes again
		}
	}
	r.logger().Warn("inbox: a message was not read within the deadline; kept for staff", "uid", msg.UID,
		"size", msg.Size, "deadline", deadline)
	return r.unreadable(rep, fmt.Sprintf("not read within %s (imap.message_deadline): kept unread for staff", deadline)), nil
}

// read parses, classifies and matches one message, until ctx ends.
func (r *Recorder) read(ctx context.Context, msg Message, rep campaign.Reply) (out campaign.Reply, err error) {
	// A message the reader chokes on must not stop the poller for good
	// (it would come again after every restart): it is kept for staff.
	defer func() {
		if p := recover(); p != nil {
			r.logger().Error("inbox: the reader failed on a message; kept for staff", "uid", msg.UID, "panic", p)
			out, err = r.unreadable(rep, fmt.Sprintf("the reader failed on it: %v", p)), nil
		}
	}()
	m, err := replies.ParseContext(ctx, msg.Raw)
	if err != nil {
		if ctx.Err() != nil {
			return rep, err
		}
		return r.unreadable(rep, err.Error()), nil
	}
	if r.Probes != nil {
		// Only a verified token counts: anyone can write the header.
		if tok := m.Header.Get(ProbeHeader); tok != "" && r.Probes.VerifyProbe(tok) {
			return rep, errProbe
		}
	}
	v, err := replies.ClassifyContext(ctx, m)
	if err != nil {
		return rep, err
	}
	rep.MessageID, rep.Kind, rep.KindReason = m.MessageID, replyKind(v.Kind), v.Reason
	if replies.OptOutRequest(m) && v.Kind != replies.Bounce {
		// A person's request, or their mail provider's on their behalf,
		// whatever automatic marks the provider's message carries.
		rep.OptOut, rep.Kind = true, campaign.ReplyHuman
		rep.KindReason = `asks to stop writing: subject "unsubscribe", as our List-Unsubscribe mailto writes it`
	}
	rep.From, rep.FromName, rep.Subject, rep.Date = m.From, m.FromName, m.Subject, m.Date
	rep.NewText = m.NewText
	rep.Problems = append(rep.Problems, m.Problems...)
	if b := v.Bounce; b != nil {
		rep.Bounce = &campaign.BounceReport{Recipients: b.Recipients, Permanent: b.Permanent, Delayed: b.Delayed,
			Status: b.Status, Diagnostic: b.Diagnostic, OriginalMessageID: b.OriginalMessageID}
	}
	if rep.ReceivedAt.IsZero() {
		rep.ReceivedAt = m.Date
	}
	if rep.ReceivedAt.IsZero() {
		rep.ReceivedAt = r.now()
	}
	if strings.ContainsAny(rep.MessageID, " \t") {
		rep.MessageID = "" // not an identifier: told apart by its hash
	}
	if r.Matcher == nil {
		rep.Status = campaign.ReplyUnmatched
		return rep, nil
	}
	match, err := r.Matcher.Match(ctx, m, v, rep.ReceivedAt)
	if err != nil {
		return rep, fmt.Errorf("inbox: message uid %d: %w", msg.UID, err)
	}
	rep.LetterID, rep.TargetID, rep.CampaignIDs = match.LetterID, match.TargetID, match.CampaignIDs
	threshold := r.Threshold
	if threshold <= 0 {
		threshold = replies.DefaultThreshold
	}
	rep.Confidence, rep.Signals, rep.Status = match.Confidence, match.Signals, match.Status(threshold)
	if rep.Status == campaign.ReplyConfirmed && len(rep.CampaignIDs) == 0 {
		rep.Status = campaign.ReplyPending // a letter that speaks for no campaign: staff decide
	}
	if rep.OptOut && rep.Status == campaign.ReplyConfirmed {
		// Anyone can send mail, even with a letter's token: a request to
		// stop is never acted on without staff.
		rep.Status = campaign.ReplyPending
	}
	if err := rep.Validate(); err != nil {
		// The store would refuse the whole batch, again and again.
		return r.unreadable(rep, "could not be recorded as read: "+err.Error()), nil
	}
	return rep, nil
}

// replyKind is the campaign's name for a classification; anything else
// than an auto-reply or a bounce is a person's.
func replyKind(k replies.Kind) campaign.ReplyKind {
	switch k {
	case replies.AutoReply:
		return campaign.ReplyAuto
	case replies.Bounce:
		return campaign.ReplyBounce
	}
	return campaign.ReplyHuman
}

// unreadable is rep as a message that could not be read: a person's until
// staff say otherwise, matched to nothing.
func (r *Recorder) unreadable(rep campaign.Reply, problem string) campaign.Reply {
	rep.Kind, rep.Status, rep.KindReason = campaign.ReplyHuman, campaign.ReplyUnmatched, "unreadable, kept for staff"
	rep.LetterID, rep.TargetID, rep.CampaignIDs, rep.Signals, rep.Confidence, rep.Bounce = "", 0, nil, nil, 0, nil
	rep.Problems = append(rep.Problems, problem)
	if rep.ReceivedAt.IsZero() {
		rep.ReceivedAt = r.now()
	}
	return rep
}

func (r *Recorder) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

func (r *Recorder) logger() *slog.Logger {
	if r.Log != nil {
		return r.Log
	}
	return slog.Default()
}
