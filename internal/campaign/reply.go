package campaign

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"time"
)

// ReplyKind is what a message found in the campaign mailbox is.
type ReplyKind string

const (
	// ReplyHuman is a person's message: the answers the campaign waits for.
	ReplyHuman ReplyKind = "human"
	// ReplyAuto is an automatic reply: out-of-office, acknowledgement.
	ReplyAuto ReplyKind = "auto-reply"
	// ReplyBounce is a delivery failure or delay report.
	ReplyBounce ReplyKind = "bounce"
)

// Valid reports whether k is one of the kinds above.
func (k ReplyKind) Valid() bool {
	return k == ReplyHuman || k == ReplyAuto || k == ReplyBounce
}

// ReplyStatus is where the matching of a reply to a letter stands.
type ReplyStatus string

const (
	// ReplyConfirmed: matched to its letter with enough confidence, or
	// confirmed by staff; its effects (response date, bounce) are applied.
	ReplyConfirmed ReplyStatus = "confirmed"
	// ReplyPending: matched below the confirmation threshold; it waits for
	// staff and has no effect but holding back a follow-up.
	ReplyPending ReplyStatus = "pending"
	// ReplyUnmatched: no letter of ours found; kept and listed.
	ReplyUnmatched ReplyStatus = "unmatched"
	// ReplyRejected: staff said the match is wrong or the mail irrelevant.
	ReplyRejected ReplyStatus = "rejected"
)

// Valid reports whether s is one of the statuses above.
func (s ReplyStatus) Valid() bool {
	switch s {
	case ReplyConfirmed, ReplyPending, ReplyUnmatched, ReplyRejected:
		return true
	}
	return false
}

// The signals that carry our HMAC (the letter's signed Message-ID or reply
// token): nobody who was not sent the letter can make them. Every other
// signal (a [ref W1-T17] in a subject or a quote, the sender's address or
// domain, the recipient a bounce names) can be copied or forged by anyone
// who writes to the campaign mailbox.
const (
	// SignalMessageID: In-Reply-To or References names one of our
	// Message-IDs, its signature checked.
	SignalMessageID = "message-id"
	// SignalReplyToken: the message was sent to our Reply-To plus-address
	// with a letter's signed token.
	SignalReplyToken = "reply-token"
	// SignalBounceOriginal: a bounce returns a message whose Message-ID is
	// ours, its signature checked.
	SignalBounceOriginal = "bounce-original"
)

// Signal is one piece of evidence that a reply answers a letter.
type Signal struct {
	// Name says which kind of evidence it is, e.g. "message-id".
	Name string `json:"name"`
	// Detail says what was seen, for staff reading the match.
	Detail string `json:"detail"`
	// LetterID is the letter the signal points to.
	LetterID string `json:"letter_id,omitempty"`
	// Weight is how much the signal alone says, from 0 to 1.
	Weight float64 `json:"weight"`
}

// Signed reports whether the signal carries our signature, so that a
// stranger cannot have made it.
func (s Signal) Signed() bool {
	switch s.Name {
	case SignalMessageID, SignalReplyToken, SignalBounceOriginal:
		return true
	}
	return false
}

// BounceReport is what a delivery report says.
type BounceReport struct {
	Recipients []string `json:"recipients,omitempty"`
	// Permanent: the address is bad. Delayed: delivery is still being
	// tried. Neither: the message failed this time (full mailbox, filter).
	Permanent         bool   `json:"permanent"`
	Delayed           bool   `json:"delayed"`
	Status            string `json:"status,omitempty"`
	Diagnostic        string `json:"diagnostic,omitempty"`
	OriginalMessageID string `json:"original_message_id,omitempty"`
}

// Reply is one message found in the campaign mailbox: classified, matched
// to a letter with the signals that say so, and reviewed by staff.
type Reply struct {
	ID int64 `json:"id"`
	// Mailbox, UIDValidity and UID say where the poller found it.
	Mailbox     string `json:"mailbox"`
	UIDValidity uint32 `json:"uid_validity"`
	UID         uint32 `json:"uid"`
	// MessageID is the message's own Message-ID, without angle brackets;
	// SHA256 is the hash of what was fetched, which tells messages without
	// one apart.
	MessageID string `json:"message_id,omitempty"`
	SHA256    string `json:"sha256"`

	Kind       ReplyKind   `json:"kind"`
	KindReason string      `json:"kind_reason,omitempty"`
	Status     ReplyStatus `json:"status"`
	// LetterID and TargetID are the letter and office it was matched to;
	// CampaignIDs the campaigns it answers for.
	LetterID    string   `json:"letter_id,omitempty"`
	TargetID    int64    `json:"target_id,omitempty"`
	CampaignIDs []int64  `json:"campaign_ids,omitempty"`
	Confidence  float64  `json:"confidence"`
	Signals     []Signal `json:"signals,omitempty"`

	From     string    `json:"from"`
	FromName string    `json:"from_name,omitempty"`
	Subject  string    `json:"subject"`
	Date     time.Time `json:"date,omitzero"` // the Date header
	// ReceivedAt is when the mailbox got it (IMAP INTERNALDATE); its day
	// in the office's time zone is the response date it gives.
	ReceivedAt time.Time `json:"received_at,omitzero"`
	// Size is the message's size in the mailbox; Oversized says it was
	// over the size limit, so only its header was fetched and kept.
	Size      int64 `json:"size"`
	Oversized bool  `json:"oversized,omitempty"`
	// Raw is the message as fetched (header only when oversized). Lists
	// leave it out.
	Raw []byte `json:"-"`
	// NewText is what the sender wrote above the quoted letter.
	NewText string        `json:"new_text"`
	Bounce  *BounceReport `json:"bounce,omitempty"`
	// Problems are what was malformed in the message.
	Problems []string `json:"problems,omitempty"`
	// OptOut says the message asks the campaign to stop writing (it went
	// to a letter's List-Unsubscribe mailto). Anyone can send mail, so it
	// always waits for staff; confirmed, it marks the office
	// do-not-contact.
	OptOut bool `json:"opt_out,omitempty"`

	// Note is staff's note from the review; ReviewedAt is when staff last
	// confirmed or rejected it.
	Note       string    `json:"note,omitempty"`
	ReviewedAt time.Time `json:"reviewed_at,omitzero"`
	CreatedAt  time.Time `json:"created_at,omitzero"`
}

