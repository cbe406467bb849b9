package replies

import (
	"bytes"
	"context"
	"regexp"
	"strings"
)

// BounceInfo describes a delivery failure (or warning) report.
type BounceInfo struct {
	Recipients        []string // failed recipients, lower-cased (for a delay or success report: those reported)
	Permanent         bool     // a hard failure that means the address is bad: mark it suspect
	Delayed           bool     // a delay warning ("still being retried"): neither permanent nor final
	Status            string   // enhanced status code such as "5.1.1", when known
	Diagnostic        string   // the server's text, trimmed and short
	OriginalMessageID string   // Message-ID of the returned original, without angle brackets
}

// dsnRecipient is one per-recipient block of an RFC 3464 report.
type dsnRecipient struct {
	final, original, action, status, diagnostic string
}

// Patterns for the non-standard notices. They are matched against the
// subject and the notification text (never the returned original), and only
// for mail that comes from a mail system (machineSender).
//
// The long keyword patterns are written in lower case and matched against
// lowered text: Go's case-insensitive matching of many alternatives is
// several times slower, and these run on every incoming message.
var (
	// Subjects that mail servers use, anchored at the start so that a
	// forwarded "Fwd: Undeliverable ..." does not match.
	bounceSubjectRE = regexp.MustCompile(`(?i)^\s*(` +
		`undelivered mail returned to sender|` +
		`undeliverable( mail| message)?\s*:|` +
		`undeliverable (mail|message)\b|` +
		`mail delivery failed|` +
		`mail delivery failure|` +
		`delivery status notification \((failure|delay)\)|` +
		`delivery (status )?notification: (error|delivery has failed)|` +
		`delivery failure|` +
		`returned mail\s*:|` +
		`failure notice|` +
		`warning: message .* delayed|` +
		`delayed mail|` +
		`non[- ]?delivery (report|notification)|` +
		`mail system error|` +
		`sorry, your message could not be delivered|` +
		`\*\*message you sent blocked|` +
		`message (could not be|not) delivered|` +
		`unzustellbar|` +
		`nicht zustellbar|` +
		`non remis|` +
		`mancato recapito|` +
		`non recapitabile` +
		`)`)

	// failureTextRE finds failure wording in subjects and notification text.
	failureTextRE = regexp.MustCompile(`(` +
		`undeliver(ed|able)|` +
		`delivery (status notification|failure|failed|has failed|report|problem|to the following recipient)|` +
		`(mail|message) delivery (failed|failure|status)|` +
		`returned mail|returning message|message returned|` +
		`failure notice|failed delivery|permanent (fatal )?error|fatal errors?|` +
		`(could|can)( ?not|n't) be delivered|(was|were|has|have) not( yet)? been delivered|` +
		`not (be )?delivered|unable to deliver|delivery to [^\n]* failed|error delivering your (mail|message)|` +
		`not yet been delivered|still being retried|(delivery|message|mail) (has been |is )?delayed|` +
		`user unknown|unknown user|no such (user|mailbox|recipient)|not a valid (user|mailbox|recipient)|` +
		`mailbox (unavailable|is full|full)|recipient address rejected|does not exist|` +
		`mail system error|bounce notification|non-?delivery|` +
		`not a member of this (mailing )?list|` +
		`メールエラー|配信できません|不達|` +
		`не доставлено|недоставленное|` +
		`unzustellbar|nicht zugestellt|zustellung fehlgeschlagen|` +
		`non remis|non distribuable|échec de (la )?remise|` +
		`mancato recapito|non recapitabile|impossibile recapitare` +
		`)`)

	failureText = phraseSet{
		hints: []string{"deliver", "returned mail", "returning message", "message returned", "failure",
			"failed", "fatal", "permanent", "retried", "delayed", "unknown", "no such", "not a valid",
			"mailbox", "rejected", "does not exist", "mail system error", "bounce", "not a member",
			"メール", "配信", "不達", "доставлен", "zustell", "zugestellt", "remis", "distribuable",
			"remise", "recapit"},
		re: failureTextRE,
	}

	// Mail system senders. Kept narrow on purpose: a town's "admin@" or
	// "sysadmin@" is a person, and a name like "Alexandra" contains "ndr".
	daemonLocalRE = regexp.MustCompile(`(?i)^(mailer[-_.]?daemon|postmaster|post_master|poostmaster|mail\.?delivery\.?system|mdaemon|maildelivery|bounces?|no-?reply|do-?not-?reply)$`)
	daemonNameRE  = regexp.MustCompile(`(?i)(mail delivery|mailer[- ]daemon|postmaster|delivery (system|subsystem|service)|\bndr\b|content[- ]filter|spam firewall|antispam feedback)`)
	listLocalRE   = regexp.MustCompile(`(?i)-(admin|owner|request)$`)

	delayTextRE = regexp.MustCompile(`(` +
		`still being retried|not yet been delivered|has not been delivered yet|` +
		`(delivery|message|mail) (has been |is )?delayed|delayed mail|` +
		`\bdelayed \d+ hours?|delivery status notification \(delay\)|` +
		`will (continue to )?(retry|try again|attempt)|` +
		`no action is required on your part` +
		`)`)

	// finalFailureRE tells a final failure that mentions retries from a
	// delay warning.
	finalFailureRE = regexp.MustCompile(`(permanent|could not be delivered|gave up|giving up|has been returned|will not (retry|be retried)|returned to sender)`)

	statusCodeRE = regexp.MustCompile(`\b([245])\.(\d{1,3})\.(\d{1,3})\b`)
	smtpCodeRE   = regexp.MustCompile(`\b([45])\d\d[ -]`)

	// badAddressRE is wording that means the address itself is bad.
	badAddressRE = regexp.MustCompile(`(` +
		`user unknown|unknown user|no such (user|mailbox|recipient|address|person)|` +
		`does ?n[o']t exist|not a valid (user|mailbox|recipient|address)|` +
		`invalid (recipient|mailbox|address|user)|recipient (address )?(unknown|not found|invalid)|` +
		`address (unknown|not found|invalid|does not exist)|mailbox (not found|does not exist|unknown)|` +
		`unknown (recipient|mailbox|address|local[- ]part)|user not found|` +
		`account (does not exist|not found|is unavailable)|not listed in|` +
		`unrouteable address|host (or domain name )?not found|host \S+ not found|domain (not found|does not exist)|` +
		`host unknown|unknown host|name or service not known|no mx (record|host)|` +
		`has moved|no longer (available|valid|exists)|addressee unknown|recipient not found|` +
		`not our customer|unknown or illegal alias|no mailbox here|` +
		`recipient address rejected|address rejected|recipient rejected|domain (is )?not reachable|` +
		`bad destination|mailbox name not allowed|no valid recipients` +
		`)`)

	// softFailureRE is wording that says the address works but the message
	// did not get through this time (full, blocked, filtered, too big ...).
	softFailureRE = regexp.MustCompile(`(` +
		`mailbox (is )?full|over ?quota|quota exceeded|exceeded (the )?(storage|quota)|insufficient (system )?storage|` +
		`too many|rate limit|spam|blocked|black ?list|block ?list|banned|` +
		`polic(y|ies)|reputation|dmarc|\bspf\b|\bdkim\b|authenticat|starttls|\btls\b|` +
		`too (large|big)|size limit|greylist|timed? ?out|connection refused|` +
		`relay(ing)? (access )?(denied|not permitted)|content (rejected|filter)|virus|` +
		`sender address|domain of sender|recipient preferences|` +
		`suspended|disabled|inactive|not accepting|reverse dns|ptr record` +
		`)`)
)

