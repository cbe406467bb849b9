package queue

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/outreach-campaign/outreach/internal/campaign"
	"github.com/outreach-campaign/outreach/internal/store"
)

// WaveSpec is what staff ask for when they create a wave.
type WaveSpec struct {
	Name        string
	Countries   []string
	CampaignIDs []int64
	Template    string
	At          time.Time // send everything then
	LocalTime   string    // or send at HH:MM in each office's zone on its next working day
	// FollowUpAfter, when not zero, sends offices that have not replied
	// after that long one follow-up written with FollowUpTemplate
	// ("follow-up" when empty).
	FollowUpAfter    time.Duration
	FollowUpTemplate string
}

// WaveStore is what creating a wave needs of the store.
type WaveStore interface {
	Campaigns(ctx context.Context, f store.CampaignFilter) ([]campaign.Campaign, error)
	Targets(ctx context.Context, f store.TargetFilter) ([]campaign.Target, error)
	CreateWave(ctx context.Context, w campaign.Wave, letters []campaign.Letter) (campaign.Wave, []campaign.Letter, error)
}

// TemplateChecker tells whether a letter template exists in a language.
type TemplateChecker interface {
	Has(name, lang string) bool
}

// CreateWave plans and stores a wave: one letter per office of the selected
// campaigns, in the office's language, at the time the spec says. Offices
// marked do-not-contact and campaigns without an address are left out and
// returned in the plan's Skipped.
func CreateWave(ctx context.Context, st WaveStore, tpl TemplateChecker, spec WaveSpec, now time.Time) (campaign.Wave, campaign.Plan, error) {
	w, plan, err := PlanWave(ctx, st, tpl, spec, now)
	if err != nil {
		return w, plan, err
	}
	w, letters, err := st.CreateWave(ctx, w, plan.Letters)
	plan.Letters = letters
	return w, plan, err
}

// PlanWave is CreateWave without storing anything: what the wave would
// send, for a preview.
func PlanWave(ctx context.Context, st WaveStore, tpl TemplateChecker, spec WaveSpec, now time.Time) (campaign.Wave, campaign.Plan, error) {
	w := campaign.Wave{
		Name: strings.TrimSpace(spec.Name), Template: spec.Template, Countries: spec.Countries,
		CampaignIDs: spec.CampaignIDs, At: spec.At, LocalTime: spec.LocalTime,
		FollowUpAfter: spec.FollowUpAfter, FollowUpTemplate: spec.FollowUpTemplate,
	}
	if w.Template == "" {
		w.Template = "appeal"
	}
	switch {
	case w.FollowUpAfter < 0:
		return w, campaign.Plan{}, fmt.Errorf("a follow-up cannot come %s after the letter", w.FollowUpAfter)
	case w.FollowUpAfter == 0 && w.FollowUpTemplate != "":
		return w, campaign.Plan{}, fmt.Errorf("a follow-up template needs a time after which to send it")
	case w.FollowUpAfter > 0 && w.FollowUpTemplate == "":
		w.FollowUpTemplate = "follow-up"
	}
	if err := campaign.ValidateWaveName(w.Name); err != nil {
		return w, campaign.Plan{}, err
	}
	if !w.At.IsZero() && w.LocalTime != "" {
		return w, campaign.Plan{}, fmt.Errorf("a wave is sent either at a time or at a local time, not both")
	}
	if !w.At.IsZero() && w.At.Before(now.Add(-time.Minute)) {
		return w, campaign.Plan{}, fmt.Errorf("the time %s is in the past", w.At.Format(time.RFC3339))
	}
	cs, err := st.Campaigns(ctx, store.CampaignFilter{Countries: spec.Countries, IDs: spec.CampaignIDs})
	if err != nil {
		return w, campaign.Plan{}, err
	}
	if len(cs) == 0 {
		return w, campaign.Plan{}, fmt.Errorf("no campaign matches the selection (countries %v, campaigns %v)", spec.Countries, spec.CampaignIDs)
	}
	if len(spec.CampaignIDs) > 0 {
		found := map[int64]bool{}
		for _, c := range cs {
			found[c.ID] = true
		}
		for _, id := range spec.CampaignIDs {
			if !found[id] {
				return w, campaign.Plan{}, fmt.Errorf("campaign %d: %w", id, campaign.ErrNotFound)
			}
		}
	}
	ts, err := st.Targets(ctx, store.TargetFilter{})
	if err != nil {
		return w, campaign.Plan{}, err
	}
	byEmail := map[string]campaign.Target{}
	for _, t := range ts {
		byEmail[strings.ToLower(t.Email)] = t
	}
	plan, err := campaign.PlanWave(w, cs, byEmail, now)
	if err != nil {
		return w, plan, err
	}
	for _, l := range plan.Letters {
		lang := byEmail[strings.ToLower(l.Email)].Language
		for _, name := range []string{w.Template, w.FollowUpTemplate} {
			if name != "" && !tpl.Has(name, lang) {
				return w, plan, fmt.Errorf("the %q letter has no %s version, which %s needs", name, lang, l.Email)
			}
		}
	}
	return w, plan, nil
}
