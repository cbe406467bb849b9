package main

import (
	"os"
	"regexp"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// TestComposeKeepsToThisMachine parses docker-compose.yml: every port it
// publishes is bound to the loopback address (the staff UI and Mailpit's,
// which shows every letter, are not offered to the network), and every
// outreach container runs as an unprivileged user that the image makes.
func TestComposeKeepsToThisMachine(t *testing.T) {
	b, err := os.ReadFile("../../docker-compose.yml")
	if err != nil {
		t.Fatal(err)
	}
	var compose struct {
		Services map[string]struct {
			Build string   `yaml:"build"`
			User  string   `yaml:"user"`
			Ports []string `yaml:"ports"`
		} `yaml:"services"`
	}
	if err := yaml.Unmarshal(b, &compose); err != nil {
		t.Fatal(err)
	}
	dockerfile, err := os.ReadFile("../../Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	ours := 0
	for name, svc := range compose.Services {
		for _, p := range svc.Ports {
			if !strings.HasPrefix(p, "127.0.0.1:") {
				t.Errorf("service %s publishes %q on every interface; want 127.0.0.1:HOST:CONTAINER", name, p)
			}
		}
		if svc.Build == "" {
			continue
		}
		ours++
		uid, _, _ := strings.Cut(svc.User, ":")
		if uid == "" || uid == "0" || uid == "root" {
			t.Errorf("service %s runs as %q; want an unprivileged user", name, svc.User)
			continue
		}
		if !regexp.MustCompile(`useradd[^\n]*--uid ` + regexp.QuoteMeta(uid) + `\b`).Match(dockerfile) {
			t.Errorf("service %s runs as uid %s, which the Dockerfile does not make", name, uid)
		}
	}
	if ours < 4 {
		t.Errorf("found %d outreach services built from the Dockerfile; want init, outreach, worker and cli", ours)
	}
	if !regexp.MustCompile(`(?m)^USER 10001`).Match(dockerfile) {
		t.Error("the image does not switch to its unprivileged user")
	}
}