// hardStatuses are enhanced status codes that by themselves say the address
// is bad (RFC 3463 plus Microsoft's 5.1.10).
var hardStatuses = map[string]bool{
	"5.1.1": true, "5.1.2": true, "5.1.3": true, "5.1.6": true, "5.1.10": true,
}

// classifyBounce reports whether m is a delivery report and, if so, the rule
// that decided and what the report says.
func classifyBounce(ctx context.Context, m *Message) (Verdict, bool) {
	reportType := ""
	var dsn []dsnRecipient
	var dsnFound, arfFound bool
	var arfRecipient string
	m.root.walk(func(p *part) bool {
		switch p.mediaType {
		case "multipart/report":
			if reportType == "" {
				reportType = strings.ToLower(p.params["report-type"])
			}
		case "message/delivery-status", "message/global-delivery-status", "text/delivery-status":
			dsnFound = true
			dsn = append(dsn, parseDSN(p.body)...)
		case "message/feedback-report":
			arfFound = true
			if arfRecipient == "" {
				arfRecipient = feedbackRecipient(p.body)
			}
		}
		return true
	})

	var reason string
	switch {
	case dsnFound || reportType == "delivery-status":
		reason = "RFC 3464 delivery status report"
	case arfFound || reportType == "feedback-report":
		reason = "ARF feedback report (complaint)"
	case sesNotificationRE.MatchString(m.Text):
		reason = "Amazon SES notification"
	case strings.TrimSpace(m.Header.Get("X-Failed-Recipients")) != "":
		reason = "X-Failed-Recipients header"
	default:
		r, ok := bounceByText(ctx, m)
		if !ok {
			return Verdict{}, false
		}
		reason = r
	}

	info := &BounceInfo{}
	notice := noticeText(ctx, m)
	if !dsnFound {
		// Some servers paste the report fields into the text instead.
		if i := textDSNRE.FindStringIndex(notice); i != nil {
			dsn = parseDSN([]byte(notice[i[0]:]))
		}
	}
	failed, delayed, delivered := summariseDSN(dsn)
	reported := failed
	switch {
	case len(failed) > 0:
	case len(delayed) > 0:
		reported = delayed
		info.Delayed = true
	case len(delivered) > 0:
		// A success report (Action: delivered/relayed): nothing failed.
		reported = delivered
		reason += ": delivered, not a failure"
	}

	// Recipients: the report's own fields first, then the headers servers
	// add, then the notice text; each once, and no more than maxAddresses
	// (each is looked up in the store).
	var rcpts addressSet
	for _, r := range reported {
		for _, a := range []string{r.final, r.original} {
			if a != "" {
				rcpts.add(a)
			}
		}
	}
	for _, v := range m.Header.Values("X-Failed-Recipients") {
		addrs, _ := parseAddresses(v)
		for _, a := range addrs {
			if strings.Contains(a.Addr, "@") {
				rcpts.add(a.Addr)
			}
		}
	}
	if arfRecipient != "" {
		rcpts.add(arfRecipient)
	}
	sesRecipients(m.Text, &rcpts)
	orig := returnedOriginal(ctx, m, notice)
	complaint := arfFound || reportType == "feedback-report"
	if rcpts.len() == 0 && complaint && orig != nil {
		// A complaint names the complaining recipient as the original's To.
		for _, a := range orig.to {
			rcpts.add(a)
		}
	}
	if len(reported) == 0 {
		fromText, named := recipientsFromText(ctx, m, notice, orig)
		if rcpts.len() == 0 {
			for _, a := range fromText {
				rcpts.add(a)
			}
		}
		// X-Failed-Recipients is sometimes stale or partial; an address the
		// original went to and the notice names has failed as well.
		for _, a := range named {
			rcpts.add(a)
		}
	}
	info.Recipients = rcpts.list
	if orig != nil {
		info.OriginalMessageID = orig.messageID
	}
	if info.OriginalMessageID == "" && len(m.InReplyTo) > 0 {
		// Some servers thread their notice onto the original instead.
		info.OriginalMessageID = m.InReplyTo[0]
	}

	// Status and diagnostic: from the report, else from the text. A generic
	// report status (5.0.0) gives way to a precise one in the server's reply.
	if len(reported) > 0 {
		info.Status = reported[0].status
		info.Diagnostic = shorten(reported[0].diagnostic)
	}
	if info.Diagnostic == "" {
		info.Diagnostic = diagnosticFromText(notice)
	}
	if precise := statusFromText(info.Diagnostic); precise != "" &&
		(info.Status == "" || strings.HasSuffix(info.Status, ".0.0") && precise[0] == info.Status[0]) {
		info.Status = precise
	}
	if info.Status == "" {
		info.Status = statusFromText(notice)
	}

	if len(failed) == 0 && len(delivered) == 0 && !info.Delayed && isDelayNotice(m.Subject, notice) {
		info.Delayed = true
	}
	if info.Delayed {
		reason += ": delay warning"
	}
	switch {
	case info.Delayed, complaint, len(failed) == 0 && len(delivered) > 0:
		// Not final, or not a failure at all.
	default:
		info.Permanent = isHardFailure(info.Status, info.Diagnostic, failureContext(notice, dsn))
	}
	return Verdict{Kind: Bounce, Reason: reason, Bounce: info}, true
}

