package smtptest

import (
	"bytes"
	"errors"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

const xoauth2 = "XOAUTH2"

// bearerAuth is the SASL server of WithOAuth.
func (ss *session) bearerAuth(mech string) (sasl.Server, error) {
	o := &ss.s.opts
	ok := func(user, token string) bool { return user == o.user && o.bearer(token) }
	switch mech {
	case sasl.OAuthBearer:
		return sasl.NewOAuthBearerServer(func(opts sasl.OAuthBearerOptions) *sasl.OAuthBearerError {
			if !ok(opts.Username, opts.Token) {
				return &sasl.OAuthBearerError{Status: "invalid_token", Schemes: "bearer"}
			}
			ss.authed, ss.mech = true, sasl.OAuthBearer
			return nil
		}), nil
	case xoauth2:
		return &xoauth2Server{check: func(user, token string) bool {
			if !ok(user, token) {
				return false
			}
			ss.authed, ss.mech = true, xoauth2
			return true
		}}, nil
	}
	return nil, smtp.ErrAuthUnknownMechanism
}

// xoauth2Server is the server side of XOAUTH2
// (https://developers.google.com/gmail/imap/xoauth2-protocol), which
// go-sasl lacks: a refused token is answered with a JSON challenge, the
// client's empty reply with the failure.
type xoauth2Server struct {
	check  func(user, token string) bool
	failed bool
}

func (s *xoauth2Server) Next(resp []byte) ([]byte, bool, error) {
	switch {
	case s.failed:
		return nil, true, smtp.ErrAuthFailed
	case resp == nil:
		return []byte{}, false, nil // ask for the initial response
	}
	var user, token string
	for _, f := range bytes.Split(resp, []byte{1}) {
		switch {
		case bytes.HasPrefix(f, []byte("user=")):
			user = string(f[len("user="):])
		case bytes.HasPrefix(f, []byte("auth=Bearer ")):
			token = string(f[len("auth=Bearer "):])
		}
	}
	if user == "" || token == "" {
		return nil, true, errors.New("smtptest: malformed XOAUTH2 response")
	}
	if !s.check(user, token) {
		s.failed = true
		return []byte(`{"status":"401","schemes":"bearer","scope":"https://mail.google.com/"}`), false, nil
	}
	return nil, true, nil
}
