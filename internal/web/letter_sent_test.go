package web

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/outreach-campaign/outreach/internal/campaign"
)

// TestLetterPageShowsTheLetterAsSent: a sent letter's page shows the copy
// kept when it left (here a text today's templates no longer write), its
// HTML part too; a letter not sent yet shows today's rendering.
func TestLetterPageShowsTheLetterAsSent(t *testing.T) {
	h := newHarness(t, harnessOptions{staff: true})
	s := h.login(t)
	ctx := context.Background()
	if code, out := h.apiCall(t, "POST", "/api/v1/waves", `{"name": "world", "countries": ["Canada", "Italy", "Australia"]}`); code != http.StatusCreated {
		t.Fatalf("create: %d %v", code, out)
	}
	kept := campaign.AsSent{
		Subject: "An older appeal [ref W1-T1]",
		Text:    "Dear Mayor,\n\nThis is the appeal as it was written on the day it left.\n",
		Message: []byte("From: campaign@outreach.example\r\nTo: mayor@montreal.example\r\nSubject: An older appeal [ref W1-T1]\r\n" +
			"Content-Type: multipart/alternative; boundary=b\r\n\r\n" +
			"--b\r\nContent-Type: text/plain; charset=UTF-8\r\n\r\nDear Mayor,\r\n\r\nThis is the appeal as it was written on the day it left.\r\n" +
			"--b\r\nContent-Type: text/html; charset=UTF-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n" +
			"<p class=3D\"old\">This is the appeal as it was written on the day it left.</p>\r\n--b--\r\n"),
		Whole: true,
	}
	if _, err := h.st.MarkQueued(ctx, []string{"w1-t1"}); err != nil {
		t.Fatal(err)
	}
	if err := h.st.KeepAsSent(ctx, "w1-t1", kept); err != nil {
		t.Fatal(err)
	}
	if err := h.st.BeginSending(ctx, "w1-t1", "m@x"); err != nil {
		t.Fatal(err)
	}
	if err := h.st.MarkSent(ctx, "w1-t1", time.Now(), "250 OK", campaign.Date{}); err != nil {
		t.Fatal(err)
	}
	page := string(h.getPage(t, s.c, "/letters/w1-t1", http.StatusOK))
	for _, want := range []string{"The letter as sent", "An older appeal [ref W1-T1]",
		"This is the appeal as it was written on the day it left.", `/preview/html?letter=w1-t1`} {
		if !strings.Contains(page, want) {
			t.Errorf("the sent letter's page lacks %q", want)
		}
	}
	if strings.Contains(page, "Twinning agreements exist") {
		t.Error("the sent letter's page shows the letter rendered from today's templates")
	}
	html := string(h.getPage(t, s.c, "/preview/html?letter=w1-t1", http.StatusOK))
	if html != `<p class="old">This is the appeal as it was written on the day it left.</p>` {
		t.Errorf("the HTML part as sent: %q", html)
	}
	page = string(h.getPage(t, s.c, "/letters/w1-t3", http.StatusOK))
	if !strings.Contains(page, "Twinning agreements exist") || strings.Contains(page, "The letter as sent") {
		t.Error("a letter not sent yet is not shown as today's templates write it")
	}
}
