-- Supporters' letters: one per supporter per campaign, confirmed by e-mail
-- before anything is sent, delivered to the office by a letter of kind
-- 'supporter' (one each) or 'digest' (a period's letters together).
CREATE TABLE signatures (
    id            INTEGER PRIMARY KEY,
    campaign_id   INTEGER NOT NULL REFERENCES campaigns (id),
    -- Personal data, emptied when erased (erased_at set); the row stays
    -- so that the counts remain.
    email         TEXT    NOT NULL,
    name          TEXT    NOT NULL,
    city          TEXT    NOT NULL DEFAULT '',
    message       TEXT    NOT NULL DEFAULT '',
    country       TEXT    NOT NULL,
    reply_consent INTEGER NOT NULL DEFAULT 0,
    lang          TEXT    NOT NULL,
    state         TEXT    NOT NULL CHECK (state IN ('pending', 'confirmed', 'withdrawn', 'expired')),
    version       INTEGER NOT NULL DEFAULT 1,
    -- The letter that carries it to the office, once batched.
    letter_id     TEXT    REFERENCES letters (id),
    signed_at     TEXT    NOT NULL,
    confirmed_at  TEXT    NOT NULL DEFAULT '',
    updated_at    TEXT    NOT NULL,
    erased_at     TEXT    NOT NULL DEFAULT ''
);

-- One letter per supporter per campaign, among those whose data is kept.
CREATE UNIQUE INDEX signatures_supporter ON signatures (campaign_id, email) WHERE erased_at = '';
CREATE INDEX signatures_state ON signatures (state, letter_id);
CREATE INDEX signatures_letter ON signatures (letter_id);

-- How each campaign's supporters' letters are delivered; a campaign
-- without a row, or a column left empty or 0, takes the configured default.
CREATE TABLE supporter_delivery (
    campaign_id INTEGER PRIMARY KEY REFERENCES campaigns (id),
    mode        TEXT    NOT NULL DEFAULT '' CHECK (mode IN ('', 'individual', 'digest')),
    daily_cap   INTEGER NOT NULL DEFAULT 0,
    period      TEXT    NOT NULL DEFAULT '' CHECK (period IN ('', 'day', 'week')),
    held        INTEGER NOT NULL DEFAULT 0,
    updated_at  TEXT    NOT NULL
);

CREATE INDEX letters_kind_target ON letters (kind, target_id, send_at);
