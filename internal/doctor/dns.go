package doctor

import (
	"context"
	"errors"
	"net"
	"strings"
	"time"
)

// Resolver looks up TXT records; *net.Resolver is one.
type Resolver interface {
	LookupTXT(ctx context.Context, name string) ([]string, error)
}

// lookupTXT returns the TXT records at name; none when the name or its
// records do not exist.
func lookupTXT(ctx context.Context, r Resolver, name string) ([]string, error) {
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	txt, err := r.LookupTXT(ctx, name)
	var de *net.DNSError
	if errors.As(err, &de) && de.IsNotFound {
		return nil, nil
	}
	return txt, err
}

// withTag keeps the records that start with tag (v=spf1, v=DMARC1), as
// their RFCs define it: case-insensitive, followed by the end or a
// separator.
func withTag(records []string, tag string, sep string) []string {
	var out []string
	for _, r := range records {
		r = strings.TrimSpace(r)
		if len(r) >= len(tag) && strings.EqualFold(r[:len(tag)], tag) &&
			(len(r) == len(tag) || strings.ContainsRune(sep, rune(r[len(tag)]))) {
			out = append(out, r)
		}
	}
	return out
}

const lookupFix = "check this machine's DNS resolver, or try again: the lookup itself failed"

// SPF checks that the organisation's domain publishes one SPF record
// (RFC 7208), which receivers check the sending server against.
func SPF(ctx context.Context, r Resolver, domain string) Result {
	txt, err := lookupTXT(ctx, r, domain)
	if err != nil {
		return failed(lookupFix, "looking up TXT %s: %v", domain, err)
	}
	spf := withTag(txt, "v=spf1", " ")
	switch {
	case len(spf) == 0:
		return failed("publish a TXT record at "+domain+" naming the servers that send its mail, such as "+
			"\"v=spf1 include:<your provider's SPF domain> -all\" (your provider documents its include)",
			"%s has no SPF record: receivers cannot tell the SMTP server may send for it", domain)
	case len(spf) > 1:
		return failed("merge them into one record: receivers treat several as an error (RFC 7208 4.5)",
			"%s has %d SPF records: %s", domain, len(spf), strings.Join(spf, " | "))
	}
	if strings.HasSuffix(strings.ToLower(spf[0]), "+all") || strings.HasSuffix(strings.ToLower(spf[0]), " all") {
		return failed("end the record with -all or ~all: +all lets any server on the Internet send as "+domain,
			"%s: %q allows every server", domain, spf[0])
	}
	return ok("%s: %q", domain, spf[0])
}

// DKIM checks that the selector's public key is published under the
// organisation's domain, so that receivers can verify the signatures of
// its mail.
func DKIM(ctx context.Context, r Resolver, domain, selector string) Result {
	if selector == "" {
		return skipped("no selector to look up: give --dkim-selector, the selector your provider (or the key's DNS record) names")
	}
	name := selector + "._domainkey." + domain
	txt, err := lookupTXT(ctx, r, name)
	if err != nil {
		return failed(lookupFix, "looking up TXT %s: %v", name, err)
	}
	// A DKIM key record may be split into several strings; the resolver
	// joins them. It need not start with v=DKIM1 (RFC 6376 3.6.1).
	var keys []string
	for _, t := range txt {
		if tags := dkimTags(t); tags != nil && (tags["v"] == "" || tags["v"] == "DKIM1") {
			if _, has := tags["p"]; has {
				keys = append(keys, t)
			}
		}
	}
	fix := "publish the public key your provider (or the DKIM key pair) gives as a TXT record at " + name
	if len(keys) == 0 {
		return failed(fix, "no DKIM key at %s", name)
	}
	tags := dkimTags(keys[0])
	if tags["p"] == "" {
		return failed(fix, "the key at %s is revoked (empty p=)", name)
	}
	k := tags["k"]
	if k == "" {
		k = "rsa"
	}
	return ok("%s publishes a key (k=%s)", name, k)
}

// dkimTags reads a tag=value list (RFC 6376 3.2); nil when it is not one.
func dkimTags(s string) map[string]string {
	tags := map[string]string{}
	for _, f := range strings.Split(s, ";") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		k, v, ok := strings.Cut(f, "=")
		if !ok {
			return nil
		}
		tags[strings.TrimSpace(k)] = strings.Join(strings.Fields(v), "")
	}
	return tags
}

// DMARC checks that the organisation's domain publishes a DMARC policy
// (RFC 7489), which large receivers require of bulk senders.
func DMARC(ctx context.Context, r Resolver, domain string) Result {
	name := "_dmarc." + domain
	txt, err := lookupTXT(ctx, r, name)
	if err != nil {
		return failed(lookupFix, "looking up TXT %s: %v", name, err)
	}
	recs := withTag(txt, "v=DMARC1", "; ")
	fix := "publish a TXT record at " + name + " such as \"v=DMARC1; p=none; rua=mailto:dmarc@" + domain +
		"\", and move to p=quarantine once the reports show SPF and DKIM pass"
	switch {
	case len(recs) == 0:
		return failed(fix, "%s has no DMARC record", name)
	case len(recs) > 1:
		return failed("keep one record: receivers ignore DMARC when there are several", "%s has %d DMARC records", name, len(recs))
	}
	p := dkimTags(recs[0])["p"]
	if p == "" {
		return failed(fix, "%s: %q names no policy (p=)", name, recs[0])
	}
	return ok("%s: policy %s", name, p)
}
