package web

import (
	"context"
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/outreach-campaign/outreach/internal/campaign"
	"github.com/outreach-campaign/outreach/internal/letter"
	"github.com/outreach-campaign/outreach/internal/queue"
	"github.com/outreach-campaign/outreach/internal/store"
	"github.com/outreach-campaign/outreach/templates"
)

// The home page counts what waits for staff and links each to where the
// work is.
func TestStaffHome(t *testing.T) {
	h := newHarness(t, harnessOptions{staff: true})
	ctx := context.Background()
	// A reply from Montreal waiting for review.
	reply := h.recordReply(t, 1, campaign.ReplyHuman, "Re: votre lettre", "\n  Nous avons écrit à Séoul.\nCordialement", []int64{1})
	// Canada's wave is sending (its letter queued, no worker here); Italy's
	// letter failed, so that wave has nothing left to send.
	tpl, err := letter.LoadTemplates(templates.FS, "")
	if err != nil {
		t.Fatal(err)
	}
	comp := &letter.Composer{Templates: tpl, Signer: h.signer, Org: letter.Organisation{Name: "Sister City Campaign", Address: orgAddress}}
	sched := &queue.Scheduler{Store: h.st, Queue: h.queue, Log: quietLog(), Parallel: 2}
	for _, country := range []string{"Canada", "Italy"} {
		wv, _, err := queue.CreateWave(ctx, h.st, comp, queue.WaveSpec{Name: country, Countries: []string{country}}, h.clock.Now())
		if err != nil {
			t.Fatal(err)
		}
		if _, err := sched.StartWave(ctx, wv.ID); err != nil {
			t.Fatal(err)
		}
	}
	if err := h.st.MarkFailed(ctx, "w2-t2", "550 mailbox unavailable", "550 5.1.1 no such user", true); err != nil {
		t.Fatal(err)
	}
	// Two campaigns written to, one of which responded.
	cs, _ := h.st.Campaigns(ctx, store.CampaignFilter{})
	for i := range cs {
		switch cs[i].ID {
		case 2:
			cs[i].CampaignDate = campaign.Date{Year: 2025, Month: 2, Day: 3}
		case 3:
			cs[i].CampaignDate = campaign.Date{Year: 2025, Month: 2, Day: 3}
			cs[i].ResponseDate = campaign.Date{Year: 2025, Month: 2, Day: 20}
		}
	}
	if _, err := h.st.ImportCampaigns(ctx, cs); err != nil {
		t.Fatal(err)
	}

	s := h.login(t)
	for _, path := range []string{"/", "/home"} {
		page := string(h.getPage(t, s.c, path, http.StatusOK))
		for id, want := range map[string]string{"home-pending": "1", "home-waves": "1", "home-troubled": "1", "home-rate": "50%"} {
			m := regexp.MustCompile(`id="` + id + `">([^<]*)<`).FindStringSubmatch(page)
			if m == nil || m[1] != want {
				t.Errorf("%s: %s is %v, want %q", path, id, m, want)
			}
		}
		for _, want := range []string{
			`href="/replies/` + itoa(reply) + `"`, "Montreal · Cabinet", "<q>Nous avons écrit à Séoul.</q>",
			`href="/waves/1"`, "0 of 1 letters done",
			`href="/letters/w2-t2"`, "550 mailbox unavailable", "1 failed, 0 uncertain",
			"<strong>1</strong> of the <strong>2</strong> campaigns written to responded (50%)",
		} {
			if !strings.Contains(page, want) {
				t.Errorf("%s lacks %q", path, want)
			}
		}
		if strings.Contains(page, `href="/waves/2"`) {
			t.Errorf("%s lists Italy's wave, which has nothing left to send", path)
		}
	}
	// Logging in without a page to go back to lands on it.
	c := h.client()
	body := h.getPage(t, c, "/login", http.StatusOK)
	tok := csrfInForm.FindSubmatch(body)[1]
	resp, err := c.PostForm(h.srv.URL+"/login", map[string][]string{"csrf_token": {string(tok)}, "email": {staffEmail}, "password": {staffPassword}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/" {
		t.Errorf("login: %d to %q, want the home page", resp.StatusCode, resp.Header.Get("Location"))
	}
}

// The review queue shows each reply's city and the first line of what
// they wrote, on the page and in the API.
func TestReplyQueueShowsCityAndFirstLine(t *testing.T) {
	h := newHarness(t, harnessOptions{staff: true})
	h.recordReply(t, 1, campaign.ReplyHuman, "Re: lettera", "\n\nAbbiamo scritto a Busan.\nCordiali saluti", []int64{2})
	h.recordReply(t, 2, campaign.ReplyHuman, "Hello", "Who are you?", nil)
	s := h.login(t)
	page := string(h.getPage(t, s.c, "/replies", http.StatusOK))
	for _, want := range []string{"<td>Milano</td>", `<span class="first-line">Abbiamo scritto a Busan.</span>`,
		`<span class="first-line">Who are you?</span>`, "not matched"} {
		if !strings.Contains(page, want) {
			t.Errorf("the review queue lacks %q", want)
		}
	}
	if strings.Contains(page, "Cordiali saluti") {
		t.Error("the review queue shows more than the first line")
	}
	var rows []replyRow
	if err := json.Unmarshal(h.getPage(t, s.c, "/api/v1/replies", http.StatusOK), &rows); err != nil {
		t.Fatal(err)
	}
	if len(rows) != 2 || rows[1].City != "Milano" || rows[1].FirstLine != "Abbiamo scritto a Busan." || rows[0].City != "" {
		t.Errorf("the API's replies: %+v", rows)
	}
}

func TestFirstLine(t *testing.T) {
	long := strings.Repeat("word ", 30) // 150 characters
	for _, tt := range []struct{ in, want string }{
		{"", ""},
		{"\n \n\tHello there,\nsecond", "Hello there,"},
		{"  many   spaces  ", "many spaces"},
		{long, strings.TrimSpace(strings.Repeat("word ", 24)) + "…"},
		{strings.Repeat("é", 130), strings.Repeat("é", 120) + "…"},
	} {
		if got := firstLine(tt.in, 120); got != tt.want {
			t.Errorf("firstLine(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
