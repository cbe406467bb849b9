package web

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"sync/atomic"
	"testing"
	"time"
)

// BenchmarkSignatures measures letters signed through the HTTP endpoint,
// each stored, its confirmation mail queued in a real Redis and marked
// queued: the rate the intake can take, reported as signatures/s.
func BenchmarkSignatures(b *testing.B) {
	h := newHarness(b, harnessOptions{})
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	var n atomic.Int64
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := n.Add(1)
			body, _ := json.Marshal(map[string]any{
				"name": "Bench Supporter", "email": fmt.Sprintf("bench%d@people.example", i), "country": "Canada",
				"message": "Please write to your Korean partner.", "reply_consent": i%2 == 0,
			})
			resp, err := client.Post(fmt.Sprintf("%s/api/campaigns/%d/letters", h.srv.URL, 1+i%3), "application/json", bytes.NewReader(body))
			if err != nil {
				b.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusAccepted {
				b.Fatalf("status %d", resp.StatusCode)
			}
		}
	})
	elapsed := time.Since(start)
	b.StopTimer()
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "signatures/s")
	// Every letter's confirmation mail is in Redis.
	planned, err := h.st.UnqueuedSupporterLetters(b.Context(), 0)
	if err != nil || len(planned) != 0 {
		b.Fatalf("%d confirmation mails not queued (%v)", len(planned), err)
	}
}
