-- Where the event log is delivered to other services: the RabbitMQ exchange (id 'rabbitmq') and
-- each webhook endpoint (id = its uuid). cursor_seq is the highest seq the sink has delivered (or
-- skipped as not wanted); event-prune keeps every event above the cursor of an enabled sink.
CREATE TABLE event_sinks (
    id            text PRIMARY KEY,
    kind          text NOT NULL CHECK (kind IN ('rabbitmq', 'webhook')),
    url           text,
    event_types   text[],
    secret        text,
    cursor_seq    bigint NOT NULL,
    disabled      boolean NOT NULL DEFAULT false,
    failing_since timestamptz,
    last_error    text,
    created_at    timestamptz NOT NULL DEFAULT now()
);
