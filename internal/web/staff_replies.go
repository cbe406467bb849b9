package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/outreach-campaign/outreach/internal/campaign"
	"github.com/outreach-campaign/outreach/internal/store"
)

// replyRow is a reply as the staff pages list it.
type replyRow struct {
	ID          int64                `json:"id"`
	ReceivedAt  time.Time            `json:"received_at"`
	From        string               `json:"from"`
	Subject     string               `json:"subject"`
	Class       campaign.ReplyKind   `json:"class"`
	Status      campaign.ReplyStatus `json:"status"`
	Confidence  string               `json:"confidence"`
	LetterID    string               `json:"letter_id,omitempty"`
	CampaignIDs []int64              `json:"campaign_ids,omitempty"`
	// City is the sister city of the campaigns the reply was matched to.
	City string `json:"city,omitempty"`
	// FirstLine is the first line of what the sender wrote above the quote.
	FirstLine string `json:"first_line,omitempty"`
}

// replyRowOf is a reply as lists show it; cities names each campaign's
// sister city (nil: no city shown).
func replyRowOf(r campaign.Reply, cities map[int64]string) replyRow {
	from := r.From
	if r.FromName != "" {
		from = r.FromName + " <" + r.From + ">"
	}
	var names []string
	for _, id := range r.CampaignIDs {
		if c := cities[id]; c != "" && !slices.Contains(names, c) {
			names = append(names, c)
		}
	}
	return replyRow{ID: r.ID, ReceivedAt: r.ReceivedAt, From: from, Subject: r.Subject, Class: r.Kind, Status: r.Status,
		Confidence: fmt.Sprintf("%.2f", r.Confidence), LetterID: r.LetterID, CampaignIDs: r.CampaignIDs,
		City: strings.Join(names, ", "), FirstLine: firstLine(r.NewText, firstLineMax)}
}

// firstLineMax is how many characters of a reply's first line a list
// shows.
const firstLineMax = 120

// firstLine is the first line of text that is not blank, cut at a word
// boundary to at most max characters (with an ellipsis when cut).
func firstLine(text string, max int) string {
	for line := range strings.Lines(text) {
		line = strings.Join(strings.Fields(line), " ")
		if line == "" {
			continue
		}
		runes := []rune(line)
		if len(runes) <= max {
			return line
		}
		cut := string(runes[:max])
		if i := strings.LastIndexByte(cut, ' '); i > max/2 {
			cut = cut[:i]
		}
		return strings.TrimRight(cut, " ,;:.") + "…"
	}
	return ""
}

// campaignCities maps every campaign to its sister city, for lists of
// replies.
func (s *Server) campaignCities(ctx context.Context) (map[int64]string, error) {
	cs, err := s.staff.Store.Campaigns(ctx, store.CampaignFilter{})
	if err != nil {
		return nil, err
	}
	out := make(map[int64]string, len(cs))
	for _, c := range cs {
		out[c.ID] = c.City
	}
	return out, nil
}

func (s *Server) repliesOfCampaign(r *http.Request, id int64) ([]replyRow, error) {
	rs, err := s.staff.Store.Replies(r.Context(), store.ReplyFilter{CampaignID: id})
	if err != nil {
		return nil, err
	}
	out := make([]replyRow, len(rs))
	for i, rp := range rs {
		out[i] = replyRowOf(rp, nil)
	}
	return out, nil
}

func (s *Server) replyRoutes(page func(string, http.HandlerFunc)) {
	page("GET /replies", s.replies)
	page("GET /replies/{id}", s.replyDetail)
	page("GET /replies/{id}/raw", s.replyRaw)
	page("POST /replies/{id}/confirm", s.replyConfirm)
	page("GET /replies/{id}/reject", s.replyRejectAsk)
	page("POST /replies/{id}/reject", s.replyReject)
	page("POST /replies/{id}/classify", s.replyClassify)
}

