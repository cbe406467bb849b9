package mailtls

import (
	"crypto/tls"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/outreach-campaign/outreach/internal/testcert"
)

func TestLoadCARefusesAFileWithoutCertificates(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(path, []byte("not a certificate\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := LoadCA(path)
	if err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "no PEM certificate") {
		t.Fatalf("LoadCA(garbage) = %v, want an error naming the file and saying it holds no certificate", err)
	}
	if _, err := LoadCA(filepath.Join(t.TempDir(), "missing.pem")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("LoadCA(missing) = %v, want not exist", err)
	}
}

func TestConfigNamesAndRoots(t *testing.T) {
	ca := testcert.NewCA(t, "Test CA")
	c, err := Config(nil, "[::1]", "", "")
	if err != nil || c.ServerName != "::1" || c.RootCAs != nil || c.MinVersion != tls.VersionTLS12 || c.InsecureSkipVerify {
		t.Fatalf("Config(no file) = %+v, %v; want ServerName ::1, system roots, TLS 1.2, verified", c, err)
	}
	c, err = Config(&tls.Config{ServerName: "base.test"}, "127.0.0.1", ca.WriteFile(t), "mail.test")
	if err != nil || c.ServerName != "mail.test" || c.RootCAs == nil {
		t.Fatalf("Config(file, name) = %+v, %v; want ServerName mail.test and the CA's roots", c, err)
	}
	if !c.RootCAs.Equal(ca.Pool()) {
		t.Fatal("RootCAs is not exactly the CA of the file")
	}
}

// TestExplain checks that a refused certificate names the setting to
// change, through a real handshake with a server that has one.
func TestExplain(t *testing.T) {
	ca := testcert.NewCA(t, "Campaign Private CA")
	leaf := ca.Issue(t, "mail.outreach.test")
	caFile := ca.WriteFile(t)

	for _, tt := range []struct {
		name, caFile, serverName string
		want                     []string // in the error; nil: success
	}{
		{"trusted", caFile, "mail.outreach.test", nil},
		{"unknown CA", "", "mail.outreach.test", []string{"Campaign Private CA", "smtp.tls_ca_file"}},
		{"wrong name", caFile, "", []string{`for mail.outreach.test, not "127.0.0.1"`, "smtp.tls_server_name", "smtp.host"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := Config(nil, "127.0.0.1", tt.caFile, tt.serverName)
			if err != nil {
				t.Fatal(err)
			}
			err = Explain(handshake(t, leaf.TLS, cfg), "smtp")
			if tt.want == nil {
				if err != nil {
					t.Fatalf("handshake: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("handshake succeeded, want it refused")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
		})
	}
	if err := errors.New("connection refused"); Explain(err, "imap") != err {
		t.Error("Explain changed an error that is not about a certificate")
	}
}

func handshake(t *testing.T, cert tls.Certificate, cfg *tls.Config) error {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	done := make(chan struct{})
	go func() {
		defer close(done)
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		_ = tls.Server(c, &tls.Config{Certificates: []tls.Certificate{cert}}).Handshake()
	}()
	defer func() { <-done }()
	c, err := tls.Dial("tcp", ln.Addr().String(), cfg)
	if err != nil {
		return err
	}
	return c.Close()
}
