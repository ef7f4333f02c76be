//! The `default` project of a fresh install, which each backend creates the
//! first time it opens a database (and never again, even once deleted).

use time::OffsetDateTime;
use vexil_proto::{Environment, Project};

use super::WriteMeta;

/// The settings row saying the default project was created once; deleting
/// that project later does not bring it back.
pub(super) const BOOTSTRAPPED: &str = "vexil:default-project-created";

/// The default project, its environments, and the write that creates them.
#[derive(Debug)]
pub(super) struct DefaultProject {
    pub project: Project,
    /// `development`, `staging` and `production`, in that order.
    pub environments: [Environment; 3],
    /// By `system`, "fresh install", at `now`.
    pub meta: WriteMeta,
}

pub(super) fn default_project(now: OffsetDateTime) -> DefaultProject {
    let environment = |key: &str, name: &str, production| Environment {
        key: key.into(),
        name: name.into(),
        production,
        version: 1,
    };
    DefaultProject {
        project: Project {
            key: "default".into(),
            name: "Default".into(),
            description: String::new(),
        },
        environments: [
            environment("development", "Development", false),
            environment("staging", "Staging", false),
            environment("production", "Production", true),
        ],
        meta: WriteMeta {
            actor: "system".into(),
            reason: Some("fresh install".into()),
            at: now,
            expected_version: None,
        },
    }
}
