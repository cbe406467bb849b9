package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/outreach-campaign/outreach/internal/campaign"
	"github.com/outreach-campaign/outreach/internal/testservers"
)

// browser drives a headless Chromium against the real server, saving a
// screenshot of each page it visits at desktop and phone width and
// auditing its accessibility there with axe-core.
type browser struct {
	t     *testing.T
	ctx   context.Context
	base  string
	shots string
	n     int
	// axe is the source of axe-core (testdata/axe), run on every page shot.
	axe string
}

// Widths every page is checked and photographed at.
var widths = []struct {
	name string
	w, h int64
}{{"desktop", 1280, 900}, {"phone", 390, 844}}

func newBrowser(t *testing.T, base string) *browser {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(testservers.Chromium(t)),
		chromedp.NoSandbox, // tests run as root
		chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.UserDataDir(t.TempDir()),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	// The first run starts the browser and must not have a timeout of its
	// own; later steps run under one.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	axe, err := os.ReadFile(filepath.Join("testdata", "axe", "axe.min.js"))
	if err != nil {
		t.Fatalf("axe-core: %v", err)
	}
	return &browser{t: t, ctx: ctx, base: base, shots: screenshotDir(t), axe: string(axe)}
}

// screenshotDir is where the screenshots go: $OUTREACH_SCREENSHOTS, or
// var/screenshots at the top of the module (make test names it).
func screenshotDir(t *testing.T) string {
	dir := os.Getenv("OUTREACH_SCREENSHOTS")
	if dir == "" {
		dir = filepath.Join("..", "..", "var", "screenshots")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	old, _ := filepath.Glob(filepath.Join(dir, "*.png"))
	for _, f := range old {
		os.Remove(f) // a run's screenshots only, not an earlier run's
	}
	return dir
}

// do runs steps, each within a minute.
func (b *browser) do(steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, time.Minute)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		b.t.Fatalf("browser: %v", err)
	}
}

func value[T any](b *browser, a chromedp.Action[T]) T {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, time.Minute)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		b.t.Fatalf("browser: %v", err)
	}
	return v
}

func (b *browser) eval(js string) bool { return value(b, chromedp.Evaluate[bool](js)) }

// evalText evaluates JavaScript that yields a string.
func (b *browser) evalText(js string) string { return value(b, chromedp.Evaluate[string](js)) }

// visit opens a page and waits for its main content.
func (b *browser) visit(path string) {
	b.t.Helper()
	b.do(chromedp.Navigate(b.base+path), chromedp.WaitVisible(chromedp.CSS("main")))
}

// text returns the visible text of the first element matching a CSS
// selector.
func (b *browser) text(sel string) string {
	b.t.Helper()
	return value(b, chromedp.Text(chromedp.CSS(sel)))
}

// overflowingCells lists the table cells shown whose text does not fit
// their box (it would be cut off, or spill over the next cell).
const overflowingCells = `(function(){
	var bad = [];
	for (var c of document.querySelectorAll("td, th")) {
		if (c.getClientRects().length && c.scrollWidth > c.clientWidth + 1) {
			bad.push(c.textContent.trim().slice(0, 60) + " (" + c.scrollWidth + " px in " + c.clientWidth + ")");
		}
	}
	return bad;
})()`

// shoot photographs the current page at each width, and checks that the
// page needs no sideways scrolling there (wide tables scroll inside their
// own box), that no table cell's text overflows its box, and that axe-core
// finds no serious or critical accessibility violation there.
func (b *browser) shoot(name string) {
	b.t.Helper()
	b.n++
	for _, w := range widths {
		b.do(chromedp.EmulateViewport(w.w, w.h), chromedp.Sleep(100*time.Millisecond)) // a frame for the layout to follow
		if !b.eval(`document.documentElement.scrollWidth <= window.innerWidth + 1`) {
			sw := value(b, chromedp.Evaluate[int](`document.documentElement.scrollWidth`))
			b.t.Errorf("%s at %s width: the page is %d px wide in a %d px window", name, w.name, sw, w.w)
		}
		for _, cell := range value(b, chromedp.Evaluate[[]string](overflowingCells)) {
			b.t.Errorf("%s at %s width: a cell's text overflows its box: %s", name, w.name, cell)
		}
		b.audit(name, w.name)
		png := value(b, chromedp.FullScreenshot(100))
		file := filepath.Join(b.shots, fmt.Sprintf("%02d-%s-%s.png", b.n, name, w.name))
		if err := os.WriteFile(file, png, 0o644); err != nil {
			b.t.Fatal(err)
		}
	}
	b.do(chromedp.EmulateViewport(widths[0].w, widths[0].h))
}

