package web

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/outreach-campaign/outreach/internal/campaign"
	"github.com/outreach-campaign/outreach/internal/store"
)

// recordReply stores a reply as the poller would, waiting for review.
func (h *harness) recordReply(t *testing.T, uid uint32, kind campaign.ReplyKind, subject, text string, campaignIDs []int64) int64 {
	t.Helper()
	r := campaign.Reply{
		Mailbox: "INBOX", UIDValidity: 1, UID: uid, MessageID: subject + "@office.example", SHA256: strings.Repeat("a", 63) + string(rune('0'+uid)),
		Kind: kind, KindReason: "test", Status: campaign.ReplyPending, Confidence: 0.3, CampaignIDs: campaignIDs,
		Signals: []campaign.Signal{{Name: "sender-domain", Detail: "the sender writes from <b>montreal.example</b>", Weight: 0.3}},
		From:    "cabinet@montreal.example", FromName: "Cabinet", Subject: subject, ReceivedAt: h.clock.Now(),
		Raw: []byte("Subject: " + subject + "\r\n\r\n" + text + "\r\n"), NewText: text, Size: int64(len(text)),
	}
	rec, err := h.st.RecordReplies(context.Background(), []campaign.Reply{r}, store.Checkpoint{Mailbox: "INBOX", UIDValidity: 1, UID: uid})
	if err != nil {
		t.Fatal(err)
	}
	return rec[0].ID
}