var (
	dsnFieldRE        = regexp.MustCompile(`(?i)^\s*(status|action|arrival-date|last-attempt-date|remote-mta|received-from-mta|x-actual-recipient)\s*:`)
	diagnosticFieldRE = regexp.MustCompile(`(?i)^\s*diagnostic-code\s*:`)
)

var textDSNRE = regexp.MustCompile(`(?im)^[ \t]*(reporting-mta|final-recipient|original-recipient)[ \t]*:`)

func (r dsnRecipient) addr() string {
	if r.final != "" {
		return r.final
	}
	return r.original
}

// summariseDSN sorts the report's recipients into failed, delayed and
// delivered ones.
func summariseDSN(dsn []dsnRecipient) (failed, delayed, delivered []dsnRecipient) {
	for _, r := range dsn {
		if r.addr() == "" {
			continue
		}
		switch {
		case strings.HasPrefix(r.action, "failed"):
			failed = append(failed, r)
		case strings.HasPrefix(r.action, "delayed"):
			delayed = append(delayed, r)
		case strings.HasPrefix(r.action, "delivered") || strings.HasPrefix(r.action, "relayed") ||
			strings.HasPrefix(r.action, "expanded"):
			delivered = append(delivered, r)
		case strings.HasPrefix(r.status, "2"):
			delivered = append(delivered, r)
		case strings.HasPrefix(r.status, "4") && r.action != "":
			delayed = append(delayed, r)
		default:
			// No usable Action: a report about a recipient is a failure.
			failed = append(failed, r)
		}
	}
	return failed, delayed, delivered
}

