-- Every message the poller found in the campaign mailbox, kept (whole up to
-- the size limit, its header otherwise) with what was made of it. The
-- dedupe key (its Message-ID, or its hash when it has none) makes a rescan
-- of the mailbox record nothing twice.
CREATE TABLE replies (
    id           INTEGER PRIMARY KEY,
    dedupe_key   TEXT    NOT NULL UNIQUE,
    mailbox      TEXT    NOT NULL,
    uid_validity INTEGER NOT NULL,
    uid          INTEGER NOT NULL,
    message_id   TEXT    NOT NULL DEFAULT '',
    sha256       TEXT    NOT NULL,
    kind         TEXT    NOT NULL CHECK (kind IN ('human', 'auto-reply', 'bounce')),
    kind_reason  TEXT    NOT NULL DEFAULT '',
    status       TEXT    NOT NULL CHECK (status IN ('confirmed', 'pending', 'unmatched', 'rejected')),
    letter_id    TEXT    REFERENCES letters (id),
    target_id    INTEGER REFERENCES targets (id),
    confidence   REAL    NOT NULL DEFAULT 0,
    signals      TEXT    NOT NULL DEFAULT '[]',  -- JSON: why it was matched
    from_addr    TEXT    NOT NULL DEFAULT '',
    from_name    TEXT    NOT NULL DEFAULT '',
    subject      TEXT    NOT NULL DEFAULT '',
    sent_date    TEXT    NOT NULL DEFAULT '',    -- the Date header, RFC 3339
    received_at  TEXT    NOT NULL,               -- IMAP INTERNALDATE, RFC 3339
    size         INTEGER NOT NULL,
    oversized    INTEGER NOT NULL DEFAULT 0,
    raw          BLOB    NOT NULL,
    new_text     TEXT    NOT NULL DEFAULT '',
    bounce       TEXT    NOT NULL DEFAULT '',    -- JSON, for bounces
    problems     TEXT    NOT NULL DEFAULT '',    -- one per line
    note         TEXT    NOT NULL DEFAULT '',
    reviewed_at  TEXT    NOT NULL DEFAULT '',
    created_at   TEXT    NOT NULL,
    updated_at   TEXT    NOT NULL
);

CREATE INDEX replies_status ON replies (status);
CREATE INDEX replies_letter ON replies (letter_id);
CREATE INDEX replies_target ON replies (target_id, received_at);

-- The campaigns a reply answers for, and the response date it gives each
-- (its day in that campaign's office's time zone).
CREATE TABLE reply_campaigns (
    reply_id    INTEGER NOT NULL REFERENCES replies (id),
    campaign_id INTEGER NOT NULL REFERENCES campaigns (id),
    day         TEXT    NOT NULL,
    PRIMARY KEY (reply_id, campaign_id)
);

CREATE INDEX reply_campaigns_campaign ON reply_campaigns (campaign_id, day);

-- Where the poller stands in each mailbox. It changes in the transaction
-- that records the replies up to it, so a message is recorded once.
CREATE TABLE mailbox_checkpoints (
    mailbox      TEXT    PRIMARY KEY,
    uid_validity INTEGER NOT NULL,
    last_uid     INTEGER NOT NULL,
    updated_at   TEXT    NOT NULL
);

-- The reply that gave a campaign its response date, so that an earlier
-- reply confirmed later, or a rejection, can correct it. NULL when the date
-- came from the table or from staff: such a date is never changed by mail.
ALTER TABLE campaigns ADD COLUMN response_reply_id INTEGER REFERENCES replies (id);

-- Follow-ups: a wave may ask that offices which have not replied after
-- follow_up_after seconds get one more letter, written with
-- follow_up_template.
ALTER TABLE waves ADD COLUMN follow_up_after INTEGER NOT NULL DEFAULT 0;
ALTER TABLE waves ADD COLUMN follow_up_template TEXT NOT NULL DEFAULT '';

CREATE INDEX letters_target ON letters (target_id, kind, state);
