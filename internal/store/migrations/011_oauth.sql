-- The OAuth2 sign-in of a mailbox (SMTP and IMAP with XOAUTH2 or
-- OAUTHBEARER), one row per account. Tokens are kept encrypted (AES-GCM,
-- sealed above the store): the store never sees them in clear. version
-- grows with every save, so that two processes refreshing at once keep one
-- result (compare-and-set) rather than each its own.
CREATE TABLE oauth_tokens (
  account TEXT PRIMARY KEY,
  provider TEXT NOT NULL,
  refresh_token BLOB NOT NULL,
  access_token BLOB NOT NULL,
  expiry TEXT NOT NULL DEFAULT '',
  signed_in_at TEXT NOT NULL,
  refreshed_at TEXT NOT NULL DEFAULT '',
  version INTEGER NOT NULL DEFAULT 1
);
