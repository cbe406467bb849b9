// Package devreply writes realistic answers to a letter the campaign sent:
// a mayor's office replying (with the letter quoted, as mail programs do),
// an out-of-office auto-reply, and a mail server's bounce. They let a new
// user (outreach dev reply) and the tests see the reply poller at work
// without a real office.
package devreply

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"mime"
	"mime/quotedprintable"
	"net/mail"
	"strings"
	"time"
)

// Letter is the letter answered, as it was sent.
type Letter struct {
	MessageID string // without angle brackets
	Subject   string
	Text      string // the plain-text part
	SentAt    time.Time
	// FromName and From are the sender of the letter (the organisation),
	// ReplyTo where replies go (the plus-address, when letters carry one).
	FromName, From, ReplyTo string
	// To is the office's address, ToName its mayor or office.
	To, ToName string
	Language   string // en, it or fr
}

// words are what an office writes back, in its language.
type words struct {
	replyPrefix, autoPrefix string
	reply                   string
	auto                    string
	attribution             func(date, who string) string
	dateFormat              string
}

var languages = map[string]words{
	"en": {
		replyPrefix: "Re: ", autoPrefix: "Automatic reply: ",
		reply: "Dear Sister City Campaign,\n\nThank you for your letter. The Mayor has read it and has written to our " +
			"partners in South Korea to ask them to enforce the law against the dog and cat meat trade.\n\n" +
			"Kind regards,\n\n%s",
		auto: "Thank you for your e-mail. I am out of the office until Monday with limited access to e-mail. " +
			"I will reply on my return.\n\n%s",
		attribution: func(date, who string) string { return "On " + date + ", " + who + " wrote:" },
		dateFormat:  "Mon, 2 Jan 2006 at 15:04",
	},
	"it": {
		replyPrefix: "R: ", autoPrefix: "Risposta automatica: ",
		reply: "Gentili signori,\n\nvi ringraziamo per la vostra lettera. Il Sindaco l'ha letta e ha scritto ai nostri " +
			"partner in Corea del Sud per chiedere di far rispettare la legge contro il commercio di carne di cane e di gatto.\n\n" +
			"Cordiali saluti,\n\n%s",
		auto: "Grazie per la Sua e-mail. Sono fuori ufficio fino a lunedì con accesso limitato alla posta. " +
			"Risponderò al mio rientro.\n\n%s",
		attribution: func(date, who string) string { return "Il giorno " + date + " " + who + " ha scritto:" },
		dateFormat:  "02/01/2006 15:04",
	},
	"fr": {
		replyPrefix: "RE : ", autoPrefix: "Réponse automatique : ",
		reply: "Madame, Monsieur,\n\nNous vous remercions de votre lettre. Le maire l'a lue et a écrit à nos partenaires " +
			"en Corée du Sud pour leur demander de faire appliquer la loi contre le commerce de viande de chien et de chat.\n\n" +
			"Cordialement,\n\n%s",
		auto: "Merci pour votre courriel. Je suis absent du bureau jusqu'à lundi et je n'ai qu'un accès limité à ma messagerie. " +
			"Je vous répondrai à mon retour.\n\n%s",
		attribution: func(date, who string) string { return "Le " + date + ", " + who + " a écrit :" },
		dateFormat:  "02/01/2006 à 15:04",
	},
}

func wordsFor(lang string) words {
	if w, ok := languages[lang]; ok {
		return w
	}
	return languages["en"]
}

// Human is the office's answer: the mayor's address writing back to the
// reply address, in the letter's thread, with the letter quoted below.
func Human(l Letter, date time.Time) []byte {
	w := wordsFor(l.Language)
	signature := l.ToName
	if signature == "" {
		signature = l.To
	}
	body := fmt.Sprintf(w.reply, signature) + "\n\n" +
		w.attribution(l.SentAt.Format(w.dateFormat), address(l.FromName, l.From)) + "\n" + quote(l.Text)
	return message([]string{
		"From: " + address(l.ToName, l.To),
		"To: " + replyAddress(l),
		"Subject: " + encode(w.replyPrefix+l.Subject),
		"Date: " + date.Format(time.RFC1123Z),
		"Message-ID: <" + newID(l.To) + ">",
		"In-Reply-To: <" + l.MessageID + ">",
		"References: <" + l.MessageID + ">",
	}, body)
}

// AutoReply is the office's out-of-office answer (RFC 3834).
func AutoReply(l Letter, date time.Time) []byte {
	w := wordsFor(l.Language)
	signature := l.ToName
	if signature == "" {
		signature = l.To
	}
	return message([]string{
		"From: " + address(l.ToName, l.To),
		"To: " + replyAddress(l),
		"Subject: " + encode(w.autoPrefix+l.Subject),
		"Date: " + date.Format(time.RFC1123Z),
		"Message-ID: <" + newID(l.To) + ">",
		"In-Reply-To: <" + l.MessageID + ">",
		"References: <" + l.MessageID + ">",
		"Auto-Submitted: auto-replied",
		"X-Auto-Response-Suppress: All",
	}, fmt.Sprintf(w.auto, signature))
}

