package inbox

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"github.com/outreach-campaign/outreach/internal/campaign"
	"github.com/outreach-campaign/outreach/internal/devreply"
	"github.com/outreach-campaign/outreach/internal/letter"
	"github.com/outreach-campaign/outreach/internal/replies"
	"github.com/outreach-campaign/outreach/internal/store"
	"github.com/outreach-campaign/outreach/internal/testservers"
	"github.com/outreach-campaign/outreach/templates"
)

// benchMessages is how many messages the mailbox holds.
const benchMessages = 10_000

// BenchmarkPoller measures replies processed per second from a Dovecot
// mailbox of 10,000 messages (fetch, parse and classify, match, store
// with the checkpoint), next to the rate at which go-imap alone fetches the
// same messages in the same run, and the ratio. The messages are replies
// to 60 offices' letters as they come: people's answers quoting the
// letter, auto-replies, bounces, delay warnings and unrelated mail. Run it
// with -benchtime=1x (make bench): filling the mailbox takes a while.
func BenchmarkPoller(b *testing.B) {
	d := testservers.Dovecot(b)
	comp := benchComposer(b)
	letters := benchLetters(60, comp)
	start := time.Now()
	fill(b, d, letters)
	b.Logf("mailbox filled with %d messages in %s", benchMessages, time.Since(start).Round(time.Millisecond))
	cfg := Config{Addr: d.Addr, TLS: TLSNone, Username: d.User, Password: d.Password, Folder: "INBOX",
		Idle: true, PollInterval: time.Hour}

	var fetchTime, pollTime time.Duration
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		st := benchStore(b, letters)
		b.StartTimer()

		t0 := time.Now()
		if n := rawFetch(b, cfg); n != benchMessages {
			b.Fatalf("go-imap fetched %d messages, want %d", n, benchMessages)
		}
		fetchTime += time.Since(t0)

		t0 = time.Now()
		poll(b, cfg, st, comp)
		pollTime += time.Since(t0)

		b.StopTimer()
		checkRecorded(b, st)
		st.Close()
		b.StartTimer()
	}
	n := float64(b.N * benchMessages)
	repliesPerSec, fetchPerSec := n/pollTime.Seconds(), n/fetchTime.Seconds()
	b.ReportMetric(repliesPerSec, "replies/s")
	b.ReportMetric(fetchPerSec, "raw-fetch/s")
	b.ReportMetric(repliesPerSec/fetchPerSec, "ratio")
	b.ReportMetric(0, "ns/op") // the rates above are the figures
}

// benchLetter is a letter that was sent, and what an office would quote.
type benchLetter struct {
	campaign.Letter
	target campaign.Target
	orig   devreply.Letter
}

func benchComposer(b testing.TB) *letter.Composer {
	b.Helper()
	tpl, err := letter.LoadTemplates(templates.FS, "")
	if err != nil {
		b.Fatal(err)
	}
	signer, err := letter.NewSigner([]byte("bench-secret-0123456789abcdef"), "outreach.example")
	if err != nil {
		b.Fatal(err)
	}
	return &letter.Composer{Templates: tpl, Signer: signer, ReplyTo: "replies@outreach.example", ReplyToken: true,
		Org: letter.Organisation{Name: "Sister City Campaign", Address: "campaign@outreach.example"}}
}

// benchSent is when the letters went, two weeks ago: the mailbox is Dovecot's,
// which keeps real time; its replies come in the ten days after.
var benchSent = time.Now().Add(-14 * 24 * time.Hour).UTC().Truncate(time.Second)

