package replies

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// manifestRow is one line of testdata/corpus/MANIFEST.tsv.
type manifestRow struct {
	File      string
	Class     string // bounce, autoreply, human
	Recipient string // comma-separated, "-" or "" when unknown
	HardSoft  string // hard, soft, "-", or per recipient "hard,soft"
	Ambiguous string // why the class is debatable, if it is
}

func readManifest(tb testing.TB) []manifestRow {
	tb.Helper()
	f, err := os.Open(filepath.Join("testdata", "corpus", "MANIFEST.tsv"))
	if err != nil {
		tb.Fatalf("open manifest: %v", err)
	}
	tb.Cleanup(func() { f.Close() })
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	var col map[string]int
	var rows []manifestRow
	for sc.Scan() {
		fields := strings.Split(sc.Text(), "\t")
		if col == nil {
			col = map[string]int{}
			for i, name := range fields {
				col[name] = i
			}
			for _, need := range []string{"file", "class", "bounce_recipient", "bounce_hard_soft", "ambiguous"} {
				if _, ok := col[need]; !ok {
					tb.Fatalf("manifest has no %q column", need)
				}
			}
			continue
		}
		get := func(name string) string {
			if i := col[name]; i < len(fields) {
				return strings.TrimSpace(fields[i])
			}
			return ""
		}
		rows = append(rows, manifestRow{
			File:      get("file"),
			Class:     get("class"),
			Recipient: get("bounce_recipient"),
			HardSoft:  get("bounce_hard_soft"),
			Ambiguous: get("ambiguous"),
		})
	}
	if err := sc.Err(); err != nil {
		tb.Fatalf("read manifest: %v", err)
	}
	if len(rows) == 0 {
		tb.Fatal("manifest is empty")
	}
	return rows
}

func parseFile(tb testing.TB, name string) *Message {
	tb.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", "corpus", name))
	if err != nil {
		tb.Fatalf("read %s: %v", name, err)
	}
	m, err := Parse(raw)
	if err != nil {
		tb.Fatalf("parse %s: %v", name, err)
	}
	return m
}

// excluded lists corpus rows left out of the accuracy figures. Only rows the
// MANIFEST marks ambiguous may be here, and only where the expected class is
// truly debatable. None is needed: every ambiguous row (delay warnings,
// complaint reports, a success report, challenge mails, a read receipt, a
// Sieve auto-reply that reads like a reply) is classified as MANIFEST says.
var excluded = map[string]string{}

// recipientErrata corrects MANIFEST recipients that the messages themselves
// contradict, checked by reading each file. Everything else is taken as is.
var recipientErrata = map[string]struct{ recipient, why string }{
	"bounce/sisimai-lhost-apachejames-01.eml": {
		"000000000000@vtext.example.com",
		"MANIFEST has 11 zeros; the only address in the notice (RCPT TO) has 12",
	},
	"bounce/sisimai-rfc3464-28.eml": {
		"kijitora@neko.example.jp",
		"info@neko.example.jp is reported by a second message appended to the file (mbox-style), not by this one",
	},
}

var classKinds = map[string]Kind{"bounce": Bounce, "autoreply": AutoReply, "human": Human}

