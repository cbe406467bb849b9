// Package config loads the program's settings: a YAML file
// (config/outreach.example.yaml documents every one), then OUTREACH_...
// environment variables, which take precedence. Secrets are of type Secret,
// which never prints its value.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"github.com/outreach-campaign/outreach/internal/keyring"
	"io"
	"net/mail"
	"net/netip"
	"net/url"
	"os"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/outreach-campaign/outreach/internal/plaintext"
)

// Config is every setting of the program.
type Config struct {
	Store        Store        `yaml:"store"`
	Redis        Redis        `yaml:"redis"`
	SMTP         SMTP         `yaml:"smtp"`
	IMAP         IMAP         `yaml:"imap"`
	Organisation Organisation `yaml:"organisation"`
	Letters      Letters      `yaml:"letters"`
	Sending      Sending      `yaml:"sending"`
	Web          Web          `yaml:"web"`
	Supporters   Supporters   `yaml:"supporters"`
	Replies      Replies      `yaml:"replies"`
	OAuth        OAuth        `yaml:"oauth"`
	DKIM         DKIM         `yaml:"dkim"`
}

// DKIM signs outgoing mail, for a relay that does not sign it. All three
// settings, or none.
type DKIM struct {
	// Domain is the signing domain (d=), usually the organisation's.
	Domain string `yaml:"domain"`
	// Selector names the key: its public half is published in DNS at
	// SELECTOR._domainkey.DOMAIN (outreach dkim keygen prints the record).
	Selector string `yaml:"selector"`
	// PrivateKeyFile is the PEM private key, RSA (2048 bits or more) or
	// Ed25519.
	PrivateKeyFile string `yaml:"private_key_file"`
}

// On says whether mail is signed.
func (d DKIM) On() bool { return d.Domain != "" || d.Selector != "" || d.PrivateKeyFile != "" }

func (d DKIM) validate() error {
	if !d.On() {
		return nil
	}
	for _, f := range []struct{ name, value string }{
		{"domain", d.Domain}, {"selector", d.Selector}, {"private_key_file", d.PrivateKeyFile},
	} {
		if strings.TrimSpace(f.value) == "" {
			return fmt.Errorf("dkim.%s: missing (dkim.domain, dkim.selector and dkim.private_key_file go together)", f.name)
		}
	}
	if strings.ContainsAny(d.Domain, " ;\r\n") || !strings.Contains(d.Domain, ".") {
		return fmt.Errorf("dkim.domain: %q is not a domain name", d.Domain)
	}
	if strings.ContainsAny(d.Selector, " ;.\r\n") {
		return fmt.Errorf("dkim.selector: %q is not a selector (letters, digits, -)", d.Selector)
	}
	return nil
}

// Store says where the campaign's data is kept.
type Store struct {
	// Path is the SQLite database file.
	Path string `yaml:"path"`
}

// Redis is the server the queues live in.
type Redis struct {
	Addr     string `yaml:"addr"`
	Password Secret `yaml:"password"`
	DB       int    `yaml:"db"`
}

// TLS modes for SMTP and IMAP connections.
const (
	TLSStartTLS = "starttls" // plain connection upgraded with STARTTLS, which is required
	TLSImplicit = "tls"      // TLS from the first byte (SMTPS port 465, IMAPS 993)
	TLSNone     = "none"     // no TLS: only for a server on this machine, unless allow_plaintext
)

// defaultTLS is the TLS mode of a server whose settings name none: none
// for one on this machine (Mailpit and Dovecot of "make run"), STARTTLS
// for any other, so that no password leaves the machine in clear.
func defaultTLS(mode, host string) string {
	switch {
	case mode != "":
		return mode
	case plaintext.Local(host):
		return TLSNone
	}
	return TLSStartTLS
}

// SMTP is the server letters are sent through.
type SMTP struct {
	Host     string        `yaml:"host"`
	Port     int           `yaml:"port"`
	TLS      string        `yaml:"tls"`
	Username string        `yaml:"username"`
	Password Secret        `yaml:"password"`
	Timeout  time.Duration `yaml:"timeout"`
	// AllowPlaintext permits tls: none to a host that is not this machine
	// (a relay on a private network): letters and the password then
	// travel in clear.
	AllowPlaintext bool `yaml:"allow_plaintext"`
	// TLSCAFile, when set, is a PEM file of the private CA the server's
	// certificate must chain to, instead of the system's roots;
	// TLSServerName, when set, the name it must hold instead of Host.
	TLSCAFile     string `yaml:"tls_ca_file"`
	TLSServerName string `yaml:"tls_server_name"`
	// Auth is how to log in: password, xoauth2 or oauthbearer (OAuth2,
	// after `outreach auth login`).
	Auth string `yaml:"auth"`
}

