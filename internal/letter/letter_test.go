package letter

import (
	"bytes"
	"errors"
	"flag"
	"io"
	"mime"
	"mime/multipart"
	"net/mail"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/outreach-campaign/outreach/internal/campaign"
	"github.com/outreach-campaign/outreach/templates"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden (then review them by eye)")

func testComposer(t *testing.T) *Composer {
	t.Helper()
	tpl, err := LoadTemplates(templates.FS, "")
	if err != nil {
		t.Fatal(err)
	}
	signer, err := NewSigner([]byte("0123456789abcdef0123456789abcdef"), "outreach.example")
	if err != nil {
		t.Fatal(err)
	}
	return &Composer{
		Templates:  tpl,
		Signer:     signer,
		Org:        Organisation{Name: "Sister City Campaign", Address: "campaign@outreach.example", Website: "https://outreach.example/"},
		ReplyTo:    "replies@outreach.example",
		ReplyToken: true,
	}
}

func date(s string) campaign.Date {
	d, err := campaign.ParseDate(s)
	if err != nil {
		panic(err)
	}
	return d
}

// The seed's rows for London (one partner) and Montreal (two).
var (
	london = campaign.Target{ID: 1, Email: "mayor@london.example", Country: "United Kingdom", City: "London",
		Office: "Office of the Mayor of London", Mayor: "Jane Example", Language: "en", TimeZone: "Europe/London"}
	londonCampaigns = []campaign.Campaign{{ID: 1, No: "1", Partner: campaign.Partner{Region: "Seoul"}, Country: "United Kingdom",
		City: "London", AgreementDate: date("2015-12-04"), Relationship: campaign.Friendship, RelationshipLabel: "Friendship City"}}
	montreal = campaign.Target{ID: 17, Email: "maire@montreal.example", Country: "Canada", City: "Montreal",
		Office: "Cabinet de la mairie de Montréal", Names: "fr=Montréal", Language: "fr", TimeZone: "America/Toronto"}
	montrealCampaigns = []campaign.Campaign{
		{ID: 19, No: "18", Partner: campaign.Partner{Region: "Seoul"}, Country: "Canada", City: "Montreal",
			AgreementDate: date("2015-04-08"), Relationship: campaign.Friendship, RelationshipLabel: "Friendship City"},
		{ID: 24, No: "23", Partner: campaign.Partner{Region: "Busan"}, Country: "Canada", City: "Montreal",
			AgreementDate: date("2000-09-19"), Relationship: campaign.Sister, RelationshipLabel: "Sister City"},
	}
)

var sentAt = time.Date(2017, 7, 25, 9, 0, 0, 0, time.FixedZone("EDT", -4*3600))

func TestGoldenLetters(t *testing.T) {
	c := testComposer(t)
	for _, tt := range []struct {
		name      string
		target    campaign.Target
		campaigns []campaign.Campaign
		lang      string
		// followUp writes the follow-up of the appeal, in its thread.
		followUp bool
	}{
		{"london-en", london, londonCampaigns, "", false},
		{"london-it", london, londonCampaigns, "it", false},
		{"london-fr", london, londonCampaigns, "fr", false},
		{"montreal-fr", montreal, montrealCampaigns, "", false},
		{"montreal-en", montreal, montrealCampaigns, "en", false},
		{"montreal-it", montreal, montrealCampaigns, "it", false},
		{"follow-up-london-en", london, londonCampaigns, "", true},
		{"follow-up-london-it", london, londonCampaigns, "it", true},
		{"follow-up-montreal-fr", montreal, montrealCampaigns, "", true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			l := Letter{
				ID: "w1-t" + itoa(tt.target.ID), Template: "appeal",
				Target: tt.target, Campaigns: tt.campaigns, Lang: tt.lang, Date: sentAt,
				Boundary: "outreach-test-boundary",
			}
			if tt.followUp {
				l.InReplyTo = c.Signer.MessageID(l.ID)
				l.ID, l.Template, l.Date = campaign.FollowUpID(l.ID), "follow-up", sentAt.AddDate(0, 0, 21)
			}
			msg, _, err := c.Compose(l)
			if err != nil {
				t.Fatal(err)
			}
			var b bytes.Buffer
			if _, err := msg.WriteTo(&b); err != nil {
				t.Fatal(err)
			}
			golden := filepath.Join("testdata", "golden", tt.name+".eml")
			if *update {
				if err := os.WriteFile(golden, b.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update once, then review the files)", err)
			}
			if !bytes.Equal(b.Bytes(), want) {
				t.Errorf("%s differs from the rendered letter:\n--- got ---\n%s", golden, b.String())
			}
		})
	}
}