func (s *Server) replyAPIRoutes(api func(string, http.HandlerFunc)) {
	api("GET /api/v1/replies", s.replies)
	api("GET /api/v1/replies/{id}", s.replyDetail)
	api("POST /api/v1/replies/{id}/confirm", s.replyConfirm)
	api("POST /api/v1/replies/{id}/reject", s.replyReject)
	api("POST /api/v1/replies/{id}/classify", s.replyClassify)
}

// replyViews are the lists of the review page: what waits first.
var replyViews = []struct{ Value, Label string }{
	{"pending", "Waiting for review"},
	{"confirmed", "Confirmed"},
	{"unmatched", "Matched to nothing"},
	{"rejected", "Rejected"},
	{"all", "All"},
}

type repliesPage struct {
	staffPage
	View    string
	Views   []viewOption
	Replies []replyRow
}

type viewOption struct {
	Value, Label string
	Current      bool
}

// replies lists replies: by default those waiting for review.
func (s *Server) replies(w http.ResponseWriter, r *http.Request) {
	view := r.URL.Query().Get("view")
	if view == "" {
		view = "pending"
	}
	f := store.ReplyFilter{}
	switch view {
	case "pending":
		f.Pending = true
	case "all":
	case "confirmed", "unmatched", "rejected":
		f.Statuses = []campaign.ReplyStatus{campaign.ReplyStatus(view)}
	default:
		s.staffError(w, r, http.StatusNotFound, "No such list of replies.")
		return
	}
	if c := r.URL.Query().Get("campaign"); c != "" {
		id, err := strconv.ParseInt(c, 10, 64)
		if err != nil {
			s.staffError(w, r, http.StatusNotFound, "No such campaign.")
			return
		}
		f.CampaignID = id
	}
	rs, err := s.staff.Store.Replies(r.Context(), f)
	if err != nil {
		s.staffFail(w, r, err)
		return
	}
	cities, err := s.campaignCities(r.Context())
	if err != nil {
		s.staffFail(w, r, err)
		return
	}
	p := repliesPage{staffPage: s.newStaffPage(r, "replies", "Replies"), View: view}
	for _, v := range replyViews {
		p.Views = append(p.Views, viewOption{Value: v.Value, Label: v.Label, Current: v.Value == view})
	}
	// Newest first: staff work from the top.
	for i := len(rs) - 1; i >= 0; i-- {
		p.Replies = append(p.Replies, replyRowOf(rs[i], cities))
	}
	if wantsJSON(r) {
		writeJSON(w, http.StatusOK, p.Replies)
		return
	}
	s.renderStaff(w, http.StatusOK, "replies", p)
}

type replyPage struct {
	staffPage
	Reply     campaign.Reply
	Letter    *campaign.Letter
	Campaigns []campaign.Campaign
	// All is every campaign, for assigning the reply to others.
	All []campaign.Campaign
	// Full is the whole message as text, one click away.
	Full    string
	Outcome []string
	// Next and Prev are the neighbouring replies waiting for review.
	Next, Prev int64
}

func (s *Server) reply(w http.ResponseWriter, r *http.Request) (campaign.Reply, bool) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		s.staffError(w, r, http.StatusNotFound, "No such reply.")
		return campaign.Reply{}, false
	}
	rp, err := s.staff.Store.Reply(r.Context(), id)
	if err != nil {
		s.staffFail(w, r, err)
		return rp, false
	}
	return rp, true
}

