-- The e-mail addresses a user registered, as their MD5 and SHA-256 only (of the trimmed, lower-cased
-- address; the address itself is never stored): /avatar/{hash} finds the user by either. An address
-- belongs to one user at a time.
CREATE TABLE user_emails (
    sha256   text PRIMARY KEY,
    md5      text NOT NULL UNIQUE,
    user_id  text NOT NULL,
    added_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX user_emails_user ON user_emails (user_id);