// parseDSN reads the per-recipient blocks of a message/delivery-status body.
func parseDSN(body []byte) []dsnRecipient {
	var out []dsnRecipient
	rest := bytes.TrimLeft(body, " \t\n")
	for guard := 0; len(rest) > 0 && guard < 200; guard++ {
		h, next, _ := readHeader(rest, true, nil)
		if h.Len() > 0 {
			r := dsnRecipient{
				final:      dsnAddress(h.Get("Final-Recipient")),
				original:   dsnAddress(h.Get("Original-Recipient")),
				action:     strings.ToLower(strings.TrimSpace(h.Get("Action"))),
				status:     firstStatus(h.Get("Status")),
				diagnostic: dsnDiagnostic(h.Get("Diagnostic-Code")),
			}
			if r.final == "" && r.original == "" {
				r.final = dsnAddress(h.Get("X-Actual-Recipient"))
			}
			if r.final != "" || r.original != "" || r.action != "" {
				out = append(out, r)
			}
		}
		if len(next) >= len(rest) {
			break
		}
		rest = bytes.TrimLeft(next, " \t\n")
	}
	return out
}

// dsnAddress reads "rfc822; user@example.org". The type is optional in
// practice, and servers add angle brackets, source routes
// ("@relay:user@host") or pipe commands around the address.
func dsnAddress(v string) string {
	if _, after, ok := strings.Cut(v, ";"); ok {
		v = after
	}
	v = strings.TrimSpace(v)
	if m := angleAddrRE.FindStringSubmatch(v); m != nil {
		v = m[1]
	}
	v = strings.ToLower(strings.Trim(strings.TrimSpace(v), `"'<>`))
	if i := strings.LastIndexByte(v, ':'); i >= 0 && strings.HasPrefix(v, "@") {
		v = v[i+1:]
	}
	if strings.ContainsAny(v, " \t|\"") {
		all := textAddrRE.FindAllString(v, -1)
		if len(all) == 0 {
			return ""
		}
		v = all[len(all)-1]
	}
	if !strings.Contains(v, "@") {
		return ""
	}
	return v
}

func dsnDiagnostic(v string) string {
	if t, after, ok := strings.Cut(v, ";"); ok && len(t) < 20 && !strings.Contains(t, " ") {
		v = after
	}
	return strings.TrimSpace(v)
}

func firstStatus(v string) string {
	if m := statusCodeRE.FindString(v); m != "" {
		return m
	}
	return ""
}

var (
	sesNotificationRE = regexp.MustCompile(`"notificationType"\s*:\s*"(Bounce|Complaint)"`)
	sesAddressRE      = regexp.MustCompile(`"emailAddress"\s*:\s*"([^"]+)"`)
)

// sesRecipients adds the addresses from an Amazon SES notification that
// arrived as JSON text (SNS e-mail subscription).
func sesRecipients(text string, to *addressSet) {
	if !sesNotificationRE.MatchString(text) {
		return
	}
	// No more than maxAddresses entries are looked at, duplicates included.
	for _, m := range sesAddressRE.FindAllStringSubmatchIndex(text, maxAddresses) {
		to.add(strings.ToLower(text[m[2]:m[3]]))
	}
}

// addressSet collects addresses in order, each once, up to maxAddresses.
type addressSet struct {
	list []string
	seen map[string]bool
}

func (s *addressSet) add(a string) {
	if s.full() || s.seen[a] {
		return
	}
	if s.seen == nil {
		s.seen = map[string]bool{}
	}
	s.seen[a] = true
	s.list = append(s.list, a)
}

func (s *addressSet) len() int { return len(s.list) }

func (s *addressSet) full() bool { return len(s.list) >= maxAddresses }

func feedbackRecipient(body []byte) string {
	h, _, _ := readHeader(bytes.TrimLeft(body, " \t\n"), true, nil)
	for _, name := range []string{"Original-Rcpt-To", "Removal-Recipient"} {
		if a := dsnAddress(h.Get(name)); a != "" {
			return a
		}
	}
	return ""
}

