package campaign

import "testing"

// TestShrunkKeepsHeadersAndText: a message too large to keep whole keeps
// its header section (folded fields whole), its subject, and its text part
// in quoted-printable; its other parts go.
func TestShrunkKeepsHeadersAndText(t *testing.T) {
	a := AsSent{
		Subject: "Votre jumelage [ref W1-T19]",
		Text:    "Madame la mairesse,\n\nNous écrivons.\n",
		Message: []byte("Message-ID: <w1-t19.x@outreach.example>\r\nSubject: =?UTF-8?q?Votre_jumelage?=\r\n [ref W1-T19]\r\n" +
			"To: <maire@montreal.example>\r\nContent-Type: multipart/alternative;\r\n boundary=b\r\n\r\n--b\r\n...\r\n--b--\r\n"),
		Whole: true,
	}
	got := a.Shrunk()
	want := "Message-ID: <w1-t19.x@outreach.example>\r\nTo: <maire@montreal.example>\r\n" +
		"Subject: Votre jumelage [ref W1-T19]\r\n" +
		"Content-Type: text/plain; charset=UTF-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n" +
		"Madame la mairesse,\r\n\r\nNous =C3=A9crivons.\r\n"
	if string(got.Message) != want || got.Whole || got.Subject != a.Subject || got.Text != a.Text {
		t.Errorf("Shrunk:\n%s\nwant\n%s", got.Message, want)
	}
}

// TestWithoutErasesEverywhere: a supporter's name, address and message go
// from the subject, the text and the header section; blank secrets change
// nothing.
func TestWithoutErasesEverywhere(t *testing.T) {
	a := AsSent{
		Subject: "A letter from Jo Bloggs [ref S1]",
		Text:    "Jo Bloggs <jo@people.example> wrote:\nStop it.\r\nPlease.\n",
		Message: []byte("Subject: A letter from Jo Bloggs [ref S1]\r\nReply-To: Jo Bloggs <jo@people.example>\r\n\r\nJo..."),
		Whole:   true,
	}
	if got := a.Without("", " "); string(got.Message) != string(a.Message) || !got.Whole {
		t.Errorf("blank secrets changed the copy: %+v", got)
	}
	got := a.Without("Jo Bloggs", "jo@people.example", "Stop it.\nPlease.")
	want := "Reply-To: [erased] <[erased]>\r\nSubject: A letter from [erased] [ref S1]\r\n" +
		"Content-Type: text/plain; charset=UTF-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n" +
		"[erased] <[erased]> wrote:\r\n[erased]\r\n"
	if got.Subject != "A letter from [erased] [ref S1]" || got.Text != "[erased] <[erased]> wrote:\n[erased]\n" ||
		string(got.Message) != want || got.Whole {
		t.Errorf("Without: subject %q, text %q, message\n%s", got.Subject, got.Text, got.Message)
	}
}
