package plaintext

import (
	"errors"
	"testing"
)

func TestCheck(t *testing.T) {
	for _, tt := range []struct {
		host  string
		allow bool
		ok    bool
	}{
		{"127.0.0.1", false, true},
		{"127.3.4.5", false, true},
		{"::1", false, true},
		{"[::1]", false, true},
		{"::ffff:127.0.0.1", false, true},
		{"localhost", false, true},
		{"LocalHost.", false, true},
		{"mailpit", false, false},
		{"smtp.example.org", false, false},
		{"192.168.1.10", false, false},
		{"localhost.example.org", false, false},
		{"mailpit", true, true},
		{"smtp.example.org", true, true},
	} {
		err := Check(tt.host, tt.allow)
		if (err == nil) != tt.ok || err != nil && !errors.Is(err, ErrRefused) {
			t.Errorf("Check(%q, %v) = %v, want ok %v", tt.host, tt.allow, err, tt.ok)
		}
	}
}
