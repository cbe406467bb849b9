package replies

import (
	"context"
	"fmt"
	"regexp"
	"strings"
)

// Kind is what a received message is, for the campaign.
type Kind string

// The kinds of message Classify tells apart.
const (
	Human     Kind = "human"
	AutoReply Kind = "auto-reply"
	Bounce    Kind = "bounce"
)

// Valid reports whether k is one of the defined kinds.
func (k Kind) Valid() bool {
	return k == Human || k == AutoReply || k == Bounce
}

// Verdict is Classify's answer.
type Verdict struct {
	Kind   Kind
	Reason string      // the rule that decided, for people reading logs
	Bounce *BounceInfo // set when Kind == Bounce
}

// Classify decides whether m is a person's reply, an automatic reply or a
// delivery report. The order matters:
//   - challenge/response and read receipts first: they are built like
//     delivery reports or come from a person's address, but are neither;
//   - delivery reports before auto-replies, because many bounces carry
//     "Auto-Submitted: auto-replied" too;
//   - anything not positively automatic is Human: losing a mayor's answer is
//     worse than reading an out-of-office by hand.
func Classify(m *Message) Verdict {
	v, _ := ClassifyContext(context.Background(), m)
	return v
}

// ClassifyContext is Classify that gives up, with an error wrapping
// ctx.Err() and no verdict, once ctx ends. Its cost is linear in the
// message's size; the context is for a deadline over a whole message.
func ClassifyContext(ctx context.Context, m *Message) (Verdict, error) {
	v := classify(ctx, m)
	if err := ctx.Err(); err != nil {
		return Verdict{}, fmt.Errorf("replies: classify: %w", err)
	}
	return v, nil
}

func classify(ctx context.Context, m *Message) Verdict {
	if m == nil || m.root == nil {
		return Verdict{Kind: Human, Reason: "nothing to classify"}
	}
	if reason, ok := challengeResponse(m); ok {
		return Verdict{Kind: AutoReply, Reason: reason}
	}
	if readReceipt(m) {
		return Verdict{Kind: AutoReply, Reason: "read receipt (RFC 8098 disposition notification)"}
	}
	if v, ok := classifyBounce(ctx, m); ok {
		return v
	}
	if reason, ok := autoReply(m); ok {
		return Verdict{Kind: AutoReply, Reason: reason}
	}
	return Verdict{Kind: Human, Reason: "no automatic marker"}
}

// Challenge/response systems (Boxbe, Bluebottle and the like) answer with a
// request to verify the sender; some dress it up as a delivery report.
var (
	challengeHeaderRE = regexp.MustCompile(`(?i)^x-(boxbe|bluebottle|tmda|spamarrest|mailblocks|choicemail)-?`)
	challengeText     = phraseSet{
		hints: []string{"boxbe", "pre-approved", "guest list", "address added", "allowed list",
			"approved list", "white list", "whitelist", "verif", "human", "real person"},
		re: regexp.MustCompile(`(x-boxbe-notice|sender not pre-approved|boxbe guest list|add yourself to my .{0,80}guest list|` +
			`click .{0,80}(to have your address added|to be added to .{0,80}(allowed|approved|white) ?list)|` +
			`(verify|confirm) (that )?you are (a )?(human|real person)|` +
			`your (e-?mail|message) (is|has been) (held|waitlisted) (pending|until) .{0,80}verif|` +
			`please (click|verify|confirm) .{0,80}(sender verification|verify your (e-?mail|address)))`),
	}
)

