package testservers

import (
	"crypto/tls"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/emersion/go-imap/v2/imapclient"

	"github.com/outreach-campaign/outreach/internal/testcert"
)

// DovecotOption changes the server Dovecot starts.
type DovecotOption func(*dovecotOptions)

type dovecotOptions struct {
	ca     *testcert.CA
	names  []string
	leaf   *testcert.Leaf // the server's certificate, signed by ca
	relay  string         // host:port of the SMTP server submission relays to
	oauth2 string         // introspection URL (DovecotOAuth2); empty: passwords only
}

func (d *DovecotServer) applyOptions(tb testing.TB, opts []DovecotOption) {
	tb.Helper()
	for _, o := range opts {
		o(&d.opts)
	}
	if d.opts.ca != nil {
		d.opts.leaf = d.opts.ca.Issue(tb, d.opts.names...)
	}
}

// DovecotTLS turns TLS on, as a real provider has it: `ssl = required`, so
// that nothing authenticates before TLS (Addr offers STARTTLS and refuses
// LOGIN until it is done), and IMAP over implicit TLS on TLSAddr. The
// server's certificate is signed by ca for names (default: localhost and
// 127.0.0.2); CAFile holds ca's certificate, for a tls_ca_file setting.
//
// With TLS every listener is on 127.0.0.2 rather than 127.0.0.1: Dovecot
// counts a connection whose two ends have the same address as secure and
// lets it log in without TLS, which a client on 127.0.0.1 talking to
// 127.0.0.2 is not.
//
// With DovecotSubmission too, the submission service offers STARTTLS on
// SubmissionAddr and implicit TLS on SubmissionTLSAddr, with the same
// certificate.
func DovecotTLS(ca *testcert.CA, names ...string) DovecotOption {
	return func(o *dovecotOptions) {
		o.ca = ca
		o.names = names
		if len(o.names) == 0 {
			o.names = []string{"localhost", tlsHost}
		}
	}
}

// DovecotSubmission runs Dovecot's SMTP submission service (Debian package
// dovecot-submissiond) on SubmissionAddr: it authenticates through the same
// passdb as IMAP (User, Password) and relays what it accepts to relayAddr
// ("127.0.0.1:PORT": Mailpit, or an smtptest server), without TLS.
func DovecotSubmission(relayAddr string) DovecotOption {
	return func(o *dovecotOptions) { o.relay = relayAddr }
}

// tlsHost is where a Dovecot with TLS listens (see DovecotTLS).
const tlsHost = "127.0.0.2"

type dovecotPorts struct {
	Host                                             string
	Port, TLSPort, SubmissionPort, SubmissionTLSPort int
}

// ports picks free ports for the listeners the options ask for, and sets
// the addresses.
func (d *DovecotServer) ports() (dovecotPorts, error) {
	p := dovecotPorts{Host: "127.0.0.1"}
	if d.opts.ca != nil {
		p.Host = tlsHost
	}
	want := []*int{&p.Port}
	if d.opts.ca != nil {
		want = append(want, &p.TLSPort)
	}
	if d.opts.relay != "" {
		want = append(want, &p.SubmissionPort)
		if d.opts.ca != nil {
			want = append(want, &p.SubmissionTLSPort)
		}
	}
	// Hold each port until all are found, so that the same one does
	// not come back twice.
	var held []net.Listener
	defer func() {
		for _, l := range held {
			l.Close()
		}
	}()
	for _, w := range want {
		l, err := net.Listen("tcp", net.JoinHostPort(p.Host, "0"))
		if err != nil {
			return p, err
		}
		held = append(held, l)
		*w = l.Addr().(*net.TCPAddr).Port
	}
	addr := func(port int) string {
		if port == 0 {
			return ""
		}
		return net.JoinHostPort(p.Host, strconv.Itoa(port))
	}
	d.Addr, d.TLSAddr = addr(p.Port), addr(p.TLSPort)
	d.SubmissionAddr, d.SubmissionTLSAddr = addr(p.SubmissionPort), addr(p.SubmissionTLSPort)
	return p, nil
}

// writeTLSFiles writes the certificate and key Dovecot reads, and the CA's
// certificate for the tests.
func (d *DovecotServer) writeTLSFiles() error {
	if d.opts.ca == nil {
		return nil
	}
	leaf := d.opts.leaf
	dir := filepath.Join(d.Dir, "tls")
	if err := os.Mkdir(dir, 0o755); err != nil {
		return err
	}
	d.CAFile = filepath.Join(dir, "ca.pem")
	for name, b := range map[string][]byte{"cert.pem": leaf.CertPEM, "key.pem": leaf.KeyPEM, "ca.pem": d.opts.ca.PEM} {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
			return err
		}
	}
	return os.Chmod(d.CAFile, 0o644)
}

func (c *dovecotConfig) configureOptions(o dovecotOptions) {
	c.TLS = o.ca != nil
	if o.relay != "" {
		c.Submission = true
		c.RelayHost, c.RelayPort, _ = net.SplitHostPort(o.relay)
	}
	c.OAuth2 = o.oauth2 != ""
}

// dialIMAP connects the helpers' own sessions: over implicit TLS, trusting
// the test's CA, when the server requires TLS.
func (d *DovecotServer) dialIMAP() (*imapclient.Client, error) {
	if d.opts.ca == nil {
		return imapclient.DialInsecure(d.Addr, nil)
	}
	return imapclient.DialTLS(d.TLSAddr, &imapclient.Options{
		TLSConfig: &tls.Config{RootCAs: d.opts.ca.Pool(), ServerName: d.opts.names[0]},
	})
}
