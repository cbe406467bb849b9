// Package templates embeds the letters staff edit: one file per letter and
// language, NAME.LANG.tmpl, each defining a "subject", a "text" and an
// "html" part. A directory named in the configuration overrides them file
// by file.
package templates

import "embed"

// FS holds the default templates built into the binary.
//
//go:embed *.tmpl
var FS embed.FS