// IMAP is the campaign mailbox replies arrive in. An empty Host turns the
// poller off.
type IMAP struct {
	Host     string `yaml:"host"`
	Port     int    `yaml:"port"`
	TLS      string `yaml:"tls"`
	Username string `yaml:"username"`
	Password Secret `yaml:"password"`
	Folder   string `yaml:"folder"`
	// Idle waits for new mail with IDLE when the server offers it; false
	// always polls.
	Idle bool `yaml:"idle"`
	// PollInterval is how often the mailbox is looked at when polling, and
	// how often IDLE is interrupted to look anyway (a server does not
	// report everything to an idling client, such as a recreated mailbox).
	PollInterval time.Duration `yaml:"poll_interval"`
	// Timeout bounds connecting to the server.
	Timeout time.Duration `yaml:"timeout"`
	// ReconnectMax caps the wait between attempts to reconnect, which
	// starts at a second and doubles.
	ReconnectMax time.Duration `yaml:"reconnect_max"`
	// MaxMessageBytes is the size above which only a message's header is
	// fetched and kept; the message is recorded as oversized.
	MaxMessageBytes int `yaml:"max_message_bytes"`
	// MessageDeadline bounds the time reading one message (parsing,
	// classifying, matching) may take; past it the message is kept as
	// unreadable, for staff, and the poller goes on.
	MessageDeadline time.Duration `yaml:"message_deadline"`
	// MoveTo, when set, is the folder processed mail is moved to (created
	// when missing); Keyword, when set, is an IMAP keyword set on it.
	// Mail is never deleted.
	MoveTo  string `yaml:"move_to"`
	Keyword string `yaml:"keyword"`
	// TrustedAuthServID is the authserv-id the mailbox's own server writes
	// in the Authentication-Results it adds (RFC 8601): its DMARC failures
	// send even a signed reply to review. Empty: such fields are ignored.
	TrustedAuthServID string `yaml:"trusted_authserv_id"`
	// AllowPlaintext permits tls: none to a host that is not this machine:
	// the password and the mail then travel in clear.
	AllowPlaintext bool `yaml:"allow_plaintext"`
	// TLSCAFile, when set, is a PEM file of the private CA the server's
	// certificate must chain to, instead of the system's roots;
	// TLSServerName, when set, the name it must hold instead of Host.
	TLSCAFile     string `yaml:"tls_ca_file"`
	TLSServerName string `yaml:"tls_server_name"`
	// Auth is how to log in: password, xoauth2 or oauthbearer.
	Auth string `yaml:"auth"`
}

// Replies holds how replies are matched to letters.
type Replies struct {
	// ConfirmThreshold is the confidence (0 to 1) at or above which a
	// reply's match to its letter is confirmed without staff; below it
	// the reply waits for review.
	ConfirmThreshold float64 `yaml:"confirm_threshold"`
}

// Organisation is who the letters come from.
type Organisation struct {
	Name    string `yaml:"name"`
	Address string `yaml:"address"`
	Website string `yaml:"website"`
}

// Letters holds how letters are written and signed.
type Letters struct {
	// TemplatesDir, when set, holds template files that replace the
	// built-in ones of the same name.
	TemplatesDir string `yaml:"templates_dir"`
	// ReplyTo is the Reply-To address of letters; empty for none.
	ReplyTo string `yaml:"reply_to"`
	// ReplyToken puts the letter's signed token in ReplyTo as a
	// plus-address (replies+TOKEN@domain).
	ReplyToken bool `yaml:"reply_token"`
	// Secret keys the HMAC in Message-IDs and reply tokens. Empty: one is
	// generated and kept in the store.
	Secret Secret `yaml:"secret"`
	// PreviousSecrets, separated by commas, are secrets that signed
	// letters before Secret replaced them: replies to those letters still
	// verify.
	PreviousSecrets Secret `yaml:"previous_secrets"`
	// MessageIDDomain ends every Message-ID; empty: the domain of the
	// organisation's address.
	MessageIDDomain string `yaml:"message_id_domain"`
}

