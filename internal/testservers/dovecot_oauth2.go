package testservers

import (
	"fmt"
	"os"
	"path/filepath"
)

// DovecotOAuth2 makes Dovecot also take OAuth2 bearer tokens (SASL XOAUTH2
// and OAUTHBEARER) for DovecotUser, asking introspectionURL about each
// (RFC 7662, token=... in a POST; it must answer "active": true and
// "username": DovecotUser). The password still works, for Append.
func DovecotOAuth2(introspectionURL string) DovecotOption {
	return func(o *dovecotOptions) { o.oauth2 = introspectionURL }
}

// writeOAuth2Config writes the oauth2 passdb's settings: every token is
// checked at the test's introspection endpoint, none is cached.
func (d *DovecotServer) writeOAuth2Config() error {
	conf := fmt.Sprintf(`introspection_mode = post
introspection_url = %s
force_introspection = yes
username_attribute = username
active_attribute = active
active_value = true
`, d.opts.oauth2)
	return os.WriteFile(filepath.Join(d.Dir, "dovecot-oauth2.conf.ext"), []byte(conf), 0o644)
}
