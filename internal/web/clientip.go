package web

import (
	"net"
	"net/http"
	"strings"
)

// clientIP is the address limits per IP count: the connection's, or the
// one a trusted reverse proxy names in header (the last entry of
// X-Forwarded-For, which is the one it added). An IPv6 address counts by
// its /64, the block one subscriber usually has.
func clientIP(r *http.Request, header string) string {
	raw := ""
	if header != "" {
		if v := r.Header.Get(header); v != "" {
			parts := strings.Split(v, ",")
			raw = strings.TrimSpace(parts[len(parts)-1])
		}
	}
	if net.ParseIP(raw) == nil {
		host, _, err := net.SplitHostPort(r.RemoteAddr)
		if err != nil {
			host = r.RemoteAddr
		}
		raw = host
	}
	ip := net.ParseIP(raw)
	if ip == nil {
		return raw
	}
	if ip.To4() == nil {
		return ip.Mask(net.CIDRMask(64, 128)).String() + "/64"
	}
	return ip.String()
}
