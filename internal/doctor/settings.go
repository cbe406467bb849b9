package doctor

import (
	"strings"

	"github.com/outreach-campaign/outreach/internal/config"
	"github.com/outreach-campaign/outreach/internal/plaintext"
)

// exampleSecrets are passwords published with the program: the trial
// mailbox's of `make run` (README, scripts/dev-services.sh). Anyone may
// know them, so a server that is not this machine must not take them.
var exampleSecrets = []string{"campaign-dev"}

// Settings checks the settings: that they loaded (loadErr is Load's
// error, which names the setting at fault), that what sending and reading
// replies need is there, and that nothing meant for a real server is the
// example's: an address under a reserved example domain, or a published
// password. On this machine (make run's services) the example values are
// what they are for.
func Settings(cfg config.Config, loadErr error) Result {
	if loadErr != nil {
		return failed("correct the setting named, in the settings file or its OUTREACH_... variable "+
			"(config/outreach.example.yaml documents each)", "%v", loadErr)
	}
	var problems, fixes []string
	bad := func(problem, fix string) {
		problems = append(problems, problem)
		fixes = append(fixes, fix)
	}
	realSMTP := !plaintext.Local(cfg.SMTP.Host)
	if cfg.SMTP.Host == "" {
		bad("smtp.host is empty", "set smtp.host (OUTREACH_SMTP_HOST) to the organisation's SMTP server")
	}
	if realSMTP {
		for _, a := range []struct{ name, env, addr string }{
			{"organisation.address", "OUTREACH_ORGANISATION_ADDRESS", cfg.Organisation.Address},
			{"letters.reply_to", "OUTREACH_LETTERS_REPLY_TO", cfg.Letters.ReplyTo},
		} {
			if exampleDomain(a.addr) {
				bad(a.name+" "+a.addr+" is under a reserved example domain, which nobody receives mail for",
					"set "+a.name+" ("+a.env+") to the campaign's own address")
			}
		}
	}
	if cfg.SMTP.Username != "" && cfg.SMTP.Password.Value() == "" {
		bad("smtp.username is set but smtp.password is empty", "set smtp.password (OUTREACH_SMTP_PASSWORD)")
	}
	if realSMTP && isExampleSecret(cfg.SMTP.Password.Value()) {
		bad("smtp.password is the published trial password", "set smtp.password (OUTREACH_SMTP_PASSWORD) to the account's own")
	}
	if cfg.IMAP.Host != "" {
		if cfg.IMAP.Password.Value() == "" {
			bad("imap.password is empty", "set imap.password (OUTREACH_IMAP_PASSWORD) to the campaign mailbox's password")
		} else if !plaintext.Local(cfg.IMAP.Host) && isExampleSecret(cfg.IMAP.Password.Value()) {
			bad("imap.password is the published trial password", "set imap.password (OUTREACH_IMAP_PASSWORD) to the mailbox's own")
		}
	}
	if len(problems) > 0 {
		return failed(strings.Join(fixes, "; "), "%s", strings.Join(problems, "; "))
	}
	replies := "replies are not read (imap.host is empty: the poller is off)"
	if cfg.IMAP.Host != "" {
		replies = "replies read from " + cfg.IMAP.Folder + " at " + cfg.IMAP.Host + " (" + cfg.IMAP.TLS + ") as " + cfg.IMAP.Username
	}
	return ok("letters from %s through %s (%s); %s", cfg.Organisation.Address, cfg.SMTP.Host, cfg.SMTP.TLS, replies)
}

// exampleDomain reports whether addr is under a domain RFC 2606 reserves
// for examples: .example, .invalid, .test, example.com/.net/.org.
func exampleDomain(addr string) bool {
	_, domain, _ := strings.Cut(strings.ToLower(addr), "@")
	domain = strings.TrimSuffix(domain, ".")
	for _, tld := range []string{".example", ".invalid", ".test", ".localhost"} {
		if strings.HasSuffix(domain, tld) {
			return true
		}
	}
	for _, d := range []string{"example.com", "example.net", "example.org"} {
		if domain == d || strings.HasSuffix(domain, "."+d) {
			return true
		}
	}
	return false
}

func isExampleSecret(s string) bool {
	for _, e := range exampleSecrets {
		if s == e {
			return true
		}
	}
	return false
}
