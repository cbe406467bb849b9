package web

import "net/http"

// replyRow is a reply as the staff pages list it.
type replyRow struct{}

func (s *Server) repliesOfCampaign(r *http.Request, id int64) ([]replyRow, error) { return nil, nil }

func (s *Server) replyRoutes(page func(string, http.HandlerFunc))    {}
func (s *Server) replyAPIRoutes(page func(string, http.HandlerFunc)) {}
