package config

import (
	"strings"
	"testing"
)

func TestBadWebAndSupporterSettings(t *testing.T) {
	for _, tt := range []struct {
		env     string
		mention string
	}{
		{"OUTREACH_WEB_BASE_URL=act.example.org", "web.base_url"},
		{"OUTREACH_WEB_SECRET=short", "web.secret"},
		{"OUTREACH_SUPPORTERS_MODE=flood", "supporters.mode"},
		{"OUTREACH_SUPPORTERS_DIGEST_PERIOD=month", "supporters.digest_period"},
		{"OUTREACH_SUPPORTERS_WORKING_HOURS=17:00-09:00", "supporters.working_hours"},
		{"OUTREACH_SUPPORTERS_DAILY_CAP=0", "daily_cap"},
		{"OUTREACH_SUPPORTERS_CONFIRM_WITHIN=0s", "confirm_within"},
		{"OUTREACH_SUPPORTERS_PER_IP_PER_HOUR=-1", "rate limits"},
		{"OUTREACH_SUPPORTERS_CONFIRMATIONS_PER_HOUR=-1", "confirmations_*"},
		{"OUTREACH_SUPPORTERS_CONFIRMATIONS_PER_DOMAIN_PER_HOUR=-5", "confirmations_*"},
		{"OUTREACH_SUPPORTERS_CONFIRMATIONS_PER_MINUTE=-1", "confirmations_*"},
	} {
		if _, err := Load("", []string{tt.env}); err == nil || !strings.Contains(err.Error(), tt.mention) {
			t.Errorf("%s: %v, want an error naming %s", tt.env, err, tt.mention)
		}
	}
	def := Default().Supporters
	if def.ConfirmationsPerHour != 1000 || def.ConfirmationsPerDomainPerHour != 300 || def.ConfirmationsPerMinute != 30 {
		t.Errorf("confirmation defaults %+v", def)
	}
	cfg, err := Load("", []string{"OUTREACH_SUPPORTERS_CONFIRMATIONS_PER_MINUTE=12"})
	if err != nil || cfg.Supporters.ConfirmationsPerMinute != 12 {
		t.Errorf("confirmations_per_minute from the environment: %+v %v", cfg.Supporters, err)
	}
	cfg, err = Load("", []string{"OUTREACH_SUPPORTERS_MODE=digest", "OUTREACH_WEB_SECRET=web-secret-0123456789"})
	if err != nil || cfg.Supporters.Mode != "digest" || cfg.Web.Secret.Value() != "web-secret-0123456789" || cfg.Web.Secret.String() != "[redacted]" {
		t.Errorf("%+v %v", cfg.Supporters, err)
	}
}
