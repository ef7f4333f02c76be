-- Rollout plans (issue 5): one per flag and environment. `spec` is what
-- people wrote (stages, regions, guards), `state` what the server keeps
-- (running or paused, which region and stage, since when); both JSONB.
-- `version` is bumped by every write: moving a stage is the conditional
-- `UPDATE … WHERE version = $n`, so of several replicas one moves it.
-- Plans go with their flag or environment.
CREATE TABLE rollout_plans (
    project     TEXT NOT NULL,
    flag        TEXT NOT NULL,
    environment TEXT NOT NULL,
    spec        JSONB NOT NULL,
    state       JSONB NOT NULL,
    version     BIGINT NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (project, flag, environment),
    FOREIGN KEY (project, flag) REFERENCES flags (project, key) ON DELETE CASCADE,
    FOREIGN KEY (project, environment) REFERENCES environments (project, key) ON DELETE CASCADE
);