// bounceByText decides for notices without machine-readable parts: the
// sender must be a mail system, and the subject must be one only mail
// servers use or the subject or text must speak of a failure. A person who
// writes "your letter could not be delivered" stays a person.
func bounceByText(ctx context.Context, m *Message) (string, bool) {
	if !machineSender(m) {
		return "", false
	}
	if bounceSubjectRE.MatchString(m.Subject) {
		return "bounce subject " + quoteReason(strings.TrimSpace(m.Subject)), true
	}
	if p := failureText.find(strings.ToLower(m.Subject)); p != "" {
		return "mail system sender, subject " + quoteReason(p), true
	}
	if p := failureText.find(foldSpace(leadingText(noticeText(ctx, m), 3000))); p != "" {
		return "mail system sender, text " + quoteReason(p), true
	}
	return "", false
}

// machineSender reports whether the message comes from a mail system rather
// than a person: a daemon address or name, a null sender, or mailing-list
// software answering from its -admin/-owner/-request address.
func machineSender(m *Message) bool {
	local, _, _ := strings.Cut(m.From, "@")
	switch {
	case m.From == "" && m.Header.Has("From"),
		daemonLocalRE.MatchString(local),
		daemonNameRE.MatchString(m.FromName),
		nullReturnPath(m):
		return true
	}
	return listLocalRE.MatchString(local) &&
		(m.Header.Has("X-MLServer") || m.Header.Has("Mailing-List") || m.Header.Has("List-Id"))
}

func nullReturnPath(m *Message) bool {
	for _, v := range m.Header.Values("Return-Path") {
		if strings.TrimSpace(v) == "<>" {
			return true
		}
	}
	return false
}

// noticeText is the text a mail server wrote: every text part outside the
// returned message, in order. For a plain-text notice that pastes the
// original below, the original is cut off at its header block.
func noticeText(ctx context.Context, m *Message) string {
	var b strings.Builder
	m.root.walk(func(p *part) bool {
		if p.embedded != nil || p.mediaType == "text/rfc822-headers" {
			return true
		}
		// Only what the bound below keeps is copied.
		switch {
		case p.mediaType == "text/plain" || p.mediaType == "text/enriched":
			b.Write(p.body[:min(len(p.body), maxNotice+1-b.Len())])
			b.WriteByte('\n')
		case p.mediaType == "text/html":
			t := p.text(ctx)
			b.WriteString(t[:min(len(t), maxNotice+1-b.Len())])
			b.WriteByte('\n')
		}
		return b.Len() < maxNotice
	})
	text := b.String()
	if i := pastedHeaderStart(text); i >= 0 {
		text = text[:i]
	}
	// Real notices are a few kilobytes; the bound keeps the line-by-line
	// scans below cheap on hostile input.
	return leadingText(text, maxNotice)
}

const maxNotice = 64 << 10

// leadingText returns at most n bytes from the start of s, cut at a rune
// boundary.
func leadingText(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && n < len(s) && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n]
}

var pastedFieldRE = regexp.MustCompile(`(?i)^\s*(return-path|received|message-id|from|date|subject|to|cc|reply-to|sender|mime-version|content-type|content-transfer-encoding|in-reply-to|references|x-[a-z0-9-]+|dkim-signature|delivered-to|authentication-results|list-unsubscribe|user-agent|thread-index|thread-topic)\s*:`)

// pastedHeaderStart finds where a returned message's header block begins in
// plain text: three or more consecutive header lines (continuations allowed)
// including Message-ID, or From with To, Subject or Date.
func pastedHeaderStart(text string) int {
	lines := strings.Split(text, "\n")
	offset := 0
	offsets := make([]int, len(lines))
	for i, l := range lines {
		offsets[i] = offset
		offset += len(l) + 1
	}
	for i := 0; i < len(lines); i++ {
		if !fieldLike(lines[i]) || !pastedFieldRE.MatchString(lines[i]) {
			continue
		}
		n, names := 0, map[string]bool{}
		base := indentOf(lines[i])
		j := i
		for ; j < len(lines); j++ {
			l := lines[j]
			if strings.TrimSpace(l) == "" {
				break
			}
			ind := indentOf(l)
			if m := fieldMatch(pastedFieldRE, l); m != nil && ind == base {
				names[strings.ToLower(m[1])] = true
				n++
				continue
			}
			if j > i && ind > base {
				continue // a folded line of the field above
			}
			break
		}
		if n >= 3 && (names["message-id"] || names["from"] && (names["to"] || names["subject"] || names["date"])) {
			return offsets[i]
		}
		if j > i {
			i = j - 1
		}
	}
	return -1
}

