-- Mailing waves: one mailing to many targets.
CREATE TABLE waves (
    id           INTEGER PRIMARY KEY,
    name         TEXT NOT NULL,
    template     TEXT NOT NULL,
    state        TEXT NOT NULL CHECK (state IN ('draft', 'started', 'cancelled')),
    countries    TEXT NOT NULL DEFAULT '',   -- comma-separated selection
    campaign_ids TEXT NOT NULL DEFAULT '',   -- comma-separated selection
    send_at      TEXT NOT NULL DEFAULT '',   -- RFC 3339, or empty
    local_time   TEXT NOT NULL DEFAULT '',   -- HH:MM in each target's zone, or empty
    created_at   TEXT NOT NULL,
    started_at   TEXT NOT NULL DEFAULT ''
);

-- One e-mail: a wave's letter to a target, or another kind of message sent
-- the same way. The id is deterministic (w{wave}-t{target} for a wave's
-- letter) and is also the id of its queue task, so that nothing is queued
-- twice. wave_id and target_id are NULL for messages outside waves or to
-- people other than the offices.
CREATE TABLE letters (
    id           TEXT PRIMARY KEY,
    kind         TEXT NOT NULL DEFAULT 'wave',
    wave_id      INTEGER REFERENCES waves (id),
    target_id    INTEGER REFERENCES targets (id),
    email        TEXT NOT NULL,
    template     TEXT NOT NULL,
    state        TEXT NOT NULL CHECK (state IN ('planned', 'queued', 'sending', 'sent', 'failed', 'uncertain', 'bounced', 'cancelled')),
    send_at      TEXT NOT NULL DEFAULT '',
    message_id   TEXT NOT NULL DEFAULT '',
    resends      INTEGER NOT NULL DEFAULT 0,
    attempts     INTEGER NOT NULL DEFAULT 0,
    sent_at      TEXT NOT NULL DEFAULT '',
    last_error   TEXT NOT NULL DEFAULT '',
    server_reply TEXT NOT NULL DEFAULT '',
    in_reply_to  TEXT NOT NULL DEFAULT '',  -- Message-ID this letter follows up, without brackets
    updated_at   TEXT NOT NULL,
    UNIQUE (wave_id, target_id, kind)
);

CREATE INDEX letters_wave_state ON letters (wave_id, state);
CREATE INDEX letters_state ON letters (state, updated_at);
CREATE INDEX letters_message_id ON letters (message_id);

-- The campaigns a letter speaks for.
CREATE TABLE letter_campaigns (
    letter_id   TEXT    NOT NULL REFERENCES letters (id),
    campaign_id INTEGER NOT NULL REFERENCES campaigns (id),
    PRIMARY KEY (letter_id, campaign_id)
);

CREATE INDEX letter_campaigns_campaign ON letter_campaigns (campaign_id);

-- Every change of a letter's state, for the record and for staff.
CREATE TABLE letter_events (
    id        INTEGER PRIMARY KEY,
    letter_id TEXT NOT NULL REFERENCES letters (id),
    at        TEXT NOT NULL,
    from_state TEXT NOT NULL,
    to_state  TEXT NOT NULL,
    detail    TEXT NOT NULL DEFAULT ''
);

CREATE INDEX letter_events_letter ON letter_events (letter_id);
