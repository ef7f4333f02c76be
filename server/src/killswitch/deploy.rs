//! Deploy events (`POST /api/v1/deploys`): what a pipeline reports, and
//! the key that makes re-posting the same event harmless.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Where a deploy is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DeployStatus {
    Started,
    Succeeded,
    Failed,
    RolledBack,
}

/// How the deployed service looks after the deploy, if the pipeline knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DeployHealth {
    Healthy,
    Degraded,
    Unhealthy,
}

/// A deploy event. Strict: an unknown field is a 422, so a typo in a
/// pipeline shows up at once instead of a switch that never trips.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeployEvent {
    /// The pipeline's own id for this event; re-posting the same id is a
    /// no-op. Without it, service + version + environment + status is
    /// the key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    pub service: String,
    pub version: String,
    /// An environment key (the same key in every project).
    pub environment: String,
    pub status: DeployStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub health: Option<DeployHealth>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commit: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

impl DeployEvent {
    /// The idempotency key stored with the event.
    pub fn key(&self) -> String {
        match &self.id {
            Some(id) => format!("deploy:id:{id}"),
            None => format!(
                "deploy:{}:{}:{}:{}",
                self.service,
                self.version,
                self.environment,
                status_name(self.status)
            ),
        }
    }

    /// The problems found beyond the JSON's shape, as JSON pointers.
    pub fn problems(&self) -> Vec<vexil_proto::Problem> {
        let mut problems = Vec::new();
        for (path, value) in [
            ("/service", &self.service),
            ("/version", &self.version),
            ("/environment", &self.environment),
        ] {
            if value.trim().is_empty() {
                problems.push(problem(path, "must not be empty"));
            } else if value.chars().count() > 200 {
                problems.push(problem(path, "is longer than 200 characters"));
            }
        }
        if self.id.as_deref().is_some_and(|id| id.trim().is_empty()) {
            problems.push(problem("/id", "must not be empty when given"));
        }
        problems
    }
}

pub(crate) fn problem(path: &str, text: impl Into<String>) -> vexil_proto::Problem {
    vexil_proto::Problem {
        path: path.to_owned(),
        problem: text.into(),
    }
}

/// A status as the API spells it (`rolled_back`).
pub fn status_name(status: DeployStatus) -> &'static str {
    match status {
        DeployStatus::Started => "started",
        DeployStatus::Succeeded => "succeeded",
        DeployStatus::Failed => "failed",
        DeployStatus::RolledBack => "rolled_back",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_is_the_id_or_the_four_fields() {
        let mut event: DeployEvent = serde_json::from_str(
            r#"{"service":"checkout","version":"1.2.3","environment":"production","status":"rolled_back"}"#,
        )
        .unwrap();
        assert_eq!(event.key(), "deploy:checkout:1.2.3:production:rolled_back");
        event.id = Some("run-7".into());
        assert_eq!(event.key(), "deploy:id:run-7");
    }

    #[test]
    fn unknown_fields_are_refused() {
        let err = serde_json::from_str::<DeployEvent>(
            r#"{"service":"a","version":"1","environment":"e","status":"failed","sha":"x"}"#,
        )
        .unwrap_err();
        assert!(err.to_string().contains("unknown field `sha`"), "{err}");
    }
}
