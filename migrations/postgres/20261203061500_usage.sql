-- Evaluation counts SDKs report (POST /api/v1/usage) and when each flag was
-- last evaluated per environment. Telemetry, not changes: writing these
-- bumps no version and appends nothing to the change log. Rows go with
-- their flag or environment.

-- Counts per flag, environment, variant and hour.
CREATE TABLE flag_usage (
    project     TEXT NOT NULL,
    environment TEXT NOT NULL,
    flag        TEXT NOT NULL,
    -- The variant served; '' when the evaluation failed and the caller's
    -- default was returned.
    variant     TEXT NOT NULL,
    -- The start of the hour the counts fall in.
    hour        TIMESTAMPTZ NOT NULL,
    count       BIGINT NOT NULL CHECK (count >= 0),
    PRIMARY KEY (project, flag, environment, hour, variant),
    FOREIGN KEY (project, flag) REFERENCES flags (project, key) ON DELETE CASCADE,
    FOREIGN KEY (project, environment) REFERENCES environments (project, key) ON DELETE CASCADE
);

CREATE INDEX flag_usage_by_environment ON flag_usage (project, environment);

-- The latest report window's end per flag and environment: a flag with no
-- recent row here is a candidate for removal.
CREATE TABLE flag_last_evaluated (
    project     TEXT NOT NULL,
    environment TEXT NOT NULL,
    flag        TEXT NOT NULL,
    at          TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (project, flag, environment),
    FOREIGN KEY (project, flag) REFERENCES flags (project, key) ON DELETE CASCADE,
    FOREIGN KEY (project, environment) REFERENCES environments (project, key) ON DELETE CASCADE
);

CREATE INDEX flag_last_evaluated_by_environment ON flag_last_evaluated (project, environment);
