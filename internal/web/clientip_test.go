package web

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"testing"
	"time"
)

func TestClientIP(t *testing.T) {
	proxies := ProxyHeader{Name: "X-Forwarded-For", Trusted: []netip.Prefix{
		netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("192.0.2.1/32"), netip.MustParsePrefix("2001:db8:ff::/48")}}
	for _, tt := range []struct {
		name   string
		p      ProxyHeader
		peer   string
		header []string // X-Forwarded-For fields, in order
		want   string
	}{
		{"no header configured", ProxyHeader{}, "203.0.113.9:5000", []string{"198.51.100.1"}, "203.0.113.9"},
		{"forged by a peer that is not a proxy", proxies, "203.0.113.9:5000", []string{"198.51.100.1"}, "203.0.113.9"},
		{"forged by a peer that is not a proxy, no proxies trusted", ProxyHeader{Name: "X-Forwarded-For"}, "203.0.113.9:5000",
			[]string{"198.51.100.1"}, "203.0.113.9"},
		{"one trusted proxy", proxies, "10.0.0.5:40000", []string{"198.51.100.1"}, "198.51.100.1"},
		{"a client's forged entry left of the real one", proxies, "10.0.0.5:40000",
			[]string{"1.2.3.4, 198.51.100.1"}, "198.51.100.1"},
		{"a chain of trusted proxies", proxies, "10.0.0.5:40000",
			[]string{"1.2.3.4, 198.51.100.1, 192.0.2.1", "10.9.9.9"}, "198.51.100.1"},
		{"entries spread over fields", proxies, "10.0.0.5:40000",
			[]string{"1.2.3.4", "198.51.100.1", "10.0.0.7"}, "198.51.100.1"},
		{"entries with ports", proxies, "10.0.0.5:40000",
			[]string{"[2001:db8:1:2:3::4]:443, 192.0.2.1:8080"}, "2001:db8:1:2::/64"},
		{"garbage right of the client stops the walk", proxies, "10.0.0.5:40000",
			[]string{"198.51.100.1, unknown, 10.0.0.8"}, "10.0.0.8"},
		{"every entry a proxy", proxies, "10.0.0.5:40000", []string{"10.0.0.6, 10.0.0.7"}, "10.0.0.6"},
		{"trusted proxy, no header", proxies, "10.0.0.5:40000", nil, "10.0.0.5"},
		{"IPv6 proxy and client", proxies, "[2001:db8:ff::1]:40000", []string{"2001:db8:5:6:7::8"}, "2001:db8:5:6::/64"},
		{"IPv4 in IPv6 peer", proxies, "[::ffff:10.0.0.5]:40000", []string{"198.51.100.1"}, "198.51.100.1"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, "/", nil)
			r.RemoteAddr = tt.peer
			for _, v := range tt.header {
				r.Header.Add("X-Forwarded-For", v)
			}
			if got := clientIP(r, tt.p); got != tt.want {
				t.Errorf("client %q, want %q", got, tt.want)
			}
		})
	}
}

// TestForgedForwardedForDoesNotDefeatTheLoginThrottle tries seven wrong
// passwords for one staff address, each with another X-Forwarded-For,
// from a peer that is not a trusted proxy: the header is ignored, the
// failures count against the one client (failures are counted per address
// and client together, so a believed header would make each try a new
// client), and the sixth try must wait.
func TestForgedForwardedForDoesNotDefeatTheLoginThrottle(t *testing.T) {
	h := newHarness(t, harnessOptions{staff: true, realIP: ProxyHeader{Name: "X-Forwarded-For",
		Trusted: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}}})
	c := h.client()
	// Each try is a bcrypt comparison: give a busy machine time for it.
	c.Timeout = 2 * time.Minute
	var codes []int
	for i := range 7 {
		resp, err := c.Get(h.srv.URL + "/login")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		tok := csrfInForm.FindSubmatch(body)[1]
		form := url.Values{"csrf_token": {string(tok)}, "email": {staffEmail}, "password": {"wrong password"}}
		req, _ := http.NewRequest(http.MethodPost, h.srv.URL+"/login", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("X-Forwarded-For", fmt.Sprintf("198.51.100.%d", i+1))
		req.Header.Add("X-Forwarded-For", fmt.Sprintf("10.0.0.%d", i+1))
		resp, err = c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		codes = append(codes, resp.StatusCode)
	}
	for i, code := range codes {
		want := http.StatusUnauthorized
		if i >= 5 {
			want = http.StatusTooManyRequests
		}
		if code != want {
			t.Errorf("try %d: %d, want %d (all: %v)", i+1, code, want, codes)
		}
	}
}
