package testservers_test

import (
	"context"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/outreach-campaign/outreach/internal/testservers"
)

// TestChromium renders a page headless: the binary must not only exist but
// run on this machine.
func TestChromium(t *testing.T) {
	t.Parallel()
	bin := testservers.Chromium(t)
	ctx, cancel := context.WithTimeout(t.Context(), 90*time.Second)
	defer cancel()
	start := time.Now()
	cmd := exec.CommandContext(ctx, bin,
		"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
		"--no-first-run", "--disable-background-networking",
		"--disable-component-update", "--disable-sync",
		"--user-data-dir="+t.TempDir(),
		"--dump-dom", "data:text/html,<p id=x>rendered</p><script>document.getElementById('x').textContent+=' by script'</script>")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s --dump-dom: %v\n%s", bin, err, out)
	}
	if !strings.Contains(string(out), "rendered by script") {
		t.Fatalf("dumped DOM lacks the scripted text:\n%s", out)
	}
	t.Logf("chromium rendered a page in %v", time.Since(start).Round(time.Millisecond))
}
