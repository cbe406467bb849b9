package supporters

import "strings"

// dotlessDomains are the providers that ignore dots in an address's local
// part (j.a.n.e@gmail.com reaches jane@gmail.com), each with the domain
// its mailboxes are counted under.
var dotlessDomains = map[string]string{
	"gmail.com":      "gmail.com",
	"googlemail.com": "gmail.com",
}

// NormalAddress is the mailbox an address reaches, as far as the limits
// on signings can tell: lower-cased, without a plus-tag (jane+1@ reaches
// jane@ at nearly every provider), and, at providers that ignore dots in
// the local part, without dots and under one domain. It is for counting
// only: mail goes to the address as typed, and a letter is keyed by the
// address lower-cased.
func NormalAddress(email string) string {
	email = strings.ToLower(strings.TrimSpace(email))
	at := strings.LastIndexByte(email, '@')
	if at < 0 {
		return email
	}
	local, domain := email[:at], strings.TrimSuffix(email[at+1:], ".")
	if tag := strings.IndexByte(local, '+'); tag > 0 {
		local = local[:tag]
	}
	if d, ok := dotlessDomains[domain]; ok {
		local, domain = strings.ReplaceAll(local, ".", ""), d
	}
	return local + "@" + domain
}

// addressDomain is the domain of a normalised address.
func addressDomain(normal string) string {
	return normal[strings.LastIndexByte(normal, '@')+1:]
}
