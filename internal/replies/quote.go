package replies

import (
	"regexp"
	"strings"
)

// Attribution lines ("On <date>, <name> wrote:") in the languages our mayors
// write in, plus a few neighbours. Each needs the verb at the end of the line,
// which is what keeps an ordinary sentence from matching.
var (
	// leadWordRE starts an attribution that mail clients may wrap over two or
	// three lines, so such lines are joined before matching.
	leadWordRE = regexp.MustCompile(`(?i)^(on|le|il|am|op|el|em|w dniu|dnia|den|in data)\b`)

	attributionRE = regexp.MustCompile(`(?i)^(` +
		`on\b.*\bwrote|` +
		`le\b.*\ba\s+écrit|` +
		`(il giorno|il|in data)\b.*\bha\s+scritto|` +
		`am\b.*\bschrieb\b.*|` +
		`op\b.*\bschreef\b.*|` +
		`el\b.*\bescribió|` +
		`em\b.*\bescreveu|` +
		`(w dniu|dnia)\b.*\bnapisał(\(a\)|a)?|` +
		`den\b.*\bskrev` +
		`)\s*:$`)

	// A line ending in ":" with a date, a time or an address, right above
	// a ">" quote, is an attribution in any language ("02.04.2012 14:20
	// пользователь ... написал:", "Excerpts from X's message of ...:").
	dateLikeRE = regexp.MustCompile(`(?i)(\d{1,4}[./-]\d{1,2}[./-]\d{1,4}|\d{1,2}:\d{2}|\b(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.? \d|\d{1,2}\.? (jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)|@|\b(wrote|writes|said)\b)`)

	originalMessageRE = regexp.MustCompile(`(?i)^[-_=*\s]*(original message|ursprüngliche nachricht|originalnachricht|original-nachricht|messaggio originale|message d'origine|message original|mensaje original|mensagem original|oorspronkelijk bericht|oryginalna wiadomość|forwarded message|message transféré|messaggio inoltrato|weitergeleitete nachricht|mensaje reenviado)[-_=*\s]*$`)

	forwardedRE = regexp.MustCompile(`(?i)^(begin forwarded message|début du message réexpédié|inizio messaggio inoltrato|anfang der weitergeleiteten nachricht)\s*:?$`)

	separatorRE = regexp.MustCompile(`^\s*_{10,}\s*$`)

	// A long rule of dashes below a quote starts a list footer or an ad.
	footerRuleRE = regexp.MustCompile(`^-{20,}$`)

	// Outlook and friends quote by pasting the original's header block:
	// "From: ...", then "Sent: ...", "To: ...", "Subject: ..." in the user's
	// language, sometimes in bold ("*From:*") when rendered from HTML.
	headerFromRE  = regexp.MustCompile(`(?i)^\*?(from|de|da|von|van|från|fra|od|от)\s*:\s*\*?\s*\S`)
	headerDateRE  = regexp.MustCompile(`(?i)^\*?(sent|date|envoyé|inviato|gesendet|verzonden|datum|data|enviado|enviada|skickat|sendt|wysłano|fecha|отправлено)\s*:`)
	headerOtherRE = regexp.MustCompile(`(?i)^\*?(to|à|a|an|aan|para|till|til|do|subject|objet|oggetto|betreff|onderwerp|asunto|assunto|ämne|emne|temat|cc|kopie)\s*:`)

	// Mobile clients append these after the text; they are not the reply.
	mobileSignatureRE = regexp.MustCompile(`(?i)^(` +
		`sent from my .{1,40}|` +
		`sent from (mail|outlook|yahoo mail|samsung|aol|my mobile).{0,40}|` +
		`sent (via|with) .{0,30}(mobile|iphone|android|ipad|blackberry).{0,20}|` +
		`sent with (sparrow|airmail|spark|newton|blue mail|bluemail)\b.{0,60}|` +
		`get outlook for (ios|android)|` +
		`inviato da .{1,40}|` +
		`envoyé de mon .{1,40}|` +
		`envoyé depuis .{1,40}|` +
		`von meinem .{1,40} gesendet|` +
		`gesendet von .{0,20}(iphone|ipad|android|mobil|samsung|handy).{0,20}|` +
		`verstuurd vanaf mijn .{1,40}|` +
		`enviado desde mi .{1,40}|` +
		`wysłane z .{1,40}` +
		`)\.?$`)
)

