package doctor

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"

	"golang.org/x/net/dns/dnsmessage"
)

// dnsServer answers TXT queries over UDP on a loopback port from a fixed
// zone, as the organisation's DNS would: a name missing from the zone is
// NXDOMAIN, a name in fail answers SERVFAIL. Each value is one TXT record,
// cut into strings of at most 255 bytes as DNS requires.
func dnsServer(t *testing.T, zone map[string][]string, fail ...string) *net.Resolver {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	go func() {
		buf := make([]byte, 1500)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			if resp, err := answer(buf[:n], zone, fail); err == nil {
				_, _ = pc.WriteTo(resp, from)
			}
		}
	}()
	addr := pc.LocalAddr().String()
	return &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, _, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "udp", addr)
	}}
}

func answer(query []byte, zone map[string][]string, fail []string) ([]byte, error) {
	var p dnsmessage.Parser
	h, err := p.Start(query)
	if err != nil {
		return nil, err
	}
	q, err := p.Question()
	if err != nil {
		return nil, err
	}
	name := strings.ToLower(strings.TrimSuffix(q.Name.String(), "."))
	rh := dnsmessage.Header{ID: h.ID, Response: true, Authoritative: true, RecursionDesired: h.RecursionDesired, RecursionAvailable: true}
	records, found := zone[name]
	switch {
	case contains(fail, name):
		rh.RCode = dnsmessage.RCodeServerFailure
	case !found:
		rh.RCode = dnsmessage.RCodeNameError
	}
	b := dnsmessage.NewBuilder(nil, rh)
	b.EnableCompression()
	if err := b.StartQuestions(); err != nil {
		return nil, err
	}
	if err := b.Question(q); err != nil {
		return nil, err
	}
	if err := b.StartAnswers(); err != nil {
		return nil, err
	}
	if q.Type == dnsmessage.TypeTXT && rh.RCode == dnsmessage.RCodeSuccess {
		for _, r := range records {
			var parts []string
			for len(r) > 255 {
				parts, r = append(parts, r[:255]), r[255:]
			}
			parts = append(parts, r)
			err := b.TXTResource(dnsmessage.ResourceHeader{Name: q.Name, Class: dnsmessage.ClassINET, TTL: 60},
				dnsmessage.TXTResource{TXT: parts})
			if err != nil {
				return nil, err
			}
		}
	}
	return b.Finish()
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// A 2048-bit RSA key's record is longer than one DNS string.
var longKey = "v=DKIM1; k=rsa; p=MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA" + strings.Repeat("q8Zk3v", 60) + "IDAQAB"

func TestDNSChecks(t *testing.T) {
	r := dnsServer(t, map[string][]string{
		"good.example":                    {"google-site-verification=abc", "v=spf1 include:_spf.provider.example -all"},
		"mail._domainkey.good.example":    {longKey},
		"ed._domainkey.good.example":      {"v=DKIM1; k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo="},
		"_dmarc.good.example":             {"v=DMARC1; p=quarantine; rua=mailto:dmarc@good.example"},
		"two.example":                     {"v=spf1 include:a.example -all", "v=spf1 include:b.example ~all"},
		"open.example":                    {"v=spf1 +all"},
		"bare.example":                    {"some other record"},
		"old._domainkey.bare.example":     {"v=DKIM1; k=rsa; p="},
		"_dmarc.bare.example":             {"v=DMARC1; rua=mailto:x@bare.example"},
		"notakey._domainkey.bare.example": {"not a key"},
		"_dmarc.two.example":              {"v=DMARC1; p=none", "v=DMARC1; p=reject"},
		"spf1lookalike.example":           {"v=spf10 -all"},
		"_dmarc.spf1lookalike.example":    {"v=DMARC1x; p=none"},
	}, "broken.example")
	ctx := context.Background()
	for _, c := range []struct {
		name   string
		got    Result
		status Status
		says   string // in Detail
		fix    string // in Fix
	}{
		{"spf", SPF(ctx, r, "good.example"), OK, `"v=spf1 include:_spf.provider.example -all"`, ""},
		{"spf missing", SPF(ctx, r, "bare.example"), Failed, "has no SPF record", "publish a TXT record at bare.example"},
		{"spf no domain", SPF(ctx, r, "nowhere.example"), Failed, "has no SPF record", "v=spf1"},
		{"spf two", SPF(ctx, r, "two.example"), Failed, "has 2 SPF records", "merge them into one"},
		{"spf +all", SPF(ctx, r, "open.example"), Failed, "allows every server", "-all"},
		{"spf look-alike", SPF(ctx, r, "spf1lookalike.example"), Failed, "has no SPF record", ""},
		{"spf lookup fails", SPF(ctx, r, "broken.example"), Failed, "looking up TXT broken.example", "DNS resolver"},
		{"dkim rsa, split strings", DKIM(ctx, r, "good.example", "mail"), OK, "mail._domainkey.good.example publishes a key (k=rsa)", ""},
		{"dkim ed25519", DKIM(ctx, r, "good.example", "ed"), OK, "publishes a key (k=ed25519)", ""},
		{"dkim missing", DKIM(ctx, r, "good.example", "other"), Failed, "no DKIM key at other._domainkey.good.example", "TXT record at other._domainkey.good.example"},
		{"dkim not a key", DKIM(ctx, r, "bare.example", "notakey"), Failed, "no DKIM key", ""},
		{"dkim revoked", DKIM(ctx, r, "bare.example", "old"), Failed, "revoked", ""},
		{"dkim no selector", DKIM(ctx, r, "good.example", ""), Skipped, "--dkim-selector", ""},
		{"dmarc", DMARC(ctx, r, "good.example"), OK, "_dmarc.good.example: policy quarantine", ""},
		{"dmarc missing", DMARC(ctx, r, "open.example"), Failed, "_dmarc.open.example has no DMARC record", "v=DMARC1; p=none"},
		{"dmarc no policy", DMARC(ctx, r, "bare.example"), Failed, "names no policy", ""},
		{"dmarc two", DMARC(ctx, r, "two.example"), Failed, "has 2 DMARC records", "keep one"},
		{"dmarc look-alike", DMARC(ctx, r, "spf1lookalike.example"), Failed, "has no DMARC record", ""},
	} {
		if c.got.Status != c.status || !strings.Contains(c.got.Detail, c.says) || !strings.Contains(c.got.Fix, c.fix) {
			t.Errorf("%s: %s %q (fix %q); want %s saying %q, fix with %q", c.name, c.got.Status, c.got.Detail, c.got.Fix,
				c.status, c.says, c.fix)
		}
	}
}

// lookupTXT tells a name without records from a failed lookup.
func TestLookupTXTNotFound(t *testing.T) {
	r := dnsServer(t, map[string][]string{"a.example": {"x"}}, "b.example")
	txt, err := lookupTXT(context.Background(), r, "c.example")
	if err != nil || txt != nil {
		t.Errorf("NXDOMAIN: %q, %v; want no records and no error", txt, err)
	}
	var de *net.DNSError
	if _, err := lookupTXT(context.Background(), r, "b.example"); !errors.As(err, &de) || de.IsNotFound {
		t.Errorf("SERVFAIL: %v; want a DNS error that is not 'not found'", err)
	}
}