func challengeResponse(m *Message) (string, bool) {
	for _, f := range m.Header.fields {
		if challengeHeaderRE.MatchString(f.Name) {
			return "challenge/response (" + f.Name + " header)", true
		}
	}
	if strings.HasSuffix(m.From, "@boxbe.com") {
		return "challenge/response (Boxbe)", true
	}
	// The wording is looked for in the sender's own text and in delivery
	// reports (Boxbe puts it in a Diagnostic-Code), never in a quote: a
	// person quoting such a request is still a person.
	texts := []string{m.NewText}
	m.root.walk(func(p *part) bool {
		if p.mediaType == "message/delivery-status" {
			texts = append(texts, string(p.body))
		}
		return true
	})
	for _, t := range texts {
		if found := challengeText.find(foldSpace(leadingText(t, 8000))); found != "" {
			return "challenge/response " + quoteReason(found), true
		}
	}
	return "", false
}

func readReceipt(m *Message) bool {
	found := false
	m.root.walk(func(p *part) bool {
		if p.mediaType == "message/disposition-notification" ||
			p.mediaType == "multipart/report" && strings.EqualFold(p.params["report-type"], "disposition-notification") {
			found = true
		}
		return !found
	})
	return found
}

// Subject phrases. Strong ones say "automatic" or "out of office" outright
// and decide alone; weak ones ("vacation", "thank you for your e-mail")
// decide only with other evidence. Neither counts after a reply prefix (see
// subjectPhrases).
var (
	strongSubjectRE = regexp.MustCompile(`(?i)(` +
		`out of (the )?office|out-of-office|\bauto(matic|mated)?[- ]?(reply|replied|response|respons|answer)|autoreply|autorespon|` +
		`\bauto[- ]?generated\b|^\s*auto\s*:|` +
		`risposta automatica|fuori (sede|ufficio)|` +
		`réponse automatique|reponse automatique|absence du bureau|absent(e)? du bureau|message d'absence|` +
		`abwesenheitsnotiz|automatische antwort|abwesenheit|nicht im büro|außer haus|ausser haus|` +
		`automatyczna odpowied|respuesta automática|fuera de la oficina|automatisch antwoord|autosvar` +
		`)`)
	weakSubjectRE = regexp.MustCompile(`(?i)(` +
		`thank(s| you) for (your )?(e-?mail|message|contacting|writing)|` +
		`(we|i) (have )?received your (e-?mail|message)|` +
		`\bvacation\b|\bholiday\b|\baway\b|\babsen(t|ce)\b|\bassente\b|\bin ferie\b|\burlaub\b|\bcongés?\b` +
		`)`)
	replyPrefixRE = regexp.MustCompile(`(?i)^\s*((re|aw|r|fw|fwd|wg|tr|sv|odp|rif|i|vs|antw)\s*(\[\d+\])?\s*:\s*)+`)

	// Body phrases: what out-of-office texts say about themselves, looked for
	// only in the sender's own text and only near its top.
	autoBody = phraseSet{
		hints: []string{"auto", "out of", "away", "vacation", "holiday", "leave", "limited access",
			"my return", "endeavo", "fuori", "assente", "ferie", "messaggio", "absent", "réponse",
			"message automatique", "büro", "abwesen", "erreichbar", "urlaub", "außer haus",
			"respuesta", "oficina", "automatyczna", "nieobecn"},
		re: regexp.MustCompile(`(` +
			`this is an? auto(matic|mated|matically generated)?[- ]?(reply|response|message|notification)|` +
			`\b(automatic|automated) (reply|response)\b|\bauto-?reply\b|autoresponder|` +
			`(i am|i'm|i will be|i'll be)( currently)? (out of (the )?office|away( from)?|on (vacation|holiday|leave|annual leave)|out of town)|` +
			`limited access to (my )?e-?mail|(respond|reply|get back to you).{0,80}(upon|on|after) my return|` +
			`endeavou?r to (reply|respond)|` +
			`(sono|sarò)( attualmente)? (fuori (sede|ufficio)|assente|in ferie)|risposta automatica|messaggio (generato )?automatic|` +
			`je (suis|serai)( actuellement)? absente?|réponse automatique|message automatique|` +
			`ich bin .{0,80}nicht im büro|bin ich .{0,80}nicht im büro|ich bin .{0,80}(abwesend|nicht erreichbar|im urlaub|außer haus)|automatische antwort|abwesenheitsnotiz|` +
			`respuesta automática|estoy fuera de la oficina|automatyczna odpowied|jestem nieobecn` +
			`)`),
	}
)

