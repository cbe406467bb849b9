package replies

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"math"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/outreach-campaign/outreach/internal/campaign"
)

// The signals that link a message to a letter, and what each says alone
// (its weight, the chance that it is right). Signed references cannot be
// forged or mistyped (campaign.Signal.Signed); a reference in a subject or
// a quote can be copied around; an office's address can write about
// something else, and a sender's address can be forged; a domain hosts
// many people.
const (
	// SignalMessageID: In-Reply-To or References names one of our
	// Message-IDs, its signature checked.
	SignalMessageID = campaign.SignalMessageID
	// SignalReplyToken: the message was sent to our Reply-To plus-address
	// with a letter's signed token (To, Cc, Delivered-To, X-Original-To).
	SignalReplyToken = campaign.SignalReplyToken
	// SignalBounceOriginal: a bounce returns a message whose Message-ID is
	// ours, its signature checked.
	SignalBounceOriginal = campaign.SignalBounceOriginal
	// SignalSubjectRef: the subject, or the quoted text, carries a
	// letter's "[ref W1-T17]". It is one signal wherever it is seen: a
	// reply copies the subject into its quote, and so can anyone.
	SignalSubjectRef = "subject-ref"
	// SignalQuotedLetter: the quoted text holds most of the text of a
	// letter we sent.
	SignalQuotedLetter = "quoted-letter"
	// SignalSenderAddress: the sender is an office's address.
	SignalSenderAddress = "sender-address"
	// SignalBounceRecipient: a bounce names an office's address as the
	// failed recipient.
	SignalBounceRecipient = "bounce-recipient"
	// SignalSenderDomain: the sender writes from an office's domain.
	SignalSenderDomain = "sender-domain"
	// SignalDMARCFail is no evidence for a letter but against the sender:
	// the mailbox's own server recorded in Authentication-Results that
	// the message fails DMARC (Matcher.AuthServID). It sends even a
	// signed match to review.
	SignalDMARCFail = "dmarc-fail"
)

// weights of the signals. They rank the letters a message may answer and
// tell staff how sure the match is; only a signed signal can confirm one
// (see Match.Status), however many unsigned ones add up.
var weights = map[string]float64{
	SignalMessageID:       0.95,
	SignalReplyToken:      0.95,
	SignalBounceOriginal:  0.95,
	SignalSubjectRef:      0.7,
	SignalQuotedLetter:    0.6,
	SignalSenderAddress:   0.6,
	SignalBounceRecipient: 0.6,
	SignalSenderDomain:    0.3,
	SignalDMARCFail:       0,
}

// Weight is what a signal says alone: the chance, from 0 to 1, that the
// letter it names is the one answered; 0 for an unknown signal.
func Weight(signal string) float64 { return weights[signal] }

// DefaultThreshold is the confidence at or above which a match is
// confirmed when the configuration says nothing else.
const DefaultThreshold = 0.85

// Lookup is what matching needs to know about the campaign's letters and
// offices; the store implements it.
type Lookup interface {
	// Letter returns a letter, or an error wrapping campaign.ErrNotFound.
	Letter(ctx context.Context, id string) (campaign.Letter, error)
	// Target returns the office with that address, or an error wrapping
	// campaign.ErrNotFound.
	Target(ctx context.Context, email string) (campaign.Target, error)
	// TargetsInDomain lists the offices whose address is at domain.
	TargetsInDomain(ctx context.Context, domain string) ([]campaign.Target, error)
	// SentLetters lists the letters that left for an office, newest first.
	SentLetters(ctx context.Context, targetID int64) ([]campaign.Letter, error)
}

// Verifier checks the signed references our letters carry; *letter.Signer
// is one.
type Verifier interface {
	ParseMessageID(id string) (letterID string, ok bool)
	ParsePlusAddress(addr string) (letterID string, ok bool)
}

// SentLetters gives a letter as it was sent, or an error wrapping
// campaign.ErrNotFound for a letter of which no copy was kept.
type SentLetters interface {
	LetterAsSent(ctx context.Context, id string) (campaign.AsSent, error)
}