// Sending holds how workers send and how fast.
type Sending struct {
	// Concurrency is how many letters one worker sends at once, each on an
	// SMTP connection of its own.
	Concurrency int `yaml:"concurrency"`
	// MaxRetries is how many times a letter is retried after a temporary
	// failure (4xx reply, network error) before it is marked failed.
	MaxRetries int `yaml:"max_retries"`
	// RetryDelay is the wait before the first retry; it doubles with each
	// retry up to RetryMaxDelay.
	RetryDelay    time.Duration `yaml:"retry_delay"`
	RetryMaxDelay time.Duration `yaml:"retry_max_delay"`
	// PerMinute caps the letters sent per minute by all workers together;
	// PerDomainPerMinute caps those to one recipient domain. 0: no cap.
	PerMinute          int `yaml:"per_minute"`
	PerDomainPerMinute int `yaml:"per_domain_per_minute"`
	// ShutdownTimeout is how long a stopping worker lets letters in flight
	// finish before handing the rest back to the queue.
	ShutdownTimeout time.Duration `yaml:"shutdown_timeout"`
	// SchedulerInterval is how often the scheduler looks for letters to
	// queue (and for letters Redis lost).
	SchedulerInterval time.Duration `yaml:"scheduler_interval"`
}

// Web is the HTTP server of `outreach serve`: the supporters' pages and
// the JSON API.
type Web struct {
	// Listen is the address the server listens on (host:port).
	Listen string `yaml:"listen"`
	// BaseURL is where people reach the server, as links in mails name it
	// (https://act.example.org behind a proxy).
	BaseURL string `yaml:"base_url"`
	// Secret keys the links in confirmation mails and the forms' CSRF
	// tokens. Empty: one is generated and kept in the store.
	Secret Secret `yaml:"secret"`
	// PreviousSecrets, separated by commas, are secrets that signed links
	// in confirmation mails before Secret replaced them: those links still
	// work.
	PreviousSecrets Secret `yaml:"previous_secrets"`
	// RealIPHeader names the header a reverse proxy puts the client's
	// address in (X-Forwarded-For, X-Real-IP); empty: the connection's
	// address. It is believed only from TrustedProxies.
	RealIPHeader string `yaml:"real_ip_header"`
	// TrustedProxies are the reverse proxies (CIDRs such as 10.0.0.0/8, or
	// single addresses) whose RealIPHeader is believed; the client is the
	// right-most address in it that is not one of them.
	TrustedProxies []string `yaml:"trusted_proxies"`
}

// TrustedProxyPrefixes are TrustedProxies as prefixes, a single address
// as its own /32 or /128. Entries that do not parse (Validate refuses
// them) are left out.
func (w Web) TrustedProxyPrefixes() []netip.Prefix {
	var out []netip.Prefix
	for _, s := range w.TrustedProxies {
		if p, err := parsePrefix(s); err == nil {
			out = append(out, p)
		}
	}
	return out
}

func parsePrefix(s string) (netip.Prefix, error) {
	s = strings.TrimSpace(s)
	if a, err := netip.ParseAddr(s); err == nil {
		return netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()), nil
	}
	p, err := netip.ParsePrefix(s)
	if err != nil {
		return p, err
	}
	return p.Masked(), nil
}

