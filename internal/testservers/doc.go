// Package testservers starts real servers for integration tests: Redis,
// Dovecot (IMAP), Mailpit (SMTP sink with an HTTP API), a fault-injecting TCP
// proxy, and finds Chromium.
//
// Dovecot takes options for what a real provider has: DovecotTLS requires
// TLS (`ssl = required`, STARTTLS on Addr, implicit TLS on TLSAddr) with a
// certificate from a CA the test makes with package testcert, whose PEM is
// in CAFile for a tls_ca_file setting; DovecotSubmission adds Dovecot's
// SMTP submission service (SubmissionAddr, and SubmissionTLSAddr with TLS),
// which logs in through the same passdb and relays to the test's SMTP
// server (Mailpit or smtptest); DovecotOAuth2 makes it take OAuth2 bearer
// tokens (XOAUTH2, OAUTHBEARER), checked at the test's introspection URL.
// With TLS the server listens on 127.0.0.2, since Dovecot lets a client
// from its own address log in without TLS:
//
//	ca := testcert.NewCA(t, "Test CA")
//	mp := testservers.Mailpit(t)
//	d := testservers.Dovecot(t, testservers.DovecotTLS(ca), testservers.DovecotSubmission(mp.SMTPAddr()))
//	// IMAP: d.Addr (STARTTLS) or d.TLSAddr; SMTP: d.SubmissionAddr (STARTTLS) or
//	// d.SubmissionTLSAddr; trust d.CAFile (or ca.Pool()); log in as d.User, d.Password.
//
// Every helper takes a testing.TB, registers its own cleanup and keeps no
// package state, so tests that use it may call t.Parallel. Each server gets
// free 127.0.0.1 ports and its own directory.
//
// A missing binary is a failure, never a skip: CI must not pass by skipping
// the integration tests. The failure says to run `make deps`
// (scripts/deps.sh), which installs everything these helpers need.
//
// Helpers that can fail call tb.Fatalf, so call them from the test goroutine.
package testservers