// Key tells one message from another across a rescan of the mailbox: its
// Message-ID, or for a message without one the hash of the message.
func (r Reply) Key() string {
	if id := strings.ToLower(strings.Trim(strings.TrimSpace(r.MessageID), "<>")); id != "" {
		return "message-id:" + id
	}
	return "sha256:" + r.SHA256
}

// HashRaw is the SHA256 of a raw message, as Reply.SHA256 keeps it.
func HashRaw(raw []byte) string {
	sum := sha256.Sum256(raw)
	return hex.EncodeToString(sum[:])
}

// Validate checks what every stored reply must have.
func (r Reply) Validate() error {
	switch {
	case !r.Kind.Valid():
		return fieldErr("kind", "%q is not a reply kind", r.Kind)
	case !r.Status.Valid():
		return fieldErr("status", "%q is not a reply status", r.Status)
	case r.Mailbox == "":
		return fieldErr("mailbox", "missing")
	case r.SHA256 == "":
		return fieldErr("sha256", "missing")
	case r.Confidence < 0 || r.Confidence > 1:
		return fieldErr("confidence", "%v is not between 0 and 1", r.Confidence)
	case r.Status == ReplyConfirmed && len(r.CampaignIDs) == 0:
		return fieldErr("campaign_ids", "a confirmed reply answers at least one campaign")
	case r.Status == ReplyUnmatched && r.LetterID != "":
		return fieldErr("status", "an unmatched reply names letter %s", r.LetterID)
	}
	return nil
}

// SetsResponseDate reports whether the reply gives its campaigns their
// response date: only a confirmed person's reply does. Auto-replies and
// bounces never do.
func (r Reply) SetsResponseDate() bool {
	return r.Kind == ReplyHuman && r.Status == ReplyConfirmed && !r.OptOut
}

// MarksDoNotContact reports whether the reply marks its office
// do-not-contact: a request to stop that staff confirmed.
func (r Reply) MarksDoNotContact() bool {
	return r.OptOut && r.Status == ReplyConfirmed && r.TargetID != 0
}

// MarksBounced reports whether the reply marks its letter bounced and the
// office's address suspect: a confirmed permanent failure. A delay warning
// or a temporary failure does neither.
func (r Reply) MarksBounced() bool {
	return r.Kind == ReplyBounce && r.Status == ReplyConfirmed && r.Bounce != nil &&
		r.Bounce.Permanent && !r.Bounce.Delayed && r.LetterID != ""
}

// Signed reports whether a signed signal names the reply's letter: the
// sender was sent that letter (or its bounce returns it).
func (r Reply) Signed() bool {
	if r.LetterID == "" {
		return false
	}
	for _, s := range r.Signals {
		if s.LetterID == r.LetterID && s.Signed() {
			return true
		}
	}
	return false
}

// HoldsFollowUp reports whether the reply stops follow-ups to its office:
// a person's reply confirmed, or pending review on a signed signal
// (writing again to an office that answered is the worse mistake), or a
// permanent bounce. A pending reply on unsigned signals does not: anyone
// can copy a letter's reference or write from an office's domain, and a
// stranger must not silence the campaign. An auto-reply does not either.
func (r Reply) HoldsFollowUp() bool {
	if r.TargetID == 0 {
		return false
	}
	if r.Kind == ReplyHuman {
		return r.Status == ReplyConfirmed || r.Status == ReplyPending && r.Signed()
	}
	return r.MarksBounced()
}

// NeedsReview reports whether the reply waits in the staff review queue:
// matched below the threshold, or a person's message matched to nothing.
func (r Reply) NeedsReview() bool {
	return r.Status == ReplyPending || r.Status == ReplyUnmatched && r.Kind == ReplyHuman
}

// ResponseDay is the calendar day a reply received at t gives as a
// response date, in the office's time zone (UTC when unknown).
func ResponseDay(t time.Time, timeZone string) Date {
	loc, err := time.LoadLocation(timeZone)
	if err != nil || timeZone == "" {
		loc = time.UTC
	}
	return DateOf(t.In(loc))
}

// ParseReplyStatus reads a status name.
func ParseReplyStatus(s string) (ReplyStatus, error) {
	st := ReplyStatus(strings.ToLower(strings.TrimSpace(s)))
	if !st.Valid() {
		return "", fmt.Errorf("%q is not a reply status (confirmed, pending, unmatched or rejected)", s)
	}
	return st, nil
}