// fieldLike reports whether a line starts like a header field: optional
// white space, a name of letters, digits and "-", then a colon. The field
// patterns are matched only on such lines: most lines of a long text are
// not, and a byte scan is far cheaper than a regexp.
func fieldLike(l string) bool {
	i := 0
	for i < len(l) && isSpace(l[i]) {
		i++
	}
	start := i
	for i < len(l) && (l[i] >= 'a' && l[i] <= 'z' || l[i] >= 'A' && l[i] <= 'Z' || l[i] >= '0' && l[i] <= '9' || l[i] == '-') {
		i++
	}
	if i == start {
		return false
	}
	for i < len(l) && isSpace(l[i]) {
		i++
	}
	return i < len(l) && l[i] == ':'
}

// isSpace is the \s of Go's regexps.
func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\f' || c == '\r' }

// fieldMatch is re.FindStringSubmatch for a field pattern, on field-like
// lines only.
func fieldMatch(re *regexp.Regexp, l string) []string {
	if !fieldLike(l) {
		return nil
	}
	return re.FindStringSubmatch(l)
}

func indentOf(l string) int {
	return len(l) - len(strings.TrimLeft(l, " \t"))
}

// original is what a bounce tells about the returned message.
type original struct {
	messageID string
	from      string
	to        []string
}

// returnedOriginal finds the returned message: an attached message/rfc822 or
// text/rfc822-headers part, or a header block pasted into the text.
func returnedOriginal(ctx context.Context, m *Message, notice string) *original {
	var found *original
	m.root.walk(func(p *part) bool {
		if p.embedded == nil || p == m.root {
			return true
		}
		o := originalFromHeader(p.embedded.header)
		if o.messageID == "" && found != nil {
			return true
		}
		found = o
		return o.messageID == ""
	})
	if found != nil && found.messageID != "" {
		return found
	}
	// A header block pasted into the text (Exim, qmail, many others).
	const maxFull = 256 << 10
	var full strings.Builder
	m.root.walk(func(p *part) bool {
		if p.mediaType == "text/plain" || p.mediaType == "text/html" {
			if p.mediaType == "text/html" {
				t := p.text(ctx)
				full.WriteString(t[:min(len(t), maxFull-full.Len())])
			} else {
				full.Write(p.body[:min(len(p.body), maxFull-full.Len())])
			}
			full.WriteByte('\n')
		}
		return full.Len() < maxFull
	})
	text := full.String()
	if i := pastedHeaderStart(text); i >= 0 {
		block := dedent(text[i:])
		h, _, ok := readHeader([]byte(block), false, nil)
		if ok {
			o := originalFromHeader(h)
			if o.messageID != "" || found == nil {
				found = o
			}
		}
	}
	if found == nil || found.messageID == "" {
		// Last resort: a Message-ID line anywhere after the notice.
		if mm := pastedMessageIDRE.FindStringSubmatch(text[min(len(notice), len(text)):]); mm != nil {
			if found == nil {
				found = &original{}
			}
			found.messageID = mm[1]
		}
	}
	return found
}

var pastedMessageIDRE = regexp.MustCompile(`(?im)^\s*message-id\s*:\s*<([^<>\s]+)>`)

// dedent removes the common indentation some servers put before pasted
// headers, so they parse as a header block.
func dedent(s string) string {
	lines := strings.Split(s, "\n")
	indent := -1
	for _, l := range lines[:min(len(lines), 5)] {
		if strings.TrimSpace(l) == "" {
			break
		}
		n := len(l) - len(strings.TrimLeft(l, " \t"))
		if indent < 0 || n < indent {
			indent = n
		}
	}
	if indent <= 0 {
		return s
	}
	for i, l := range lines {
		if len(l) >= indent && strings.TrimSpace(l[:indent]) == "" {
			lines[i] = l[indent:]
		}
	}
	return strings.Join(lines, "\n")
}

func originalFromHeader(h Header) *original {
	o := &original{}
	if ids := parseMsgIDs(h.Get("Message-ID")); len(ids) > 0 {
		o.messageID = ids[0]
	}
	if addrs, _ := parseAddresses(h.Get("From")); len(addrs) > 0 {
		o.from = addrs[0].Addr
	}
	for _, name := range []string{"To", "Cc"} {
		for _, v := range h.Values(name) {
			addrs, _ := parseAddresses(v)
			for _, a := range addrs {
				if strings.Contains(a.Addr, "@") {
					o.to = append(o.to, a.Addr)
				}
			}
		}
	}
	o.to = dedupe(o.to)
	return o
}

