// Package replies reads what comes back to the campaign mailbox: it parses a
// raw e-mail (Parse), decides whether it is a person's reply, an automatic
// reply or a delivery failure (Classify), separates the sender's own words
// from the quoted letter (Message.NewText and Message.Quoted), and links it
// to the letter it answers (Matcher), with the signals that say so and a
// confidence.
//
// Everything here is tuned against real mail kept in testdata/corpus: bounces
// from dozens of mail servers, out-of-office replies in several languages and
// replies written in the common mail clients. The guiding rule is that a
// mayor's real answer must never be filed away as automatic, so every
// heuristic that could swallow a human reply needs corroboration before it
// fires, and anything doubtful stays Human.
package replies
