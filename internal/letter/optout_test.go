package letter

import (
	"bytes"
	"net/mail"
	"regexp"
	"strings"
	"testing"
)

func TestOptOutToken(t *testing.T) {
	c := testComposer(t)
	tok := c.Signer.OptOutToken(17)
	if !regexp.MustCompile(`^17\.[a-z2-7]{4}[a-z2-7]{26}$`).MatchString(tok) {
		t.Fatalf("token %q is not 17.KEYMAC", tok)
	}
	if id, ok := c.Signer.ParseOptOutToken(tok); !ok || id != 17 {
		t.Fatalf("ParseOptOutToken(%q) = %d, %v", tok, id, ok)
	}
	// A new key still verifies what the old one signed.
	rotated, err := NewSigner([]byte("a-newer-secret-0123456789"), "outreach.example", []byte("0123456789abcdef0123456789abcdef"))
	if err != nil {
		t.Fatal(err)
	}
	if id, ok := rotated.ParseOptOutToken(tok); !ok || id != 17 {
		t.Errorf("after a key change: %d, %v", id, ok)
	}
	for _, bad := range []string{
		"", "17", "17.", tok + "a", strings.Replace(tok, "17.", "18.", 1), strings.Replace(tok, "17.", "017.", 1),
		c.Signer.Token("w1-t17"), "-17" + tok[2:],
	} {
		if id, ok := c.Signer.ParseOptOutToken(bad); ok {
			t.Errorf("ParseOptOutToken(%q) accepted, office %d", bad, id)
		}
	}
}

// TestLettersCarryOptOut: a letter to an office carries the RFC 8058
// fields, its link naming that office and its mailto the letter's reply
// address; a staff member's test copy carries none.
func TestLettersCarryOptOut(t *testing.T) {
	c := testComposer(t)
	c.OptOutBase = "https://act.outreach.example/"
	msg, _, err := c.Compose(Letter{ID: "w1-t17", Template: "appeal", Target: montreal, Campaigns: montrealCampaigns, Date: sentAt})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if _, err := msg.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	m, err := mail.ReadMessage(&buf)
	if err != nil {
		t.Fatal(err)
	}
	want := "<https://act.outreach.example/optout/" + c.Signer.OptOutToken(17) + ">, <mailto:replies+" + c.Signer.Token("w1-t17") +
		"@outreach.example?subject=unsubscribe>"
	if got := m.Header.Get("List-Unsubscribe"); got != want {
		t.Errorf("List-Unsubscribe:\n got %s\nwant %s", got, want)
	}
	if got := m.Header.Get("List-Unsubscribe-Post"); got != "List-Unsubscribe=One-Click" {
		t.Errorf("List-Unsubscribe-Post: %q", got)
	}

	test, _, err := c.Compose(Letter{ID: "test-w1-t17", Template: "appeal", Target: montreal, Campaigns: montrealCampaigns,
		Date: sentAt, To: "anna@campaign.example", SubjectPrefix: "[TEST] "})
	if err != nil {
		t.Fatal(err)
	}
	buf.Reset()
	if _, err := test.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(buf.Bytes(), []byte("List-Unsubscribe")) {
		t.Error("a test copy to staff carries the office's opt-out")
	}
}