func TestReplyReview(t *testing.T) {
	h := newHarness(t, harnessOptions{staff: true})
	ctx := context.Background()
	montreal := int64(1)
	// A person's answer from the office's domain, below the threshold.
	id := h.recordReply(t, 1, campaign.ReplyHuman, "Re: votre lettre", "Nous transmettons votre lettre à Séoul.", []int64{montreal})
	s := h.login(t)
	list := string(h.getPage(t, s.c, "/replies", http.StatusOK))
	if !strings.Contains(list, "Re: votre lettre") {
		t.Fatalf("the review queue does not list the pending reply:\n%s", list)
	}
	page := string(h.getPage(t, s.c, "/replies/"+itoa(id), http.StatusOK))
	for _, want := range []string{"Nous transmettons votre lettre à Séoul.", "sender-domain", `data-key="c"`, "The full message"} {
		if !strings.Contains(page, want) {
			t.Errorf("the reply page lacks %q", want)
		}
	}
	if c, _ := h.st.Campaign(ctx, montreal); !c.ResponseDate.IsZero() {
		t.Fatal("a pending reply set a response date")
	}
	post := func(path string, form url.Values) *http.Response {
		form.Set("csrf_token", s.csrf)
		resp, err := s.c.PostForm(h.srv.URL+path, form)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	resp := post("/replies/"+itoa(id)+"/confirm", url.Values{"outcome": {"victory"}, "note": {"Montreal wrote to Seoul."}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("confirm: %d", resp.StatusCode)
	}
	c, _ := h.st.Campaign(ctx, montreal)
	if c.ResponseDate != campaign.DateOf(h.clock.Now().In(mustZone("America/Toronto"))) || c.Outcome != campaign.Victory || c.ResponseNote != "Montreal wrote to Seoul." {
		t.Errorf("after confirming: response %v, outcome %q, note %q", c.ResponseDate, c.Outcome, c.ResponseNote)
	}
	// Another reply, assigned to another campaign, then taken back as an
	// auto-reply: the date it gave goes with it.
	id2 := h.recordReply(t, 2, campaign.ReplyHuman, "Fwd: lettre", "Transmis au service des relations internationales.", nil)
	if resp := post("/replies/"+itoa(id2)+"/confirm", url.Values{"campaign": {"2"}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("assign: %d", resp.StatusCode)
	}
	if c, _ := h.st.Campaign(ctx, 2); c.ResponseDate.IsZero() {
		t.Error("a reply assigned to campaign 2 and confirmed gave it no response date")
	}
	if resp := post("/replies/"+itoa(id2)+"/classify", url.Values{"kind": {"auto-reply"}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("mark auto-reply: %d", resp.StatusCode)
	}
	if c, _ := h.st.Campaign(ctx, 2); !c.ResponseDate.IsZero() {
		t.Error("marking the reply automatic did not take its response date back")
	}
	// Rejecting asks first: the reply page links to a question, and a
	// form posted without the answer gets the question again.
	id3 := h.recordReply(t, 3, campaign.ReplyHuman, "Newsletter", "Our city newsletter.", []int64{montreal})
	if page := string(h.getPage(t, s.c, "/replies/"+itoa(id3), http.StatusOK)); !strings.Contains(page, `href="/replies/`+itoa(id3)+`/reject" data-key="x"`) {
		t.Errorf("the reply page does not lead to the question before rejecting")
	}
	ask := string(h.getPage(t, s.c, "/replies/"+itoa(id3)+"/reject", http.StatusOK))
	for _, want := range []string{"Not a reply to our letters?", `name="confirm" value="yes"`, "Montreal — ", "are taken back"} {
		if !strings.Contains(ask, want) {
			t.Errorf("the question before rejecting lacks %q", want)
		}
	}
	if resp := post("/replies/"+itoa(id3)+"/reject", url.Values{}); resp.StatusCode != http.StatusOK {
		t.Fatalf("reject without confirm: %d, want the question (200)", resp.StatusCode)
	}
	if r, _ := h.st.Reply(ctx, id3); r.Status != campaign.ReplyPending {
		t.Fatalf("a reject form without confirm=yes made the reply %s", r.Status)
	}
	if resp := post("/replies/"+itoa(id3)+"/reject", url.Values{"confirm": {"yes"}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("reject: %d", resp.StatusCode)
	}
	if r, _ := h.st.Reply(ctx, id3); r.Status != campaign.ReplyRejected {
		t.Errorf("rejected reply is %s", r.Status)
	}
	// A confirmed reply to no campaign is refused with the reason.
	id4 := h.recordReply(t, 4, campaign.ReplyHuman, "Hello", "Unrelated.", nil)
	if resp := post("/replies/"+itoa(id4)+"/confirm", url.Values{}); resp.StatusCode != http.StatusConflict {
		t.Errorf("confirming a reply matched to nothing without a campaign: %d, want 409", resp.StatusCode)
	}
}

func TestReplyMarkupIsEscaped(t *testing.T) {
	h := newHarness(t, harnessOptions{staff: true})
	id := h.recordReply(t, 1, campaign.ReplyHuman, `<script>alert("subject")</script>`, `<img src=x onerror=alert("body")> hello`, []int64{1})
	s := h.login(t)
	for _, path := range []string{"/replies", "/replies/" + itoa(id), "/campaigns/1"} {
		body := string(h.getPage(t, s.c, path, http.StatusOK))
		for _, raw := range []string{`<script>alert("subject")`, `<img src=x onerror`, `<b>montreal.example</b>`} {
			if strings.Contains(body, raw) {
				t.Errorf("%s shows %q unescaped", path, raw)
			}
		}
		if !strings.Contains(body, "&lt;script&gt;alert(&#34;subject&#34;)&lt;/script&gt;") {
			t.Errorf("%s does not show the subject escaped", path)
		}
	}
	// The raw message is served as text that runs nothing.
	resp, err := s.c.Get(h.srv.URL + "/replies/" + itoa(id) + "/raw")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") || !strings.Contains(resp.Header.Get("Content-Security-Policy"), "sandbox") {
		t.Errorf("raw message served as %q with CSP %q", ct, resp.Header.Get("Content-Security-Policy"))
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func mustZone(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return loc
}

// TestReplyNeighbours: a reply's page links the replies waiting for
// review just before and after it (found two rows at a time, not by
// loading the whole queue and its texts); a reply that waits no more links
// the first that does.
func TestReplyNeighbours(t *testing.T) {
	h := newHarness(t, harnessOptions{staff: true})
	s := h.login(t)
	var ids []int64
	for i := range 4 {
		ids = append(ids, h.recordReply(t, uint32(i+1), campaign.ReplyHuman, "Reply "+itoa(int64(i+1)), strings.Repeat("text ", 1000), []int64{1}))
	}
	if _, err := h.st.RejectReply(context.Background(), ids[1], "not for us"); err != nil {
		t.Fatal(err)
	}
	links := func(id int64) (prev, next string) {
		page := string(h.getPage(t, s.c, "/replies/"+itoa(id), http.StatusOK))
		if m := regexp.MustCompile(`href="/replies/(\d+)" data-key="k"`).FindStringSubmatch(page); m != nil {
			prev = m[1]
		}
		if m := regexp.MustCompile(`href="/replies/(\d+)" data-key="j"`).FindStringSubmatch(page); m != nil {
			next = m[1]
		}
		return prev, next
	}
	for _, tc := range []struct {
		id         int64
		prev, next string
	}{
		{ids[0], "", itoa(ids[2])},
		{ids[2], itoa(ids[0]), itoa(ids[3])},
		{ids[3], itoa(ids[2]), ""},
		{ids[1], "", itoa(ids[0])}, // rejected: the first waiting
	} {
		if prev, next := links(tc.id); prev != tc.prev || next != tc.next {
			t.Errorf("reply %d links previous %q and next %q, want %q and %q", tc.id, prev, next, tc.prev, tc.next)
		}
	}
}