func TestClassifyCorpus(t *testing.T) {
	rows := readManifest(t)

	type tally struct{ right, total int }
	perClass := map[Kind]*tally{Bounce: {}, AutoReply: {}, Human: {}}
	var wrong []string
	var rcpt, hard, soft, delay tally
	var rcptMissing, hardMissed, softMarked, delayMissed []string

	for _, row := range rows {
		want, ok := classKinds[row.Class]
		if !ok {
			t.Fatalf("%s: unknown class %q", row.File, row.Class)
		}
		if reason, skip := excluded[row.File]; skip {
			if row.Ambiguous == "" {
				t.Errorf("%s is excluded (%s) but MANIFEST does not mark it ambiguous", row.File, reason)
			}
			t.Logf("excluded %s: %s", row.File, reason)
			continue
		}
		m := parseFile(t, row.File)
		v := Classify(m)
		if !v.Kind.Valid() {
			t.Errorf("%s: invalid kind %q", row.File, v.Kind)
		}
		if (v.Kind == Bounce) != (v.Bounce != nil) {
			t.Errorf("%s: kind %s but Bounce info %v", row.File, v.Kind, v.Bounce)
		}
		perClass[want].total++
		if v.Kind == want {
			perClass[want].right++
		} else {
			wrong = append(wrong, fmt.Sprintf("%s: want %s, got %s (%s)", row.File, want, v.Kind, v.Reason))
			if want == Human {
				// The one mistake that must never happen: a person's answer
				// filed away as automatic.
				t.Errorf("human reply %s classified as %s (%s)", row.File, v.Kind, v.Reason)
			}
		}
		if want != Bounce || v.Bounce == nil {
			continue
		}
		b := v.Bounce

		wantRcpt := row.Recipient
		if e, ok := recipientErrata[row.File]; ok {
			t.Logf("recipient erratum %s: %s (%s)", row.File, e.recipient, e.why)
			wantRcpt = e.recipient
		}
		if wantRcpt != "" && wantRcpt != "-" {
			rcpt.total++
			all := true
			for _, r := range strings.Split(wantRcpt, ",") {
				if !slices.Contains(b.Recipients, strings.ToLower(strings.TrimSpace(r))) {
					all = false
				}
			}
			if all {
				rcpt.right++
			} else {
				rcptMissing = append(rcptMissing, fmt.Sprintf("%s: want %s, got %v", row.File, wantRcpt, b.Recipients))
			}
		}
		switch row.HardSoft {
		case "hard":
			hard.total++
			if b.Permanent {
				hard.right++
			} else {
				hardMissed = append(hardMissed, fmt.Sprintf("%s (status %q, %q)", row.File, b.Status, b.Diagnostic))
			}
		case "soft":
			soft.total++
			if !b.Permanent {
				soft.right++
			} else {
				softMarked = append(softMarked, fmt.Sprintf("%s (status %q, %q)", row.File, b.Status, b.Diagnostic))
			}
		}
		if strings.Contains(strings.ToLower(row.Ambiguous), "delay warning") {
			delay.total++
			if b.Delayed && !b.Permanent {
				delay.right++
			} else {
				delayMissed = append(delayMissed, row.File)
			}
		}
	}

	pct := func(t tally) float64 {
		if t.total == 0 {
			return 100
		}
		return 100 * float64(t.right) / float64(t.total)
	}
	for _, k := range []Kind{Bounce, AutoReply, Human} {
		t.Logf("%s: %d/%d (%.1f%%)", k, perClass[k].right, perClass[k].total, pct(*perClass[k]))
	}
	for _, w := range wrong {
		t.Logf("misclassified: %s", w)
	}
	t.Logf("bounce recipients found: %d/%d (%.1f%%)", rcpt.right, rcpt.total, pct(rcpt))
	for _, s := range rcptMissing {
		t.Logf("recipient missing: %s", s)
	}
	t.Logf("hard bounces marked Permanent: %d/%d (%.1f%%)", hard.right, hard.total, pct(hard))
	for _, s := range hardMissed {
		t.Logf("hard bounce not Permanent: %s", s)
	}
	t.Logf("soft bounces left not Permanent: %d/%d (%.1f%%)", soft.right, soft.total, pct(soft))
	for _, s := range softMarked {
		t.Logf("soft bounce marked Permanent: %s", s)
	}
	t.Logf("delay warnings marked Delayed: %d/%d", delay.right, delay.total)
	for _, s := range delayMissed {
		t.Logf("delay warning not Delayed: %s", s)
	}

	if got := pct(*perClass[Bounce]); got < 98 {
		t.Errorf("bounce accuracy %.1f%%, want at least 98%%", got)
	}
	if got := pct(*perClass[AutoReply]); got < 95 {
		t.Errorf("auto-reply accuracy %.1f%%, want at least 95%%", got)
	}
	// Floors for the bounce details, each just under what the code reaches
	// today so that a regression shows (figures when written: recipients
	// 155/156, hard 47/48, soft 84/100, delay 2/2):
	//   - recipients 98%: the address is what the campaign marks, so nearly
	//     all must be found; the one miss names a Google group in
	//     X-Failed-Recipients where MANIFEST wants the original's To.
	//   - hard 95%: a hard bounce not marked Permanent keeps mailing a dead
	//     address; the one miss says only "the account or domain may not
	//     exist, they may be blacklisted", which is honestly ambiguous.
	//   - soft 80%: marking a working address suspect is the costlier error,
	//     but most misses here are notices that literally say "user unknown"
	//     where sisimai knows the provider means a filter.
	//   - delay warnings all: they must never count as failures.
	for _, f := range []struct {
		name  string
		got   tally
		floor float64
	}{
		{"bounce recipients", rcpt, 98},
		{"hard bounces Permanent", hard, 95},
		{"soft bounces not Permanent", soft, 80},
		{"delay warnings Delayed", delay, 100},
	} {
		if p := pct(f.got); p < f.floor {
			t.Errorf("%s: %.1f%%, want at least %.0f%%", f.name, p, f.floor)
		}
	}
}