var (
	textAddrRE = regexp.MustCompile(`[A-Za-z0-9!#$%&'*+/=?^_{|}~.\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)+`)
	// lineStartRE matches text that may stand before an address that starts
	// a line: indentation, a bracket, or a label such as "Recipient:".
	lineStartRE = regexp.MustCompile(`(?i)^\s*((to|recipient|address|rcpt to|original-recipient|final-recipient)\s*:\s*(rfc822\s*;\s*)?)?[<"(]?$`)
	skipLineRE  = regexp.MustCompile(`(?i)^\s*(message-id|in-reply-to|references|received|return-path|reporting-mta|remote-mta|x-[a-z0-9-]+|dkim-signature|authentication-results|list-[a-z]+|sender|reply-to|from)\s*:`)
)

// recipientsFromText finds failed recipients in a notice without a usable
// report. Addresses of the notice's own sender and receiver and of the
// original's sender are never recipients; an address that the original was
// sent to is the best evidence; otherwise addresses standing on their own
// line or on a line with failure wording are taken.
func recipientsFromText(ctx context.Context, m *Message, notice string, orig *original) (best, named []string) {
	exclude := map[string]bool{m.From: true}
	for _, list := range [][]string{m.To, m.Cc, m.DeliveredTo} {
		for _, a := range list {
			exclude[a] = true
		}
	}
	for _, v := range m.Header.Values("Return-Path") {
		if addrs, _ := parseAddresses(v); len(addrs) > 0 {
			exclude[addrs[0].Addr] = true
		}
	}
	if orig != nil && orig.from != "" {
		exclude[orig.from] = true
	}
	origTo := map[string]bool{}
	if orig != nil {
		for _, a := range orig.to {
			origTo[a] = true
		}
	}

	// Every test below looks at a line once, or at the text between one
	// address and the next: a line of thousands of addresses costs its
	// length, not its length times the addresses.
	// No more than maxAddresses are looked at: a notice naming more is
	// not a real one, and each costs an allocation.
	var inOrig, strong, weak []string
	stop := interrupt{ctx: ctx}
	looked := 0
	for _, line := range strings.Split(notice, "\n") {
		if stop.now() || looked >= maxAddresses {
			break
		}
		if !strings.Contains(line, "@") || fieldLike(line) && skipLineRE.MatchString(line) {
			continue
		}
		locs := textAddrRE.FindAllStringIndex(line, maxAddresses-looked)
		looked += len(locs)
		if len(locs) == 0 {
			continue
		}
		failing := -1 // unknown until needed: the regexps are costly
		url := urlContext{line: line}
		for k, loc := range locs {
			if url.before(loc[0]) {
				continue
			}
			a := strings.ToLower(strings.Trim(line[loc[0]:loc[1]], "."))
			if origTo[a] {
				// Checked before the exclusions: some servers copy the failed
				// address into their own headers (X-Original-To).
				inOrig = append(inOrig, a)
				continue
			}
			if exclude[a] {
				continue
			}
			switch {
			// Only the first address can stand at the start of its line:
			// what precedes any other holds an address, so an "@".
			case k == 0 && lineStartRE.MatchString(line[:loc[0]]):
				strong = append(strong, a)
			case failing == 1 || failing < 0 && failureLine(line, &failing):
				strong = append(strong, a)
			default:
				weak = append(weak, a)
			}
		}
	}
	inOrig, strong, weak = dedupe(inOrig), dedupe(strong), dedupe(weak)
	switch {
	case len(inOrig) > 0:
		// Alias expansion: the notice may name both the address the
		// original went to and the one it was forwarded to.
		return dedupe(append(append([]string(nil), inOrig...), strong...)), inOrig
	case len(strong) > 0:
		return strong, nil
	case len(weak) > 0 && len(weak) <= 3:
		return weak, nil
	}
	// Nothing in the text: the original's recipients are the best guess.
	if orig != nil {
		for _, a := range orig.to {
			if !exclude[a] {
				best = append(best, a)
			}
		}
	}
	return best, nil
}

// urlContext tells whether an address on a line is part of a URL or a
// parameter ("https://…", "mailto:…", "…=…"): the run of non-space text it
// ends has one of those. It looks at each byte of the line once, as
// addresses are asked about from left to right.
type urlContext struct {
	line     string
	pos      int  // the line is read up to here
	tokStart int  // where the run of non-space text before pos begins
	found    bool // that run holds a URL or "=" marker
}

