package web

import (
	"context"
	"encoding/csv"
	"fmt"
	"mime"
	"net/http"
	"net/mail"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/outreach-campaign/outreach/internal/campaign"
	"github.com/outreach-campaign/outreach/internal/store"
)

// The end-to-end tests: 500 supporters sign for the 3 campaigns over HTTP,
// 10 of them twice, 450 confirm through the link in the mail Mailpit
// received, and the batcher, on an injected clock, delivers the letters
// through Redis and a worker to Mailpit.

const (
	nSupporters = 500
	nConfirm    = 450
	nTwice      = 10
)

type supporter struct {
	i        int
	campaign int64
	name     string
	email    string
	message  string // the text of their last signing
	consent  bool
}

func supporterN(i int) supporter {
	return supporter{
		i: i, campaign: offices[i%3].id,
		name:    fmt.Sprintf("Supporter %03d", i),
		email:   fmt.Sprintf("supporter%03d@people%d.example", i, i%5),
		message: fmt.Sprintf("A message from supporter %03d.", i),
		consent: i%2 == 0,
	}
}

var confirmLinkRe = regexp.MustCompile(`http://127\.0\.0\.1:\d+/confirm/[A-Za-z0-9._-]+`)

// signAll has every supporter sign, the first nTwice twice with a new
// message (confirmed here: the new text replaces the first), and returns
// them with the confirmation link of the last mail each received, read
// back from Mailpit.
func signAll(t *testing.T, h *harness) ([]supporter, map[string]string) {
	t.Helper()
	sups := make([]supporter, nSupporters)
	for i := range sups {
		sups[i] = supporterN(i)
	}
	sign := func(s supporter, message string) {
		code, body := h.signJSON(s.campaign, map[string]any{
			"name": s.name, "email": s.email, "country": "Canada", "city": fmt.Sprintf("Town %d", s.i),
			"message": message, "reply_consent": s.consent, "lang": []string{"en", "it", "fr"}[s.i%3],
		})
		if code != http.StatusAccepted {
			t.Errorf("supporter %d: %d %v", s.i, code, body)
		}
	}
	parallel(len(sups), func(i int) { sign(sups[i], sups[i].message) })
	// Signing again keeps the new text as a draft with a mail of its own;
	// the first letter stays as it is until the draft is confirmed.
	h.mailpit.WaitCount(t, nSupporters, time.Minute)
	for i := range nTwice {
		sups[i].message = fmt.Sprintf("Second thoughts of supporter %03d.", i)
		sign(sups[i], sups[i].message)
	}
	if t.Failed() {
		t.FailNow()
	}
	h.mailpit.WaitCount(t, nSupporters+nTwice, time.Minute)

	links := map[string]string{}   // the newest link per address
	earlier := map[string]string{} // the superseded one, for those who signed twice
	byEmail := map[string]supporter{}
	for _, s := range sups {
		byEmail[s.email] = s
	}
	for _, m := range h.mailpit.Messages(t) {
		if len(m.To) != 1 || m.From != orgAddress {
			t.Fatalf("confirmation mail %q from %s to %v", m.Subject, m.From, m.To)
		}
		raw := h.mailpit.Raw(t, m.ID)
		p := parseMail(t, raw)
		// Nothing the signer typed goes out under the organisation's name.
		s := byEmail[m.To[0]]
		for _, typed := range []string{s.name, fmt.Sprintf("supporter %03d.", s.i), fmt.Sprintf("Town %d", s.i)} {
			if strings.Contains(string(raw), typed) || strings.Contains(p.Text, typed) || strings.Contains(p.HTML, typed) {
				t.Errorf("the confirmation mail to %s carries %q:\n%s", m.To[0], typed, raw)
			}
		}
		link := confirmLinkRe.FindString(p.Text)
		if link == "" {
			t.Fatalf("no confirmation link in the mail to %s:\n%s", m.To[0], p.Text)
		}
		if old, ok := links[m.To[0]]; ok && linkVersion(old) > linkVersion(link) {
			link, old = old, link
			earlier[m.To[0]] = old
		} else if ok {
			earlier[m.To[0]] = old
		}
		links[m.To[0]] = link
	}
	if len(links) != nSupporters || len(earlier) != nTwice {
		t.Fatalf("%d supporters got mail (%d twice), want %d (%d)", len(links), len(earlier), nSupporters, nTwice)
	}
	// Who signed twice sees the new text on the newest link's page and
	// confirms it; the first mail's link then confirms nothing.
	for addr, link := range links {
		if _, ok := earlier[addr]; !ok {
			continue
		}
		s := byEmail[addr]
		if code, page := h.get(h.client(), link); code != http.StatusOK || !strings.Contains(page, s.message) ||
			!strings.Contains(page, "replaces the letter signed earlier with this address, which was never confirmed") {
			t.Errorf("%s: the draft's page: %d\n%s", addr, code, page)
		}
		if code, page := h.follow(link); code != http.StatusOK || !strings.Contains(page, "your new letter is confirmed") {
			t.Errorf("%s: the draft's link: %d\n%s", addr, code, page)
		}
	}
	for addr, link := range earlier {
		if code, page := h.follow(link); code != http.StatusConflict || !strings.Contains(page, "signed again") {
			t.Errorf("%s: superseded link: %d\n%s", addr, code, page)
		}
	}
	h.mailpit.DeleteAll(t)
	return sups, links
}