// maxScanLines bounds the lines examined for quote markers. A reply is a few
// dozen lines; a message with thousands more is not a reply to split, and
// hostile input must not cost much.
const maxScanLines = 5000

// splitQuote separates the sender's own text from the quoted original. It
// splits at the first quote marker: ">" lines, an attribution line (possibly
// wrapped over several lines), an "Original Message" separator, a pasted
// Outlook header block, or a line of underscores. Text written between or
// below ">" quotes (bottom-posting, answers inline) is added to the new text,
// so a mayor's answer is never lost; Quoted keeps everything from the first
// marker on, as it came.
func splitQuote(text string) (newText, quoted string) {
	lines := strings.Split(text, "\n")
	at := quoteStart(lines[:min(len(lines), maxScanLines)])
	if at < 0 {
		return cleanNewText(lines), ""
	}
	newText = cleanNewText(lines[:at])
	quoted = trimBlankLines(strings.Join(lines[at:], "\n"))
	if !prefixQuoted(lines, at) {
		// An Outlook-style original is pasted without ">" marks: nothing
		// below the marker can be told apart from it.
		return newText, quoted
	}
	own := interleavedText(lines[at:min(len(lines), at+maxScanLines)])
	switch {
	case own == "":
		return newText, quoted
	case newText == "":
		return own, quoted
	default:
		return newText + "\n\n" + own, quoted
	}
}

// prefixQuoted reports whether the quote starting at line at is a ">" quote,
// possibly under an attribution wrapped over a few lines.
func prefixQuoted(lines []string, at int) bool {
	if isQuoteLine(lines[at]) {
		return true
	}
	if !isAttribution(lines, at) {
		return false
	}
	// Skip the attribution's wrapped lines, up to the one ending in ":",
	// then look at the first line with text.
	j := at
	for j < len(lines)-1 && j < at+2 && !strings.HasSuffix(strings.TrimSpace(lines[j]), ":") {
		j++
	}
	for j++; j < len(lines) && j <= at+6; j++ {
		if t := strings.TrimSpace(lines[j]); t != "" {
			return strings.HasPrefix(t, ">")
		}
	}
	return false
}

// quoteStart returns the index of the line where the quoted original begins,
// or -1.
func quoteStart(lines []string) int {
	for i, line := range lines {
		t := strings.TrimSpace(line)
		if t == "" {
			continue
		}
		if strings.HasPrefix(t, ">") {
			return i
		}
		if isMarkerLine(t) {
			return i
		}
		if colonNear(lines, i) && isAttribution(lines, i) {
			return i
		}
		if headerFromRE.MatchString(t) && isHeaderBlock(lines, i) {
			return i
		}
	}
	return -1
}

// isMarkerLine matches the one-line markers: "-----Original Message-----"
// and its translations, "Begin forwarded message:", a line of underscores.
// Cheap byte checks go first; this runs on every line of every reply.
func isMarkerLine(t string) bool {
	if len(t) > 80 {
		return false
	}
	if strings.ContainsAny(t, "-_=*") && (originalMessageRE.MatchString(t) || separatorRE.MatchString(t)) {
		return true
	}
	return strings.HasSuffix(t, ":") && forwardedRE.MatchString(t)
}

// colonNear reports whether line i or one of the two after it has a colon,
// which every attribution ends with.
func colonNear(lines []string, i int) bool {
	for j := i; j < len(lines) && j < i+3; j++ {
		if strings.Contains(lines[j], ":") {
			return true
		}
	}
	return false
}

// isAttribution reports whether an attribution starts at line i, joining up
// to three lines because clients wrap long "On ... <address> wrote:" lines.
func isAttribution(lines []string, i int) bool {
	// Yahoo and others decorate it: "--- On Wed, 4/4/12, x@y wrote:".
	first := strings.TrimLeft(strings.TrimSpace(lines[i]), "-* ")
	if len(first) > 400 || first == "" {
		return false
	}
	lead := leadWordRE.MatchString(first)
	// The lines are joined only to be matched: most lines of a long text
	// are neither, and joining each would cost an allocation per line.
	parts := [3]string{first}
	joined := func(n int) string { return strings.Join(parts[:n+1], " ") }
	for n := 0; n < 3 && i+n < len(lines); n++ {
		if n > 0 {
			next := strings.TrimSpace(lines[i+n])
			if next == "" || strings.HasPrefix(next, ">") {
				return false
			}
			parts[n] = next
		}
		if lead && attributionRE.MatchString(joined(n)) {
			return true
		}
		if strings.HasSuffix(parts[n], ":") {
			// Without a known form, only a quote right below and a date or
			// address in the line make it an attribution, not a sentence.
			j := joined(n)
			return len(j) < 300 && dateLikeRE.MatchString(j) && nextNonBlankQuoted(lines, i+n+1)
		}
	}
	return false
}

