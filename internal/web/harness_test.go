package web

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"mime/multipart"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/mail"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"
	"golang.org/x/crypto/bcrypt"

	"github.com/outreach-campaign/outreach/internal/auth"
	"github.com/outreach-campaign/outreach/internal/campaign"
	"github.com/outreach-campaign/outreach/internal/letter"
	"github.com/outreach-campaign/outreach/internal/mailer"
	"github.com/outreach-campaign/outreach/internal/queue"
	"github.com/outreach-campaign/outreach/internal/store"
	"github.com/outreach-campaign/outreach/internal/supporters"
	"github.com/outreach-campaign/outreach/internal/testservers"
	"github.com/outreach-campaign/outreach/templates"
)

// clock is the injected time of a test: it moves only when told.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// pastMonday is the Monday at 06:00 UTC four to five weeks before now: in
// the past so that letters scheduled by the injected clock are due at once
// for asynq, which keeps real time, even after the tests advance the clock
// by a week or two; a Monday, so that their working days start with it.
func pastMonday(now time.Time) time.Time {
	d := now.UTC().AddDate(0, 0, -28)
	d = time.Date(d.Year(), d.Month(), d.Day(), 6, 0, 0, 0, time.UTC)
	return d.AddDate(0, 0, -int((d.Weekday()+6)%7))
}

// offices are the test's three campaigns, one office each, in three time
// zones and the three languages.
var offices = []struct {
	id                      int64
	city, country, email    string
	lang, tz, mayor, region string
}{
	{1, "Montreal", "Canada", "mayor@montreal.example", "fr", "America/Toronto", "Valérie Plante", "Seoul"},
	{2, "Milano", "Italy", "sindaco@milano.example", "it", "Europe/Rome", "", "Busan"},
	{3, "Perth", "Australia", "mayor@perth.example", "en", "Australia/Perth", "Basil Zempilas", "Gyeonggi-do"},
}

const orgAddress = "campaign@outreach.example"

type harnessOptions struct {
	limits supporters.Limits
	// mail starts Mailpit and a worker sending through it.
	mail bool
	// staff adds the staff UI, with one account (staffEmail, staffPassword).
	staff bool
	// realIP is where the server looks for the client's address.
	realIP ProxyHeader
}

// harness is the whole path of supporters' letters: a store, a real
// Redis, the HTTP server, and with mail a worker and Mailpit.
type harness struct {
	tb      testing.TB
	clock   *clock
	st      *store.SQLite
	rdb     *redis.Client
	queue   *queue.Client
	sup     *supporters.Service
	batcher *supporters.Batcher
	srv     *httptest.Server
	mailpit *testservers.MailpitServer
	signer  *letter.Signer
	auth    *auth.Service
}

func quietLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func newHarness(tb testing.TB, o harnessOptions) *harness {
	tb.Helper()
	ctx := context.Background()
	h := &harness{tb: tb, clock: &clock{t: pastMonday(time.Now())}}
	st, err := store.OpenSQLite(ctx, filepath.Join(tb.TempDir(), "outreach.db"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { st.Close() })
	st.Now = h.clock.Now
	h.st = st
	h.seed()

	redisAddr := testservers.Redis(tb)
	h.rdb = redis.NewClient(&redis.Options{Addr: redisAddr})
	tb.Cleanup(func() { h.rdb.Close() })
	h.queue = queue.NewClient(asynq.RedisClientOpt{Addr: redisAddr}, 3)
	tb.Cleanup(func() { h.queue.Close() })

	h.srv = httptest.NewUnstartedServer(nil)
	base := "http://" + h.srv.Listener.Addr().String()
	secret := []byte("web-test-secret-0123456789")
	links, err := supporters.NewLinks(secret, base)
	if err != nil {
		tb.Fatal(err)
	}
	h.sup = &supporters.Service{
		Store: st, Queue: h.queue, Links: links, Limiter: supporters.NewRateLimiter(h.rdb, o.limits),
		MaxMessage: 500, ConfirmWithin: 72 * time.Hour, Now: h.clock.Now, Log: quietLog(),
	}
	hours, _ := campaign.ParseWorkingHours("09:00-17:00")
	h.batcher = &supporters.Batcher{
		Store: st, Queue: h.queue, Hours: hours, ConfirmWithin: 72 * time.Hour, KeepFor: 30 * 24 * time.Hour,
		Defaults: campaign.Delivery{Mode: campaign.Individual, DailyCap: 40, Period: campaign.Daily},
		Lease:    supporters.NewLease(h.rdb, "outreach:test:batcher"), Now: h.clock.Now, Log: quietLog(),
	}
	ws, err := New(Config{BaseURL: base, Secret: secret, KeepForDays: 30, RealIPHeader: o.realIP, Log: quietLog()}, h.sup)
	if err != nil {
		tb.Fatal(err)
	}
	if h.signer, err = letter.NewSigner([]byte("letters-test-secret-0123456789"), "outreach.example"); err != nil {
		tb.Fatal(err)
	}
	if o.mail {
		h.mailpit = testservers.Mailpit(tb)
	}
	if o.staff {
		h.addStaff(ws)
	}
	h.srv.Config.Handler = ws.Handler()
	h.srv.Start()
	tb.Cleanup(h.srv.Close)

	if o.mail {
		h.worker(redisAddr, links)
	}
	return h
}

const (
	staffEmail    = "anna@campaign.example"
	staffPassword = "correct horse battery"
)

// addStaff adds the staff UI to ws, with one staff account.
func (h *harness) addStaff(ws *Server) {
	h.tb.Helper()
	tpl, err := letter.LoadTemplates(templates.FS, "")
	if err != nil {
		h.tb.Fatal(err)
	}
	comp := &letter.Composer{Templates: tpl, Signer: h.signer,
		Org: letter.Organisation{Name: "Sister City Campaign", Address: orgAddress}}
	h.auth = auth.NewService(h.st)
	h.auth.Now, h.auth.BcryptCost = h.clock.Now, bcrypt.MinCost
	if _, err := h.auth.AddStaff(context.Background(), staffEmail, staffPassword); err != nil {
		h.tb.Fatal(err)
	}
	sched := &queue.Scheduler{Store: h.st, Queue: h.queue, Log: quietLog(), Parallel: 2}
	staff := &Staff{Store: h.st, Auth: h.auth, Scheduler: sched, Composer: comp, Now: h.clock.Now}
	if h.mailpit != nil {
		// Staff's test copies go straight to Mailpit.
		m, err := mailer.New(mailer.Config{Host: h.mailpit.SMTPHost, Port: h.mailpit.SMTPPort, TLS: "none", Timeout: 10 * time.Second})
		if err != nil {
			h.tb.Fatal(err)
		}
		h.tb.Cleanup(func() { m.Close() })
		staff.Mailer = m
	}
	if err := ws.WithStaff(staff); err != nil {
		h.tb.Fatal(err)
	}
}

// seed stores the three campaigns and their offices.
func (h *harness) seed() {
	ctx := context.Background()
	var cs []campaign.Campaign
	var contacts []store.Contact
	for _, o := range offices {
		cs = append(cs, campaign.Campaign{ID: o.id, No: fmt.Sprint(o.id), Partner: campaign.Partner{Region: o.region},
			Country: o.country, City: o.city, AgreementDate: campaign.Date{Year: 2000, Month: 4, Day: int(o.id)},
			Relationship: campaign.Sister, RelationshipLabel: "Sister City"})
		contacts = append(contacts, store.Contact{Target: campaign.Target{Email: o.email, Country: o.country, City: o.city,
			Mayor: o.mayor, Language: o.lang, TimeZone: o.tz}, CampaignIDs: []int64{o.id}})
	}
	// A fourth campaign has no office to write to.
	cs = append(cs, campaign.Campaign{ID: 4, No: "4", Partner: campaign.Partner{Region: "Seoul"}, Country: "Canada",
		City: "Nowhere", AgreementDate: campaign.Date{Year: 2001, Month: 1, Day: 1}, Relationship: campaign.Friendship,
		RelationshipLabel: "Friendship City"})
	if _, err := h.st.ImportCampaigns(ctx, cs); err != nil {
		h.tb.Fatal(err)
	}
	if _, err := h.st.ImportContacts(ctx, contacts); err != nil {
		h.tb.Fatal(err)
	}
}

// worker sends letters to Mailpit the way `outreach worker` does.
func (h *harness) worker(redisAddr string, links *supporters.Links) {
	tpl, err := letter.LoadTemplates(templates.FS, "")
	if err != nil {
		h.tb.Fatal(err)
	}
	comp := &letter.Composer{Templates: tpl, Signer: h.signer, ReplyTo: "replies@outreach.example", ReplyToken: true,
		Org: letter.Organisation{Name: "Sister City Campaign", Address: orgAddress}}
	m, err := mailer.New(mailer.Config{Host: h.mailpit.SMTPHost, Port: h.mailpit.SMTPPort, TLS: "none",
		Timeout: 10 * time.Second, Connections: 8})
	if err != nil {
		h.tb.Fatal(err)
	}
	sender := queue.NewSender(h.st, comp, m, nil, quietLog())
	w := &supporters.Writers{Store: h.st, Templates: tpl, Signer: h.signer, Links: links, Org: comp.Org,
		ReplyTo: comp.ReplyTo, ReplyToken: true, ConfirmWithin: 72 * time.Hour}
	for k, wr := range w.ByKind() {
		sender.Writers[k] = wr
	}
	srv := queue.NewServer(asynq.RedisClientOpt{Addr: redisAddr}, queue.WorkerConfig{Concurrency: 8,
		RetryBase: 20 * time.Millisecond, RetryMax: 200 * time.Millisecond, ShutdownTimeout: 5 * time.Second, Log: quietLog()})
	if err := srv.Start(queue.NewMux(sender)); err != nil {
		h.tb.Fatal(err)
	}
	h.tb.Cleanup(func() { srv.Shutdown(); m.Close() })
}

// client is a browser of its own, with its own cookies.
func (h *harness) client() *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, Timeout: 10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// signJSON posts a letter to the API and returns the status and body.
func (h *harness) signJSON(campaignID int64, body any) (int, map[string]any) {
	h.tb.Helper()
	b, _ := json.Marshal(body)
	resp, err := http.Post(fmt.Sprintf("%s/api/campaigns/%d/letters", h.srv.URL, campaignID), "application/json", bytes.NewReader(b))
	if err != nil {
		h.tb.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

func (h *harness) get(c *http.Client, url string) (int, string) {
	h.tb.Helper()
	resp, err := c.Get(url)
	if err != nil {
		h.tb.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func (h *harness) postForm(c *http.Client, target string, form url.Values) (int, string, http.Header) {
	h.tb.Helper()
	req, _ := http.NewRequest(http.MethodPost, target, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := c.Do(req)
	if err != nil {
		h.tb.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp.Header
}

var csrfRe = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)

// follow opens a link from a mail as a person does: the page, then its
// button. It returns the final status and page.
func (h *harness) follow(link string) (int, string) {
	h.tb.Helper()
	c := h.client()
	code, page := h.get(c, link)
	if code != http.StatusOK {
		return code, page
	}
	m := csrfRe.FindStringSubmatch(page)
	if m == nil {
		h.tb.Fatalf("no form on %s:\n%s", link, page)
	}
	code, page, _ = h.postForm(c, link, url.Values{"csrf_token": {m[1]}, "lang": {"en"}})
	return code, page
}

// snapshot is everything the store holds about supporters, to check that a
// refused request changed nothing.
func (h *harness) snapshot() string {
	h.tb.Helper()
	ctx := context.Background()
	sigs, err := h.st.Signatures(ctx, 0)
	if err != nil {
		h.tb.Fatal(err)
	}
	ls, err := h.st.Letters(ctx, store.LetterFilter{})
	if err != nil {
		h.tb.Fatal(err)
	}
	b, _ := json.Marshal(struct {
		S []campaign.Signature
		L []campaign.Letter
	}{sigs, ls})
	return string(b)
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(tb testing.TB, what string, timeout time.Duration, cond func() (bool, string)) {
	tb.Helper()
	deadline := time.Now().Add(timeout)
	for {
		ok, state := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			tb.Fatalf("%s: not done after %v: %s", what, timeout, state)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// parsedMail is a received message: its headers, its text part, and its
// attachments by file name.
type parsedMail struct {
	Header      mail.Header
	Text, HTML  string
	Attachments map[string][]byte
}

func parseMail(tb testing.TB, raw []byte) parsedMail {
	tb.Helper()
	m, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		tb.Fatal(err)
	}
	p := parsedMail{Header: m.Header, Attachments: map[string][]byte{}}
	walkParts(tb, m.Header.Get("Content-Type"), m.Body, &p)
	return p
}

func walkParts(tb testing.TB, ctype string, body io.Reader, p *parsedMail) {
	mt, params, err := mime.ParseMediaType(ctype)
	if err != nil {
		tb.Fatalf("content type %q: %v", ctype, err)
	}
	if !strings.HasPrefix(mt, "multipart/") {
		b, _ := io.ReadAll(body)
		switch mt {
		case "text/plain":
			p.Text = string(b)
		case "text/html":
			p.HTML = string(b)
		}
		return
	}
	mr := multipart.NewReader(body, params["boundary"])
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			return
		}
		if err != nil {
			tb.Fatal(err)
		}
		if name := part.FileName(); name != "" {
			b, _ := io.ReadAll(part)
			if strings.EqualFold(part.Header.Get("Content-Transfer-Encoding"), "base64") {
				clean := strings.Join(strings.Fields(string(b)), "")
				if b, err = base64.StdEncoding.DecodeString(clean); err != nil {
					tb.Fatal(err)
				}
			}
			p.Attachments[name] = b
			continue
		}
		walkParts(tb, part.Header.Get("Content-Type"), part, p)
	}
}

func TestPastMonday(t *testing.T) {
	for _, now := range []string{"2026-12-02T01:14:00Z", "2026-03-02T05:59:00Z", "2027-01-03T23:00:00-08:00"} {
		n, _ := time.Parse(time.RFC3339, now)
		m := pastMonday(n)
		if m.Weekday() != time.Monday || m.Hour() != 6 || m.Minute() != 0 || m.Location() != time.UTC ||
			n.Sub(m) < 27*24*time.Hour || n.Sub(m) > 35*24*time.Hour {
			t.Errorf("pastMonday(%s) = %s, want a Monday 06:00 UTC four to five weeks before", now, m)
		}
	}
}
