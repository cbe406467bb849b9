// Package testservers starts real servers for integration tests: Redis,
// Dovecot (IMAP), Mailpit (SMTP sink with an HTTP API), a fault-injecting TCP
// proxy, and finds Chromium.
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