// autoReply applies the RFC 3834 headers, vendor headers and phrases.
func autoReply(m *Message) (string, bool) {
	h := m.Header
	if v := autoSubmitted(h); v != "" && v != "no" {
		return "Auto-Submitted: " + v, true
	}
	for _, name := range []string{"X-Autoreply", "X-Autorespond", "X-Autoresponse", "X-Autoresponder"} {
		if v := strings.ToLower(strings.TrimSpace(h.Get(name))); h.Has(name) && v != "no" && v != "false" && v != "0" {
			return name + " header", true
		}
	}
	if strings.EqualFold(strings.TrimSpace(h.Get("X-Apple-Action")), "vacation") {
		return "X-Apple-Action: VACATION", true
	}

	subjectStrong, subjectWeak := subjectPhrases(m.Subject)
	suppress := h.Has("X-Auto-Response-Suppress")
	if suppress && (subjectStrong != "" || subjectWeak != "" || h.Has("X-MS-Exchange-Inbox-Rules-Loop")) {
		return "X-Auto-Response-Suppress with automatic subject or inbox rule", true
	}
	if subjectStrong != "" {
		return "subject phrase " + quoteReason(subjectStrong), true
	}

	// Weaker evidence adds up, but only around a phrase: Precedence alone is
	// carried by real replies from mailing lists, and a null sender alone is
	// too little to risk losing a person's answer over.
	var phrases, support []string
	if subjectWeak != "" {
		phrases = append(phrases, "subject phrase "+quoteReason(subjectWeak))
	}
	if p := bodyPhrase(m.NewText); p != "" {
		phrases = append(phrases, "body phrase "+quoteReason(p))
	}
	if len(phrases) == 0 {
		return "", false
	}
	switch strings.ToLower(strings.TrimSpace(h.Get("Precedence"))) {
	case "bulk", "junk", "auto_reply":
		support = append(support, "Precedence: "+strings.ToLower(strings.TrimSpace(h.Get("Precedence"))))
	}
	if nullReturnPath(m) {
		support = append(support, "Return-Path: <>")
	}
	if len(phrases)+len(support) >= 2 {
		return strings.Join(append(phrases, support...), " + "), true
	}
	return "", false
}

// autoSubmitted returns the Auto-Submitted keyword, lower-cased, without
// parameters or comments.
func autoSubmitted(h Header) string {
	v := commentRE.ReplaceAllString(h.Get("Auto-Submitted"), "")
	v, _, _ = strings.Cut(v, ";")
	v = strings.ToLower(strings.TrimSpace(v))
	return v // "" when empty: too little to call a message automatic
}

// subjectPhrases returns the strong and weak phrases found in the subject.
// A subject that starts with a reply or forward prefix has none: what
// follows the prefix is the subject of the message answered, so
// "Re: Automatic reply: ..." is a person answering an auto-reply, and
// "Re: Holiday closures" says nothing about the sender.
func subjectPhrases(subject string) (strong, weak string) {
	if replyPrefixRE.MatchString(subject) {
		return "", ""
	}
	if loc := strongSubjectRE.FindStringIndex(subject); loc != nil {
		return subject[loc[0]:loc[1]], ""
	}
	if loc := weakSubjectRE.FindStringIndex(subject); loc != nil {
		return "", subject[loc[0]:loc[1]]
	}
	return "", ""
}

// bodyPhrase looks at the first lines of the sender's own text only, so a
// person quoting an auto-reply or writing at length is not caught.
func bodyPhrase(newText string) string {
	return autoBody.find(foldSpace(leadingText(newText, 1500)))
}
