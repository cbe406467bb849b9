package web

import "net/http"

// routes registers every route. Staff pages will join them here, behind
// their own authentication.
func (s *Server) routes(mux *http.ServeMux) {
	// The campaigns one can write for; the public page of a campaign, its
	// form, and the page after it.
	mux.HandleFunc("GET /act", s.actIndex)
	mux.HandleFunc("GET /act/{$}", s.actIndex)
	mux.HandleFunc("GET /act/{campaign}", s.actPage)
	mux.HandleFunc("POST /act/{campaign}", s.actSubmit)
	mux.HandleFunc("GET /act/{campaign}/sent", s.actSent)

	// The links in confirmation mails open a page with a button: a mail
	// scanner that opens links must not confirm or withdraw anything.
	mux.HandleFunc("GET /confirm/{token}", s.linkPage(linkConfirm))
	mux.HandleFunc("POST /confirm/{token}", s.linkSubmit(linkConfirm))
	mux.HandleFunc("GET /withdraw/{token}", s.linkPage(linkWithdraw))
	mux.HandleFunc("POST /withdraw/{token}", s.linkSubmit(linkWithdraw))

	// The JSON API.
	mux.HandleFunc("POST /api/campaigns/{id}/letters", s.apiSign)

	mux.Handle("GET /static/", http.StripPrefix("/static/", staticHandler()))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { w.Write([]byte("ok\n")) })
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		s.fail(w, r, http.StatusNotFound, "error.not_found")
	})
}