func nextNonBlankQuoted(lines []string, from int) bool {
	for _, l := range lines[from:] {
		if t := strings.TrimSpace(l); t != "" {
			return strings.HasPrefix(t, ">")
		}
	}
	return false
}

// isHeaderBlock checks that a "From:" line is followed by at least a date line
// and one more header-like line, as in a pasted original's header.
func isHeaderBlock(lines []string, i int) bool {
	var date, other bool
	for j := i + 1; j < len(lines) && j <= i+8; j++ {
		t := strings.TrimSpace(lines[j])
		switch {
		case headerDateRE.MatchString(t):
			date = true
		case headerOtherRE.MatchString(t):
			other = true
		}
	}
	return date && other
}

// interleavedText collects what a bottom-poster wrote between and below ">"
// quotes, leaving out the quotes and attribution lines. It stops where an
// unmarked original or a mailing-list footer begins.
func interleavedText(lines []string) string {
	var own []string
	for i := 0; i < len(lines); i++ {
		t := strings.TrimSpace(lines[i])
		switch {
		case strings.HasPrefix(t, ">"):
			own = append(own, "")
			continue
		case t == "":
			own = append(own, "")
			continue
		case isMarkerLine(t) || footerRuleRE.MatchString(t) || headerFromRE.MatchString(t) && isHeaderBlock(lines, i):
			return squeezeBlankLines(cleanNewText(own))
		case colonNear(lines, i) && isAttribution(lines, i):
			// Skip the wrapped continuation lines of the attribution too.
			for n := 0; n < 2 && i+1 < len(lines) && !strings.HasSuffix(strings.TrimSpace(lines[i]), ":"); n++ {
				i++
			}
			own = append(own, "")
			continue
		}
		if i > 0 && isQuoteLine(lines[i-1]) {
			// A run of unquoted lines wedged between quote lines without a
			// blank line is a quoted line the sender's client wrapped.
			j := i
			for j < len(lines) && strings.TrimSpace(lines[j]) != "" && !isQuoteLine(lines[j]) {
				j++
			}
			if j < len(lines) && isQuoteLine(lines[j]) {
				i = j - 1
				continue
			}
		}
		own = append(own, lines[i])
	}
	return squeezeBlankLines(cleanNewText(own))
}

func isQuoteLine(l string) bool {
	return strings.HasPrefix(strings.TrimSpace(l), ">")
}

// cleanNewText drops trailing mobile signatures and surrounding blank lines.
func cleanNewText(lines []string) string {
	end := len(lines)
	for {
		for end > 0 && strings.TrimSpace(lines[end-1]) == "" {
			end--
		}
		if end == 0 || len(lines[end-1]) > 100 || !mobileSignatureRE.MatchString(strings.TrimSpace(lines[end-1])) {
			break
		}
		end--
		// A signature delimiter left alone above the mobile line goes too.
		for end > 0 && strings.TrimSpace(lines[end-1]) == "" {
			end--
		}
		if end > 0 && strings.TrimSpace(lines[end-1]) == "--" {
			end--
		}
	}
	return trimBlankLines(strings.Join(lines[:end], "\n"))
}

// squeezeBlankLines collapses runs of blank lines into one.
func squeezeBlankLines(s string) string {
	lines := strings.Split(s, "\n")
	out := lines[:0]
	blank := false
	for _, l := range lines {
		isBlank := strings.TrimSpace(l) == ""
		if isBlank && blank {
			continue
		}
		blank = isBlank
		out = append(out, l)
	}
	return strings.Join(out, "\n")
}

// trimBlankLines removes leading and trailing blank lines, keeping the
// indentation of the first non-blank line.
func trimBlankLines(s string) string {
	lines := strings.Split(s, "\n")
	start, end := 0, len(lines)
	for start < end && strings.TrimSpace(lines[start]) == "" {
		start++
	}
	for end > start && strings.TrimSpace(lines[end-1]) == "" {
		end--
	}
	for i := start; i < end; i++ {
		lines[i] = strings.TrimRight(lines[i], " \t")
	}
	return strings.Join(lines[start:end], "\n")
}