// TestClassifyRules covers the rules the corpus has few or no examples of:
// auto-replies in the campaign's languages, and the traps that must leave a
// person's reply Human.
func TestClassifyRules(t *testing.T) {
	const human = "From: Mayor <mayor@town.example>\nTo: appeal@outreach.example.org\n"
	tests := []struct {
		name string
		raw  string
		want Kind
	}{
		{"Auto-Submitted auto-replied", "Auto-Submitted: auto-replied\nSubject: Re: appeal\n\nThanks", AutoReply},
		{"Auto-Submitted with comment", "Auto-Submitted: auto-generated (vacation)\nSubject: x\n\nx", AutoReply},
		{"Auto-Submitted: no", human + "Auto-Submitted: no\nSubject: Re: appeal\n\nYes.", Human},
		{"X-Autoreply", human + "X-Autoreply: yes\nSubject: Re: appeal\n\nAway.", AutoReply},
		{"X-Autorespond", human + "X-Autorespond: 1\nSubject: Re: appeal\n\nAway.", AutoReply},
		{"Exchange inbox rule", human + "X-Auto-Response-Suppress: All\nX-MS-Exchange-Inbox-Rules-Loop: mayor@town.example\nSubject: Re: appeal\n\nAway.", AutoReply},
		{"X-Auto-Response-Suppress alone", human + "X-Auto-Response-Suppress: All\nSubject: Re: appeal\n\nWe support it.", Human},
		{"English subject", human + "Subject: Out of Office: appeal\n\nBack Monday.", AutoReply},
		{"Exchange subject", human + "Subject: Automatic reply: appeal\n\nBack Monday.", AutoReply},
		{"Italian subject", human + "Subject: Risposta automatica: appello\n\nRientro lunedì.", AutoReply},
		{"Italian fuori sede", human + "Subject: Fuori sede\n\nRientro lunedì.", AutoReply},
		{"French subject", human + "Subject: =?UTF-8?Q?R=C3=A9ponse_automatique_:_appel?=\n\nDe retour lundi.", AutoReply},
		{"French absence", human + "Subject: Absence du bureau\n\nDe retour lundi.", AutoReply},
		{"German Abwesenheitsnotiz", human + "Subject: Abwesenheitsnotiz: Aufruf\n\nAb Montag wieder da.", AutoReply},
		{"German Automatische Antwort", human + "Subject: Automatische Antwort: Aufruf\n\nAb Montag wieder da.", AutoReply},
		{"Polish", human + "Subject: [Automatyczna =?iso-8859-2?Q?odpowied=BC?=] apel\n\nx", AutoReply},
		{"German body phrase with Precedence", human + "Precedence: bulk\nSubject: Re: Aufruf\nContent-Type: text/plain; charset=utf-8\n\nIch bin bis zum 5. April nicht im Büro.", AutoReply},
		{"Italian body phrase with null sender", "Return-Path: <>\n" + human + "Subject: Re: appello\n\nSono fuori sede fino al 5 aprile.", AutoReply},
		{"French body phrase with weak subject", human + "Subject: Absent\nContent-Type: text/plain; charset=utf-8\n\nJe suis absente jusqu'au 5 avril.", AutoReply},
		{"read receipt", human + "Subject: Read: appeal\nContent-Type: multipart/report; report-type=disposition-notification; boundary=b\n\n--b\nContent-Type: text/plain\n\nYour message was displayed.\n--b\nContent-Type: message/disposition-notification\n\nDisposition: manual-action/MDN-sent-manually; displayed\n--b--", AutoReply},

		// Traps: all of these are people.
		{"Precedence bulk alone", human + "Precedence: bulk\nSubject: Re: appeal\n\nWe support it.", Human},
		{"Precedence junk and null sender", "Return-Path: <>\n" + human + "Precedence: junk\nSubject: Re: appeal\n\nWe support it.", Human},
		{"person answering an auto-reply", human + "Subject: Re: Automatic reply: appeal\n\nSorry, I was away. Yes, we support it.", Human},
		{"body phrase alone", human + "Subject: Re: appeal\n\nI am out of the office next week, but yes: we support it.", Human},
		{"phrase only in the quote", human + "Precedence: bulk\nSubject: Re: appeal\n\nWe support it.\n\nOn Tue, 12 Mar 2024 at 09:15, X <x@y.example> wrote:\n> This is an automatic reply, do not answer.", Human},
		{"forwarded bounce subject", human + "Subject: Fwd: Undeliverable: appeal\n\nYour letter bounced off our old address, use this one.", Human},
		{"weak subject phrase after a reply prefix", human + "Precedence: bulk\nSubject: Re: Holiday closures\n\nWe are closed on Monday.", Human},
		{"body phrase with only X-Auto-Response-Suppress", human + "X-Auto-Response-Suppress: All\nSubject: Re: appeal\n\nI am out of the office next week; the council agrees.", Human},
		{"person's subject that looks like a bounce", human + "Subject: Delivery failure of the school buses\n\nThe buses did not arrive.", Human},
		{"town admin address", "From: Alexandra Rossi <city-admin@town.example>\nSubject: Re: appeal\n\nYour first letter could not be delivered to the old address; user unknown there.", Human},
		{"mayor writing about delivery", human + "Subject: Re: appeal\n\nYour first letter could not be delivered to the old address.", Human},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := Parse([]byte(tt.raw))
			if err != nil {
				t.Fatal(err)
			}
			if v := Classify(m); v.Kind != tt.want {
				t.Errorf("got %s (%s), want %s", v.Kind, v.Reason, tt.want)
			}
		})
	}
}

