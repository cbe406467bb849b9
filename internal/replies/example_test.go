package replies_test

import (
	"fmt"
	"strings"

	"github.com/outreach-campaign/outreach/internal/replies"
)

func ExampleClassify() {
	raw := strings.Join([]string{
		"From: Mail Delivery System <MAILER-DAEMON@mx.example.org>",
		"To: appeal@outreach.example.org",
		"Subject: Undelivered Mail Returned to Sender",
		"Content-Type: multipart/report; report-type=delivery-status; boundary=b",
		"",
		"--b",
		"Content-Type: text/plain",
		"",
		"Your message could not be delivered.",
		"--b",
		"Content-Type: message/delivery-status",
		"",
		"Reporting-MTA: dns; mx.example.org",
		"",
		"Final-Recipient: rfc822; Mayor@Town.example",
		"Action: failed",
		"Status: 5.1.1",
		"Diagnostic-Code: smtp; 550 5.1.1 <mayor@town.example>: User unknown",
		"--b",
		"Content-Type: text/rfc822-headers",
		"",
		"Message-ID: <letter-42@outreach.example.org>",
		"To: mayor@town.example",
		"--b--",
	}, "\r\n")

	m, err := replies.Parse([]byte(raw))
	if err != nil {
		fmt.Println(err)
		return
	}
	v := replies.Classify(m)
	fmt.Println(v.Kind, "-", v.Reason)
	fmt.Println(v.Bounce.Recipients, v.Bounce.Status, v.Bounce.Permanent)
	fmt.Println(v.Bounce.OriginalMessageID)
	// Output:
	// bounce - RFC 3464 delivery status report
	// [mayor@town.example] 5.1.1 true
	// letter-42@outreach.example.org
}

func ExampleParse() {
	raw := "From: Mayor <mayor@town.example>\n" +
		"Subject: Re: An appeal\n" +
		"In-Reply-To: <letter-42@outreach.example.org>\n" +
		"\n" +
		"We agree and will act.\n" +
		"\n" +
		"On Tue, 12 Mar 2024 at 09:15, Campaign <appeal@outreach.example.org> wrote:\n" +
		"> Dear Mayor,\n"
	m, err := replies.Parse([]byte(raw))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(m.InReplyTo, replies.Classify(m).Kind)
	fmt.Println(m.NewText)
	// Output:
	// [letter-42@outreach.example.org] human
	// We agree and will act.
}
