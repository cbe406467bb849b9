package web

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
)

// CSRF tokens of forms, by the signed double-submit cookie pattern: a
// random value in a cookie, and in the form an HMAC of it that only the
// server can make. A page from another site can make a browser send the
// cookie, but cannot read it nor make the HMAC; and a value planted in the
// cookie (from a sibling domain) has no valid HMAC. Pages with a session
// can bind the token to the session instead, with the same field name.
const (
	csrfCookie = "outreach_csrf"
	csrfField  = "csrf_token"
)

type csrf struct {
	key    []byte
	secure bool // Secure cookie: the site is served over https
}

// token returns the form token for the request's cookie, setting a new
// cookie when it has none.
func (c *csrf) token(w http.ResponseWriter, r *http.Request) string {
	v := ""
	if ck, err := r.Cookie(csrfCookie); err == nil && len(ck.Value) >= 22 {
		v = ck.Value
	} else {
		b := make([]byte, 18)
		rand.Read(b)
		v = base64.RawURLEncoding.EncodeToString(b)
		http.SetCookie(w, &http.Cookie{
			Name: csrfCookie, Value: v, Path: "/", HttpOnly: true, Secure: c.secure, SameSite: http.SameSiteLaxMode,
		})
	}
	return c.mac(v)
}

// valid reports whether a posted form carries the token of its cookie.
func (c *csrf) valid(r *http.Request) bool {
	ck, err := r.Cookie(csrfCookie)
	if err != nil || ck.Value == "" {
		return false
	}
	return hmac.Equal([]byte(r.PostFormValue(csrfField)), []byte(c.mac(ck.Value)))
}

func (c *csrf) mac(v string) string {
	m := hmac.New(sha256.New, c.key)
	m.Write([]byte("outreach csrf " + v))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}
