package web

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/outreach-campaign/outreach/internal/campaign"
	"github.com/outreach-campaign/outreach/internal/store"
	"github.com/outreach-campaign/outreach/internal/supporters"
)

// signRaw posts a letter to the API and returns the status, the content
// type and the body as sent.
func (h *harness) signRaw(campaignID int64, body any) (int, string, string) {
	h.tb.Helper()
	b, _ := json.Marshal(body)
	resp, err := http.Post(fmt.Sprintf("%s/api/campaigns/%d/letters", h.srv.URL, campaignID), "application/json", bytes.NewReader(b))
	if err != nil {
		h.tb.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("Content-Type"), string(raw)
}

// signatureOf returns the letter an address signed to campaign id.
func (h *harness) signatureOf(id int64, email string) campaign.Signature {
	h.tb.Helper()
	sigs, err := h.st.Signatures(context.Background(), id)
	if err != nil {
		h.tb.Fatal(err)
	}
	for _, s := range sigs {
		if s.Email == email {
			return s
		}
	}
	h.tb.Fatalf("no letter from %s to campaign %d", email, id)
	return campaign.Signature{}
}

// draftLink is the confirmation link of a signature's draft, as its mail
// carries it.
func (h *harness) draftLink(sigID int64) (store.Draft, string) {
	h.tb.Helper()
	d, err := h.st.Draft(context.Background(), sigID)
	if err != nil {
		h.tb.Fatal(err)
	}
	link, _ := h.sup.ConfirmationLinks(campaign.Signature{ID: sigID, Version: d.Version, SignedAt: d.SignedAt})
	return d, link
}

func TestStrangerCannotReplaceLetter(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	ctx := context.Background()
	jane := map[string]any{"name": "Jane Doe", "email": "jane@people.example", "country": "Canada", "city": "Ottawa",
		"message": "Please write to Seoul.\n\nThank you."}
	if code, body := h.signJSON(1, jane); code != http.StatusAccepted {
		t.Fatalf("Jane signs: %d %v", code, body)
	}
	sig := h.signatureOf(1, "jane@people.example")
	janeLink, _ := h.sup.ConfirmationLinks(sig)

	// Her link's page shows the letter, its office, and that it replaces
	// nothing, before its button.
	code, page := h.get(h.client(), janeLink)
	for _, want := range []string{"Jane Doe (Ottawa, Canada)", "<p>Please write to Seoul.</p>", "<p>Thank you.</p>",
		"Valérie Plante, Montreal", "replaces no other"} {
		if code != http.StatusOK || !strings.Contains(page, want) {
			t.Errorf("Jane's confirmation page lacks %q: %d\n%s", want, code, page)
		}
	}
	if code, page := h.follow(janeLink); code != http.StatusOK || !strings.Contains(page, "your letter is confirmed") {
		t.Fatalf("Jane confirms: %d\n%s", code, page)
	}
	before := h.signatureOf(1, "jane@people.example")

	// A stranger signs with her address, written another way.
	if code, body := h.signJSON(1, map[string]any{"name": "Mallory Stranger", "email": "JANE@People.Example",
		"country": "Canada", "message": "Words Jane never wrote."}); code != http.StatusAccepted {
		t.Fatalf("the stranger signs: %d %v", code, body)
	}
	after := h.signatureOf(1, "jane@people.example")
	if after.Name != "Jane Doe" || after.Message != before.Message || after.City != "Ottawa" ||
		after.State != campaign.SignatureConfirmed || after.Version != before.Version || !after.ConfirmedAt.Equal(before.ConfirmedAt) {
		t.Fatalf("the stranger's signing changed Jane's letter:\nbefore %+v\nafter  %+v", before, after)
	}
	// Jane's own link still says her letter is confirmed, and changes
	// nothing.
	if code, page := h.follow(janeLink); code != http.StatusOK || !strings.Contains(page, "already confirmed") {
		t.Errorf("Jane's link after the stranger signed: %d\n%s", code, page)
	}

	// The new text's link goes to Jane's inbox only. Its page shows what
	// confirming it would do; opening it changes nothing.
	draft, draftURL := h.draftLink(sig.ID)
	if draft.Name != "Mallory Stranger" || draft.Message != "Words Jane never wrote." {
		t.Fatalf("draft %+v", draft)
	}
	snap := h.snapshot()
	code, page = h.get(h.client(), draftURL)
	confirmedOn := campaign.DateOf(before.ConfirmedAt.UTC()).String()
	for _, want := range []string{"Mallory Stranger (Canada)", "Words Jane never wrote.", "Valérie Plante, Montreal",
		"replaces your letter confirmed on " + confirmedOn + ", which has not been delivered yet"} {
		if code != http.StatusOK || !strings.Contains(page, want) {
			t.Errorf("the draft's confirmation page lacks %q: %d\n%s", want, code, page)
		}
	}
	if h.snapshot() != snap {
		t.Error("opening the draft's link changed the store")
	}

	// A newer signing supersedes the draft: its link stops working.
	if code, body := h.signJSON(1, map[string]any{"name": "Jane Doe", "email": "jane@people.example",
		"country": "Canada", "message": "My own new words."}); code != http.StatusAccepted {
		t.Fatalf("signing a third time: %d %v", code, body)
	}
	if code, page := h.follow(draftURL); code != http.StatusConflict || !strings.Contains(page, "signed again") {
		t.Errorf("a superseded draft's link: %d\n%s", code, page)
	}
	if l, _ := h.st.Letter(ctx, campaign.ConfirmationLetterID(sig.ID, draft.Version)); l.State != campaign.Cancelled &&
		l.State != campaign.Sent {
		t.Errorf("the superseded draft's confirmation mail is %s", l.State)
	}
	if got := h.signatureOf(1, "jane@people.example"); got.Message != before.Message || got.State != campaign.SignatureConfirmed {
		t.Errorf("a superseded draft changed the letter: %+v", got)
	}

	// Confirmed from the inbox, the newest text replaces the letter, and
	// the replaced letter's link stops working.
	_, newest := h.draftLink(sig.ID)
	if code, page := h.follow(newest); code != http.StatusOK || !strings.Contains(page, "your new letter is confirmed") {
		t.Fatalf("confirming the newest draft: %d\n%s", code, page)
	}
	got := h.signatureOf(1, "jane@people.example")
	if got.Name != "Jane Doe" || got.Message != "My own new words." || got.City != "" || got.State != campaign.SignatureConfirmed {
		t.Errorf("after confirming the draft: %+v", got)
	}
	if code, page := h.follow(janeLink); code != http.StatusConflict || !strings.Contains(page, "signed again") {
		t.Errorf("the replaced letter's link: %d\n%s", code, page)
	}
	if _, err := h.st.Draft(ctx, sig.ID); err == nil {
		t.Error("the confirmed draft is still kept")
	}
}

func TestSigningAnswersAlike(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	ctx := context.Background()
	letter := func(email string) map[string]any {
		return map[string]any{"name": "Someone", "email": email, "country": "Canada", "message": "Hello."}
	}
	// signed@ has a confirmed letter; delivered@ one that reached the
	// office.
	for _, email := range []string{"signed@people.example", "delivered@people.example"} {
		if code, body := h.signJSON(1, letter(email)); code != http.StatusAccepted {
			t.Fatalf("%s: %d %v", email, code, body)
		}
		link, _ := h.sup.ConfirmationLinks(h.signatureOf(1, email))
		if code, page := h.follow(link); code != http.StatusOK {
			t.Fatalf("%s confirms: %d\n%s", email, code, page)
		}
	}
	if err := h.batcher.Round(ctx); err != nil {
		t.Fatal(err)
	}
	d := h.signatureOf(1, "delivered@people.example")
	if err := h.st.BeginSending(ctx, d.LetterID, "id@outreach.example"); err != nil {
		t.Fatal(err)
	}
	if err := h.st.MarkSent(ctx, d.LetterID, h.clock.Now(), "250 ok", campaign.Date{}); err != nil {
		t.Fatal(err)
	}

	type answer struct{ code, ctype, body string }
	answers := map[string]answer{}
	for _, email := range []string{"new@people.example", "Signed@People.example", "delivered@people.example"} {
		code, ctype, body := h.signRaw(1, letter(email))
		answers[email] = answer{fmt.Sprint(code), ctype, body}
	}
	want := answers["new@people.example"]
	if want.code != "202" || !strings.Contains(want.body, "check your inbox") {
		t.Fatalf("a new address: %+v", want)
	}
	for email, a := range answers {
		if a != want {
			t.Errorf("%s is answered %+v, a new address %+v", email, a, want)
		}
	}
	// The form answers alike too: the same redirect.
	c := h.client()
	_, page := h.get(c, h.srv.URL+"/act/1")
	token := csrfRe.FindStringSubmatch(page)[1]
	var locations []string
	for _, email := range []string{"other@people.example", "signed@people.example", "delivered@people.example"} {
		code, _, hdr := h.postForm(c, h.srv.URL+"/act/1", url.Values{"csrf_token": {token}, "name": {"Someone"},
			"email": {email}, "country": {"Canada"}, "lang": {"en"}})
		locations = append(locations, fmt.Sprint(code, " ", hdr.Get("Location")))
	}
	if locations[0] != locations[1] || locations[0] != locations[2] || !strings.HasPrefix(locations[0], "303 ") {
		t.Errorf("the form's answers differ: %q", locations)
	}
	// And the delivered letter is as it was.
	if got := h.signatureOf(1, "delivered@people.example"); got.Message != "Hello." || got.LetterState != campaign.Sent {
		t.Errorf("the delivered letter: %+v", got)
	}
}

// TestLimitsCountMailboxes: the per-address limit counts a mailbox however
// its address is written: plus-tags, case, and dots where the provider
// ignores them.
func TestLimitsCountMailboxes(t *testing.T) {
	h := newHarness(t, harnessOptions{limits: supporters.Limits{PerEmail: 5}})
	letter := func(email string) map[string]any {
		return map[string]any{"name": "Someone", "email": email, "country": "Canada"}
	}
	for _, tt := range []struct {
		first string   // signed five times, accepted
		then  []string // each refused
	}{
		{"victim@people.example", []string{"victim+1@people.example", "victim+2@people.example", "victim+3@people.example",
			"VICTIM+4@people.example", "victim+5@People.Example", "victim+6@people.example", "victim+7@people.example"}},
		{"victim@gmail.com", []string{"v.ictim@gmail.com", "vi.c.tim@gmail.com", "victim@googlemail.com",
			"v.i.c.t.i.m+1@googlemail.com", "Vict.im@Gmail.com", "vic.tim+x@gmail.com", "victim+7@gmail.com"}},
	} {
		for i := range 5 {
			if code, body := h.signJSON(int64(i%3+1), letter(tt.first)); code != http.StatusAccepted {
				t.Fatalf("%s, signing %d: %d %v", tt.first, i+1, code, body)
			}
		}
		before := h.snapshot()
		for _, email := range tt.then {
			if code, body := h.signJSON(1, letter(email)); code != http.StatusTooManyRequests || body["error"] != "rate_limited" {
				t.Errorf("%s after five for %s: %d %v", email, tt.first, code, body)
			}
		}
		if h.snapshot() != before {
			t.Errorf("refused signings for %s changed the store", tt.first)
		}
	}
	// Dots still count at providers that do not ignore them.
	if code, body := h.signJSON(1, letter("v.ictim@people.example")); code != http.StatusAccepted {
		t.Errorf("another mailbox at people.example: %d %v", code, body)
	}
}

// TestConfirmationCaps: signings (each one confirmation mail) are capped
// per hour in all and per recipient domain.
func TestConfirmationCaps(t *testing.T) {
	h := newHarness(t, harnessOptions{limits: supporters.Limits{PerHour: 6, PerDomainPerHour: 3}})
	sign := func(email string) (int, map[string]any) {
		return h.signJSON(1, map[string]any{"name": "Someone", "email": email, "country": "Canada"})
	}
	for i := range 3 {
		if code, body := sign(fmt.Sprintf("p%d@a.example", i)); code != http.StatusAccepted {
			t.Fatalf("a.example %d: %d %v", i, code, body)
		}
	}
	before := h.snapshot()
	if code, body := sign("p3@A.Example"); code != http.StatusTooManyRequests || body["error"] != "rate_limited" {
		t.Errorf("a fourth mail to a.example in the hour: %d %v", code, body)
	}
	if h.snapshot() != before {
		t.Error("a refused signing changed the store")
	}
	for i := range 3 {
		if code, body := sign(fmt.Sprintf("p%d@b.example", i)); code != http.StatusAccepted {
			t.Fatalf("b.example %d: %d %v", i, code, body)
		}
	}
	before = h.snapshot()
	if code, body := sign("p0@c.example"); code != http.StatusTooManyRequests || body["error"] != "rate_limited" {
		t.Errorf("a seventh mail in the hour, to a new domain: %d %v", code, body)
	}
	if h.snapshot() != before {
		t.Error("a refused signing changed the store")
	}
}
