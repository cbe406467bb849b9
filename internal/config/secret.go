package config

import "log/slog"

// Secret is a setting that must never be printed: a password or a key.
// Its String, YAML and log forms hide the value; Value reveals it to the
// code that needs it.
type Secret string

const redacted = "[redacted]"

// Value returns the secret itself.
func (s Secret) Value() string { return string(s) }

// String hides the value.
func (s Secret) String() string {
	if s == "" {
		return ""
	}
	return redacted
}

// GoString hides the value from %#v too.
func (s Secret) GoString() string { return s.String() }

// LogValue hides the value from log/slog.
func (s Secret) LogValue() slog.Value { return slog.StringValue(s.String()) }

// MarshalYAML hides the value when settings are dumped.
func (s Secret) MarshalYAML() (any, error) { return s.String(), nil }

// MarshalText hides the value from encoders that use it (JSON among them).
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.String()), nil }
