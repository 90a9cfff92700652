-- The jobs moved from Quartz to Hangfire, whose storage (schema hangfire) the service installs at
-- start-up: every Quartz table goes, whichever of them this database has.
DO $$
DECLARE t text;
BEGIN
    FOR t IN SELECT tablename FROM pg_tables WHERE schemaname = current_schema() AND tablename LIKE 'qrtz\_%' LOOP
        EXECUTE format('DROP TABLE %I CASCADE', t);
    END LOOP;
END $$;

-- Hangfire has no pause: a paused job gets the never-cron, and this table remembers the pause so
-- that a restart (which registers every job again) does not resume it.
CREATE TABLE job_pauses (
    job_name  text PRIMARY KEY,
    paused_at timestamptz NOT NULL DEFAULT now()
);
