package mailer

import (
	"errors"
	"fmt"
	"net/textproto"
	"regexp"
	"strconv"
	"strings"

	"github.com/wneessen/go-mail"
)

// Kind says what a caller may do after a failed Send. The three kinds exist
// because the two ways of getting it wrong are not equally bad for a letter
// to a mayor: a retry after the server already took the message sends a
// duplicate, and giving up on a message the server never took loses it.
type Kind int

const (
	// Temporary: the server did not take the message and a later attempt may
	// succeed. A 4xx reply at any stage, or a network error before the
	// message content was sent (connect, MAIL, RCPT, the DATA command).
	// Retry with backoff.
	Temporary Kind = iota + 1
	// Permanent: the server refused the message with a 5xx reply (or the
	// message can never be sent, e.g. it has no sender). Retrying the same
	// message gives the same answer: mark the letter failed. Error.Stage
	// says what was refused: at rcpt the recipient's address, at mail our
	// sender (or our missing login), at end of data the content. Only the
	// first says anything about the office's address.
	Permanent
	// Ambiguous: the connection was lost (or timed out) while the content
	// was being sent or while waiting for the reply to its end. The server
	// may have accepted and queued the message; only a human, checking the
	// mailbox or the relay's log, can tell. It must NOT be retried
	// automatically: a duplicate appeal to a mayor's office is worse than a
	// letter that waits for staff.
	Ambiguous
)

func (k Kind) String() string {
	switch k {
	case Temporary:
		return "temporary"
	case Permanent:
		return "permanent"
	case Ambiguous:
		return "ambiguous"
	}
	return "Kind(" + strconv.Itoa(int(k)) + ")"
}

// Stages of an SMTP transaction, as reported in Error.Stage.
const (
	StageConnect   = "connect"     // dial, greeting, EHLO, STARTTLS, AUTH
	StageMail      = "mail"        // MAIL FROM
	StageRcpt      = "rcpt"        // RCPT TO
	StageData      = "data"        // the DATA command, before any content
	StageContent   = "content"     // writing the message
	StageEndOfData = "end of data" // the final "." and the server's verdict on it
)

// Error is what Send returns when a message was not delivered (or may not
// have been: see Ambiguous).
type Error struct {
	Kind     Kind
	Code     int    // SMTP reply code; 0 when the server gave none (network error, timeout)
	Enhanced string // RFC 3463 enhanced status code such as "5.1.1", when the server sent one
	Reply    string // the reply's text after the code, as the server sent it
	Stage    string // one of the Stage constants
	Err      error  // the underlying error (often a *mail.SendError)
}

func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "mailer: %s failure at %s", e.Kind, e.Stage)
	switch {
	case e.Code != 0 && e.Stage != StageConnect:
		// go-mail's own text repeats the recipients and Message-ID; the
		// reply is what a reader of the log needs.
		fmt.Fprintf(&b, ": %d %s", e.Code, e.Reply)
	case e.Err != nil:
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// KindOf returns the Kind of the *Error in err's chain, or 0 when there is
// none (err is nil or did not come from Send).
func KindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return 0
}

// kindOfCode applies the rule shared by every stage: the server's own
// verdict wins. 5xx is permanent; 4xx is temporary, even after the end of
// DATA, because there the server explicitly refused to take the message.
func kindOfCode(code int) (Kind, bool) {
	switch code / 100 {
	case 5:
		return Permanent, true
	case 4:
		return Temporary, true
	}
	return 0, false
}