// Matcher links messages to the letters they answer.
type Matcher struct {
	Lookup   Lookup
	Verifier Verifier
	// RefPattern finds a letter's reference in a subject or a quote, its
	// first group the letter id (letter.RefPattern).
	RefPattern *regexp.Regexp
	// Sent, when set, gives each letter as it was sent (the store keeps
	// it), so that a quote of its text is recognised. Texts are cached.
	Sent SentLetters
	// AuthServID is the authserv-id the mailbox's own server writes in
	// Authentication-Results (imap.trusted_authserv_id): only its verdicts
	// are believed. Empty: Authentication-Results are ignored.
	AuthServID string

	mu    sync.Mutex
	cache map[string]shingles // by letter id
}

// Match is what Matcher found: the letter a message most likely answers,
// with every signal seen. LetterID is empty when nothing links the message
// to a letter.
type Match struct {
	LetterID    string
	TargetID    int64
	CampaignIDs []int64
	// Confidence combines the signals that name LetterID, as independent
	// evidence: 1 − Π(1 − weight), the strongest of each kind counted.
	Confidence float64
	// Signals are those naming LetterID, then any naming other letters,
	// then a dmarc-fail when the mailbox's server reported one.
	Signals []campaign.Signal
	// Distrusted, when not empty, says why even a signed match waits for
	// staff: the mailbox's server found the message fails DMARC.
	Distrusted string
}

// Signed reports whether a signed signal names the matched letter.
func (m Match) Signed() bool {
	return campaign.Reply{LetterID: m.LetterID, Signals: m.Signals}.Signed()
}

// Status is what a match means for review: unmatched without a letter;
// confirmed when a signed signal names the letter, the confidence is at or
// above the threshold and the mailbox's server did not find the sender
// forged; otherwise pending. Unsigned signals never confirm on their own,
// whoever the sender seems to be: anyone can copy a reference or forge a
// From.
func (m Match) Status(threshold float64) campaign.ReplyStatus {
	switch {
	case m.LetterID == "":
		return campaign.ReplyUnmatched
	case m.Signed() && m.Distrusted == "" && m.Confidence >= threshold:
		return campaign.ReplyConfirmed
	}
	return campaign.ReplyPending
}

// candidate is a letter some signal points to.
type candidate struct {
	letter  campaign.Letter
	signals []campaign.Signal
}

// matching is the state of one Match call.
type matching struct {
	mt       *Matcher
	ctx      context.Context
	received time.Time
	cands    map[string]*candidate
	order    []string
	letters  map[string]*campaign.Letter // nil value: not in the store
}

// Match finds the letter m answers. v is m's classification; received is
// when the mailbox got it (a reply answers a letter sent before). Only a
// failure of the lookup is an error: a message that matches nothing gives
// a Match without a letter.
func (mt *Matcher) Match(ctx context.Context, m *Message, v Verdict, received time.Time) (Match, error) {
	if m == nil {
		return Match{}, nil
	}
	x := &matching{mt: mt, ctx: ctx, received: received, cands: map[string]*candidate{},
		letters: map[string]*campaign.Letter{}}
	if err := x.signedReferences(m, v); err != nil {
		return Match{}, err
	}
	if err := x.references(m); err != nil {
		return Match{}, err
	}
	if err := x.offices(m, v); err != nil {
		return Match{}, err
	}
	if err := x.quotedText(m); err != nil {
		return Match{}, err
	}
	got := x.best()
	if why, fail := dmarcFailure(m.Header, mt.AuthServID); fail {
		got.Distrusted = why
		got.Signals = append(got.Signals, campaign.Signal{Name: SignalDMARCFail, Detail: why, LetterID: got.LetterID})
	}
	return got, nil
}

