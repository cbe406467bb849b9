package supporters

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/outreach-campaign/outreach/internal/campaign"
	"github.com/outreach-campaign/outreach/internal/store"
)

// Store is what supporters' letters need of the store.
type Store interface {
	store.SupporterStore
	Campaign(ctx context.Context, id int64) (campaign.Campaign, error)
	Campaigns(ctx context.Context, f store.CampaignFilter) ([]campaign.Campaign, error)
	Target(ctx context.Context, email string) (campaign.Target, error)
	TargetByID(ctx context.Context, id int64) (campaign.Target, error)
	Targets(ctx context.Context, f store.TargetFilter) ([]campaign.Target, error)
	MarkQueued(ctx context.Context, ids []string) (int, error)
}

// Enqueuer queues a letter for sending; *queue.Client is one.
type Enqueuer interface {
	EnqueueLetter(ctx context.Context, l campaign.Letter) error
}

// Errors of intake and verification, each what the supporter is told.
var (
	// ErrNoCampaign: no such campaign, or its office cannot be written to.
	ErrNoCampaign = errors.New("this campaign does not take letters")
	// ErrAlreadySent: the supporter's letter has left (or is leaving) for
	// the office and can no longer be changed or withdrawn.
	ErrAlreadySent = errors.New("this letter has already been sent to the office")
	// ErrSuperseded: the text this link confirms was replaced since (by a
	// text confirmed from a later mail) or is no longer kept (a later
	// signing made a newer draft).
	ErrSuperseded = errors.New("this link is for an earlier version of the letter")
	// ErrWithdrawn: the letter was withdrawn.
	ErrWithdrawn = errors.New("this letter was withdrawn")
)

// RateLimitError is returned when a limit on signings is reached.
type RateLimitError struct {
	RetryAfter time.Duration
}

func (e *RateLimitError) Error() string {
	return fmt.Sprintf("too many letters signed: try again in %s", e.RetryAfter.Round(time.Second))
}

// withdrawValidity is how long a withdrawal link works: the letter is
// usually delivered or erased long before, and the link then says so.
const withdrawValidity = 365 * 24 * time.Hour

// Service takes supporters' letters and confirms or withdraws them.
type Service struct {
	Store Store
	Queue Enqueuer
	// Limiter, when set, bounds signings per IP and per address.
	Limiter *RateLimiter
	Links   *Links
	// MaxMessage is the longest personal message, in characters.
	MaxMessage int
	// ConfirmWithin is how long a supporter has to confirm.
	ConfirmWithin time.Duration
	Now           func() time.Time
	Log           *slog.Logger
}

// Receipt says what became of a signed letter. Whoever signed is told
// the same whatever it holds: whether an address has signed before is the
// address owner's business, said only in the mail to them.
type Receipt struct {
	// Ignored is set for a form that filled the honeypot: it looks
	// accepted, and nothing was stored or sent.
	Ignored bool
	// Signature is the letter as stored: the new one, or the address's
	// earlier letter, unchanged (the new text waits as its draft).
	Signature campaign.Signature
	// Confirmation is the confirmation mail planned.
	Confirmation campaign.Letter
}

// OpenCampaign returns a campaign that takes letters, with its office.
func (s *Service) OpenCampaign(ctx context.Context, id int64) (campaign.Campaign, campaign.Target, error) {
	c, err := s.Store.Campaign(ctx, id)
	if errors.Is(err, campaign.ErrNotFound) {
		return c, campaign.Target{}, ErrNoCampaign
	}
	if err != nil {
		return c, campaign.Target{}, err
	}
	if c.TargetEmail == "" {
		return c, campaign.Target{}, ErrNoCampaign
	}
	t, err := s.Store.Target(ctx, c.TargetEmail)
	if err != nil {
		return c, t, err
	}
	if !takesLetters(t) {
		return c, t, ErrNoCampaign
	}
	return c, t, nil
}

// takesLetters reports whether an office may be written to by supporters.
func takesLetters(t campaign.Target) bool { return !t.DoNotContact }

// OpenCampaign is a campaign that takes supporters' letters, with its
// office.
type OpenCampaign struct {
	Campaign campaign.Campaign
	Target   campaign.Target
}

// OpenCampaigns lists the campaigns that take supporters' letters (those
// with an office that may be written to), in table order.
func (s *Service) OpenCampaigns(ctx context.Context) ([]OpenCampaign, error) {
	cs, err := s.Store.Campaigns(ctx, store.CampaignFilter{})
	if err != nil {
		return nil, fmt.Errorf("supporters: open campaigns: %w", err)
	}
	ts, err := s.Store.Targets(ctx, store.TargetFilter{})
	if err != nil {
		return nil, fmt.Errorf("supporters: open campaigns: %w", err)
	}
	byEmail := make(map[string]campaign.Target, len(ts))
	for _, t := range ts {
		byEmail[strings.ToLower(t.Email)] = t
	}
	var out []OpenCampaign
	for _, c := range cs {
		t, ok := byEmail[strings.ToLower(c.TargetEmail)]
		if c.TargetEmail == "" || !ok || !takesLetters(t) {
			continue
		}
		out = append(out, OpenCampaign{Campaign: c, Target: t})
	}
	return out, nil
}

