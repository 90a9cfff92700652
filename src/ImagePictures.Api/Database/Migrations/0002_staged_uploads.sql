-- Two-step uploads: a staged image under temp/{id}/ waits here until it is committed or expires.
CREATE TABLE staged_uploads (
    id           uuid PRIMARY KEY,
    user_id      text NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL,
    width        integer NOT NULL,
    height       integer NOT NULL,
    bytes        bigint NOT NULL,
    file_name    text NOT NULL,
    committed_at timestamptz,
    picture_id   uuid
);
CREATE INDEX staged_uploads_user ON staged_uploads (user_id, created_at DESC);
CREATE INDEX staged_uploads_expires ON staged_uploads (expires_at);
