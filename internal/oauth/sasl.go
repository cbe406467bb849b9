package oauth

import (
	"context"
	"fmt"

	"github.com/emersion/go-sasl"
)

// Mechanisms of the smtp.auth and imap.auth settings.
const (
	AuthPassword    = "password"
	AuthXOAuth2     = "xoauth2"
	AuthOAuthBearer = "oauthbearer"
)

// TokenSource gives a fresh access token (Source does).
type TokenSource interface {
	Token(ctx context.Context) (string, error)
}

// Authenticator makes the SASL client of one connection: mechanism
// XOAUTH2 or OAUTHBEARER, with a fresh access token each time.
type Authenticator struct {
	Mechanism string // AuthXOAuth2 or AuthOAuthBearer
	User      string
	Host      string // the server, as OAUTHBEARER tells it
	Port      int
	Tokens    TokenSource
}

// SASL returns a client for a new connection.
func (a Authenticator) SASL(ctx context.Context) (sasl.Client, error) {
	token, err := a.Tokens.Token(ctx)
	if err != nil {
		return nil, err
	}
	switch a.Mechanism {
	case AuthXOAuth2:
		return &xoauth2Client{user: a.User, token: token}, nil
	case AuthOAuthBearer:
		return sasl.NewOAuthBearerClient(&sasl.OAuthBearerOptions{Username: a.User, Token: token, Host: a.Host, Port: a.Port}), nil
	}
	return nil, fmt.Errorf("oauth: mechanism %q is not xoauth2 or oauthbearer", a.Mechanism)
}

// xoauth2Client is Google's XOAUTH2 (also Microsoft's), which go-sasl
// lacks: https://developers.google.com/gmail/imap/xoauth2-protocol.
type xoauth2Client struct{ user, token string }

func (c *xoauth2Client) Start() (string, []byte, error) {
	return "XOAUTH2", []byte("user=" + c.user + "\x01auth=Bearer " + c.token + "\x01\x01"), nil
}

// Next answers the one challenge XOAUTH2 has: a server refusing the token
// sends its reasons as JSON and expects an empty line, after which it
// fails the command.
func (c *xoauth2Client) Next([]byte) ([]byte, error) { return []byte{}, nil }