// TestFollowUpThreads checks, apart from the golden files, that a
// follow-up answers its first letter and carries a reference of its own.
func TestFollowUpThreads(t *testing.T) {
	c := testComposer(t)
	first := c.Signer.MessageID("w1-t1")
	for _, lang := range []string{"en", "it", "fr"} {
		msg, r, err := c.Compose(Letter{ID: "w1-t1-f", Template: "follow-up", Target: london, Campaigns: londonCampaigns,
			Lang: lang, Date: sentAt, InReplyTo: first})
		if err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		msg.WriteTo(&b)
		p := readBack(t, b.Bytes())
		if p.header.Get("In-Reply-To") != "<"+first+">" || p.header.Get("References") != "<"+first+">" {
			t.Errorf("%s: In-Reply-To %q References %q, want <%s>", lang, p.header.Get("In-Reply-To"), p.header.Get("References"), first)
		}
		if m := RefPattern.FindStringSubmatch(r.Subject); m == nil || m[1] != "W1-T1-F" {
			t.Errorf("%s: subject %q lacks [ref W1-T1-F]", lang, r.Subject)
		}
		if !strings.Contains(p.text, "Seoul") {
			t.Errorf("%s: the follow-up does not name the partner:\n%s", lang, p.text)
		}
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func TestBadLetterID(t *testing.T) {
	c := testComposer(t)
	_, _, err := c.Compose(Letter{ID: "mayor@london.example", Template: "appeal", Target: london, Campaigns: londonCampaigns, Date: sentAt})
	if err == nil || !strings.Contains(err.Error(), "letter id") {
		t.Fatalf("err = %v, want one about the letter id", err)
	}
}

// parsed is a sent letter read back: its headers and decoded parts.
type parsed struct {
	header     mail.Header
	text, html string
}

func readBack(t *testing.T, raw []byte) parsed {
	t.Helper()
	m, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	mt, params, err := mime.ParseMediaType(m.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/alternative" {
		t.Fatalf("Content-Type %q, want multipart/alternative", m.Header.Get("Content-Type"))
	}
	p := parsed{header: m.Header}
	mr := multipart.NewReader(m.Body, params["boundary"])
	for {
		part, err := mr.NextPart() // decodes quoted-printable
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(part)
		switch ct := part.Header.Get("Content-Type"); {
		case strings.HasPrefix(ct, "text/plain"):
			p.text = string(body)
		case strings.HasPrefix(ct, "text/html"):
			p.html = string(body)
		}
	}
	return p
}

// TestLetterContents checks, independently of the golden files, what each
// letter must say: the salutation, every partner with its date and kind in
// the letter's language, and the headers.
func TestLetterContents(t *testing.T) {
	c := testComposer(t)
	dec := new(mime.WordDecoder)
	for _, tt := range []struct {
		name      string
		target    campaign.Target
		campaigns []campaign.Campaign
		lang      string
		subject   string
		want      []string
	}{
		{"london en", london, londonCampaigns, "",
			"Your twinning with Seoul: please help end the dog and cat meat trade [ref W1-T1]",
			[]string{"Dear Jane Example,", "Seoul, your friendship city since 4 December 2015"}},
		{"london unnamed mayor", func() campaign.Target { t := london; t.Mayor = ""; return t }(), londonCampaigns, "",
			"Your twinning with Seoul: please help end the dog and cat meat trade [ref W1-T1]",
			[]string{"Dear Mayor,", "We respectfully ask you, as the mayor of London, to write to Seoul,"}},
		{"montreal fr", montreal, montrealCampaigns, "",
			"Votre jumelage avec Busan et Seoul : un appel contre le commerce de viande de chien et de chat [ref W1-T17]",
			[]string{"À l'attention du maire de Montréal", "Madame, Monsieur,", "unissent Montréal à la Corée du Sud",
				"en tant que maire de Montréal, d'écrire à Busan et Seoul,", "Busan, ville jumelle depuis le 19 septembre 2000", "Seoul, ville amie depuis le 8 avril 2015"}},
		{"montreal it", montreal, montrealCampaigns, "it",
			"Il gemellaggio con Busan e Seoul: un appello contro il commercio di carne di cane e di gatto [ref W1-T17]",
			[]string{"Gentile Sindaco,", "Le chiediamo con rispetto, in qualità di sindaco di Montreal, di scrivere a Busan e Seoul,", "Busan, città gemellata dal 19 settembre 2000", "Seoul, città amica dall'8 aprile 2015"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			msg, _, err := c.Compose(Letter{ID: "w1-t" + itoa(tt.target.ID), Template: "appeal", Target: tt.target,
				Campaigns: tt.campaigns, Lang: tt.lang, Date: sentAt})
			if err != nil {
				t.Fatal(err)
			}
			var b bytes.Buffer
			msg.WriteTo(&b)
			p := readBack(t, b.Bytes())
			subject, _ := dec.DecodeHeader(p.header.Get("Subject"))
			if subject != tt.subject {
				t.Errorf("Subject = %q, want %q", subject, tt.subject)
			}
			for _, w := range tt.want {
				if !strings.Contains(p.text, w) {
					t.Errorf("text part lacks %q:\n%s", w, p.text)
				}
			}
			if n := strings.Count(p.html, "<li>"); n != len(tt.campaigns) {
				t.Errorf("HTML part lists %d partners, want %d", n, len(tt.campaigns))
			}
			id := "w1-t" + itoa(tt.target.ID)
			if got, want := p.header.Get("Message-Id"), "<"+c.Signer.MessageID(id)+">"; got != want {
				t.Errorf("Message-ID = %s, want %s", got, want)
			}
			if got, ok := c.Signer.ParseMessageID(p.header.Get("Message-Id")); !ok || got != id {
				t.Errorf("Message-ID does not verify: %q %v", got, ok)
			}
			if got := p.header.Get("Reply-To"); !strings.Contains(got, "replies+"+c.Signer.Token(id)+"@outreach.example") {
				t.Errorf("Reply-To = %s, want the plus-address with the letter's token", got)
			}
			if got := p.header.Get("From"); got != `"Sister City Campaign" <campaign@outreach.example>` {
				t.Errorf("From = %s", got)
			}
			if got, _ := p.header.Date(); !got.Equal(sentAt) {
				t.Errorf("Date = %v, want %v", got, sentAt)
			}
		})
	}
}

func TestHeaderInjectionRefused(t *testing.T) {
	c := testComposer(t)
	for name, mutate := range map[string]func(*campaign.Target){
		"mayor":  func(t *campaign.Target) { t.Mayor = "Jane\r\nBcc: victim@example.com" },
		"office": func(t *campaign.Target) { t.Mayor = ""; t.Office = "Office\nBcc: victim@example.com" },
		"email":  func(t *campaign.Target) { t.Email = "mayor@london.example\r\nBcc: x@example.com" },
	} {
		t.Run(name, func(t *testing.T) {
			target := london
			mutate(&target)
			_, _, err := c.Compose(Letter{ID: "w1-t1", Template: "appeal", Target: target, Campaigns: londonCampaigns, Date: sentAt})
			if !errors.Is(err, campaign.ErrHeaderInjection) {
				t.Fatalf("err = %v, want ErrHeaderInjection", err)
			}
		})
	}
	t.Run("partner name in subject", func(t *testing.T) {
		cs := []campaign.Campaign{londonCampaigns[0]}
		cs[0].Partner.Region = "Seoul\r\nBcc: x@example.com"
		_, _, err := c.Compose(Letter{ID: "w1-t1", Template: "appeal", Target: london, Campaigns: cs, Date: sentAt})
		// The subject template joins lines, but a value's own line break
		// must still be refused rather than folded into the header.
		if err == nil {
			t.Fatal("a partner name with CR/LF reached the subject without an error")
		}
	})
}

func TestTemplateErrorsNameTheFile(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	base := fstest.MapFS{"appeal.en.tmpl": {Data: []byte(`{{define "subject"}}s{{end}}{{define "text"}}t{{end}}{{define "html"}}h{{end}}`)}}

	write("appeal.en.tmpl", `{{define "subject"}}s{{end}}{{define "text"}}t{{end}}`)
	_, err := LoadTemplates(base, dir)
	if err == nil || !strings.Contains(err.Error(), filepath.Join(dir, "appeal.en.tmpl")) || !strings.Contains(err.Error(), `"html"`) {
		t.Errorf("missing part: err = %v, want the file and the missing part named", err)
	}

	write("appeal.en.tmpl", `{{define "subject"}}{{.Nope}{{end}}`)
	_, err = LoadTemplates(base, dir)
	if err == nil || !strings.Contains(err.Error(), "appeal.en.tmpl") {
		t.Errorf("syntax error: err = %v, want the file named", err)
	}

	write("appeal.en.tmpl", `{{define "subject"}}{{.Missing}}{{end}}{{define "text"}}t{{end}}{{define "html"}}h{{end}}`)
	tpl, err := LoadTemplates(base, dir)
	if err != nil {
		t.Fatal(err)
	}
	_, err = tpl.Render("appeal", "en", Data{})
	if err == nil || !strings.Contains(err.Error(), filepath.Join(dir, "appeal.en.tmpl")) {
		t.Errorf("render error: err = %v, want the file named", err)
	}
}

func TestOverrideFileByFile(t *testing.T) {
	dir := t.TempDir()
	override := `{{define "subject"}}Overridden {{.Place}}{{end}}{{define "text"}}Text{{end}}{{define "html"}}<p>HTML</p>{{end}}`
	if err := os.WriteFile(filepath.Join(dir, "appeal.it.tmpl"), []byte(override), 0o644); err != nil {
		t.Fatal(err)
	}
	tpl, err := LoadTemplates(templates.FS, dir)
	if err != nil {
		t.Fatal(err)
	}
	data := NewData(Organisation{Name: "Org"}, london, londonCampaigns, "w1-t1", "it")
	r, err := tpl.Render("appeal", "it", data)
	if err != nil {
		t.Fatal(err)
	}
	if r.Subject != "Overridden London" {
		t.Errorf("it subject = %q, want the override", r.Subject)
	}
	r, err = tpl.Render("appeal", "en", data)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(r.Subject, "Your twinning with Seoul") {
		t.Errorf("en subject = %q, want the embedded template", r.Subject)
	}
	if _, err := tpl.Render("appeal", "de", data); !errors.Is(err, ErrNoTemplate) {
		t.Errorf("unknown language: err = %v, want ErrNoTemplate", err)
	}
}

func TestHTMLPartEscapes(t *testing.T) {
	c := testComposer(t)
	target := london
	target.Mayor = `<script>alert(1)</script>`
	_, r, err := c.Compose(Letter{ID: "w1-t1", Template: "appeal", Target: target, Campaigns: londonCampaigns, Date: sentAt})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(r.HTML, "<script>") || !strings.Contains(r.HTML, "&lt;script&gt;") {
		t.Errorf("HTML part does not escape the mayor's name:\n%s", r.HTML)
	}
}

func TestPlaceName(t *testing.T) {
	for in, want := range map[string]string{
		"뉴사우스웨일주 윌로비시(Willoughby/)":                                       "Willoughby",
		"Dartford (County of Kent)":                                       "Dartford (County of Kent)",
		"District of North Vancouver (North Vancouver), British Columbia": "District of North Vancouver (North Vancouver), British Columbia",
		"Montreal": "Montreal",
	} {
		if got := PlaceName(in); got != want {
			t.Errorf("PlaceName(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestAnyNameReachesTheHeader: a display name with quotes, a trailing
// backslash or letters beyond ASCII is quoted or encoded, and reads back
// as it was; an address that cannot be used fails without quoting the
// name or address in the error (kept with the letter and in Redis).
func TestAnyNameReachesTheHeader(t *testing.T) {
	c := testComposer(t)
	for _, name := range []string{`Jane "JD" Doe via Sister City Campaign`, `Jane Doe\`, `O'Brien, Zoë \"quoted\"`, `김민지 via Campaign`} {
		env := Envelope{LetterID: "s1-c19", From: Address{Name: name, Email: "campaign@outreach.example"},
			To: Address{Name: name, Email: "mayor@london.example"}, Date: sentAt}
		m, err := c.Signer.Compose(env, Rendered{Subject: "Hello", Text: "text", HTML: "<p>html</p>"})
		if err != nil {
			t.Errorf("name %q: %v", name, err)
			continue
		}
		var b bytes.Buffer
		if _, err := m.WriteTo(&b); err != nil {
			t.Fatal(err)
		}
		msg, err := mail.ReadMessage(&b)
		if err != nil {
			t.Fatal(err)
		}
		for _, h := range []string{"From", "To"} {
			a, err := msg.Header.AddressList(h)
			if err != nil || len(a) != 1 || a[0].Name != name {
				t.Errorf("name %q: %s header %q reads back as %v (%v)", name, h, msg.Header.Get(h), a, err)
			}
		}
	}
	env := Envelope{LetterID: "s1-c19", From: Address{Name: "Private Person", Email: "campaign@outreach.example"},
		To: Address{Name: "Private Person", Email: "private.person.example.org"}, Date: sentAt}
	_, err := c.Signer.Compose(env, Rendered{Subject: "Hello", Text: "text", HTML: "<p>html</p>"})
	if err == nil {
		t.Fatal("a bad address was accepted")
	}
	if strings.Contains(err.Error(), "Private Person") || strings.Contains(err.Error(), "private.person") {
		t.Errorf("the error quotes the person: %v", err)
	}
	env.To = Address{Name: "Private\r\nPerson", Email: "p@example.org"}
	if _, err = c.Signer.Compose(env, Rendered{Subject: "Hello", Text: "t", HTML: "h"}); !errors.Is(err, campaign.ErrHeaderInjection) || strings.Contains(err.Error(), "Private") {
		t.Errorf("a line break in a name: %v", err)
	}
}

// TestKeyRotation: after the signing secret is replaced (the old one kept
// as previous), replies to letters signed with the old key, by Message-ID
// or by reply token, in the form with a key id or in the older form
// without, still verify; new letters are signed with the new key; a
// token whose key has been dropped from the ring does not verify.
func TestKeyRotation(t *testing.T) {
	oldKey, newKey := []byte("0123456789abcdef0123456789abcdef"), []byte("a brand new secret, rotated today")
	before, err := NewSigner(oldKey, "outreach.example")
	if err != nil {
		t.Fatal(err)
	}
	after, err := NewSigner(newKey, "outreach.example", oldKey)
	if err != nil {
		t.Fatal(err)
	}
	// Written out: the Message-ID and token of letter w1-t1 as this
	// package signed them with oldKey before tokens named their key
	// (internal/letter/testdata/golden/london-en.eml until then).
	const legacyID, legacyToken = "<w1-t1.4jjjxeebbnkr7i3o@outreach.example>", "w1-t1.4jjjxeebbnkr7i3o"
	oldMID, oldTok, oldPlus := before.MessageID("w7-t3"), before.Token("w7-t3"), "replies+"+before.Token("w7-t3")+"@outreach.example"
	if id, ok := after.ParseMessageID(legacyID); !ok || id != "w1-t1" {
		t.Errorf("a Message-ID signed before key ids: %q %v", id, ok)
	}
	if id, ok := after.ParseToken(legacyToken); !ok || id != "w1-t1" {
		t.Errorf("a token signed before key ids: %q %v", id, ok)
	}
	if id, ok := after.ParseMessageID(oldMID); !ok || id != "w7-t3" {
		t.Errorf("a Message-ID signed with the previous key: %q %v", id, ok)
	}
	if id, ok := after.ParsePlusAddress(oldPlus); !ok || id != "w7-t3" {
		t.Errorf("a reply token signed with the previous key: %q %v", id, ok)
	}
	if after.Token("w7-t3") == oldTok {
		t.Error("new letters are still signed with the previous key")
	}
	if id, ok := after.ParseToken(after.Token("w8-t1")); !ok || id != "w8-t1" {
		t.Errorf("a token of the new key: %q %v", id, ok)
	}
	dropped, _ := NewSigner(newKey, "outreach.example")
	for _, tok := range []string{oldTok, legacyToken} {
		if _, ok := dropped.ParseToken(tok); ok {
			t.Errorf("token %s verifies once its key is dropped", tok)
		}
	}
	// Another key id with a valid MAC of the old key is refused.
	forged := oldTok[:strings.LastIndexByte(oldTok, '.')+1] + "zzzz" + oldTok[strings.LastIndexByte(oldTok, '.')+5:]
	if _, ok := after.ParseToken(forged); ok {
		t.Errorf("token %s with a key id not on the ring verifies", forged)
	}
}
