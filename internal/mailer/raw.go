package mailer

import (
	"context"
	"errors"
	"net/textproto"

	"github.com/wneessen/go-mail/smtp"
)

// Raw is a message kept as it was written: its bytes go out unchanged,
// but for a DKIM-Signature put in front when signing is on.
type Raw struct {
	From string   // envelope sender
	To   []string // envelope recipients
	Data []byte   // the whole message, CRLF line endings
}

// SendRaw sends a message kept as written, as Send sends a Msg: on a
// pooled session, with the same errors.
func (m *Mailer) SendRaw(ctx context.Context, r Raw) (reply string, err error) {
	switch {
	case r.From == "":
		return "", &Error{Kind: Permanent, Stage: StageMail, Err: errors.New("message has no sender")}
	case len(r.To) == 0:
		return "", &Error{Kind: Permanent, Stage: StageRcpt, Err: errors.New("message has no recipient")}
	}
	data := r.Data
	if m.cfg.DKIM != nil {
		sig, err := m.cfg.DKIM.signature(data)
		if err != nil {
			return "", &Error{Kind: Permanent, Stage: StageContent, Err: err}
		}
		data = append([]byte("DKIM-Signature: "+sig+"\r\n"), data...)
	}
	return m.session(ctx, func(c *conn) (string, *Error) { return sendRawOn(c, r.From, r.To, data) })
}

// sendRawOn runs one transaction of data on c.
func sendRawOn(c *conn, from string, to []string, data []byte) (string, *Error) {
	sc := c.sc
	if err := sc.Mail(from); err != nil {
		_ = sc.Reset()
		return "", rawError(StageMail, err)
	}
	for _, rcpt := range to {
		if err := sc.Rcpt(rcpt); err != nil {
			_ = sc.Reset()
			return "", rawError(StageRcpt, err)
		}
	}
	w, err := sc.Data()
	if err != nil {
		_ = sc.Reset()
		return "", rawError(StageData, err)
	}
	if _, err := w.Write(data); err != nil {
		return "", rawError(StageContent, err)
	}
	if err := w.Close(); err != nil {
		return "", rawError(StageEndOfData, err)
	}
	reply := ""
	if dc, ok := w.(*smtp.DataCloser); ok {
		reply = dc.ServerResponse()
	}
	return "250 " + reply, nil
}

// rawError classifies a failure of a raw send at stage by the rules of
// classifySend: the reply code decides; without one, a failure before
// the message went out is temporary and one after it ambiguous.
func rawError(stage string, err error) *Error {
	e := &Error{Stage: stage, Err: err}
	var tpe *textproto.Error
	if errors.As(err, &tpe) {
		e.Code, e.Reply, e.Enhanced = tpe.Code, tpe.Msg, enhancedIn(tpe.Msg)
	}
	if k, ok := kindOfCode(e.Code); ok {
		e.Kind = k
		return e
	}
	switch stage {
	case StageMail, StageRcpt, StageData:
		e.Kind = Temporary
	default:
		e.Kind = Ambiguous
	}
	return e
}