func (x *matching) signedReferences(m *Message, v Verdict) error {
	if x.mt.Verifier == nil {
		return nil
	}
	// Parse caps these lists; a Message built elsewhere is capped here,
	// since each entry may cost a store lookup.
	for _, h := range []struct {
		header string
		ids    []string
	}{{"In-Reply-To", capIDs(m.InReplyTo)}, {"References", capIDs(m.References)}} {
		for _, id := range h.ids {
			if lid, ok := x.mt.Verifier.ParseMessageID(id); ok {
				if err := x.add(lid, SignalMessageID, fmt.Sprintf("%s names our Message-ID <%s>", h.header, id)); err != nil {
					return err
				}
			}
		}
	}
	for _, h := range []struct {
		header string
		addrs  []string
	}{{"To", capList(m.To, maxAddresses)}, {"Cc", capList(m.Cc, maxAddresses)},
		{"Delivered-To/X-Original-To", capList(m.DeliveredTo, maxAddresses)}} {
		for _, a := range h.addrs {
			if lid, ok := x.mt.Verifier.ParsePlusAddress(a); ok {
				if err := x.add(lid, SignalReplyToken, fmt.Sprintf("%s is our reply address with the letter's token (%s)", h.header, a)); err != nil {
					return err
				}
			}
		}
	}
	if b := v.Bounce; b != nil && b.OriginalMessageID != "" {
		if lid, ok := x.mt.Verifier.ParseMessageID(b.OriginalMessageID); ok {
			if err := x.add(lid, SignalBounceOriginal, fmt.Sprintf("the returned message is ours (<%s>)", b.OriginalMessageID)); err != nil {
				return err
			}
		}
	}
	return nil
}

func (x *matching) references(m *Message) error {
	if x.mt.RefPattern == nil {
		return nil
	}
	for _, sm := range x.mt.RefPattern.FindAllStringSubmatch(m.Subject, 4) {
		if err := x.add(strings.ToLower(sm[1]), SignalSubjectRef, fmt.Sprintf("the subject carries %s", sm[0])); err != nil {
			return err
		}
	}
	// Outlook pastes the subject line of the letter it answers or forwards
	// into the quote: the same reference, the same signal, counted once.
	for _, sm := range x.mt.RefPattern.FindAllStringSubmatch(leadingText(m.Quoted, 64<<10), 4) {
		if err := x.add(strings.ToLower(sm[1]), SignalSubjectRef, fmt.Sprintf("the quoted text carries %s", sm[0])); err != nil {
			return err
		}
	}
	return nil
}

// offices adds the signals about who wrote: the sender's address or
// domain, and for a bounce the failed recipients. They name an office, not
// a letter: they back the letters other signals found for that office, or
// else point to the last letter it was sent before the message came.
func (x *matching) offices(m *Message, v Verdict) error {
	lookup := x.mt.Lookup
	if lookup == nil {
		return nil
	}
	type found struct {
		target campaign.Target
		name   string
		detail string
		weight float64
	}
	var fs []found
	if m.From != "" {
		t, err := lookup.Target(x.ctx, m.From)
		switch {
		case err == nil:
			fs = append(fs, found{t, SignalSenderAddress, fmt.Sprintf("the sender %s is the office's address", m.From), weights[SignalSenderAddress]})
		case !errors.Is(err, campaign.ErrNotFound):
			return fmt.Errorf("replies: match: %w", err)
		default:
			domain := campaign.AddressDomain(m.From)
			if domain == "" || freeMail(domain) {
				break
			}
			ts, err := lookup.TargetsInDomain(x.ctx, domain)
			if err != nil {
				return fmt.Errorf("replies: match: %w", err)
			}
			for _, t := range ts {
				// A domain shared by several offices says less of each.
				fs = append(fs, found{t, SignalSenderDomain, fmt.Sprintf("the sender %s writes from the office's domain %s", m.From, domain),
					weights[SignalSenderDomain] / float64(len(ts))})
			}
		}
	}
	if v.Bounce != nil {
		// Each recipient once, and no more than a message may name.
		var rcpts addressSet
		for _, r := range v.Bounce.Recipients {
			rcpts.add(r)
		}
		for _, r := range rcpts.list {
			t, err := lookup.Target(x.ctx, r)
			if errors.Is(err, campaign.ErrNotFound) {
				continue
			}
			if err != nil {
				return fmt.Errorf("replies: match: %w", err)
			}
			fs = append(fs, found{t, SignalBounceRecipient, fmt.Sprintf("the failed recipient %s is the office's address", r), weights[SignalBounceRecipient]})
		}
	}
	for _, f := range fs {
		has := false
		for _, id := range x.order {
			if c := x.cands[id]; c.letter.TargetID == f.target.ID {
				has = true
			}
		}
		if !has {
			l, ok, err := x.lastLetterTo(f.target.ID)
			if err != nil {
				return err
			}
			if !ok {
				continue
			}
			x.candidate(l)
		}
		for _, id := range x.order {
			if c := x.cands[id]; c.letter.TargetID == f.target.ID {
				c.signals = append(c.signals, campaign.Signal{Name: f.name, Detail: f.detail, LetterID: id, Weight: round(f.weight)})
			}
		}
	}
	return nil
}