// Bounce is the office's mail server refusing the letter for good: an RFC
// 3464 report naming the office's address as unknown, with the letter's
// header returned.
func Bounce(l Letter, date time.Time) []byte {
	return bounce(l, date, false)
}

// DelayWarning is a mail server reporting that the letter is still being
// retried: not a failure.
func DelayWarning(l Letter, date time.Time) []byte {
	return bounce(l, date, true)
}

func bounce(l Letter, date time.Time, delayed bool) []byte {
	domain := l.To[strings.LastIndexByte(l.To, '@')+1:]
	mta := "mx." + domain
	boundary := "report-" + newToken()
	subject, notice := "Undelivered Mail Returned to Sender",
		"I'm sorry to have to inform you that your message could not\nbe delivered to one or more recipients.\n\n"+
			"<"+l.To+">: host "+mta+" said: 550 5.1.1 <"+l.To+">: Recipient\n    address rejected: User unknown in virtual mailbox table"
	action, status, diagnostic := "failed", "5.1.1", "smtp; 550 5.1.1 <"+l.To+">: Recipient address rejected: User unknown"
	if delayed {
		subject, notice = "Delayed Mail (still being retried)",
			"This is a delivery status notification, NOT a failure: your message has not yet been delivered\n"+
				"to <"+l.To+">. It is still being retried; no action is required on your part."
		action, status, diagnostic = "delayed", "4.4.1", "smtp; 421 4.4.1 "+mta+": connection timed out"
	}
	header := strings.Join([]string{
		"From: " + address(l.FromName, l.From),
		"To: " + l.To,
		"Subject: " + encode(l.Subject),
		"Date: " + l.SentAt.Format(time.RFC1123Z),
		"Message-ID: <" + l.MessageID + ">",
	}, "\r\n")
	parts := []string{
		"--" + boundary,
		"Content-Description: Notification",
		"Content-Type: text/plain; charset=us-ascii",
		"",
		strings.ReplaceAll(notice, "\n", "\r\n"),
		"",
		"--" + boundary,
		"Content-Description: Delivery report",
		"Content-Type: message/delivery-status",
		"",
		"Reporting-MTA: dns; " + mta,
		"Arrival-Date: " + l.SentAt.Format(time.RFC1123Z),
		"",
		"Final-Recipient: rfc822; " + l.To,
		"Original-Recipient: rfc822;" + l.To,
		"Action: " + action,
		"Status: " + status,
		"Remote-MTA: dns; " + mta,
		"Diagnostic-Code: " + diagnostic,
		"",
		"--" + boundary,
		"Content-Description: Undelivered Message Headers",
		"Content-Type: text/rfc822-headers",
		"",
		header,
		"",
		"--" + boundary + "--",
		"",
	}
	h := []string{
		"From: Mail Delivery System <MAILER-DAEMON@" + mta + ">",
		"To: " + l.From,
		"Subject: " + subject,
		"Date: " + date.Format(time.RFC1123Z),
		"Message-ID: <" + newID(mta) + ">",
		"Auto-Submitted: auto-replied",
		"MIME-Version: 1.0",
		"Content-Type: multipart/report; report-type=delivery-status; boundary=\"" + boundary + "\"",
	}
	return []byte(strings.Join(h, "\r\n") + "\r\n\r\n" + strings.Join(parts, "\r\n"))
}

// message writes a text/plain UTF-8 message, quoted-printable.
func message(header []string, body string) []byte {
	var b bytes.Buffer
	for _, h := range header {
		b.WriteString(h + "\r\n")
	}
	b.WriteString("MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n")
	qp := quotedprintable.NewWriter(&b)
	qp.Write([]byte(strings.ReplaceAll(body, "\n", "\r\n") + "\r\n"))
	qp.Close()
	return b.Bytes()
}

func quote(text string) string {
	lines := strings.Split(strings.TrimRight(text, "\n"), "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRight("> "+l, " ")
	}
	return strings.Join(lines, "\n")
}

func replyAddress(l Letter) string {
	if l.ReplyTo != "" {
		return l.ReplyTo
	}
	return l.From
}

func address(name, addr string) string {
	return (&mail.Address{Name: name, Address: addr}).String()
}

func encode(s string) string { return mime.QEncoding.Encode("utf-8", s) }

// newID is a fresh Message-ID at domain.
func newID(addrOrDomain string) string {
	domain := addrOrDomain[strings.LastIndexByte(addrOrDomain, '@')+1:]
	return "dev-" + newToken() + "@" + domain
}

func newToken() string {
	b := make([]byte, 8)
	rand.Read(b)
	return hex.EncodeToString(b)
}
