-- Each letter as it left, stored when it is marked sending, so that what
-- reads it later (the reply matcher, dev reply, the staff letter page)
-- never renders it again from templates edited since. message is the whole
-- MIME as written, or, beyond 64 KiB, its headers and text part only
-- (whole = 0). The first copy stays: a retry or resend sends it again.
CREATE TABLE letters_as_sent (
  letter_id TEXT PRIMARY KEY REFERENCES letters(id),
  subject TEXT NOT NULL,
  text TEXT NOT NULL,
  message BLOB NOT NULL,
  whole INTEGER NOT NULL DEFAULT 1
);
