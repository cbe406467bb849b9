package web

import "net/http"

// staffRoutes registers the staff UI, the staff API (the same handlers,
// answering JSON under /api/v1/) and the public status page. Every staff
// route is behind requireStaff.
func (s *Server) staffRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /login", s.loginForm)
	mux.HandleFunc("POST /login", s.login)
	mux.HandleFunc("POST /logout", s.requireStaff(s.logout))

	// The public page: no login.
	mux.HandleFunc("GET /status", s.publicStatus("html"))
	mux.HandleFunc("GET /status.csv", s.publicStatus("csv"))
	mux.HandleFunc("GET /status.json", s.publicStatus("json"))

	// An office's one-click opt-out (optout.go): no login, the token is
	// the proof.
	mux.HandleFunc("GET /optout/{token}", s.optOutForm)
	mux.HandleFunc("POST /optout/{token}", s.optOut)

	page := func(pattern string, h http.HandlerFunc) { mux.HandleFunc(pattern, s.requireStaff(h)) }
	page("GET /{$}", s.home)
	page("GET /home", s.home)
	page("GET /campaigns", s.campaigns)
	page("GET /campaigns/{id}", s.campaignDetail)
	page("GET /waves", s.waves)
	page("GET /waves/new", s.waveNew)
	page("POST /waves/preview", s.wavePreview)
	page("POST /waves", s.waveCreate)
	page("GET /waves/{id}", s.waveDetail)
	page("GET /waves/{id}/counts", s.waveCounts)
	page("POST /waves/{id}/start", s.waveStart)
	page("GET /waves/{id}/cancel", s.waveCancelConfirm)
	page("POST /waves/{id}/cancel", s.waveCancel)
	page("POST /waves/{id}/test", s.waveTest)
	page("GET /letters/{id}", s.letterDetail)
	page("POST /letters/{id}/resend", s.letterResend)
	page("GET /preview/html", s.previewHTML)
	page("GET /targets", s.targets)
	page("GET /targets/{id}", s.targetDetail)
	page("POST /targets/{id}/do-not-contact", s.targetDoNotContact)
	page("GET /supporters", s.supportersStats)
	page("GET /charts", s.charts)
	s.replyRoutes(page)

	api := func(pattern string, h http.HandlerFunc) { mux.HandleFunc(pattern, s.requireStaff(h)) }
	api("GET /api/v1/campaigns", s.campaigns)
	api("GET /api/v1/campaigns/{id}", s.campaignDetail)
	api("GET /api/v1/waves", s.waves)
	api("POST /api/v1/waves/preview", s.apiWavePreview)
	api("POST /api/v1/waves", s.apiWaveCreate)
	api("GET /api/v1/waves/{id}", s.waveDetail)
	api("POST /api/v1/waves/{id}/start", s.waveStart)
	api("POST /api/v1/waves/{id}/cancel", s.waveCancel)
	api("POST /api/v1/waves/{id}/test", s.waveTest)
	api("GET /api/v1/letters/{id}", s.letterDetail)
	api("POST /api/v1/letters/{id}/resend", s.letterResend)
	api("GET /api/v1/targets", s.targets)
	api("GET /api/v1/targets/{id}", s.targetDetail)
	api("POST /api/v1/targets/{id}/do-not-contact", s.targetDoNotContact)
	api("GET /api/v1/supporters", s.supportersStats)
	s.replyAPIRoutes(api)
}