// lastLetterTo is the newest letter that left for the office before the
// message came (or the newest, when the clocks disagree).
func (x *matching) lastLetterTo(targetID int64) (campaign.Letter, bool, error) {
	ls, err := x.mt.Lookup.SentLetters(x.ctx, targetID)
	if err != nil {
		return campaign.Letter{}, false, fmt.Errorf("replies: match: %w", err)
	}
	for _, l := range ls {
		if x.received.IsZero() || l.SentAt.IsZero() || !l.SentAt.After(x.received) {
			return l, true, nil
		}
	}
	if len(ls) > 0 {
		return ls[0], true, nil
	}
	return campaign.Letter{}, false, nil
}

// quotedText looks for each candidate letter's text in the quote.
func (x *matching) quotedText(m *Message) error {
	if x.mt.Sent == nil || strings.TrimSpace(m.Quoted) == "" || len(x.order) == 0 {
		return nil
	}
	quote := shingle(leadingText(m.Quoted, 256<<10))
	if len(quote) == 0 {
		return nil
	}
	for _, id := range x.order {
		c := x.cands[id]
		if slices.ContainsFunc(c.signals, func(s campaign.Signal) bool { return s.Name == SignalQuotedLetter }) {
			continue
		}
		sh, err := x.mt.letterShingles(x.ctx, c.letter)
		if err != nil {
			return err
		}
		if share := sh.share(quote); share >= minQuotedShare {
			c.signals = append(c.signals, campaign.Signal{Name: SignalQuotedLetter, LetterID: id,
				Detail: fmt.Sprintf("the quoted text holds %.0f%% of the letter", 100*share), Weight: weights[SignalQuotedLetter]})
		}
	}
	return nil
}

// minQuotedShare is how much of a letter a quote must hold to count: a
// quote is often cut short, but a letter shares little with any other text
// (sentences with the same template and other partners share some).
const minQuotedShare = 0.4

// add records a signal naming letter id, if the letter exists.
func (x *matching) add(id, name, detail string) error {
	l, err := x.letter(id)
	if err != nil || l == nil {
		return err
	}
	c := x.candidate(*l)
	c.signals = append(c.signals, campaign.Signal{Name: name, Detail: detail, LetterID: id, Weight: weights[name]})
	return nil
}

func (x *matching) letter(id string) (*campaign.Letter, error) {
	if l, ok := x.letters[id]; ok {
		return l, nil
	}
	if x.mt.Lookup == nil {
		return nil, nil
	}
	l, err := x.mt.Lookup.Letter(x.ctx, id)
	if errors.Is(err, campaign.ErrNotFound) {
		x.letters[id] = nil // a reference to a letter this store never had
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("replies: match: %w", err)
	}
	x.letters[id] = &l
	return &l, nil
}

func (x *matching) candidate(l campaign.Letter) *candidate {
	c, ok := x.cands[l.ID]
	if !ok {
		c = &candidate{letter: l}
		x.cands[l.ID] = c
		x.order = append(x.order, l.ID)
		x.letters[l.ID] = &l
	}
	return c
}

// best picks the candidate with the highest confidence among those a
// signed signal names, if any (copied references must not outrank the
// letter the sender was really sent); ties go to more signals, then to the
// newer letter.
func (x *matching) best() Match {
	if len(x.order) == 0 {
		return Match{}
	}
	type scored struct {
		c      *candidate
		conf   float64
		signed bool
	}
	var all []scored
	for _, id := range x.order {
		c := x.cands[id]
		if len(c.signals) > 0 {
			all = append(all, scored{c, confidence(c.signals), slices.ContainsFunc(c.signals, campaign.Signal.Signed)})
		}
	}
	if len(all) == 0 {
		return Match{}
	}
	sort.SliceStable(all, func(i, j int) bool {
		a, b := all[i], all[j]
		if a.signed != b.signed {
			return a.signed
		}
		if a.conf != b.conf {
			return a.conf > b.conf
		}
		if len(a.c.signals) != len(b.c.signals) {
			return len(a.c.signals) > len(b.c.signals)
		}
		return a.c.letter.SentAt.After(b.c.letter.SentAt)
	})
	top := all[0]
	m := Match{
		LetterID: top.c.letter.ID, TargetID: top.c.letter.TargetID,
		CampaignIDs: slices.Clone(top.c.letter.CampaignIDs), Confidence: round(top.conf),
		Signals: slices.Clone(top.c.signals),
	}
	for _, s := range all[1:] {
		m.Signals = append(m.Signals, s.c.signals...)
	}
	return m
}

