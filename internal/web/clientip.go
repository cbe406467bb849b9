package web

import (
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// ProxyHeader says where a reverse proxy names the client: the header it
// sets (X-Forwarded-For, X-Real-IP), believed only from the proxies in
// Trusted. A zero ProxyHeader believes no header.
type ProxyHeader struct {
	Name    string
	Trusted []netip.Prefix
}

// trusts reports whether a is one of the trusted proxies.
func (p ProxyHeader) trusts(a netip.Addr) bool {
	for _, pr := range p.Trusted {
		if pr.Contains(a) {
			return true
		}
	}
	return false
}

// maxForwardedHops bounds the addresses read from the header: a chain of
// proxies is short, and a client can make the header as long as it likes.
const maxForwardedHops = 32

// clientIP is the address limits per IP count. It is the connection's
// peer, unless the peer is a trusted proxy: then the header's addresses
// (every field of it, each a comma-separated list that each proxy appends
// to) are read from the right, past every trusted proxy, and the first
// address that is not one is the client. Anything a client wrote to the
// left of it is ignored, and so is the whole header from a peer that is
// not trusted: a forged header changes nothing. An IPv6 address counts by
// its /64, the block one subscriber usually has.
func clientIP(r *http.Request, p ProxyHeader) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	client, err := netip.ParseAddr(host)
	if err != nil {
		return host
	}
	client = client.Unmap()
	if p.Name != "" && p.trusts(client) {
		hops := forwarded(r.Header.Values(p.Name))
		for i := len(hops) - 1; i >= 0 && i >= len(hops)-maxForwardedHops; i-- {
			a, ok := parseHop(hops[i])
			if !ok {
				break // not an address: nothing left of it can be believed
			}
			client = a
			if !p.trusts(a) {
				break
			}
		}
	}
	if client.Is6() {
		pr, _ := client.Prefix(64)
		return pr.Addr().String() + "/64"
	}
	return client.String()
}

// forwarded splits the header's fields into their entries, in order.
func forwarded(values []string) []string {
	var out []string
	for _, v := range values {
		for e := range strings.SplitSeq(v, ",") {
			out = append(out, strings.TrimSpace(e))
		}
	}
	return out
}

// parseHop reads one entry: an address, perhaps with a port
// ("203.0.113.7:5123", "[2001:db8::1]:443").
func parseHop(s string) (netip.Addr, bool) {
	if a, err := netip.ParseAddr(s); err == nil {
		return a.Unmap(), true
	}
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr().Unmap(), true
	}
	return netip.Addr{}, false
}