func (u *urlContext) before(at int) bool {
	for i := u.pos; i < at; i++ {
		switch u.line[i] {
		case ' ', '\t', '\n', '\f', '\r':
			u.tokStart, u.found = i+1, false
		}
	}
	if !u.found && at > u.tokStart {
		// A marker not seen up to pos ends after it: look back no further
		// than the longest marker.
		seg := strings.ToLower(u.line[max(u.tokStart, u.pos-len("https://")+1):at])
		u.found = strings.Contains(seg, "=") || strings.Contains(seg, "http://") ||
			strings.Contains(seg, "https://") || strings.Contains(seg, "mailto:")
	}
	u.pos = max(u.pos, at)
	return u.found
}

// failureLine reports whether line speaks of a failure, caching the answer.
func failureLine(line string, cache *int) bool {
	*cache = 0
	line = strings.ToLower(line)
	if failureText.find(line) != "" || badAddressRE.MatchString(line) || softFailureRE.MatchString(line) {
		*cache = 1
	}
	return *cache == 1
}

// statusFromText finds the first enhanced status code of class 4 or 5.
func statusFromText(text string) string {
	for _, m := range statusCodeRE.FindAllStringSubmatch(text, -1) {
		if m[1] != "2" {
			return m[0]
		}
	}
	return ""
}

// diagnosticFromText picks the server's reason: the first line with a status
// or SMTP code, else the first line with failure wording.
func diagnosticFromText(text string) string {
	var lines []string
	for _, l := range strings.Split(leadingText(text, 16<<10), "\n") {
		if fieldLike(l) {
			if skipLineRE.MatchString(l) || pastedFieldRE.MatchString(l) || textDSNRE.MatchString(l) || dsnFieldRE.MatchString(l) {
				continue
			}
			if loc := diagnosticFieldRE.FindStringIndex(l); loc != nil {
				l = dsnDiagnostic(l[loc[1]:])
			}
		}
		lines = append(lines, l)
	}
	explains := func(l string) bool {
		l = strings.ToLower(l)
		return badAddressRE.MatchString(l) || softFailureRE.MatchString(l)
	}
	for _, l := range lines {
		if statusCodeRE.MatchString(l) || smtpCodeRE.MatchString(l) && explains(l) {
			return shorten(l)
		}
	}
	for _, l := range lines {
		if strings.TrimSpace(l) != "" && explains(l) {
			return shorten(l)
		}
	}
	return ""
}

// failureContext is the text that explains a failure: the report's
// diagnostics and the notice itself.
func failureContext(notice string, dsn []dsnRecipient) string {
	var b strings.Builder
	for _, r := range dsn {
		b.WriteString(r.diagnostic)
		b.WriteByte('\n')
	}
	b.WriteString(leadingText(notice, 4000))
	return b.String()
}

// isDelayNotice reports a warning that delivery is still being attempted.
// "will not retry" style wording of final failures must not count.
func isDelayNotice(subject, notice string) bool {
	if delayTextRE.MatchString(strings.ToLower(subject)) {
		return true
	}
	head := strings.ToLower(leadingText(notice, 2000))
	if !delayTextRE.MatchString(head) {
		return false
	}
	return !finalFailureRE.MatchString(head)
}

// isHardFailure decides whether the failure means the address is bad, as
// opposed to full, blocked, filtered, or temporarily unreachable.
func isHardFailure(status, diagnostic, context string) bool {
	if strings.HasPrefix(status, "4") {
		return false
	}
	// The keyword regexps are written in lower case: matching lowered text
	// is much cheaper than case-insensitive matching.
	diagnostic, context = strings.ToLower(diagnostic), strings.ToLower(context)
	text := diagnostic
	if text == "" {
		text = context
	}
	// A security or policy code anywhere in the server's reply (5.7.x)
	// means the message was refused, not that the address is bad.
	for _, code := range statusCodeRE.FindAllString(text, -1) {
		if strings.HasPrefix(code, "5.7.") {
			return false
		}
	}
	if strings.HasPrefix(status, "5.7.") {
		return false
	}
	bad, soft := badAddressRE.MatchString(text), softFailureRE.MatchString(text)
	if hardStatuses[status] {
		// A bad-address code with wording about quota or spam is a server
		// misusing the code; believe the words.
		return bad || !soft
	}
	if bad && !soft {
		return true
	}
	// The report's diagnostic can be terse ("Status: 5.0.0"); the notice
	// around it may say more.
	if text != context && !soft && badAddressRE.MatchString(context) && !softFailureRE.MatchString(context) {
		return true
	}
	return false
}

func shorten(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 200 {
		s = leadingText(s, 197) + "..."
	}
	return s
}

// quoteReason formats a matched phrase for Verdict.Reason.
func quoteReason(s string) string {
	return `"` + strings.ToLower(shorten(s)) + `"`
}