// axeViolation is one rule axe-core found broken, with the elements that
// break it.
type axeViolation struct {
	ID, Impact, Help, HelpURL string
	Nodes                     []struct{ Target, Summary string }
}

// axeRun runs axe-core on the whole document and keeps the serious and
// critical violations. Impacts below serious (say, a landmark that is not
// unique) are advice, not failures.
const axeRun = `axe.run(document, {resultTypes: ["violations"]}).then(function (r) {
	return r.violations.filter(function (v) { return v.impact === "serious" || v.impact === "critical"; }).map(function (v) {
		return {ID: v.id, Impact: v.impact, Help: v.help, HelpURL: v.helpUrl, Nodes: v.nodes.map(function (n) {
			return {Target: n.target.map(String).join(" "), Summary: n.failureSummary || ""};
		})};
	});
})`

// audit runs axe-core on the page as it is, failing the test on any
// serious or critical violation. The page's Content-Security-Policy
// allows no inline script, so axe is evaluated through the DevTools
// protocol, which the policy does not govern.
func (b *browser) audit(page, width string) {
	b.t.Helper()
	if !b.eval(`typeof window.axe === "object"`) {
		b.do(chromedp.Evaluate[chromedp.Void](b.axe))
	}
	vs := value(b, chromedp.Evaluate[[]axeViolation](axeRun, chromedp.EvalAwaitPromise))
	for _, v := range vs {
		var where strings.Builder
		for _, n := range v.Nodes {
			fmt.Fprintf(&where, "\n\t%s: %s", n.Target, strings.ReplaceAll(n.Summary, "\n", " "))
		}
		b.t.Errorf("%s at %s width: axe %s (%s): %s (%s)%s", page, width, v.ID, v.Impact, v.Help, v.HelpURL, where.String())
	}
}

// click clicks the first element matching a CSS selector from script: no
// mouse coordinates, which a page still settling after a resize can make
// miss.
func (b *browser) click(css string) {
	b.t.Helper()
	if !b.eval(fmt.Sprintf(`(function(){ var e = document.querySelector(%q); if (!e) return false; e.click(); return true; })()`, css)) {
		b.t.Fatalf("no %s on the page:\n%s", css, b.text("main"))
	}
}

// clickText clicks the first element of a kind whose text contains text.
func (b *browser) clickText(tag, text string) {
	b.t.Helper()
	js := fmt.Sprintf(`(function(){ for (var e of document.querySelectorAll(%q)) { if (e.textContent.includes(%q)) { e.click(); return true; } } return false; })()`, tag, text)
	if !b.eval(js) {
		b.t.Fatalf("no %s with %q on the page", tag, text)
	}
}

// arrive waits for the page a form or link led to: one with sel, or an
// error notice, which fails the test with its text.
func (b *browser) arrive(sel string) {
	b.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		if b.eval(fmt.Sprintf(`document.readyState === "complete" && document.querySelector(%q) !== null`, sel)) {
			return
		}
		if b.eval(`document.readyState === "complete" && document.querySelector(".notice.error") !== null`) {
			b.t.Fatalf("the page shows an error instead of %s: %s", sel, b.text(".notice.error"))
		}
		if time.Now().After(deadline) {
			b.t.Fatalf("no %s after 30s; the page says:\n%s", sel, b.text("body"))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// waitFor polls a JavaScript condition until it holds.
func (b *browser) waitFor(what, js string, timeout time.Duration) {
	b.t.Helper()
	deadline := time.Now().Add(timeout)
	for !b.eval(js) {
		if time.Now().After(deadline) {
			b.t.Fatalf("%s: not after %s; the page says:\n%s", what, timeout, b.text("main"))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// scripts turns the page's JavaScript on or off, as a visitor without it
// would browse; the DevTools protocol still evaluates the test's own.
func scripts(on bool) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: !on})
		return err
	})
}

