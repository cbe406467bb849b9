package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/outreach-campaign/outreach/internal/campaign"
	"github.com/outreach-campaign/outreach/internal/store"
)

// TestRepliesPrintNoTerminalControls: a mail's subject, sender and text
// can hold escape sequences (which clear the screen, retitle the window,
// hide text) and bidi overrides; "replies list" and "replies show" print
// them as U+FFFD, never raw.
func TestRepliesPrintNoTerminalControls(t *testing.T) {
	c := newCLI(t)
	ctx := context.Background()
	st, err := store.OpenSQLite(ctx, filepath.Join(c.dir, "outreach.db"))
	if err != nil {
		t.Fatal(err)
	}
	hostile := "\x1b]0;pwned\x07\x1b[2J\u202eevil\u202c\x9b31m"
	r := campaign.Reply{
		Mailbox: "INBOX", UIDValidity: 1, UID: 1, MessageID: "x@attacker.example",
		From: "x@attacker.example", FromName: "Mallory" + hostile, Subject: "Hello" + hostile + "\r\nInjected: line",
		ReceivedAt: time.Now(), Kind: campaign.ReplyHuman, Status: campaign.ReplyUnmatched,
		NewText: "Dear staff," + hostile + "\nthe end", Raw: []byte("Subject: Hello\r\n\r\nbody"), SHA256: strings.Repeat("ab", 32),
	}
	if _, err := st.RecordReplies(ctx, []campaign.Reply{r}, store.Checkpoint{Mailbox: "INBOX", UIDValidity: 1, UID: 1}); err != nil {
		t.Fatal(err)
	}
	st.Close()

	for _, args := range [][]string{{"replies", "list"}, {"replies", "show", "1"}} {
		out := c.ok(args...)
		for _, bad := range []string{"\x1b", "\x07", "\u202e", "\x9b", "\r"} {
			if strings.Contains(out, bad) {
				t.Errorf("outreach %s prints %q raw:\n%q", strings.Join(args, " "), bad, out)
			}
		}
		if !strings.Contains(out, "\ufffd") || !strings.Contains(out, "evil") {
			t.Errorf("outreach %s: the controls are not shown as U+FFFD:\n%q", strings.Join(args, " "), out)
		}
		if strings.Contains(out, "\nInjected: line") {
			t.Errorf("outreach %s: a line break in the subject starts a line of its own:\n%s", strings.Join(args, " "), out)
		}
	}
}

func TestPrintable(t *testing.T) {
	for in, want := range map[string]string{
		"plain text, été, 서울":    "plain text, été, 서울",
		"tab\tand\nnewline":      "tab\tand\nnewline",
		"esc\x1b[31mred":         "esc\ufffd[31mred",
		"bell\x07 del\x7f":       "bell\ufffd del\ufffd",
		"c1\u0085 csi\u009b":     "c1\ufffd csi\ufffd",
		"rlo\u202eisolate\u2067": "rlo\ufffdisolate\ufffd",
		"bad utf8 \xff":          "bad utf8 \ufffd",
	} {
		if got := printable(in); got != want {
			t.Errorf("printable(%q) = %q, want %q", in, got, want)
		}
	}
	if got := oneLine("a\r\nb\nc\rd\te"); got != "a b c d e" {
		t.Errorf("oneLine: %q", got)
	}
}
