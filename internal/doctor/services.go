package doctor

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/outreach-campaign/outreach/internal/inbox"
	"github.com/outreach-campaign/outreach/internal/mailer"
	"github.com/outreach-campaign/outreach/internal/store"
)

// Redis checks that the server the queues live in answers PING.
func Redis(ctx context.Context, opt *redis.Options) Result {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	rdb := redis.NewClient(opt)
	defer rdb.Close()
	if err := rdb.Ping(ctx).Err(); err != nil {
		msg := err.Error()
		if strings.Contains(msg, "NOAUTH") || strings.Contains(msg, "WRONGPASS") || strings.Contains(msg, "invalid password") {
			return failed("set redis.password (OUTREACH_REDIS_PASSWORD) to the server's password",
				"%s refused the password: %v", opt.Addr, err)
		}
		return failed("start Redis at "+opt.Addr+", or set redis.addr (OUTREACH_REDIS_ADDR) to where it runs",
			"no answer from %s: %v", opt.Addr, err)
	}
	return ok("%s answers (database %d)", opt.Addr, opt.DB)
}

// Store checks that the store at path opens, with every migration applied
// (as any command would apply them), and takes writes.
func Store(ctx context.Context, path string) Result {
	h, err := store.CheckSQLite(ctx, path)
	switch {
	case errors.Is(err, store.ErrNoDatabase):
		return failed("set store.path (OUTREACH_STORE_PATH) to the campaign's database, or create it with "+
			"\"outreach import cities config/sister-cities.csv\" and \"outreach import contacts FILE\"",
			"%s does not exist", path)
	case err != nil:
		return failed("store.path ("+path+") must name the campaign's SQLite database, readable and writable by this user; "+
			"restore it from a backup if it is damaged", "%v", err)
	}
	if len(h.Migrated) > 0 {
		return ok("%s opens and takes writes; migrations %s applied now, schema at %s", path, strings.Join(h.Migrated, ", "), h.Version)
	}
	return ok("%s opens and takes writes; schema at %s", path, h.Version)
}

// SMTP checks that the SMTP server answers, negotiates TLS as configured
// and takes the credentials, in one session that sends nothing. The report
// tells the round trip what server answered.
func SMTP(ctx context.Context, cfg mailer.Config) (Result, mailer.Report) {
	m, err := mailer.New(cfg)
	if err != nil {
		return failed("check the smtp settings", "%v", err), mailer.Report{}
	}
	defer m.Close()
	rep, err := m.Check(ctx)
	addr := net.JoinHostPort(cfg.Host, fmt.Sprint(portOr(cfg.Port)))
	var ce *mailer.CheckError
	if errors.As(err, &ce) {
		switch ce.Step {
		case mailer.CheckConnect:
			return failed("check smtp.host and smtp.port (OUTREACH_SMTP_HOST, OUTREACH_SMTP_PORT): "+
				"usually 587 with smtp.tls starttls, 465 with tls", "no SMTP server answers at %s: %v", addr, ce.Err), rep
		case mailer.CheckTLS:
			return failed(tlsFix("smtp", cfg.TLS, ce.Err), "%s: TLS (%s) failed: %v", addr, cfg.TLS, ce.Err), rep
		case mailer.CheckAuth:
			return failed("check smtp.username and smtp.password (OUTREACH_SMTP_USERNAME, OUTREACH_SMTP_PASSWORD); "+
				"some providers want an app password or OAuth2 instead of the account's password",
				"%s refused the login as %s: %v", addr, cfg.Username, ce.Err), rep
		}
	}
	if err != nil {
		return failed("check the smtp settings", "%s: %v", addr, err), rep
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s answers", addr)
	if rep.TLS != "" {
		fmt.Fprintf(&b, ", %s (%s)", cfg.TLS, rep.TLS)
	} else {
		b.WriteString(", without TLS (this machine)")
	}
	if rep.Authenticated {
		fmt.Fprintf(&b, ", logged in as %s", cfg.Username)
	} else {
		b.WriteString(", no login (smtp.username is empty)")
	}
	fmt.Fprintf(&b, "; greeting %q", rep.Greeting)
	return ok("%s", b.String()), rep
}

func portOr(p int) int {
	if p == 0 {
		return 587
	}
	return p
}

// IMAP checks that the campaign mailbox answers, negotiates TLS as
// configured, takes the credentials, and has the folder. It changes
// nothing.
func IMAP(ctx context.Context, cfg inbox.Config) Result {
	rep, err := inbox.Check(ctx, cfg)
	var ce *inbox.CheckError
	if errors.As(err, &ce) {
		switch ce.Step {
		case inbox.CheckConnect:
			return failed("check imap.host and imap.port (OUTREACH_IMAP_HOST, OUTREACH_IMAP_PORT): usually 993 with imap.tls tls, "+
				"143 with starttls", "no IMAP server answers at %s: %v", cfg.Addr, ce.Err)
		case inbox.CheckTLS:
			return failed(tlsFix("imap", cfg.TLS, ce.Err), "%s: TLS (%s) failed: %v", cfg.Addr, cfg.TLS, ce.Err)
		case inbox.CheckLogin:
			return failed("check imap.username and imap.password (OUTREACH_IMAP_USERNAME, OUTREACH_IMAP_PASSWORD); "+
				"some providers want an app password or OAuth2 instead of the account's password",
				"%s refused the login as %s: %v", cfg.Addr, cfg.Username, ce.Err)
		case inbox.CheckFolder:
			return failed("set imap.folder (OUTREACH_IMAP_FOLDER) to a folder of the mailbox (INBOX is the usual one)",
				"%s: the folder %q cannot be read: %v", cfg.Addr, cfg.Folder, ce.Err)
		}
	}
	if err != nil {
		return failed("check the imap settings", "%s: %v", cfg.Addr, err)
	}
	tlsNote := cfg.TLS
	if cfg.TLS == inbox.TLSNone {
		tlsNote = "without TLS (this machine)"
	}
	return ok("%s answers, %s, logged in as %s; %s holds %d messages", cfg.Addr, tlsNote, cfg.Username, cfg.Folder, rep.Messages)
}

// tlsFix says what to change when TLS failed, for the section (smtp or
// imap) and mode configured.
func tlsFix(section, mode string, err error) string {
	var unknown x509.UnknownAuthorityError
	var host x509.HostnameError
	var certErr *tls.CertificateVerificationError
	switch {
	case errors.As(err, &host):
		return "the server's certificate is for another name: set " + section + ".host to the name on it, or " +
			section + ".tls_server_name to it when the host is reached by another name"
	case errors.As(err, &unknown) || errors.As(err, &certErr):
		return "the server's certificate is not signed by an authority this machine trusts: use the provider's " +
			"host name, or set " + section + ".tls_ca_file to the organisation's CA (a PEM file)"
	case mode == "starttls":
		return "the server did not upgrade to TLS with STARTTLS: set " + section + ".tls to tls if the port " +
			"speaks TLS from the start (465 for SMTP, 993 for IMAP), or point " + section + ".port at the one that offers STARTTLS " +
			"(none is allowed only for a server on this machine)"
	}
	return "the port does not speak TLS from the start: set " + section + ".tls to starttls if it offers STARTTLS " +
		"(587 for SMTP, 143 for IMAP), or point " + section + ".port at the TLS port"
}
