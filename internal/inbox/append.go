package inbox

import (
	"context"
	"fmt"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
)

// Append stores raw in the configured folder, as a delivery would, and
// returns its UID (0 when the server does not say).
func Append(ctx context.Context, cfg Config, raw []byte, received time.Time) (uint32, error) {
	cfg = cfg.withDefaults()
	c, err := dial(cfg, &imapclient.Options{})
	if err != nil {
		return 0, err
	}
	defer c.Close()
	stop := context.AfterFunc(ctx, func() { c.Close() })
	defer stop()
	cmd := c.Append(cfg.Folder, int64(len(raw)), &imap.AppendOptions{Time: received})
	if _, err := cmd.Write(raw); err != nil {
		cmd.Close()
		return 0, fmt.Errorf("inbox: append to %s: %w", cfg.Folder, err)
	}
	if err := cmd.Close(); err != nil {
		return 0, fmt.Errorf("inbox: append to %s: %w", cfg.Folder, err)
	}
	data, err := cmd.Wait()
	if err != nil {
		return 0, fmt.Errorf("inbox: append to %s: %w", cfg.Folder, err)
	}
	_ = c.Logout().Wait()
	return uint32(data.UID), nil
}