// benchLetters are wave 1's letters to n offices, one campaign each, in
// the three languages.
func benchLetters(n int, comp *letter.Composer) []benchLetter {
	langs := []struct{ lang, tz string }{{"en", "Europe/London"}, {"it", "Europe/Rome"}, {"fr", "America/Toronto"}}
	var out []benchLetter
	for i := 1; i <= n; i++ {
		l := langs[i%len(langs)]
		t := campaign.Target{ID: int64(i), Email: fmt.Sprintf("mayor@city%d.example", i), Country: "Canada",
			City: fmt.Sprintf("City %d", i), Language: l.lang, TimeZone: l.tz}
		c := benchCampaign(i)
		id := campaign.LetterID(1, t.ID)
		_, r, err := comp.Compose(letter.Letter{ID: id, Template: "appeal", Target: t, Campaigns: []campaign.Campaign{c}, Date: benchSent})
		if err != nil {
			panic(err)
		}
		replyTo, _ := comp.Signer.PlusAddress(comp.ReplyTo, id)
		out = append(out, benchLetter{
			Letter: campaign.Letter{ID: id, TargetID: t.ID, CampaignIDs: []int64{c.ID}, Email: t.Email},
			target: t,
			orig: devreply.Letter{MessageID: comp.Signer.MessageID(id), Subject: r.Subject, Text: r.Text, SentAt: benchSent,
				FromName: comp.Org.Name, From: comp.Org.Address, ReplyTo: replyTo, To: t.Email, Language: l.lang},
		})
	}
	return out
}

func benchCampaign(i int) campaign.Campaign {
	return campaign.Campaign{ID: int64(i), No: fmt.Sprint(i), Partner: campaign.Partner{Region: "Seoul"}, Country: "Canada",
		City: fmt.Sprintf("City %d", i), AgreementDate: campaign.Date{Year: 2000, Month: 1, Day: 1 + i%28},
		Relationship: campaign.Sister}
}

// benchMessage is message i of the mailbox: mostly people's answers, then
// auto-replies, bounces, delay warnings and unrelated mail, to the letters
// in turn.
func benchMessage(i int, letters []benchLetter) []byte {
	l := letters[i%len(letters)].orig
	at := benchSent.Add(time.Duration(i) * time.Minute)
	switch i % 20 {
	case 0, 1, 2:
		return devreply.AutoReply(l, at)
	case 3, 4:
		return devreply.Bounce(l, at)
	case 5:
		return devreply.DelayWarning(l, at)
	case 6:
		return fmt.Appendf(nil, "From: Visit the Rockies <news@tourism.example>\r\nTo: campaign@outreach.example\r\n"+
			"Subject: Winter news %d\r\nMessage-ID: <news-%d@tourism.example>\r\nDate: %s\r\nPrecedence: bulk\r\n\r\n"+
			"Ski season is open.\r\n", i, i, at.Format(time.RFC1123Z))
	}
	return devreply.Human(l, at)
}