// confidence combines signals as independent evidence, counting the
// strongest of each kind once.
func confidence(signals []campaign.Signal) float64 {
	strongest := map[string]float64{}
	for _, s := range signals {
		strongest[s.Name] = max(strongest[s.Name], s.Weight)
	}
	miss := 1.0
	for _, w := range strongest {
		miss *= 1 - w
	}
	return 1 - miss
}

func round(f float64) float64 { return math.Round(f*1000) / 1000 }

// freeMailDomains host anyone's address: sharing one with an office says
// nothing about the sender.
var freeMailDomains = map[string]bool{
	"gmail.com": true, "googlemail.com": true, "outlook.com": true, "hotmail.com": true, "live.com": true,
	"msn.com": true, "aol.com": true, "icloud.com": true, "me.com": true, "mac.com": true,
	"proton.me": true, "protonmail.com": true, "gmx.com": true, "gmx.net": true, "gmx.de": true,
	"web.de": true, "t-online.de": true, "libero.it": true, "virgilio.it": true, "tiscali.it": true,
	"alice.it": true, "tin.it": true, "orange.fr": true, "wanadoo.fr": true, "free.fr": true,
	"laposte.net": true, "sfr.fr": true, "videotron.ca": true, "sympatico.ca": true, "shaw.ca": true,
	"bigpond.com": true, "mail.ru": true, "yandex.ru": true, "qq.com": true, "naver.com": true,
	"daum.net": true, "hanmail.net": true,
}

func freeMail(domain string) bool {
	if freeMailDomains[domain] {
		return true
	}
	for _, p := range []string{"yahoo.", "ymail.", "hotmail.", "outlook.", "live."} {
		if strings.HasPrefix(domain, p) {
			return true
		}
	}
	return false
}

// shingles are the hashed runs of shingleWords words of a text, which
// survive the re-wrapping, quote marks and HTML of a quoted letter.
type shingles map[uint64]struct{}

const shingleWords = 4

func shingle(text string) shingles {
	words := strings.FieldsFunc(strings.ToLower(text), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	})
	out := shingles{}
	h := fnv.New64a()
	for i := 0; i+shingleWords <= len(words); i++ {
		h.Reset()
		for _, w := range words[i : i+shingleWords] {
			h.Write([]byte(w))
			h.Write([]byte{0})
		}
		out[h.Sum64()] = struct{}{}
	}
	return out
}

// share is the part of s found in other.
func (s shingles) share(other shingles) float64 {
	if len(s) == 0 {
		return 0
	}
	n := 0
	for k := range s {
		if _, ok := other[k]; ok {
			n++
		}
	}
	return float64(n) / float64(len(s))
}

// maxCachedTexts bounds the letter texts kept: a campaign has a few
// hundred letters.
const maxCachedTexts = 2048

func (mt *Matcher) letterShingles(ctx context.Context, l campaign.Letter) (shingles, error) {
	mt.mu.Lock()
	sh, ok := mt.cache[l.ID]
	mt.mu.Unlock()
	if ok {
		return sh, nil
	}
	// A letter sent before copies were kept has no text to compare.
	sent, err := mt.Sent.LetterAsSent(ctx, l.ID)
	if err != nil && !errors.Is(err, campaign.ErrNotFound) {
		return nil, fmt.Errorf("replies: text of letter %s: %w", l.ID, err)
	}
	sh = shingle(sent.Text)
	mt.mu.Lock()
	if mt.cache == nil || len(mt.cache) >= maxCachedTexts {
		mt.cache = map[string]shingles{}
	}
	mt.cache[l.ID] = sh
	mt.mu.Unlock()
	return sh, nil
}
