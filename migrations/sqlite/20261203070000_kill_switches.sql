-- Kill switches (issue 5) and the health events that trip them.

-- A switch binds a trigger (alert matchers or a deploy) to one flag in one
-- environment. `spec` is what people wrote, `state` what the server keeps
-- (armed or tripped, by what, the config to restore); both JSON text.
-- Switches go with their flag or environment.
CREATE TABLE kill_switches (
    project     TEXT NOT NULL,
    id          TEXT NOT NULL,
    flag        TEXT NOT NULL,
    environment TEXT NOT NULL,
    spec        TEXT NOT NULL,
    state       TEXT NOT NULL,
    version     INTEGER NOT NULL,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    PRIMARY KEY (project, id),
    FOREIGN KEY (project, flag) REFERENCES flags (project, key) ON DELETE CASCADE,
    FOREIGN KEY (project, environment) REFERENCES environments (project, key) ON DELETE CASCADE
);

-- Alerts and deploys as received, each once under its idempotency key
-- (an alert's fingerprint, start and status; a deploy's id or service,
-- version, environment and status). Read by the timeline.
CREATE TABLE health_events (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    kind        TEXT NOT NULL,
    key         TEXT NOT NULL UNIQUE,
    -- A deploy's environment key; NULL for alerts.
    environment TEXT,
    -- Who posted it: `token:<id>` of the integration token.
    actor       TEXT NOT NULL,
    body        TEXT NOT NULL,
    received_at INTEGER NOT NULL
);

CREATE INDEX health_events_by_time ON health_events (received_at);
