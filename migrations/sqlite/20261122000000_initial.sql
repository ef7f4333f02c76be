-- Vexil's SQLite schema, first version.
--
-- Timestamps are INTEGER unix nanoseconds (UTC). JSON columns are TEXT
-- holding proto's serde JSON. Booleans are INTEGER 0/1. The default project
-- is created by the store on first open (with a `system` change), not here.

-- Named secrets shared by every process on this file (the JWT signing key),
-- and bookkeeping flags such as whether the default project was created.
CREATE TABLE settings (
    name  TEXT PRIMARY KEY NOT NULL,
    value TEXT NOT NULL
);

CREATE TABLE projects (
    key         TEXT PRIMARY KEY NOT NULL,
    name        TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    version     INTEGER NOT NULL,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
);

CREATE TABLE environments (
    project     TEXT NOT NULL REFERENCES projects (key) ON DELETE CASCADE,
    key         TEXT NOT NULL,
    name        TEXT NOT NULL,
    production  INTEGER NOT NULL DEFAULT 0,
    -- The change counter: +1 per committed change that can alter the
    -- environment's snapshot.
    version     INTEGER NOT NULL,
    -- Creation order, which lists follow (development, staging, production).
    position    INTEGER NOT NULL,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    PRIMARY KEY (project, key)
);

CREATE TABLE flags (
    project     TEXT NOT NULL REFERENCES projects (key) ON DELETE CASCADE,
    key         TEXT NOT NULL,
    name        TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    tags        TEXT NOT NULL DEFAULT '[]',
    owner       TEXT,
    kind        TEXT NOT NULL,
    variants    TEXT NOT NULL,
    temporary   INTEGER NOT NULL DEFAULT 0,
    version     INTEGER NOT NULL,
    archived    INTEGER NOT NULL DEFAULT 0,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    PRIMARY KEY (project, key)
);

CREATE INDEX flags_by_archived ON flags (project, archived, key);

CREATE TABLE flag_configs (
    project     TEXT NOT NULL,
    flag        TEXT NOT NULL,
    environment TEXT NOT NULL,
    -- The FlagConfig's JSON; its `version` field is ignored in favour of
    -- the column.
    config      TEXT NOT NULL,
    version     INTEGER NOT NULL,
    PRIMARY KEY (project, flag, environment),
    FOREIGN KEY (project, flag) REFERENCES flags (project, key) ON DELETE CASCADE,
    FOREIGN KEY (project, environment) REFERENCES environments (project, key) ON DELETE CASCADE
);

CREATE INDEX flag_configs_by_environment ON flag_configs (project, environment);

CREATE TABLE segments (
    project     TEXT NOT NULL REFERENCES projects (key) ON DELETE CASCADE,
    key         TEXT NOT NULL,
    name        TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    included    TEXT NOT NULL DEFAULT '[]',
    excluded    TEXT NOT NULL DEFAULT '[]',
    rules       TEXT NOT NULL DEFAULT '[]',
    version     INTEGER NOT NULL,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    PRIMARY KEY (project, key)
);

-- The change log: the audit trail and the source of stream patches. Never
-- deleted, so no foreign keys: it outlives what it describes.
CREATE TABLE changes (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    project     TEXT,
    environment TEXT,
    resource    TEXT NOT NULL,
    key         TEXT NOT NULL,
    action      TEXT NOT NULL,
    actor       TEXT NOT NULL,
    reason      TEXT,
    at          INTEGER NOT NULL,
    before      TEXT,
    after       TEXT
);

CREATE INDEX changes_by_project ON changes (project, id);
CREATE INDEX changes_by_key ON changes (project, key, id);
CREATE INDEX changes_by_environment ON changes (project, environment, id);
CREATE INDEX changes_by_actor ON changes (actor, id);
CREATE INDEX changes_by_at ON changes (at);

-- Which change took an environment to which version. The primary key is
-- what makes "no gap, no duplicate" checkable. Rows go with their
-- environment (a re-created environment starts again at version 1); the
-- changes they point to stay.
CREATE TABLE environment_versions (
    project     TEXT NOT NULL,
    environment TEXT NOT NULL,
    version     INTEGER NOT NULL,
    change_id   INTEGER NOT NULL REFERENCES changes (id),
    PRIMARY KEY (project, environment, version),
    FOREIGN KEY (project, environment) REFERENCES environments (project, key) ON DELETE CASCADE
);

CREATE INDEX environment_versions_by_change ON environment_versions (change_id);

CREATE TABLE users (
    id            TEXT PRIMARY KEY NOT NULL,
    username      TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    role          TEXT NOT NULL,
    disabled      INTEGER NOT NULL DEFAULT 0,
    version       INTEGER NOT NULL,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL
);

-- API tokens, integration tokens and SDK keys (the JWT's `jti` is `id`).
CREATE TABLE tokens (
    id           TEXT PRIMARY KEY NOT NULL,
    kind         TEXT NOT NULL,
    name         TEXT NOT NULL,
    role         TEXT,
    project      TEXT REFERENCES projects (key) ON DELETE CASCADE,
    environments TEXT NOT NULL DEFAULT '[]',
    created_by   TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL,
    last_used_at INTEGER,
    revoked_at   INTEGER
);

CREATE INDEX tokens_by_kind ON tokens (kind, created_at);
CREATE INDEX tokens_by_project ON tokens (project, created_at);