// Supporters holds how supporters' letters are taken, verified and
// delivered.
type Supporters struct {
	// ConfirmWithin is how long a supporter has to confirm their address;
	// an unconfirmed letter is then deleted.
	ConfirmWithin time.Duration `yaml:"confirm_within"`
	// KeepFor is how long a supporter's personal data is kept after their
	// letter is delivered; it is then erased and only counted.
	KeepFor time.Duration `yaml:"keep_for"`
	// MessageMax is the longest personal message, in characters.
	MessageMax int `yaml:"message_max"`
	// PerIPPerHour and PerEmailPerDay bound the letters signed from one IP
	// address and for one e-mail address (kept in Redis); 0: no limit.
	PerIPPerHour   int `yaml:"per_ip_per_hour"`
	PerEmailPerDay int `yaml:"per_email_per_day"`
	// ConfirmationsPerHour and ConfirmationsPerDomainPerHour cap the
	// signings, each a confirmation mail, taken in an hour in all and for
	// one recipient domain; 0: no cap.
	ConfirmationsPerHour          int `yaml:"confirmations_per_hour"`
	ConfirmationsPerDomainPerHour int `yaml:"confirmations_per_domain_per_hour"`
	// ConfirmationsPerMinute is the confirmation mails' sending rate,
	// kept apart from sending.per_minute so that signings never take the
	// letters' slots; 0: no limit.
	ConfirmationsPerMinute int `yaml:"confirmations_per_minute"`
	// Mode is the delivery of campaigns that have none of their own:
	// individual or digest.
	Mode string `yaml:"mode"`
	// DailyCap is the most individual letters an office gets in a day.
	DailyCap int `yaml:"daily_cap"`
	// WorkingHours are the offices' hours (Monday to Friday, in each
	// office's time zone) within which letters arrive.
	WorkingHours string `yaml:"working_hours"`
	// DigestPeriod is how often a digest goes: day or week.
	DigestPeriod string `yaml:"digest_period"`
	// BatchInterval is how often the scheduler batches confirmed letters.
	BatchInterval time.Duration `yaml:"batch_interval"`
}

// Default returns the settings used where neither the file nor the
// environment says otherwise: everything on this machine, for trying the
// program out.
func Default() Config {
	return Config{
		Store: Store{Path: "var/outreach.db"},
		Redis: Redis{Addr: "127.0.0.1:6379"},
		SMTP:  SMTP{Host: "127.0.0.1", Port: 1025, TLS: TLSNone, Timeout: 30 * time.Second, Auth: AuthPassword},
		IMAP: IMAP{Host: "127.0.0.1", Port: 10143, TLS: TLSNone, Username: "campaign", Folder: "INBOX",
			Idle: true, PollInterval: time.Minute, Timeout: 30 * time.Second, ReconnectMax: 5 * time.Minute,
			MaxMessageBytes: 10 << 20, MessageDeadline: 10 * time.Second, Auth: AuthPassword},
		Organisation: Organisation{
			Name:    "Sister City Campaign",
			Address: "campaign@outreach.example",
		},
		Letters: Letters{ReplyTo: "replies@outreach.example", ReplyToken: true},
		Sending: Sending{
			Concurrency: 4, MaxRetries: 10, RetryDelay: 30 * time.Second, RetryMaxDelay: time.Hour,
			PerMinute: 60, PerDomainPerMinute: 10, ShutdownTimeout: time.Minute, SchedulerInterval: 10 * time.Second,
		},
		Web: Web{Listen: "127.0.0.1:8080", BaseURL: "http://127.0.0.1:8080", TrustedProxies: []string{}},
		Supporters: Supporters{
			ConfirmWithin: 72 * time.Hour, KeepFor: 90 * 24 * time.Hour, MessageMax: 2000,
			PerIPPerHour: 20, PerEmailPerDay: 5, ConfirmationsPerHour: 1000, ConfirmationsPerDomainPerHour: 300,
			ConfirmationsPerMinute: 30, Mode: "individual", DailyCap: 20,
			WorkingHours: "09:00-17:00", DigestPeriod: "day", BatchInterval: time.Minute,
		},
		Replies: Replies{ConfirmThreshold: 0.85},
		OAuth:   OAuth{Scopes: []string{}},
	}
}

// EnvPrefix starts every environment variable that overrides a setting:
// OUTREACH_SMTP_HOST overrides smtp.host.
const EnvPrefix = "OUTREACH_"

// Load reads the YAML file at path over the defaults (an empty path reads
// no file), then applies the environment given as KEY=VALUE pairs (as from
// os.Environ), then checks the result.
func Load(path string, environ []string) (Config, error) {
	cfg := Default()
	// The TLS default depends on the host, which the file and the
	// environment may change: it is filled in once both are read.
	cfg.SMTP.TLS, cfg.IMAP.TLS = "", ""
	if path != "" {
		b, err := os.ReadFile(path)
		if err != nil {
			return cfg, fmt.Errorf("config: %w", err)
		}
		dec := yaml.NewDecoder(bytes.NewReader(b))
		dec.KnownFields(true) // a misspelt setting is an error, not ignored
		if err := dec.Decode(&cfg); err != nil && !errors.Is(err, io.EOF) {
			return cfg, fmt.Errorf("config: %s: %w", path, err)
		}
	}
	if err := applyEnv(&cfg, environ); err != nil {
		return cfg, err
	}
	cfg.SMTP.TLS = defaultTLS(cfg.SMTP.TLS, cfg.SMTP.Host)
	cfg.IMAP.TLS = defaultTLS(cfg.IMAP.TLS, cfg.IMAP.Host)
	if err := cfg.Validate(); err != nil {
		if path != "" {
			return cfg, fmt.Errorf("config: %s: %w", path, err)
		}
		return cfg, fmt.Errorf("config: %w", err)
	}
	return cfg, nil
}

