package oauth

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"html"
	"io"
	"net"
	"net/http"
	"strconv"
	"time"

	"golang.org/x/oauth2"
)

// DeviceLogin runs the device-code flow (RFC 8628): it tells the user
// where to go and which code to type, then waits until they have signed
// in there (or ctx ends).
func DeviceLogin(ctx context.Context, cfg *oauth2.Config, out io.Writer) (*oauth2.Token, error) {
	da, err := cfg.DeviceAuth(ctx)
	if err != nil {
		return nil, fmt.Errorf("oauth: start the device sign-in: %w", err)
	}
	where := da.VerificationURI
	if da.VerificationURIComplete != "" {
		where = da.VerificationURIComplete
	}
	fmt.Fprintf(out, "To sign the mailbox in, open %s in a browser and enter the code %s\n", where, da.UserCode)
	fmt.Fprintln(out, "Waiting for the sign-in...")
	tok, err := cfg.DeviceAccessToken(ctx, da)
	if err != nil {
		return nil, fmt.Errorf("oauth: device sign-in: %w", err)
	}
	return tok, nil
}

// BrowserLogin runs the authorization-code flow with PKCE (RFC 7636) and
// a loopback redirect (RFC 8252): it listens on port of 127.0.0.1 (0: any
// free one; a fixed one can be forwarded with ssh -L from a machine with a
// browser), prints the address to open (and hands it to open, when set),
// and exchanges the code the provider sends back there.
func BrowserLogin(ctx context.Context, cfg *oauth2.Config, port int, out io.Writer, open func(url string) error) (*oauth2.Token, error) {
	ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil {
		return nil, fmt.Errorf("oauth: listen for the sign-in's redirect: %w", err)
	}
	c := *cfg
	c.RedirectURL = "http://" + ln.Addr().String() + "/"
	state := oauth2.GenerateVerifier() // random, URL-safe: good for a state too
	verifier := oauth2.GenerateVerifier()

	type result struct {
		code string
		err  error
	}
	done := make(chan result, 1)
	srv := &http.Server{ReadHeaderTimeout: 10 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		var res result
		switch {
		case r.URL.Path != "/":
			http.NotFound(w, r)
			return
		case subtle.ConstantTimeCompare([]byte(q.Get("state")), []byte(state)) != 1:
			// Not our sign-in (or a forged redirect): ignore it, keep waiting.
			http.Error(w, "This is not the sign-in outreach is waiting for.", http.StatusBadRequest)
			return
		case q.Get("error") != "":
			res.err = fmt.Errorf("oauth: the provider refused the sign-in: %s %s", q.Get("error"), q.Get("error_description"))
		case q.Get("code") == "":
			res.err = errors.New("oauth: the provider sent back no code")
		default:
			res.code = q.Get("code")
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		if res.err != nil {
			fmt.Fprintf(w, "<!doctype html><title>Sign-in failed</title><p>%s</p>", html.EscapeString(res.err.Error()))
		} else {
			fmt.Fprint(w, "<!doctype html><title>Signed in</title><p>The mailbox is signed in. You can close this page.</p>")
		}
		select {
		case done <- res:
		default:
		}
	})}
	go srv.Serve(ln)
	defer srv.Close()

	authURL := c.AuthCodeURL(state, oauth2.S256ChallengeOption(verifier), oauth2.AccessTypeOffline,
		// Google gives a refresh token again only when asked to consent again.
		oauth2.SetAuthURLParam("prompt", "consent"))
	fmt.Fprintf(out, "To sign the mailbox in, open this address in a browser on this machine:\n\n  %s\n\n", authURL)
	fmt.Fprintln(out, "Waiting for the sign-in...")
	if open != nil {
		if err := open(authURL); err != nil {
			fmt.Fprintf(out, "(could not open a browser: %v)\n", err)
		}
	}
	var res result
	select {
	case <-ctx.Done():
		return nil, fmt.Errorf("oauth: browser sign-in: %w", ctx.Err())
	case res = <-done:
	}
	if res.err != nil {
		return nil, res.err
	}
	tok, err := c.Exchange(ctx, res.code, oauth2.VerifierOption(verifier))
	if err != nil {
		return nil, fmt.Errorf("oauth: exchange the sign-in's code: %w", err)
	}
	return tok, nil
}