// pendingReply tells whether a reply still waits for review, as the store
// has it.
func pendingReply(c *cli, from string) bool {
	c.t.Helper()
	var pending []campaign.Reply
	c.jsonOut(&pending, "replies", "list", "--pending", "--json")
	for _, r := range pending {
		if r.From == from {
			return true
		}
	}
	return false
}

func waitHTTP(t *testing.T, url string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := http.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not answer: %v", url, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestStaffUIInBrowser drives the staff UI in headless Chromium against
// the real server, with a real Redis, SMTP server (Mailpit) and Dovecot:
// log in, preview and create a Canada wave, watch it complete live, review a
// reply that arrived in the mailbox, confirm it with an outcome, and find
// its response date on the public status table. Every page is saved as a
// screenshot at desktop and phone width.
func TestStaffUIInBrowser(t *testing.T) {
	mp := testservers.Mailpit(t)
	d := testservers.Dovecot(t)
	c := newCLI(t)
	c.withServices(t, mp.SMTPHost, mp.SMTPPort)
	_, imapPort, _ := strings.Cut(d.Addr, ":")
	c.env = append(c.env, "OUTREACH_IMAP_HOST=127.0.0.1", "OUTREACH_IMAP_PORT="+imapPort, "OUTREACH_IMAP_USERNAME="+d.User,
		"OUTREACH_IMAP_PASSWORD="+d.Password, "OUTREACH_IMAP_POLL_INTERVAL=200ms")
	port := testservers.FreePort(t)
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	c.env = append(c.env, fmt.Sprintf("OUTREACH_WEB_LISTEN=127.0.0.1:%d", port), "OUTREACH_WEB_BASE_URL="+base)
	c.ok("import", "cities", citiesCSV)
	c.ok("import", "contacts", contactsCSV)
	var out, errb bytes.Buffer
	if code := run(context.Background(), []string{"staff", "add", "anna@campaign.example"},
		env{stdin: strings.NewReader("correct horse battery\n"), stdout: &out, stderr: &errb, environ: c.env}); code != 0 {
		t.Fatalf("staff add: %s", errb.String())
	}
	c.background("run")
	waitHTTP(t, base+"/healthz")

	b := newBrowser(t, base)

	// Every staff page needs a login.
	b.visit("/campaigns")
	if !strings.HasPrefix(b.text("h1"), "Log in") {
		t.Fatalf("an anonymous visit to /campaigns shows %q, want the login page", b.text("h1"))
	}
	b.shoot("login")
	b.do(
		chromedp.SendKeys(chromedp.ID("email"), "anna@campaign.example"),
		chromedp.SendKeys(chromedp.ID("password"), "correct horse battery"),
	)
	b.click(`form button[type=submit]`)
	b.arrive("table.data")
	if h := b.text("h1"); h != "Campaigns" {
		t.Fatalf("after logging in: %q", h)
	}
	b.shoot("campaigns")
	// The keyboard's first stop is the skip link, shown when it has the
	// focus, and it leads past the header's links to the content.
	b.do(chromedp.KeyEvent(kb.Tab))
	if !b.eval(`document.activeElement.matches("a.skip[href='#main']")`) {
		t.Errorf("the first Tab reaches %s, want the skip link", value(b, chromedp.Evaluate[string](`document.activeElement.outerHTML.slice(0, 120)`)))
	}
	if !b.eval(`(function(){ var r = document.activeElement.getBoundingClientRect(); return r.width > 0 && r.top >= 0 && r.bottom <= window.innerHeight; })()`) {
		t.Error("the skip link is out of sight when it has the focus")
	}
	b.do(chromedp.KeyEvent(kb.Enter))
	b.waitFor("the skip link to move the focus to the content", `document.activeElement.id === "main"`, 10*time.Second)
	b.visit("/campaigns?country=Canada&state=never-contacted")
	b.shoot("campaigns-filtered")

	// The search box, sent as a form without script, then a header sorts.
	b.visit("/campaigns")
	b.do(chromedp.SendKeys(chromedp.CSS(`input[name=q]`), "montreal"))
	b.click(`form.filters button[type=submit]`)
	b.waitFor("the search", `location.search.includes("q=montreal") && document.readyState === "complete"`, 30*time.Second)
	column := func(n int) string {
		return strings.Join(value(b, chromedp.Evaluate[[]string](fmt.Sprintf(
			`Array.from(document.querySelectorAll("table.data tbody td:nth-child(%d)")).map(function(td){ return td.textContent.trim(); })`, n))), ",")
	}
	if got := column(2); got != "Montreal,Montreal" {
		t.Errorf("the search for montreal lists %q, want Montreal's two campaigns", got)
	}
	b.clickText("th a", "Korean local government")
	b.waitFor("the sorted table", `(function(){ var th = document.querySelector("th[aria-sort=ascending]");
		return th !== null && th.textContent.includes("Korean local government"); })()`, 30*time.Second)
	if got := column(3); got != "Busan,Seoul" {
		t.Errorf("sorted by partner: %q, want Busan,Seoul", got)
	}
	if !strings.Contains(b.evalText(`location.search`), "q=montreal") {
		t.Error("sorting forgot the search")
	}
	b.shoot("campaigns-search")

	// A wave for Canada, previewed first.
	b.visit("/waves/new")
	b.shoot("wave-new")
	b.do(chromedp.SendKeys(chromedp.ID("name"), "Canada, from the browser"))
	b.click(`input[name=country][value=Canada]`)
	if !b.eval(`document.querySelector("input[name=country][value=Canada]").checked`) {
		t.Fatal("the Canada box is not checked")
	}
	// Moncton answered in the table: put the offices that answered back in.
	b.click(`input[name=include_replied]`)
	b.click(`form.wave-form button[type=submit]`)
	b.arrive("ol.previews")
	if nLetters := value(b, chromedp.Evaluate[int](`document.querySelectorAll("ol.previews > li").length`)); nLetters != 19 {
		t.Fatalf("the preview shows %d letters, want 19", nLetters)
	}
	// Open Montreal's letter: it is in French and names both partners.
	b.clickText("summary", "maire@montreal.example")
	montreal := value(b, chromedp.Text(chromedp.Search(`//li[.//summary[contains(., "maire@montreal.example")]]//pre`)))
	for _, want := range []string{"Madame, Monsieur,", "Busan, ville jumelle depuis le 19 septembre 2000", "Seoul, ville amie depuis le 8 avril 2015"} {
		if !strings.Contains(montreal, want) {
			t.Errorf("Montreal's previewed letter lacks %q:\n%s", want, montreal)
		}
	}
	b.shoot("wave-preview")
	b.click(`button[name=start][value=yes]`)
	b.arrive("#wave-progress")

	// The counts update live, without reloading the page.
	b.eval(`window.__notReloaded = true`)
	b.waitFor("the wave to complete", `document.getElementById("count-sent").textContent === "19"`, 60*time.Second)
	if !b.eval(`window.__notReloaded === true`) {
		t.Error("the wave page reloaded to show its counts")
	}
	if got := b.text("#wave-done"); got != "19" {
		t.Errorf("done: %s", got)
	}
	b.shoot("wave")
	if n := mp.WaitCount(t, 19, 10*time.Second); n != 19 {
		t.Errorf("Mailpit got %d letters", n)
	}
	b.visit("/waves")
	b.shoot("waves")
	b.visit("/letters/w1-t17")
	b.shoot("letter")
	b.visit("/campaigns/19")
	b.shoot("campaign")
	b.visit("/targets")
	b.shoot("targets")
	b.visit("/targets/17")
	b.shoot("target")
	b.visit("/supporters")
	b.shoot("supporters")
	b.visit("/charts")
	// The weekly chart's numbers are a table too: its letters sent add up
	// to the wave's 19, whatever week it is.
	sent := value(b, chromedp.Evaluate[int](`Array.from(document.querySelectorAll("#weekly-data tbody tr")).reduce(function (n, tr) { return n + Number(tr.cells[1].textContent); }, 0)`))
	if rows := value(b, chromedp.Evaluate[int](`document.querySelectorAll("#weekly-data tbody tr").length`)); rows != 12 || sent != 19 {
		t.Errorf("the weekly chart's table has %d rows and %d letters sent, want 12 weeks and 19", rows, sent)
	}
	b.shoot("charts")

	// A reply from another address at Montreal's city hall, which kept
	// none of our references: the poller can only tell it comes from the
	// office's domain, so it waits for review.
	reply := "From: Relations internationales <relations@montreal.example>\r\n" +
		"To: campaign@outreach.example\r\nSubject: Votre lettre sur Busan et Seoul\r\n" +
		"Date: " + time.Now().UTC().Format(time.RFC1123Z) + "\r\nMessage-ID: <reply-1@montreal.example>\r\n" +
		"Content-Type: text/plain; charset=utf-8\r\n\r\n" +
		"Madame, Monsieur,\r\n\r\nLa mairesse a écrit aux maires de Séoul et de Busan.\r\n\r\nCordialement\r\n"
	d.Append(t, "INBOX", []byte(reply))
	b.visit("/replies")
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(b.text("main"), "Votre lettre sur Busan et Seoul") {
		if time.Now().After(deadline) {
			t.Fatalf("the reply did not reach the review queue:\n%s", b.text("main"))
		}
		time.Sleep(300 * time.Millisecond)
		b.visit("/replies")
	}
	// The review queue shows the reply's city and first line.
	queued := value(b, chromedp.Text(chromedp.Search(`//tr[.//a[contains(., "Votre lettre sur Busan et Seoul")]]`)))
	for _, want := range []string{"Montreal", "Madame, Monsieur,"} {
		if !strings.Contains(queued, want) {
			t.Errorf("the review queue's row lacks %q: %q", want, queued)
		}
	}
	b.shoot("replies")

	// The home page: the reply waits, the wave is done, nothing failed.
	// The table has 28 campaigns with a campaign date, 6 of them with a
	// response; the wave wrote to 4 Canadian campaigns for the first time:
	// 6 of 32 responded.
	b.visit("/")
	for id, want := range map[string]string{"home-pending": "1", "home-waves": "0", "home-troubled": "0", "home-rate": "19%"} {
		if got := b.text("#" + id); got != want {
			t.Errorf("home page: %s is %q, want %q", id, got, want)
		}
	}
	if got := b.text("#rate-h + p"); !strings.HasPrefix(got, "6 of the 32 campaigns written to responded (19%)") {
		t.Errorf("home page: the response rate says %q", got)
	}
	b.shoot("home")
	b.clickText("a", "Votre lettre sur Busan et Seoul")
	b.arrive("form.review")
	if !strings.Contains(b.text(".reply-text"), "La mairesse a écrit aux maires de Séoul et de Busan.") {
		t.Errorf("the reply page does not show what they wrote: %q", b.text(".reply-text"))
	}
	if !b.eval(`document.querySelector(".facts .badge.pending") !== null`) {
		t.Fatalf("the reply is not waiting for review: %s", b.text(".facts"))
	}
	b.shoot("reply")
	replyPath := value(b, chromedp.Evaluate[string](`location.pathname`))
	const replyFrom = "relations@montreal.example"

	// Single-key shortcuts are off until staff turn them on: a stray x
	// changes nothing (WCAG 2.1.4).
	if b.eval(`document.getElementById("shortcuts").checked`) || b.eval(`document.querySelector(".shortcuts").hidden`) {
		t.Fatal("the shortcuts' switch is on, or not shown")
	}
	b.eval(`window.__keys = [], document.addEventListener("keydown", function (e) { window.__keys.push(e.key + (e.defaultPrevented ? " (taken)" : "")); }), true`)
	b.eval(`document.activeElement.blur(), true`)
	b.do(chromedp.KeyEvent("x"))
	b.waitFor("the key to reach the page", `window.__keys.length > 0`, 10*time.Second)
	if got := value(b, chromedp.Evaluate[string](`window.__keys.join(",")`)); got != "x" {
		t.Errorf("keys the page saw: %q, want x and nothing taken", got)
	}
	if got := value(b, chromedp.Evaluate[string](`location.pathname`)); got != replyPath || !pendingReply(c, replyFrom) {
		t.Fatalf("with shortcuts off, x led to %s or changed the reply", got)
	}

	// Without JavaScript there is neither switch nor shortcut, and
	// rejecting still asks first: the question is a page of its own.
	b.do(scripts(false))
	b.visit(replyPath)
	if !b.eval(`document.querySelector(".shortcuts").hidden`) {
		t.Error("without JavaScript the shortcuts' switch is shown, and does nothing")
	}
	b.do(chromedp.Click(chromedp.CSS(`a[data-key=x]`)))
	b.arrive("form.reject")
	if !strings.Contains(b.text("h1"), "Not a reply to our letters?") || !pendingReply(c, replyFrom) {
		t.Fatalf("rejecting without JavaScript did not ask first: %q", b.text("h1"))
	}
	b.do(scripts(true))

	// Turned on, the switch is remembered, and x asks before rejecting.
	b.visit(replyPath)
	b.click("#shortcuts")
	b.visit(replyPath)
	if !b.eval(`document.getElementById("shortcuts").checked`) {
		t.Fatal("the shortcuts' switch was not remembered")
	}
	b.eval(`document.activeElement.blur(), true`)
	b.do(chromedp.KeyEvent("x"))
	b.arrive("form.reject")
	if !pendingReply(c, replyFrom) {
		t.Fatal("x rejected the reply without asking")
	}
	b.shoot("reply-reject")
	b.clickText("a", "No, back to the reply")
	b.arrive("form.review")

	// Assign it to Montreal's two campaigns, set the outcome and a note,
	// and confirm with the keyboard shortcut.
	b.clickText("summary", "Campaigns it answers")
	b.do(
		chromedp.SetValue(chromedp.ID("outcome"), "victory"),
		chromedp.SendKeys(chromedp.ID("note"), "The mayor wrote to Seoul and Busan."),
	)
	b.eval(`(function(){ var s = document.querySelector("select[name=campaign]");
		for (var o of s.options) { o.selected = (o.value === "19" || o.value === "24"); } return true; })()`)
	b.eval(`document.activeElement.blur(), true`)
	b.do(chromedp.KeyEvent("c"))
	b.arrive(".notice.ok")
	if got := b.text(".notice.ok"); !strings.Contains(got, "Reply confirmed") {
		t.Errorf("after pressing c: %q", got)
	}

	// The public table shows Montreal's response date and note.
	b.visit("/status")
	loc, _ := time.LoadLocation("America/Toronto")
	today := time.Now().In(loc).Format(time.DateOnly)
	row := value(b, chromedp.Text(chromedp.Search(`//tr[td[4]="Montreal"][td[2]="Busan"]`)))
	if !strings.Contains(row, today+" The mayor wrote to Seoul and Busan.") {
		t.Errorf("the public table's row for Busan and Montreal: %q, want the response date %s and the note", row, today)
	}
	if !b.eval(`document.querySelector('tr a[href="/act/24"]') !== null && document.querySelector("header .brand").textContent === "Sister City Campaign"`) {
		t.Error("the public table does not link Montreal to its page, or does not carry the organisation's name")
	}
	b.shoot("public-status")
	// A campaign's public page, in the supporters' layout.
	b.visit("/act/24")
	b.shoot("act")
	b.visit("/campaigns/24")
	if !strings.Contains(b.text("main"), "victory") {
		t.Error("the campaign page does not show the outcome")
	}

	// The campaigns one can write for, then a form sent with mistakes:
	// the focus lands on the error summary, and the title says so.
	b.visit("/act")
	if n := value(b, chromedp.Evaluate[int](`document.querySelectorAll("ul.campaigns li").length`)); n < 19 {
		t.Errorf("/act lists %d campaigns, want Canada's at least", n)
	}
	b.shoot("act-index")
	b.click(`ul.campaigns a[href="/act/24"]`)
	b.arrive("form button[type=submit]")
	b.click("form button[type=submit]")
	b.waitFor("the page with the mistakes", `document.readyState === "complete" && document.getElementById("error-summary") !== null`, 30*time.Second)
	// The browser runs autofocus when it next renders, after the load.
	b.waitFor("the focus on the error summary", `document.activeElement === document.getElementById("error-summary")`, 10*time.Second)
	if title := b.evalText(`document.title`); !strings.HasPrefix(title, "Error: ") {
		t.Errorf("after a failed submit the title is %q", title)
	}
	b.shoot("act-error")
}