// classifySend turns an error of go-mail's SendWithSMTPClient into an
// *Error.
//
// The stage comes from SendError.Reason. SendError.IsTemp() is not used: in
// go-mail v0.8.1 it only says "the error text starts with 4", so a lost
// connection (EOF, reset) counts as not temporary even before MAIL FROM.
func classifySend(err error, msg *mail.Msg) *Error {
	var se *mail.SendError
	if !errors.As(err, &se) {
		// go-mail v0.8.1 returns only SendErrors from a send; anything
		// else means we cannot know how far the transaction got.
		return &Error{Kind: Ambiguous, Stage: StageEndOfData, Err: err}
	}
	e := &Error{Stage: stageOf(se.Reason), Err: se}
	e.Code = se.ErrorCode()
	e.Enhanced = se.EnhancedStatusCode()
	if e.Code != 0 {
		e.Reply = replyText(se, msg, e.Code)
		if e.Enhanced == "" {
			e.Enhanced = enhancedIn(e.Reply)
		}
	}
	if k, ok := kindOfCode(e.Code); ok {
		e.Kind = k
		return e
	}
	switch se.Reason {
	case mail.ErrGetSender, mail.ErrGetRcpts, mail.ErrNoUnencoded:
		// The message itself cannot be sent (no sender or recipient, or
		// 8-bit content to a server without 8BITMIME): it never will be.
		e.Kind = Permanent
	case mail.ErrConnCheck, mail.ErrSMTPMailFrom, mail.ErrSMTPRcptTo, mail.ErrSMTPData:
		// No byte of the message was sent: retrying cannot duplicate it.
		e.Kind = Temporary
	default:
		// ErrSMTPDataClose: the final "." was sent and the verdict never
		// came; the server may well have queued the message.
		// ErrWriteContent: the "." was not sent yet, so a conforming
		// server throws the partial message away, but some keep and
		// deliver what they got, and we cannot see which. Unknown
		// reasons: we cannot know how far the transaction got.
		e.Kind = Ambiguous
	}
	return e
}

func stageOf(r mail.SendErrReason) string {
	switch r {
	case mail.ErrConnCheck:
		return StageConnect
	case mail.ErrGetSender, mail.ErrSMTPMailFrom, mail.ErrNoUnencoded:
		return StageMail
	case mail.ErrGetRcpts, mail.ErrSMTPRcptTo:
		return StageRcpt
	case mail.ErrSMTPData:
		return StageData
	case mail.ErrWriteContent:
		return StageContent
	}
	return StageEndOfData
}

// replyText recovers the server's reply text from a SendError. go-mail
// v0.8.1 keeps the underlying *textproto.Error in an unexported list and
// SendError has no Unwrap, so its Error() string is the only place the text
// survives. That string is
//
//	<reason>: <error>[, <error>...][, affected recipient(s): <rcpt>, ...][, affected message ID: <id>]
//
// and the first <error> is the server's reply, a *textproto.Error. Since Go
// 1.26 that prints as `<code> "<text>"`, the text Go-quoted (so a server
// cannot forge lines in our logs), which also tells exactly where the text
// ends. Without the quotes (older Go) the end is a guess: the text runs to
// the recipients or the Message-ID go-mail appends, and keeps any further
// error (a failed RSET after the refusal), since the server's text may
// contain ", " itself.
func replyText(se *mail.SendError, msg *mail.Msg, code int) string {
	s := strings.TrimPrefix(se.Error(), se.Reason.String()+": ")
	s, ok := strings.CutPrefix(s, strconv.Itoa(code)+" ")
	if !ok {
		return s
	}
	if q, err := strconv.QuotedPrefix(s); err == nil {
		if text, err := strconv.Unquote(q); err == nil {
			return text
		}
	}
	if msg != nil {
		if id := msg.GetMessageID(); id != "" {
			s = strings.TrimSuffix(s, ", affected message ID: "+id)
		}
	}
	if i := strings.LastIndex(s, ", affected recipient(s): "); i >= 0 {
		s = s[:i]
	}
	return s
}

var enhancedRE = regexp.MustCompile(`^[245]\.\d{1,3}\.\d{1,3}\b`)

// enhancedIn returns the enhanced status code at the start of a reply text;
// go-mail reports one only when the server advertised
// ENHANCEDSTATUSCODES, but some servers send them regardless.
func enhancedIn(text string) string {
	return enhancedRE.FindString(text)
}

// connectError describes a failure to get a usable session (dial, greeting,
// EHLO, STARTTLS, AUTH). It is always Temporary, whatever the reply code:
// no message was sent, and a 5xx here ("554 no service", "535 bad
// credentials", no STARTTLS) is about our relay or our configuration, not
// about the letter or its recipient. Marking letters failed and their
// addresses suspect because our own password is wrong would be the wrong
// lesson; retries with backoff (and the error in the log) are right.
func connectError(err error) *Error {
	e := &Error{Kind: Temporary, Stage: StageConnect, Err: err}
	var tpe *textproto.Error
	if errors.As(err, &tpe) {
		e.Code = tpe.Code
		e.Reply = tpe.Msg
		e.Enhanced = enhancedIn(tpe.Msg)
	}
	return e
}
