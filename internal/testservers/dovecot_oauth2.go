package testservers

import (
	"fmt"
	"os"
	"path/filepath"
)

// writeOAuth2Config writes the oauth2 passdb's settings: every token is
// checked at the test's introspection endpoint, none is cached.
func (d *DovecotServer) writeOAuth2Config() error {
	conf := fmt.Sprintf(`introspection_mode = post
introspection_url = %s
force_introspection = yes
username_attribute = username
active_attribute = active
active_value = true
`, d.oauth2)
	return os.WriteFile(filepath.Join(d.Dir, "dovecot-oauth2.conf.ext"), []byte(conf), 0o644)
}