func linkVersion(link string) string {
	parts := strings.Split(link[strings.LastIndexByte(link, '/')+1:], ".")
	return parts[1]
}

// confirm follows the confirmation links of sups.
func confirm(t *testing.T, h *harness, sups []supporter, links map[string]string) {
	t.Helper()
	parallel(len(sups), func(i int) {
		code, page := h.follow(links[sups[i].email])
		want := "your letter is confirmed"
		if sups[i].i < nTwice {
			want = "already confirmed" // in signAll
		}
		if code != http.StatusOK || !strings.Contains(page, want) {
			t.Errorf("confirm %s: %d\n%s", sups[i].email, code, page)
		}
	})
	if t.Failed() {
		t.FailNow()
	}
}

// parallel runs fn(0..n-1) on 8 goroutines.
func parallel(n int, fn func(i int)) {
	next := make(chan int)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for i := range next {
				fn(i)
			}
		})
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
}

// runRounds runs the batcher every hour of injected time for d.
func runRounds(t *testing.T, h *harness, d time.Duration) {
	t.Helper()
	for end := h.clock.Now().Add(d); h.clock.Now().Before(end); {
		h.clock.Advance(time.Hour)
		if err := h.batcher.Round(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
}

// waitDelivered waits until n supporters' letters are delivered.
func waitDelivered(t *testing.T, h *harness, n int) store.SupporterStats {
	t.Helper()
	var total store.SupporterStats
	waitFor(t, "deliveries", time.Minute, func() (bool, string) {
		stats, err := h.st.SupporterStats(context.Background(), 0)
		if err != nil {
			t.Fatal(err)
		}
		total = store.SupporterStats{}
		for _, s := range stats {
			total.Signed += s.Signed
			total.Confirmed += s.Confirmed
			total.Delivered += s.Delivered
			total.Waiting += s.Waiting
			total.Expired += s.Expired
			total.Pending += s.Pending
		}
		return total.Delivered == n, fmt.Sprintf("%+v", total)
	})
	return total
}

// officeMail returns what each office received, by office address.
func officeMail(t *testing.T, h *harness) map[string][]parsedMail {
	t.Helper()
	out := map[string][]parsedMail{}
	for _, m := range h.mailpit.Messages(t) {
		if m.From != orgAddress {
			t.Errorf("a message from %s: the organisation must be the sender", m.From)
		}
		out[m.To[0]] = append(out[m.To[0]], parseMail(t, h.mailpit.Raw(t, m.ID)))
	}
	return out
}

// checkWorkingHours checks that every delivery of kind to each office was
// planned within its working hours, at most perDay a day.
func checkWorkingHours(t *testing.T, h *harness, kind campaign.LetterKind, perDay int) {
	t.Helper()
	for _, o := range offices {
		target, err := h.st.Target(context.Background(), o.email)
		if err != nil {
			t.Fatal(err)
		}
		ls, err := h.st.Letters(context.Background(), store.LetterFilter{TargetID: target.ID})
		if err != nil {
			t.Fatal(err)
		}
		loc, _ := time.LoadLocation(o.tz)
		days := map[campaign.Date]int{}
		for _, l := range ls {
			if l.Kind != kind || l.State == campaign.Cancelled {
				continue
			}
			local := l.SendAt.In(loc)
			if !h.batcher.Hours.Contains(local) {
				t.Errorf("%s: letter %s planned at %s, outside working hours", o.city, l.ID, local)
			}
			days[campaign.DateOf(local)]++
		}
		for d, n := range days {
			if n > perDay {
				t.Errorf("%s: %d letters on %s, more than %d", o.city, n, d, perDay)
			}
		}
	}
}

func TestSupportersIndividualEndToEnd(t *testing.T) {
	h := newHarness(t, harnessOptions{mail: true})
	sups, links := signAll(t, h)
	confirm(t, h, sups[:nConfirm], links)

	// A week of injected time: 150 letters an office at 40 a day take four
	// working days; the unconfirmed expire after three days.
	runRounds(t, h, 7*24*time.Hour)
	total := waitDelivered(t, h, nConfirm)
	if total.Signed != nSupporters || total.Confirmed != nConfirm || total.Expired != nSupporters-nConfirm || total.Waiting != 0 {
		t.Errorf("counts %+v", total)
	}
	h.mailpit.WaitCount(t, nConfirm, time.Minute)
	got := officeMail(t, h)
	for _, o := range offices {
		want := map[string]supporter{}
		for _, s := range sups[:nConfirm] {
			if s.campaign == o.id {
				want[s.name] = s
			}
		}
		seen := map[string]int{}
		for _, m := range got[o.email] {
			from, err := mail.ParseAddress(m.Header.Get("From"))
			if err != nil {
				t.Fatal(err)
			}
			name, ok := strings.CutSuffix(from.Name, " via Sister City Campaign")
			if !ok || from.Address != orgAddress {
				t.Errorf("%s: From %q", o.city, m.Header.Get("From"))
				continue
			}
			seen[name]++
			s, ok := want[name]
			if !ok {
				t.Errorf("%s: a letter from %q, who did not confirm or signed for another campaign", o.city, name)
				continue
			}
			if !strings.Contains(m.Text, s.message) || (s.i < nTwice && strings.Contains(m.Text, "A message from")) {
				t.Errorf("%s: %s's letter does not carry their last message:\n%s", o.city, name, m.Text)
			}
			replyTo := m.Header.Get("Reply-To")
			if a, err := mail.ParseAddress(replyTo); err == nil {
				replyTo = a.Address
			}
			if s.consent != (replyTo == s.email) || (!s.consent && !strings.HasPrefix(replyTo, "replies+")) {
				t.Errorf("%s: %s (consent %v): Reply-To %q", o.city, name, s.consent, replyTo)
			}
		}
		for name := range want {
			if seen[name] != 1 {
				t.Errorf("%s received %s's letter %d times, want once", o.city, name, seen[name])
			}
		}
		if len(got[o.email]) != len(want) {
			t.Errorf("%s received %d letters, want %d", o.city, len(got[o.email]), len(want))
		}
	}
	if len(got) != len(offices) {
		t.Errorf("mail went to %d addresses, want the %d offices", len(got), len(offices))
	}
	checkWorkingHours(t, h, campaign.KindSupporter, 40)
}

func TestSupportersDigestEndToEnd(t *testing.T) {
	h := newHarness(t, harnessOptions{mail: true})
	h.batcher.Defaults.Mode = campaign.Digest
	sups, links := signAll(t, h)

	// Half confirm on Monday, half on Tuesday: each office gets Monday's
	// letters on Tuesday and Tuesday's on Wednesday, within its hours.
	confirm(t, h, sups[:nConfirm/2], links)
	runRounds(t, h, 24*time.Hour)
	confirm(t, h, sups[nConfirm/2:nConfirm], links)
	runRounds(t, h, 4*24*time.Hour)
	total := waitDelivered(t, h, nConfirm)
	if total.Signed != nSupporters || total.Confirmed != nConfirm || total.Expired != nSupporters-nConfirm {
		t.Errorf("counts %+v", total)
	}
	h.mailpit.WaitCount(t, 2*len(offices), time.Minute)
	got := officeMail(t, h)
	for _, o := range offices {
		digests := got[o.email]
		if len(digests) != 2 {
			t.Fatalf("%s received %d digests, want 2 (one a day)", o.city, len(digests))
		}
		// In the order of their periods, which their ids carry.
		slices.SortFunc(digests, func(a, b parsedMail) int { return strings.Compare(refOf(t, a), refOf(t, b)) })
		seen := map[string]int{}
		for day, m := range digests {
			from, _ := mail.ParseAddress(m.Header.Get("From"))
			if from == nil || from.Address != orgAddress || from.Name != "Sister City Campaign" {
				t.Errorf("%s: digest From %q", o.city, m.Header.Get("From"))
			}
			if len(m.Attachments) != 1 {
				t.Fatalf("%s: digest with %d attachments", o.city, len(m.Attachments))
			}
			for _, b := range m.Attachments {
				rows, err := csv.NewReader(strings.NewReader(string(b))).ReadAll()
				if err != nil {
					t.Fatal(err)
				}
				for _, row := range rows[1:] {
					name := row[0]
					seen[name]++
					var s supporter
					fmt.Sscanf(name, "Supporter %d", &s.i)
					s = supporterN(s.i)
					if s.i < nTwice {
						s.message = fmt.Sprintf("Second thoughts of supporter %03d.", s.i)
					}
					if s.campaign != o.id || s.i >= nConfirm {
						t.Errorf("%s: digest carries %s", o.city, name)
					}
					// Monday's digest has the first half, Tuesday's the rest.
					if (day == 0) != (s.i < nConfirm/2) {
						t.Errorf("%s: %s in digest %d", o.city, name, day+1)
					}
					if row[3] != s.message || (row[4] != "") != s.consent || (s.consent && row[4] != s.email) {
						t.Errorf("%s: CSV row %q", o.city, row)
					}
					if !strings.Contains(m.Text, name) || !strings.Contains(m.Text, s.message) {
						t.Errorf("%s: the digest's text lacks %s's letter", o.city, name)
					}
				}
			}
		}
		for _, s := range sups[:nConfirm] {
			if s.campaign == o.id && seen[s.name] != 1 {
				t.Errorf("%s: %s's letter in %d digests, want 1", o.city, s.name, seen[s.name])
			}
		}
	}
	checkWorkingHours(t, h, campaign.KindDigest, 1)
	if len(got) != len(offices) || slices.ContainsFunc(sups, func(s supporter) bool { return len(got[s.email]) > 0 }) {
		t.Errorf("mail after the confirmations went to %d addresses", len(got))
	}
}

var refRe = regexp.MustCompile(`\[ref ([A-Z0-9-]+)\]`)

// refOf is the letter reference in a message's subject.
func refOf(t *testing.T, m parsedMail) string {
	t.Helper()
	subject, err := new(mime.WordDecoder).DecodeHeader(m.Header.Get("Subject"))
	if err != nil {
		t.Fatal(err)
	}
	ref := refRe.FindStringSubmatch(subject)
	if ref == nil {
		t.Fatalf("no reference in %q", subject)
	}
	return ref[1]
}
