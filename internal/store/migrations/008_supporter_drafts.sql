-- A later signing for an address that already has a letter to a campaign
-- is kept apart, as a draft, and replaces nothing until its own
-- confirmation link is confirmed: whoever types someone else's address
-- can no longer change or unconfirm that person's letter. A signature has
-- at most one draft; a newer signing replaces it (and its link stops
-- working).
CREATE TABLE signature_drafts (
    signature_id  INTEGER PRIMARY KEY REFERENCES signatures (id),
    -- The version its confirmation link names; it becomes the
    -- signature's version when confirmed.
    version       INTEGER NOT NULL,
    name          TEXT    NOT NULL,
    city          TEXT    NOT NULL DEFAULT '',
    message       TEXT    NOT NULL DEFAULT '',
    country       TEXT    NOT NULL,
    reply_consent INTEGER NOT NULL DEFAULT 0,
    lang          TEXT    NOT NULL,
    signed_at     TEXT    NOT NULL
);

CREATE INDEX signature_drafts_signed ON signature_drafts (signed_at);

-- The highest version a confirmation mail was made for, drafts included,
-- so that each mail (c{id}-{version}) has an id of its own even when a
-- draft expires unconfirmed.
ALTER TABLE signatures ADD COLUMN issued INTEGER NOT NULL DEFAULT 0;
UPDATE signatures SET issued = version;