// TestClassifyBounceDetails checks BounceInfo on corpus files that show one
// field each, with values read off the messages by hand.
func TestClassifyBounceDetails(t *testing.T) {
	tests := []struct {
		file       string
		recipients []string
		permanent  bool
		delayed    bool
		status     string
		origID     string
	}{
		{"bounce/sisimai-lhost-postfix-02.eml", []string{"filtered@example.co.jp", "userunknown@example.co.jp"}, true, false, "5.2.1", ""},
		{"bounce/bounceparser-warning-8.eml", []string{"fred.bloggs@alfred.b.c"}, false, true, "4.0.0", "20091211135940.B77941658238@server4.example.co.uk"},
		{"bounce/sisimai-lhost-exim-01.eml", []string{"kijitora@example.ed.jp"}, false, false, "5.7.0", "E1P1ce6-000Egt-GZ@e1.example.org"},
		{"bounce/bounceparser-warning-5.eml", []string{"a@b.c"}, true, false, "", "20091229121253.615A116581D3@server4.example.com"},
		{"bounce/chatwoot-bounced_gmail.eml", []string{"alex.jones@fictionalcorp.com"}, true, false, "5.1.1", "conversation/93775311-9416-4428-964b-862001f8a8b2/messages/27855337@gmail.com"},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			v := Classify(parseFile(t, tt.file))
			if v.Kind != Bounce || v.Bounce == nil {
				t.Fatalf("got %s (%s)", v.Kind, v.Reason)
			}
			b := v.Bounce
			if !slices.Equal(b.Recipients, tt.recipients) {
				t.Errorf("Recipients %q, want %q", b.Recipients, tt.recipients)
			}
			if b.Permanent != tt.permanent || b.Delayed != tt.delayed {
				t.Errorf("Permanent %v Delayed %v, want %v %v", b.Permanent, b.Delayed, tt.permanent, tt.delayed)
			}
			if tt.status != "" && b.Status != tt.status {
				t.Errorf("Status %q, want %q", b.Status, tt.status)
			}
			if tt.origID != "" && b.OriginalMessageID != tt.origID {
				t.Errorf("OriginalMessageID %q, want %q", b.OriginalMessageID, tt.origID)
			}
		})
	}
}

func BenchmarkClassify(b *testing.B) {
	rows := readManifest(b)
	raws := make([][]byte, 0, len(rows))
	var total int64
	for _, row := range rows {
		raw, err := os.ReadFile(filepath.Join("testdata", "corpus", row.File))
		if err != nil {
			b.Fatal(err)
		}
		raws = append(raws, raw)
		total += int64(len(raw))
	}
	b.SetBytes(total / int64(len(raws)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		m, err := Parse(raws[i%len(raws)])
		if err != nil {
			b.Fatal(err)
		}
		_ = Classify(m)
	}
}