// SignedCounts counts, by campaign, the supporters who signed and neither
// withdrew nor let their letter expire.
func (s *Service) SignedCounts(ctx context.Context) (map[int64]int, error) {
	stats, err := s.Store.SupporterStats(ctx, 0)
	if err != nil {
		return nil, fmt.Errorf("supporters: signed counts: %w", err)
	}
	out := make(map[int64]int, len(stats))
	for _, st := range stats {
		out[st.CampaignID] += st.Pending + st.Confirmed
	}
	return out, nil
}

// Sign takes a supporter's letter to campaign id, sent from ip: it checks
// the form and the limits, stores the letter pending confirmation (or, for
// an address that has a letter already, keeps the new text as a draft that
// replaces nothing until confirmed), and queues the confirmation mail.
// Mistakes give a *ValidationError, a reached limit a *RateLimitError;
// either changes nothing.
func (s *Service) Sign(ctx context.Context, id int64, f Form, ip string) (Receipt, error) {
	if f.Website != "" {
		// A bot filled the field people do not see. It is told nothing
		// that would teach it otherwise.
		s.logger().Info("honeypot filled: letter ignored", "campaign", id)
		return Receipt{Ignored: true}, nil
	}
	if _, _, err := s.OpenCampaign(ctx, id); err != nil {
		return Receipt{}, err
	}
	sig, err := f.Validate(s.MaxMessage)
	if err != nil {
		return Receipt{}, err
	}
	if s.Limiter != nil {
		wait, err := s.Limiter.Allow(ctx, ip, sig.Email)
		if err != nil {
			return Receipt{}, err
		}
		if wait > 0 {
			return Receipt{}, &RateLimitError{RetryAfter: wait}
		}
	}
	sig.CampaignID = id
	sig, conf, err := s.Store.SignLetter(ctx, sig)
	if err != nil {
		return Receipt{}, err
	}
	s.queue(ctx, conf)
	return Receipt{Signature: sig, Confirmation: conf}, nil
}

// queue queues a confirmation mail and marks it queued. A failure is
// logged, not returned: the letter is stored as planned, and the batcher
// queues what is planned, so the supporter still gets their mail.
func (s *Service) queue(ctx context.Context, l campaign.Letter) {
	if err := s.Queue.EnqueueLetter(ctx, l); err != nil {
		s.logger().Warn("confirmation mail not queued yet; the batcher will", "letter", l.ID, "err", err)
		return
	}
	if _, err := s.Store.MarkQueued(ctx, []string{l.ID}); err != nil {
		s.logger().Warn("confirmation mail queued but not marked", "letter", l.ID, "err", err)
	}
}

// ConfirmationLinks returns the links of a signature's confirmation mail.
func (s *Service) ConfirmationLinks(sig campaign.Signature) (confirm, withdraw string) {
	return confirmationLinks(s.Links, sig, s.ConfirmWithin)
}

func confirmationLinks(l *Links, sig campaign.Signature, within time.Duration) (confirm, withdraw string) {
	confirm = l.URL(Claim{Action: ActionConfirm, SignatureID: sig.ID, Version: sig.Version, Expires: sig.SignedAt.Add(within)})
	withdraw = l.URL(Claim{Action: ActionWithdraw, SignatureID: sig.ID, Version: sig.Version, Expires: sig.SignedAt.Add(withdrawValidity)})
	return confirm, withdraw
}

// Outcome is what following a link did, or would do.
type Outcome struct {
	// Signature is the supporter's letter as stored.
	Signature campaign.Signature
	Campaign  campaign.Campaign
	// Target is the campaign's office.
	Target campaign.Target
	// Letter is the text a confirmation link confirms: the signature's
	// own, or its draft's (then Replaces is set).
	Letter campaign.Signature
	// Replaces is set for a draft's link: confirming it replaces the text
	// of Signature, which may already be confirmed.
	Replaces bool
	// Again is set when the link had been followed before: nothing
	// changed.
	Again bool
}

// Check reads a link's token without acting on it, for the page that asks
// the supporter to confirm (a mail scanner that opens the link must not
// confirm anything), and says what the link would confirm. It returns the
// same errors as Confirm and Withdraw would, except for what only acting
// finds out.
func (s *Service) Check(ctx context.Context, a Action, tok string) (Outcome, error) {
	c, err := s.Links.Parse(a, tok, s.now())
	if err != nil {
		return Outcome{}, err
	}
	o, err := s.outcome(ctx, c.SignatureID)
	if err != nil || a != ActionConfirm {
		return o, err
	}
	return s.confirmable(ctx, o, c.Version)
}

