-- Pictures, the active picture per user, and the event log written with every change.
CREATE TABLE pictures (
    id           uuid PRIMARY KEY,
    user_id      text NOT NULL,
    is_default   boolean NOT NULL DEFAULT false,
    title        text,
    width        integer NOT NULL,
    height       integer NOT NULL,
    bytes        bigint NOT NULL,
    content_hash text NOT NULL,
    has_alpha    boolean NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    deleted_at   timestamptz,
    purge_after  timestamptz
);
CREATE INDEX pictures_user_created ON pictures (user_id, created_at DESC);
CREATE INDEX pictures_purge_after ON pictures (purge_after) WHERE deleted_at IS NOT NULL;
-- Exactly one copied default picture per user, even under concurrent sign-up calls.
CREATE UNIQUE INDEX pictures_one_default ON pictures (user_id) WHERE is_default;

CREATE TABLE active_pictures (
    user_id    text PRIMARY KEY,
    picture_id uuid NOT NULL REFERENCES pictures (id) ON DELETE CASCADE
);

CREATE SEQUENCE events_seq;
CREATE TABLE events (
    seq         bigint PRIMARY KEY DEFAULT nextval('events_seq'),
    user_id     text NOT NULL,
    type        text NOT NULL,
    picture_id  uuid,
    payload     jsonb,
    occurred_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX events_user_seq ON events (user_id, seq);
CREATE INDEX events_occurred_at ON events (occurred_at);