func (s *Server) replyDetail(w http.ResponseWriter, r *http.Request) {
	rp, ok := s.reply(w, r)
	if !ok {
		return
	}
	ctx := r.Context()
	if wantsJSON(r) {
		writeJSON(w, http.StatusOK, rp)
		return
	}
	p := replyPage{staffPage: s.newStaffPage(r, "replies", "Reply: "+orNone(rp.Subject)), Reply: rp, Full: readable(rp.Raw),
		Outcome: []string{string(campaign.Victory), string(campaign.Response), string(campaign.Disappointing)}}
	if rp.LetterID != "" {
		if l, err := s.staff.Store.Letter(ctx, rp.LetterID); err == nil {
			p.Letter = &l
		}
	}
	var err error
	if len(rp.CampaignIDs) > 0 {
		if p.Campaigns, err = s.staff.Store.Campaigns(ctx, store.CampaignFilter{IDs: rp.CampaignIDs}); err != nil {
			s.staffFail(w, r, err)
			return
		}
	}
	if p.All, err = s.staff.Store.Campaigns(ctx, store.CampaignFilter{}); err != nil {
		s.staffFail(w, r, err)
		return
	}
	if p.Prev, p.Next, err = s.pendingAround(r, rp); err != nil {
		s.staffFail(w, r, err)
		return
	}
	s.renderStaff(w, http.StatusOK, "reply", p)
}

// pendingAround returns the replies waiting for review just before and
// after rp, or, when rp does not wait, the first that does: two rows, not
// the whole queue with its texts.
func (s *Server) pendingAround(r *http.Request, rp campaign.Reply) (prev, next int64, err error) {
	ctx := r.Context()
	one := func(f store.ReplyFilter) (int64, error) {
		f.Pending, f.Limit = true, 1
		rs, err := s.staff.Store.Replies(ctx, f)
		if err != nil || len(rs) == 0 {
			return 0, err
		}
		return rs[0].ID, nil
	}
	// Whether rp waits for review is the store's rule: ask it.
	self, err := one(store.ReplyFilter{AfterID: rp.ID - 1, BeforeID: rp.ID + 1})
	if err != nil {
		return 0, 0, err
	}
	if self == 0 {
		next, err = one(store.ReplyFilter{})
		return 0, next, err
	}
	if prev, err = one(store.ReplyFilter{BeforeID: rp.ID, Newest: true}); err != nil {
		return 0, 0, err
	}
	next, err = one(store.ReplyFilter{AfterID: rp.ID})
	return prev, next, err
}

// readable is the raw message as text for staff: the bytes as they are,
// with what is not valid UTF-8 replaced.
func readable(raw []byte) string {
	return strings.ToValidUTF8(string(raw), "\uFFFD")
}

func orNone(s string) string {
	if s == "" {
		return "(no subject)"
	}
	return s
}

// replyRaw serves the whole message as plain text, in a response the
// browser will not render as anything else.
func (s *Server) replyRaw(w http.ResponseWriter, r *http.Request) {
	rp, ok := s.reply(w, r)
	if !ok {
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; sandbox")
	w.Write(rp.Raw)
}

// replyConfirm confirms a reply, optionally assigning it to other
// campaigns, correcting it to a person's reply, and recording the outcome
// and a note.
func (s *Server) replyConfirm(w http.ResponseWriter, r *http.Request) {
	rp, ok := s.reply(w, r)
	if !ok {
		return
	}
	if err := r.ParseForm(); err != nil {
		s.staffError(w, r, http.StatusBadRequest, "The form could not be read.")
		return
	}
	var c store.Confirmation
	for _, v := range r.Form["campaign"] {
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			s.staffError(w, r, http.StatusUnprocessableEntity, fmt.Sprintf("%q is not a campaign id.", v))
			return
		}
		c.CampaignIDs = append(c.CampaignIDs, id)
	}
	outcome, err := campaign.ParseOutcome(r.Form.Get("outcome"))
	if err != nil {
		s.staffError(w, r, http.StatusUnprocessableEntity, err.Error())
		return
	}
	c.Outcome, c.Note = outcome, strings.TrimSpace(r.Form.Get("note"))
	c.Human = r.Form.Get("human") == "true"
	got, err := s.staff.Store.ConfirmReply(r.Context(), rp.ID, c)
	if err != nil {
		s.replyActionFailed(w, r, err)
		return
	}
	s.log.Info("reply confirmed from the web", "reply", rp.ID, "outcome", outcome, "staff", whoFrom(r.Context()).staff.Email)
	s.afterReplyAction(w, r, got, "reply-confirmed")
}

