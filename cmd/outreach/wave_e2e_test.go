package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/mail"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/outreach-campaign/outreach/internal/campaign"
	"github.com/outreach-campaign/outreach/internal/letter"
	"github.com/outreach-campaign/outreach/internal/testservers"
)

const testSecret = "end-to-end-test-secret-0123456789"

// withServices points the CLI at a private Redis and the given SMTP server,
// with a known signing secret and no rate limit worth waiting for.
func (c *cli) withServices(t *testing.T, smtpHost string, smtpPort int) {
	t.Helper()
	c.env = append(c.env,
		"OUTREACH_REDIS_ADDR="+testservers.Redis(t),
		"OUTREACH_SMTP_HOST="+smtpHost,
		"OUTREACH_SMTP_PORT="+strconv.Itoa(smtpPort),
		"OUTREACH_SMTP_TLS=none",
		"OUTREACH_LETTERS_SECRET="+testSecret,
		"OUTREACH_SENDING_PER_MINUTE=0",
		"OUTREACH_SENDING_PER_DOMAIN_PER_MINUTE=0",
		"OUTREACH_SENDING_RETRY_DELAY=100ms",
		"OUTREACH_SENDING_RETRY_MAX_DELAY=1s",
		"OUTREACH_SENDING_SCHEDULER_INTERVAL=500ms",
	)
}

// canada is what each Canadian office must receive: its language and the
// partners its one letter names (the seed's rows 18 to 37 and 67).
var canada = map[string]struct {
	lang     string
	partners []string
}{
	"maire@montreal.example":     {"fr", []string{"Seoul", "Busan"}},
	"mayor@ottawa.example":       {"en", []string{"Seoul"}},
	"mayor@chatham-kent.example": {"en", []string{"Seoul Gangbuk-gu", "Gangwon-do Hwacheon"}},
	"mayor@dnv.example":          {"en", []string{"Seoul Guro-gu"}},
	"mayor@surrey.example":       {"en", []string{"Seoul Dongjak-gu"}},
	"mayor@barrie.example":       {"en", []string{"Incheon Ongjin-gun"}},
	"mayor@calgary.example":      {"en", []string{"Daejeon"}},
	"premier@bc.example":         {"en", []string{"Gyeonggi-do"}},
	"mayor@belleville.example":   {"en", []string{"Gyeonggi-do Gunpo"}},
	"mayor@coquitlam.example":    {"en", []string{"Gyeonggi-do Paju"}},
	"mayor@airdrie.example":      {"en", []string{"Gyeonggi-do Gwacheon"}},
	"mayor@brampton.example":     {"en", []string{"Gyeonggi-do Gapyeong-gun"}},
	"premier@alberta.example":    {"en", []string{"Gangwon-do"}},
	"mayor@edmonton.example":     {"en", []string{"Gangwon-do Wonju"}},
	"mayor@saintjohn.example":    {"en", []string{"Gangwon-do Donghae"}},
	"mayor@windsor.example":      {"en", []string{"Jeollabuk-do Gunsan-gun"}},
	"mayor@moncton.example":      {"en", []string{"Jeollanam-do Yeosu"}},
	"mayor@winnipeg.example":     {"en", []string{"Gyeongsangnam-do Jinju"}},
	"mayor@burnaby.example":      {"en", []string{"Gyeonggi-do Hwaseong"}},
}

// The Canadian campaigns without a campaign date in the seed, and the time
// zone of their office, in which the date of sending is taken.
var undated = map[string]string{
	"Barrie, Ontario":           "America/Toronto",
	"Airdrie City, Alberta":     "America/Edmonton",
	"Winnipeg, Manitoba":        "America/Winnipeg",
	"Burnaby, British Columbia": "America/Vancouver",
}

// subjectWords: how each language's subject starts.
var subjectStart = map[string]string{
	"en": "Your twinning with ",
	"fr": "Votre jumelage avec ",
}