// fill appends the messages over a few connections, many in flight on
// each (Dovecot announces LITERAL+, so nothing waits for the server until
// a chunk is done).
func fill(b *testing.B, d *testservers.DovecotServer, letters []benchLetter) {
	b.Helper()
	const conns, chunk = 4, 100
	var wg sync.WaitGroup
	errs := make(chan error, conns)
	for w := range conns {
		wg.Go(func() {
			c, err := imapclient.DialInsecure(d.Addr, nil)
			if err != nil {
				errs <- err
				return
			}
			defer c.Close()
			if err := c.Login(d.User, d.Password).Wait(); err != nil {
				errs <- err
				return
			}
			for from := w * benchMessages / conns; from < (w+1)*benchMessages/conns; from += chunk {
				var cmds []*imapclient.AppendCommand
				for i := from; i < min(from+chunk, (w+1)*benchMessages/conns); i++ {
					raw := benchMessage(i, letters)
					cmd := c.Append("INBOX", int64(len(raw)), nil)
					if _, err := cmd.Write(raw); err != nil {
						errs <- err
						return
					}
					if err := cmd.Close(); err != nil {
						errs <- err
						return
					}
					cmds = append(cmds, cmd)
				}
				for _, cmd := range cmds {
					if _, err := cmd.Wait(); err != nil {
						errs <- err
						return
					}
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		b.Fatalf("fill the mailbox: %v", err)
	}
}

// benchStore is a fresh store holding the offices, their campaigns and
// their sent letters.
func benchStore(b *testing.B, letters []benchLetter) *store.SQLite {
	b.Helper()
	ctx := context.Background()
	st, err := store.OpenSQLite(ctx, filepath.Join(b.TempDir(), "outreach.db"))
	if err != nil {
		b.Fatal(err)
	}
	var cs []campaign.Campaign
	var contacts []store.Contact
	var ls []campaign.Letter
	for i, l := range letters {
		cs = append(cs, benchCampaign(i+1))
		contacts = append(contacts, store.Contact{Target: l.target, CampaignIDs: l.CampaignIDs})
		ls = append(ls, l.Letter)
	}
	if _, err := st.ImportCampaigns(ctx, cs); err != nil {
		b.Fatal(err)
	}
	if _, err := st.ImportContacts(ctx, contacts); err != nil {
		b.Fatal(err)
	}
	w, planned, err := st.CreateWave(ctx, campaign.Wave{Name: "bench", Template: "appeal"}, ls)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := st.StartWave(ctx, w.ID); err != nil {
		b.Fatal(err)
	}
	for i, l := range planned {
		if l.ID != letters[i].ID {
			b.Fatalf("letter %s planned as %s", letters[i].ID, l.ID)
		}
		orig := letters[i].orig
		if err := st.KeepAsSent(ctx, l.ID, campaign.AsSent{Subject: orig.Subject, Text: orig.Text}); err != nil {
			b.Fatal(err)
		}
		if err := st.BeginSending(ctx, l.ID, orig.MessageID); err != nil {
			b.Fatal(err)
		}
		if err := st.MarkSent(ctx, l.ID, benchSent, "250 OK", campaign.Date{}); err != nil {
			b.Fatal(err)
		}
	}
	return st
}

// rawFetch fetches every message whole with go-imap alone, as the poller
// does, and returns how many came.
func rawFetch(b *testing.B, cfg Config) int {
	b.Helper()
	c, err := dial(cfg, &imapclient.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Select(cfg.Folder, &imap.SelectOptions{ReadOnly: true}).Wait(); err != nil {
		b.Fatal(err)
	}
	var all imap.UIDSet
	all.AddRange(1, 0)
	cmd := c.Fetch(all, &imap.FetchOptions{UID: true, BodySection: []*imap.FetchItemBodySection{wholeMessage}})
	n := 0
	for msg := cmd.Next(); msg != nil; msg = cmd.Next() {
		for item := msg.Next(); item != nil; item = msg.Next() {
			if body, ok := item.(imapclient.FetchItemDataBodySection); ok {
				if _, err := io.Copy(io.Discard, body.Literal); err != nil {
					b.Fatal(err)
				}
				n++
			}
		}
	}
	if err := cmd.Close(); err != nil {
		b.Fatal(err)
	}
	return n
}

// poll runs the poller until the whole mailbox is recorded.
func poll(b *testing.B, cfg Config, st *store.SQLite, comp *letter.Composer) {
	b.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan struct{})
	rec := &Recorder{Store: st, Log: quietLog(), Matcher: &replies.Matcher{
		Lookup: st, Verifier: comp.Signer, RefPattern: letter.RefPattern,
		Sent: st,
	}}
	p := &Poller{Config: cfg, Store: st, Log: quietLog(), Handler: &finish{next: rec, last: benchMessages, done: done}}
	stopped := make(chan error, 1)
	go func() { stopped <- p.Run(ctx) }()
	select {
	case <-done:
	case err := <-stopped:
		b.Fatalf("poller stopped: %v", err)
	case <-time.After(10 * time.Minute):
		b.Fatal("the poller did not record the mailbox within 10 minutes")
	}
	cancel()
	<-stopped
}

// finish closes done once the checkpoint reaches UID last.
type finish struct {
	next Handler
	last uint32
	done chan struct{}
}

func (f *finish) Handle(ctx context.Context, batch []Message, cp store.Checkpoint) error {
	if err := f.next.Handle(ctx, batch, cp); err != nil {
		return err
	}
	if cp.UID >= f.last {
		close(f.done)
	}
	return nil
}

// checkRecorded makes sure the run did the work: every message recorded,
// people's replies matched and confirmed.
func checkRecorded(b *testing.B, st *store.SQLite) {
	b.Helper()
	rs, err := st.Replies(context.Background(), store.ReplyFilter{})
	if err != nil {
		b.Fatal(err)
	}
	kinds := map[string]int{}
	for _, r := range rs {
		kinds[string(r.Kind)+"/"+string(r.Status)]++
	}
	if len(rs) != benchMessages || kinds["human/confirmed"] < benchMessages*13/20 {
		b.Fatalf("%d replies recorded (%v), want %d with 65%% people's replies confirmed", len(rs), kinds, benchMessages)
	}
	b.Logf("recorded: %v", kinds)
}