func (s *Service) outcome(ctx context.Context, sigID int64) (Outcome, error) {
	sig, err := s.Store.Signature(ctx, sigID)
	if errors.Is(err, campaign.ErrNotFound) {
		return Outcome{}, ErrBadLink // signed by us, but not of this store
	}
	if err != nil {
		return Outcome{}, err
	}
	c, err := s.Store.Campaign(ctx, sig.CampaignID)
	if err != nil {
		return Outcome{}, err
	}
	o := Outcome{Signature: sig, Campaign: c}
	if c.TargetEmail != "" {
		if o.Target, err = s.Store.Target(ctx, c.TargetEmail); err != nil {
			return o, err
		}
	}
	return o, nil
}

// confirmable fills in what confirming version of o's signature would
// confirm, or says why it cannot.
func (s *Service) confirmable(ctx context.Context, o Outcome, version int) (Outcome, error) {
	sig := o.Signature
	switch {
	case sig.State == campaign.SignatureWithdrawn:
		return o, ErrWithdrawn
	case sig.State == campaign.SignatureExpired:
		return o, ErrLinkExpired
	case version == sig.Version:
		o.Letter = sig
		return o, nil
	case version < sig.Version:
		return o, ErrSuperseded
	}
	d, err := s.Store.Draft(ctx, sig.ID)
	if errors.Is(err, campaign.ErrNotFound) || err == nil && d.Version != version {
		return o, ErrSuperseded
	}
	if err != nil {
		return o, err
	}
	if !sig.Replaceable() {
		return o, ErrAlreadySent
	}
	o.Letter = campaign.Signature{ID: sig.ID, CampaignID: sig.CampaignID, Name: d.Name, Email: sig.Email,
		Country: d.Country, City: d.City, Message: d.Message, ReplyConsent: d.ReplyConsent, Lang: d.Lang,
		State: campaign.SignaturePending, Version: d.Version, SignedAt: d.SignedAt}
	o.Replaces = true
	return o, nil
}

// Confirm confirms the letter a confirmation link names; a draft's link
// makes the draft the letter's text (Outcome.Replaces). A link followed
// again confirms nothing more and says so (Outcome.Again); a link to a
// replaced version or a superseded draft gives ErrSuperseded, a draft of
// a letter that has left ErrAlreadySent, a link whose time is up
// ErrLinkExpired, a forged one ErrBadLink.
func (s *Service) Confirm(ctx context.Context, tok string) (Outcome, error) {
	c, err := s.Links.Parse(ActionConfirm, tok, s.now())
	if err != nil {
		return Outcome{}, err
	}
	o, err := s.outcome(ctx, c.SignatureID)
	if err != nil {
		return o, err
	}
	// A later version than the letter's is its draft, which replaces it.
	o.Replaces = c.Version > o.Signature.Version
	sig, err := s.Store.ConfirmSignature(ctx, c.SignatureID, c.Version)
	o.Signature, o.Letter = sig, sig
	if !errors.Is(err, store.ErrConflict) {
		return o, err
	}
	switch {
	case sig.State == campaign.SignatureWithdrawn:
		return o, ErrWithdrawn
	case sig.State == campaign.SignatureExpired:
		return o, ErrLinkExpired
	case sig.Version != c.Version && c.Version > sig.Version && !sig.Replaceable():
		return o, ErrAlreadySent
	case sig.Version != c.Version:
		return o, ErrSuperseded
	}
	o.Again = true // confirmed before
	return o, nil
}

// Withdraw withdraws the letter a withdrawal link names, if it has not
// left for the office, and erases the supporter's data. A letter on its
// way gives ErrAlreadySent; a link followed again says so (Outcome.Again).
func (s *Service) Withdraw(ctx context.Context, tok string) (Outcome, error) {
	c, err := s.Links.Parse(ActionWithdraw, tok, s.now())
	if err != nil {
		return Outcome{}, err
	}
	o, err := s.outcome(ctx, c.SignatureID)
	if err != nil {
		return o, err
	}
	sig, err := s.Store.WithdrawSignature(ctx, c.SignatureID)
	o.Signature = sig
	if !errors.Is(err, store.ErrConflict) {
		return o, err
	}
	switch sig.State {
	case campaign.SignatureWithdrawn:
		o.Again = true
		return o, nil
	case campaign.SignatureExpired:
		return o, ErrLinkExpired
	}
	return o, ErrAlreadySent
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Service) logger() *slog.Logger {
	if s.Log != nil {
		return s.Log
	}
	return slog.Default()
}