type rejectPage struct {
	staffPage
	Reply     campaign.Reply
	Campaigns []campaign.Campaign
	Note      string
}

// replyRejectAsk asks before rejecting a reply: rejecting takes back the
// response dates it gave, and one click (or one key) should not do that.
// The page is a form, so it asks without JavaScript too.
func (s *Server) replyRejectAsk(w http.ResponseWriter, r *http.Request) {
	rp, ok := s.reply(w, r)
	if !ok {
		return
	}
	p := rejectPage{staffPage: s.newStaffPage(r, "replies", "Not a reply to our letters? "+orNone(rp.Subject)), Reply: rp,
		Note: strings.TrimSpace(r.FormValue("note"))}
	if len(rp.CampaignIDs) > 0 {
		var err error
		if p.Campaigns, err = s.staff.Store.Campaigns(r.Context(), store.CampaignFilter{IDs: rp.CampaignIDs}); err != nil {
			s.staffFail(w, r, err)
			return
		}
	}
	s.renderStaff(w, http.StatusOK, "reply_reject", p)
}

// replyReject rejects a reply. A page's form must say confirm=yes (the
// question page sends it); the API acts at once.
func (s *Server) replyReject(w http.ResponseWriter, r *http.Request) {
	if !wantsJSON(r) && r.FormValue("confirm") != "yes" {
		s.replyRejectAsk(w, r)
		return
	}
	rp, ok := s.reply(w, r)
	if !ok {
		return
	}
	got, err := s.staff.Store.RejectReply(r.Context(), rp.ID, strings.TrimSpace(r.FormValue("note")))
	if err != nil {
		s.replyActionFailed(w, r, err)
		return
	}
	s.log.Info("reply rejected from the web", "reply", rp.ID, "staff", whoFrom(r.Context()).staff.Email)
	s.afterReplyAction(w, r, got, "reply-rejected")
}

// replyClassify corrects the class of a reply: kind=auto-reply.
func (s *Server) replyClassify(w http.ResponseWriter, r *http.Request) {
	rp, ok := s.reply(w, r)
	if !ok {
		return
	}
	if k := r.FormValue("kind"); k != string(campaign.ReplyAuto) {
		s.staffError(w, r, http.StatusUnprocessableEntity, `"kind" must be auto-reply (confirm a person's reply with human=true)`)
		return
	}
	got, err := s.staff.Store.MarkAutoReply(r.Context(), rp.ID, strings.TrimSpace(r.FormValue("note")))
	if err != nil {
		s.replyActionFailed(w, r, err)
		return
	}
	s.afterReplyAction(w, r, got, "reply-auto")
}

func (s *Server) replyActionFailed(w http.ResponseWriter, r *http.Request, err error) {
	if msg := reason(err); msg != "" && (errors.Is(err, store.ErrConflict) || strings.Contains(msg, "note must be")) {
		s.staffError(w, r, http.StatusConflict, msg)
		return
	}
	s.staffFail(w, r, err)
}

// afterReplyAction answers a review action: the reply in JSON, or the
// next reply waiting for review, with the flash message of key.
func (s *Server) afterReplyAction(w http.ResponseWriter, r *http.Request, rp campaign.Reply, key string) {
	if wantsJSON(r) {
		writeJSON(w, http.StatusOK, rp)
		return
	}
	to, more := fmt.Sprintf("/replies/%d", rp.ID), false
	if next, err := s.staff.Store.Replies(r.Context(), store.ReplyFilter{Pending: true, Limit: 1}); err == nil && len(next) > 0 && r.FormValue("stay") == "" {
		to, more = fmt.Sprintf("/replies/%d", next[0].ID), true
	}
	done(w, r, to, key, more)
}