// Validate checks the settings that must hold for any command.
func (c Config) Validate() error {
	if c.Store.Path == "" {
		return errors.New("store.path: missing")
	}
	if err := plainAddress("organisation.address", c.Organisation.Address); err != nil {
		return err
	}
	if strings.ContainsAny(c.Organisation.Name, "\r\n") {
		return errors.New("organisation.name: line breaks are not allowed")
	}
	if c.Letters.ReplyTo != "" {
		if err := plainAddress("letters.reply_to", c.Letters.ReplyTo); err != nil {
			return err
		}
	}
	for _, m := range []struct{ name, mode string }{{"smtp.tls", c.SMTP.TLS}, {"imap.tls", c.IMAP.TLS}} {
		switch m.mode {
		case TLSStartTLS, TLSImplicit, TLSNone:
		default:
			return fmt.Errorf("%s: %q is not one of starttls, tls, none", m.name, m.mode)
		}
	}
	if c.SMTP.Port <= 0 || c.SMTP.Port > 65535 {
		return fmt.Errorf("smtp.port: %d is not a port", c.SMTP.Port)
	}
	if err := validateTLSVerify("smtp", c.SMTP.TLS, c.SMTP.TLSCAFile, c.SMTP.TLSServerName); err != nil {
		return err
	}
	if c.SMTP.TLS == TLSNone && plaintext.Check(c.SMTP.Host, c.SMTP.AllowPlaintext) != nil {
		return fmt.Errorf("smtp.tls: none would send letters (and any password) in clear to %s, which is not this machine: "+
			"use starttls or tls, or set smtp.allow_plaintext: true for a relay on a private network", c.SMTP.Host)
	}
	if c.Sending.Concurrency < 1 {
		return fmt.Errorf("sending.concurrency: %d: at least 1", c.Sending.Concurrency)
	}
	if c.Sending.MaxRetries < 0 || c.Sending.PerMinute < 0 || c.Sending.PerDomainPerMinute < 0 {
		return errors.New("sending: max_retries, per_minute and per_domain_per_minute cannot be negative")
	}
	if c.Sending.RetryDelay <= 0 || c.Sending.RetryMaxDelay < c.Sending.RetryDelay {
		return errors.New("sending: retry_delay must be positive and retry_max_delay at least as long")
	}
	if s := c.Letters.Secret.Value(); s != "" && len(s) < 16 {
		return errors.New("letters.secret: must be at least 16 characters")
	}
	for i, s := range keyring.SplitSecrets(c.Letters.PreviousSecrets.Value()) {
		if len(s) < keyring.MinSecret {
			return fmt.Errorf("letters.previous_secrets: secret %d is shorter than %d characters", i+1, keyring.MinSecret)
		}
	}
	if err := c.IMAP.validate(); err != nil {
		return err
	}
	if err := c.validateOAuth(); err != nil {
		return err
	}
	if err := c.DKIM.validate(); err != nil {
		return err
	}
	if t := c.Replies.ConfirmThreshold; !(t > 0 && t <= 1) {
		return fmt.Errorf("replies.confirm_threshold: %v is not above 0 and at most 1", t)
	}
	return c.validateSupporters()
}

// imapKeywordRE is an IMAP keyword: an atom, not a system flag.
var imapKeywordRE = regexp.MustCompile(`^[A-Za-z0-9_$.+-]{1,64}$`)

