package supporters

import "testing"

func TestNormalAddress(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"jane@people.example", "jane@people.example"},
		{"Jane@People.Example", "jane@people.example"},
		{" jane@people.example ", "jane@people.example"},
		{"jane+1@people.example", "jane@people.example"},
		{"jane+a+b@people.example", "jane@people.example"},
		{"jane+@people.example", "jane@people.example"},
		// A local part that starts with + has no tag to drop.
		{"+jane@people.example", "+jane@people.example"},
		// Dots count everywhere but at the providers that ignore them.
		{"j.a.n.e@people.example", "j.a.n.e@people.example"},
		{"j.a.n.e@gmail.com", "jane@gmail.com"},
		{"J.Ane+Promo@GoogleMail.com", "jane@gmail.com"},
		{"jane@googlemail.com", "jane@gmail.com"},
		{"jane@gmail.com.", "jane@gmail.com"},
		{"not-an-address", "not-an-address"},
	} {
		if got := NormalAddress(tt.in); got != tt.want {
			t.Errorf("NormalAddress(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
