-- Kill switches (issue 5) and the health events that trip them.

-- A switch binds a trigger (alert matchers or a deploy) to one flag in one
-- environment. `spec` is what people wrote, `state` what the server keeps
-- (armed or tripped, by what, the config to restore); both JSONB.
-- Switches go with their flag or environment.
CREATE TABLE kill_switches (
    project     TEXT NOT NULL,
    id          TEXT NOT NULL,
    flag        TEXT NOT NULL,
    environment TEXT NOT NULL,
    spec        JSONB NOT NULL,
    state       JSONB NOT NULL,
    version     BIGINT NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (project, id),
    FOREIGN KEY (project, flag) REFERENCES flags (project, key) ON DELETE CASCADE,
    FOREIGN KEY (project, environment) REFERENCES environments (project, key) ON DELETE CASCADE
);

-- Alerts and deploys as received, each once under its idempotency key
-- (an alert's fingerprint, start and status; a deploy's id or service,
-- version, environment and status). Read by the timeline.
CREATE TABLE health_events (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind        TEXT NOT NULL,
    key         TEXT NOT NULL UNIQUE,
    -- A deploy's environment key; NULL for alerts.
    environment TEXT,
    -- Who posted it: `token:<id>` of the integration token.
    actor       TEXT NOT NULL,
    body        JSONB NOT NULL,
    received_at TIMESTAMPTZ NOT NULL
);

CREATE INDEX health_events_by_time ON health_events (received_at);