func (m IMAP) validate() error {
	if m.Host == "" {
		return nil // no poller
	}
	switch {
	case m.Port <= 0 || m.Port > 65535:
		return fmt.Errorf("imap.port: %d is not a port", m.Port)
	case strings.TrimSpace(m.Folder) == "" || strings.ContainsAny(m.Folder, "\r\n"):
		return fmt.Errorf("imap.folder: %q is not a folder name", m.Folder)
	case strings.ContainsAny(m.MoveTo, "\r\n") || m.MoveTo != "" && strings.EqualFold(m.MoveTo, m.Folder):
		return fmt.Errorf("imap.move_to: %q is not another folder", m.MoveTo)
	case m.Keyword != "" && !imapKeywordRE.MatchString(m.Keyword):
		return fmt.Errorf("imap.keyword: %q is not an IMAP keyword (letters, digits, _ $ . + -)", m.Keyword)
	case m.PollInterval <= 0 || m.Timeout <= 0 || m.ReconnectMax <= 0:
		return errors.New("imap: poll_interval, timeout and reconnect_max must be positive")
	case m.MessageDeadline <= 0:
		return fmt.Errorf("imap.message_deadline: %s is not a positive duration", m.MessageDeadline)
	case m.MaxMessageBytes < 1024:
		return fmt.Errorf("imap.max_message_bytes: %d is less than 1024", m.MaxMessageBytes)
	case m.TLS == TLSNone && plaintext.Check(m.Host, m.AllowPlaintext) != nil:
		return fmt.Errorf("imap.tls: none would send the mailbox's password and mail in clear to %s, which is not this machine: "+
			"use starttls or tls, or set imap.allow_plaintext: true for a server on a private network", m.Host)
	case strings.ContainsAny(m.TrustedAuthServID, " \t\r\n;"):
		return fmt.Errorf("imap.trusted_authserv_id: %q is not an authserv-id (a host name such as mx.example.org)", m.TrustedAuthServID)
	}
	return validateTLSVerify("imap", m.TLS, m.TLSCAFile, m.TLSServerName)
}

func (c Config) validateSupporters() error {
	if u, err := url.Parse(c.Web.BaseURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("web.base_url: %q is not an http(s) URL", c.Web.BaseURL)
	}
	if s := c.Web.Secret.Value(); s != "" && len(s) < 16 {
		return errors.New("web.secret: must be at least 16 characters")
	}
	for i, s := range keyring.SplitSecrets(c.Web.PreviousSecrets.Value()) {
		if len(s) < keyring.MinSecret {
			return fmt.Errorf("web.previous_secrets: secret %d is shorter than %d characters", i+1, keyring.MinSecret)
		}
	}
	for i, s := range c.Web.TrustedProxies {
		if _, err := parsePrefix(s); err != nil {
			return fmt.Errorf("web.trusted_proxies: entry %d: %q is not a CIDR such as 10.0.0.0/8 or an IP address", i+1, s)
		}
	}
	if c.Web.RealIPHeader != "" && len(c.Web.TrustedProxies) == 0 {
		return fmt.Errorf("web.real_ip_header: %q is believed only from web.trusted_proxies, which names none: "+
			"list the reverse proxies' addresses, or leave real_ip_header empty", c.Web.RealIPHeader)
	}
	sp := c.Supporters
	if sp.ConfirmWithin <= 0 || sp.KeepFor < 0 || sp.BatchInterval <= 0 {
		return errors.New("supporters: confirm_within and batch_interval must be positive, keep_for not negative")
	}
	if sp.MessageMax < 1 || sp.DailyCap < 1 || sp.PerIPPerHour < 0 || sp.PerEmailPerDay < 0 ||
		sp.ConfirmationsPerHour < 0 || sp.ConfirmationsPerDomainPerHour < 0 || sp.ConfirmationsPerMinute < 0 {
		return errors.New("supporters: message_max and daily_cap must be at least 1, the rate limits and confirmations_* caps not negative")
	}
	if sp.Mode != "individual" && sp.Mode != "digest" {
		return fmt.Errorf("supporters.mode: %q is not individual or digest", sp.Mode)
	}
	if sp.DigestPeriod != "day" && sp.DigestPeriod != "week" {
		return fmt.Errorf("supporters.digest_period: %q is not day or week", sp.DigestPeriod)
	}
	from, to, ok := strings.Cut(sp.WorkingHours, "-")
	a, errA := time.Parse("15:04", from)
	b, errB := time.Parse("15:04", to)
	if !ok || errA != nil || errB != nil || !b.After(a) {
		return fmt.Errorf("supporters.working_hours: %q is not of the form 09:00-17:00", sp.WorkingHours)
	}
	return nil
}

