-- The foreign mayors' offices letters are sent to, keyed by e-mail address.
-- Addresses, countries and cities compare without case (NOCASE folds ASCII
-- only, like SQLite's lower()).
CREATE TABLE targets (
    id             INTEGER PRIMARY KEY,
    email          TEXT    NOT NULL UNIQUE COLLATE NOCASE,
    country        TEXT    NOT NULL COLLATE NOCASE,
    city           TEXT    NOT NULL COLLATE NOCASE,
    office         TEXT    NOT NULL DEFAULT '',
    mayor          TEXT    NOT NULL DEFAULT '',
    language       TEXT    NOT NULL,
    timezone       TEXT    NOT NULL,
    do_not_contact INTEGER NOT NULL DEFAULT 0,
    suspect        INTEGER NOT NULL DEFAULT 0,
    suspect_reason TEXT    NOT NULL DEFAULT '',
    created_at     TEXT    NOT NULL,
    updated_at     TEXT    NOT NULL
);

-- One twinning and its outreach: a row of the campaign status table. The id
-- is the row's position in the table; the printed number ("no") repeats.
CREATE TABLE campaigns (
    id                 INTEGER PRIMARY KEY,
    no                 TEXT    NOT NULL,
    region             TEXT    NOT NULL,
    district           TEXT    NOT NULL DEFAULT '',
    country            TEXT    NOT NULL COLLATE NOCASE,
    city               TEXT    NOT NULL COLLATE NOCASE,
    agreement_date     TEXT    NOT NULL,
    relationship       TEXT    NOT NULL CHECK (relationship IN ('sister', 'friendship')),
    relationship_label TEXT    NOT NULL,
    campaign_date      TEXT,
    response_date      TEXT,
    response_note      TEXT    NOT NULL DEFAULT '',
    outcome            TEXT    NOT NULL DEFAULT '',
    target_id          INTEGER REFERENCES targets (id),
    updated_at         TEXT    NOT NULL,
    UNIQUE (region, district, country, city)
);

CREATE INDEX campaigns_target ON campaigns (target_id);
CREATE INDEX campaigns_country ON campaigns (country);

-- Values the program generates once and keeps, such as the key that signs
-- Message-IDs when the configuration gives none.
CREATE TABLE settings (
    name  TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
