-- One row per execution of a scheduled job, on whichever node of the cluster ran it.
CREATE TABLE job_runs (
    id          bigserial PRIMARY KEY,
    job_name    text NOT NULL,
    started_at  timestamptz NOT NULL DEFAULT now(),
    finished_at timestamptz,
    node        text NOT NULL,
    status      text NOT NULL CHECK (status IN ('running', 'succeeded', 'failed', 'partial')),
    found       integer NOT NULL DEFAULT 0,
    deleted     integer NOT NULL DEFAULT 0,
    failed      integer NOT NULL DEFAULT 0,
    error       text
);
CREATE INDEX job_runs_job_started ON job_runs (job_name, id DESC);
