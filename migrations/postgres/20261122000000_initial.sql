-- Vexil's PostgreSQL schema: projects, environments, flags with their
-- per-environment configs, segments, the change log, accounts and tokens.
--
-- Versions are BIGINT counters, JSON documents are JSONB (proto's serde
-- JSON), times are TIMESTAMPTZ. Deleting a project or an environment
-- cascades to what lives in it; the change log (`changes`) has no foreign
-- key and is never deleted. The default project is created by the store on
-- first start (with a `system` change), not here.

-- Named secrets every replica shares (the JWT signing key), and
-- bookkeeping such as whether the default project was created.
CREATE TABLE settings (
    name  TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE projects (
    key         TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    version     BIGINT NOT NULL DEFAULT 1 CHECK (version >= 0),
    created_at  TIMESTAMPTZ NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL
);

CREATE TABLE environments (
    project    TEXT NOT NULL REFERENCES projects (key) ON DELETE CASCADE,
    key        TEXT NOT NULL,
    name       TEXT NOT NULL,
    production BOOLEAN NOT NULL DEFAULT FALSE,
    -- The change counter: +1 per committed change that can alter the
    -- environment's snapshot.
    version    BIGINT NOT NULL DEFAULT 1 CHECK (version >= 0),
    -- Creation order, which lists follow (development, staging, production).
    position   BIGINT GENERATED ALWAYS AS IDENTITY,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (project, key)
);

CREATE TABLE flags (
    project     TEXT NOT NULL REFERENCES projects (key) ON DELETE CASCADE,
    key         TEXT NOT NULL,
    name        TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    tags        JSONB NOT NULL DEFAULT '[]'::jsonb,
    owner       TEXT,
    kind        TEXT NOT NULL CHECK (kind IN ('boolean', 'string', 'number', 'json')),
    variants    JSONB NOT NULL,
    temporary   BOOLEAN NOT NULL DEFAULT FALSE,
    version     BIGINT NOT NULL DEFAULT 1 CHECK (version >= 0),
    archived    BOOLEAN NOT NULL DEFAULT FALSE,
    created_at  TIMESTAMPTZ NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (project, key)
);

-- The flag list: live or archived, paged by key; `tags ? $tag` uses the GIN index.
CREATE INDEX flags_by_archived ON flags (project, archived, key);
CREATE INDEX flags_by_tag ON flags USING GIN (tags);

-- One config per flag and environment; `config` is the proto FlagConfig,
-- whose `version` is kept here as a column too (the authoritative one).
CREATE TABLE flag_configs (
    project     TEXT NOT NULL,
    flag        TEXT NOT NULL,
    environment TEXT NOT NULL,
    config      JSONB NOT NULL,
    version     BIGINT NOT NULL DEFAULT 1 CHECK (version >= 0),
    PRIMARY KEY (project, flag, environment),
    FOREIGN KEY (project, flag) REFERENCES flags (project, key) ON DELETE CASCADE,
    FOREIGN KEY (project, environment) REFERENCES environments (project, key) ON DELETE CASCADE
);

-- Snapshots read every config of one environment.
CREATE INDEX flag_configs_by_environment ON flag_configs (project, environment);

CREATE TABLE segments (
    project     TEXT NOT NULL REFERENCES projects (key) ON DELETE CASCADE,
    key         TEXT NOT NULL,
    name        TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    included    JSONB NOT NULL DEFAULT '[]'::jsonb,
    excluded    JSONB NOT NULL DEFAULT '[]'::jsonb,
    rules       JSONB NOT NULL DEFAULT '[]'::jsonb,
    version     BIGINT NOT NULL DEFAULT 1 CHECK (version >= 0),
    created_at  TIMESTAMPTZ NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (project, key)
);

-- The change log: the audit trail and the source of stream patches. Never
-- deleted, so no foreign keys: it outlives what it describes.
CREATE TABLE changes (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    project     TEXT,
    environment TEXT,
    resource    TEXT NOT NULL,
    key         TEXT NOT NULL,
    action      TEXT NOT NULL,
    actor       TEXT NOT NULL,
    reason      TEXT,
    at          TIMESTAMPTZ NOT NULL,
    before      JSONB,
    after       JSONB
);

CREATE INDEX changes_by_project ON changes (project, id DESC);
CREATE INDEX changes_by_key ON changes (project, key, id DESC);
CREATE INDEX changes_by_environment ON changes (project, environment, id DESC);
CREATE INDEX changes_by_actor ON changes (actor, id DESC);
CREATE INDEX changes_by_at ON changes (at);

-- "Environment E of project P reached version V with change C": what
-- replicas read to catch up (`changes_since`), and each change's
-- `versions`. The primary key is what makes "no gap, no duplicate"
-- checkable. Rows go with their environment (a re-created environment
-- starts again at version 1); the changes they point to stay.
CREATE TABLE environment_versions (
    project     TEXT NOT NULL,
    environment TEXT NOT NULL,
    version     BIGINT NOT NULL,
    change_id   BIGINT NOT NULL REFERENCES changes (id),
    PRIMARY KEY (project, environment, version),
    FOREIGN KEY (project, environment) REFERENCES environments (project, key) ON DELETE CASCADE
);

CREATE INDEX environment_versions_by_change ON environment_versions (change_id);

CREATE TABLE users (
    id            TEXT PRIMARY KEY,
    username      TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    role          TEXT NOT NULL CHECK (role IN ('viewer', 'editor', 'admin')),
    disabled      BOOLEAN NOT NULL DEFAULT FALSE,
    version       BIGINT NOT NULL DEFAULT 1 CHECK (version >= 0),
    created_at    TIMESTAMPTZ NOT NULL,
    updated_at    TIMESTAMPTZ NOT NULL
);

-- API tokens, integration tokens and SDK keys (the JWT's `jti` is `id`).
-- `environments` is a JSONB array of environment keys. An SDK key goes with
-- its project, so recreating a project does not revive old keys.
CREATE TABLE tokens (
    id           TEXT PRIMARY KEY,
    kind         TEXT NOT NULL CHECK (kind IN ('api', 'integration', 'sdk')),
    name         TEXT NOT NULL,
    role         TEXT CHECK (role IN ('viewer', 'editor', 'admin')),
    project      TEXT REFERENCES projects (key) ON DELETE CASCADE,
    environments JSONB NOT NULL DEFAULT '[]'::jsonb,
    created_by   TEXT NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL,
    expires_at   TIMESTAMPTZ NOT NULL,
    last_used_at TIMESTAMPTZ,
    revoked_at   TIMESTAMPTZ
);

CREATE INDEX tokens_by_kind ON tokens (kind, created_at);
CREATE INDEX tokens_by_project ON tokens (project, created_at);