func TestCanadaWaveEndToEnd(t *testing.T) {
	mp := testservers.Mailpit(t)
	c := newCLI(t)
	c.withServices(t, mp.SMTPHost, mp.SMTPPort)
	c.ok("import", "cities", citiesCSV)
	c.ok("import", "contacts", contactsCSV)
	before := statusByCity(t, c)

	_, stop := c.background("run")
	// Moncton's campaign has a response date in the table: by default the
	// wave leaves it out; here it is put back, with a warning.
	out := c.ok("wave", "create", "--name", "Canada", "--country", "Canada", "--include-replied", "--start")
	if !strings.Contains(out, "19 letters planned for 21 campaigns") || !strings.Contains(out, "19 letters queued") ||
		!strings.Contains(out, "warning: 1 office that replied is included") {
		t.Errorf("wave create: %s", out)
	}
	c.ok("wave", "status", "1", "--wait")
	stop()

	var counts struct {
		State  string         `json:"state"`
		Counts map[string]int `json:"counts"`
	}
	if err := json.Unmarshal([]byte(c.ok("wave", "status", "1", "--json")), &counts); err != nil {
		t.Fatal(err)
	}
	if counts.Counts["sent"] != 19 || len(counts.Counts) == 0 {
		t.Errorf("letter states %v, want 19 sent", counts.Counts)
	}
	if counts.State != "done" {
		t.Errorf("the wave is %q once every letter was sent, want done", counts.State)
	}
	if list := c.ok("wave", "list"); !regexp.MustCompile(`(?m)^1\s+Canada\s+done\s`).MatchString(list) {
		t.Errorf("wave list does not show the wave done:\n%s", list)
	}
	for state, n := range counts.Counts {
		if state != "sent" && n != 0 {
			t.Errorf("%d letters %s", n, state)
		}
	}

	signer, err := letter.NewSigner([]byte(testSecret), "outreach.example")
	if err != nil {
		t.Fatal(err)
	}
	msgs := mp.Messages(t)
	if len(msgs) != 19 {
		t.Fatalf("Mailpit got %d messages, want 19", len(msgs))
	}
	seen := map[string]bool{}
	for _, m := range msgs {
		raw := mp.Raw(t, m.ID)
		p := parseLetter(t, raw)
		to := p.to
		want, ok := canada[to]
		if !ok {
			t.Errorf("a letter went to %s, which is not a Canadian office", to)
			continue
		}
		if seen[to] {
			t.Errorf("%s got two letters", to)
		}
		seen[to] = true
		if !strings.HasPrefix(p.subject, subjectStart[want.lang]) {
			t.Errorf("%s: subject %q is not in %s", to, p.subject, want.lang)
		}
		if n := strings.Count(p.text, "\n  - "); n != len(want.partners) {
			t.Errorf("%s: the letter lists %d partners, want %d:\n%s", to, n, len(want.partners), p.text)
		}
		for _, partner := range want.partners {
			if !strings.Contains(p.text, "\n  - "+partner+", ") || !strings.Contains(p.html, "<strong>"+partner+"</strong>") {
				t.Errorf("%s: the letter does not name %s in both parts", to, partner)
			}
		}
		if p.from != `"Sister City Campaign" <campaign@outreach.example>` {
			t.Errorf("%s: From %s", to, p.from)
		}
		id, ok := signer.ParseMessageID(p.messageID)
		if !ok || !strings.HasPrefix(id, "w1-t") {
			t.Errorf("%s: Message-ID %s does not verify", to, p.messageID)
		}
		if tok, ok := signer.ParsePlusAddress(p.replyTo); !ok || tok != id {
			t.Errorf("%s: Reply-To %s does not carry the letter's token", to, p.replyTo)
		}
		if p.date.IsZero() || time.Since(p.date) > time.Hour {
			t.Errorf("%s: Date %v", to, p.date)
		}
		if p.text == "" || p.html == "" {
			t.Errorf("%s: a part is missing", to)
		}
	}
	if len(seen) != 19 {
		t.Errorf("%d offices got a letter, want 19", len(seen))
	}

	after := statusByCity(t, c)
	for city, rows := range after {
		for i, r := range rows {
			if r.Country != "Canada" {
				continue
			}
			old := before[city][i]
			tz, wasUndated := undated[city]
			switch {
			case r.CampaignDate.IsZero():
				t.Errorf("%s has no campaign date after its letter was sent", city)
			case wasUndated:
				loc, _ := time.LoadLocation(tz)
				if today := campaign.DateOf(time.Now().In(loc)); r.CampaignDate != today {
					t.Errorf("%s: campaign date %v, want today in %s (%v)", city, r.CampaignDate, tz, today)
				}
			case r.CampaignDate != old.CampaignDate:
				t.Errorf("%s: campaign date changed from %v to %v", city, old.CampaignDate, r.CampaignDate)
			}
		}
	}
}

type statusRow struct {
	Country      string        `json:"country"`
	City         string        `json:"sister_city"`
	CampaignDate campaign.Date `json:"campaign_date"`
}

func statusByCity(t *testing.T, c *cli) map[string][]statusRow {
	t.Helper()
	var rows []statusRow
	if err := json.Unmarshal([]byte(c.ok("status", "--format", "json")), &rows); err != nil {
		t.Fatal(err)
	}
	out := map[string][]statusRow{}
	for _, r := range rows {
		out[r.City] = append(out[r.City], r)
	}
	return out
}

type mailedLetter struct {
	to, from, subject, messageID, replyTo string
	date                                  time.Time
	text, html                            string
}

func parseLetter(t *testing.T, raw []byte) mailedLetter {
	t.Helper()
	m, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	var p mailedLetter
	dec := new(mime.WordDecoder)
	p.subject, _ = dec.DecodeHeader(m.Header.Get("Subject"))
	p.from = m.Header.Get("From")
	p.messageID = m.Header.Get("Message-Id")
	if a, err := mail.ParseAddress(m.Header.Get("Reply-To")); err == nil {
		p.replyTo = a.Address
	}
	if a, err := mail.ParseAddress(m.Header.Get("To")); err == nil {
		p.to = a.Address
	}
	p.date, _ = m.Header.Date()
	_, params, err := mime.ParseMediaType(m.Header.Get("Content-Type"))
	if err != nil {
		t.Fatal(err)
	}
	mr := multipart.NewReader(m.Body, params["boundary"])
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(part)
		switch {
		case strings.HasPrefix(part.Header.Get("Content-Type"), "text/plain"):
			p.text = string(b)
		case strings.HasPrefix(part.Header.Get("Content-Type"), "text/html"):
			p.html = string(b)
		}
	}
	return p
}
