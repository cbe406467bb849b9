-- API tokens expire and record when they were last used. Tokens made
-- before expiry existed get ninety days from this migration rather than
-- living for ever.
ALTER TABLE api_tokens ADD COLUMN expires_at TEXT NOT NULL DEFAULT '';
ALTER TABLE api_tokens ADD COLUMN last_used_at TEXT NOT NULL DEFAULT '';
UPDATE api_tokens SET expires_at = strftime('%Y-%m-%dT%H:%M:%S.000000000Z', 'now', '+90 days') WHERE expires_at = '';