func plainAddress(field, addr string) error {
	a, err := mail.ParseAddress(addr)
	if err != nil || a.Address != addr {
		return fmt.Errorf("%s: %q is not a plain e-mail address", field, addr)
	}
	return nil
}

// MessageIDDomain is the domain that ends Message-IDs.
func (c Config) MessageIDDomain() string {
	if c.Letters.MessageIDDomain != "" {
		return c.Letters.MessageIDDomain
	}
	_, domain, _ := strings.Cut(c.Organisation.Address, "@")
	return domain
}

// applyEnv sets every field named by an OUTREACH_SECTION_FIELD variable.
func applyEnv(cfg *Config, environ []string) error {
	env := map[string]string{}
	for _, kv := range environ {
		if k, v, ok := strings.Cut(kv, "="); ok && strings.HasPrefix(k, EnvPrefix) {
			env[k] = v
		}
	}
	var errs []error
	walk(reflect.ValueOf(cfg).Elem(), nil, func(path []string, f reflect.Value) {
		name := EnvName(path)
		v, ok := env[name]
		if !ok {
			return
		}
		if err := setField(f, v); err != nil {
			errs = append(errs, fmt.Errorf("config: %s: %w", name, err))
		}
	})
	return errors.Join(errs...)
}

// EnvName is the environment variable that overrides the setting at path
// (its YAML keys).
func EnvName(path []string) string {
	return EnvPrefix + strings.ToUpper(strings.Join(path, "_"))
}

// Settings lists every setting's YAML path, for documentation and tests.
func Settings() [][]string {
	var out [][]string
	cfg := Default()
	walk(reflect.ValueOf(&cfg).Elem(), nil, func(path []string, _ reflect.Value) {
		out = append(out, append([]string(nil), path...))
	})
	return out
}

// walk calls fn for every leaf field of a struct, with its YAML path.
func walk(v reflect.Value, path []string, fn func([]string, reflect.Value)) {
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		sf := t.Field(i)
		key, _, _ := strings.Cut(sf.Tag.Get("yaml"), ",")
		if key == "" || key == "-" {
			continue
		}
		p := append(path[:len(path):len(path)], key)
		if f := v.Field(i); f.Kind() == reflect.Struct {
			walk(f, p, fn)
		} else {
			fn(p, f)
		}
	}
}

var durationType = reflect.TypeOf(time.Duration(0))

func setField(f reflect.Value, s string) error {
	switch {
	case f.Type() == durationType:
		d, err := time.ParseDuration(s)
		if err != nil {
			return fmt.Errorf("%q is not a duration such as 30s or 5m", s)
		}
		f.SetInt(int64(d))
	case f.Kind() == reflect.String:
		f.SetString(s)
	case f.Kind() == reflect.Int:
		n, err := strconv.Atoi(s)
		if err != nil {
			return fmt.Errorf("%q is not a whole number", s)
		}
		f.SetInt(int64(n))
	case f.Kind() == reflect.Float64:
		n, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return fmt.Errorf("%q is not a number", s)
		}
		f.SetFloat(n)
	case f.Kind() == reflect.Bool:
		b, err := strconv.ParseBool(s)
		if err != nil {
			return fmt.Errorf("%q is not true or false", s)
		}
		f.SetBool(b)
	case f.Kind() == reflect.Slice && f.Type().Elem().Kind() == reflect.String:
		var items []string
		for _, it := range strings.Split(s, ",") {
			if it = strings.TrimSpace(it); it != "" {
				items = append(items, it)
			}
		}
		f.Set(reflect.ValueOf(items).Convert(f.Type()))
	default:
		return fmt.Errorf("cannot set a %s from the environment", f.Type())
	}
	return nil
}

// Dump writes the settings as YAML with every secret replaced by a mark,
// so that it can be shown or logged.
func (c Config) Dump(w io.Writer) error {
	b, err := yaml.Marshal(c)
	if err != nil {
		return fmt.Errorf("config: %w", err)
	}
	_, err = w.Write(b)
	return err
}

// Keys returns the names of the environment variables that override
// settings, sorted.
func Keys() []string {
	var out []string
	for _, p := range Settings() {
		out = append(out, EnvName(p))
	}
	sort.Strings(out)
	return out
}
