//! Checking a kill switch against the project before it is stored: the
//! flag and environment exist, a `serve` variant is one of the flag's,
//! matchers compile, a deploy trigger names a service and statuses.

use vexil_proto::Problem;

use super::deploy::problem;
use super::matchers;
use super::model::{Action, KillSwitch, Trigger};
use crate::store::{Store, StoreError, StoreResult};

/// Longest name, service or label value people may write.
const MAX_TEXT: usize = 200;

/// Every problem with `spec`, as JSON pointers into it; empty when fine.
pub async fn problems(
    store: &dyn Store,
    project: &str,
    spec: &KillSwitch,
) -> StoreResult<Vec<Problem>> {
    let mut problems = Vec::new();
    if spec.name.trim().is_empty() {
        problems.push(problem("/name", "must not be empty"));
    } else if spec.name.chars().count() > MAX_TEXT {
        problems.push(problem(
            "/name",
            format!("is longer than {MAX_TEXT} characters"),
        ));
    }
    match &spec.trigger {
        Trigger::Alert { matchers: list } => {
            if let Err(found) = matchers::compile(list, "/trigger/alert/matchers") {
                problems.extend(found);
            }
        }
        Trigger::Deploy { service, statuses } => {
            if service.trim().is_empty() {
                problems.push(problem("/trigger/deploy/service", "must not be empty"));
            }
            if statuses.is_empty() {
                problems.push(problem(
                    "/trigger/deploy/statuses",
                    "needs at least one status (the default is failed and rolled_back)",
                ));
            }
        }
    }
    match store.get_environment(project, &spec.environment).await {
        Ok(_) => {}
        Err(StoreError::NotFound(_)) => problems.push(problem(
            "/environment",
            format!(
                "environment `{}` does not exist in project `{project}`",
                spec.environment
            ),
        )),
        Err(error) => return Err(error),
    }
    match store.get_flag(project, &spec.flag).await {
        Ok(record) => {
            if record.archived {
                problems.push(problem(
                    "/flag",
                    format!("flag `{}` is archived", spec.flag),
                ));
            }
            if let Action::Serve(variant) = &spec.action
                && !record.flag.variants.iter().any(|v| v.key == *variant)
            {
                problems.push(problem(
                    "/action/serve",
                    format!("flag `{}` has no variant `{variant}`", spec.flag),
                ));
            }
        }
        Err(StoreError::NotFound(_)) => problems.push(problem(
            "/flag",
            format!("flag `{}` does not exist in project `{project}`", spec.flag),
        )),
        Err(error) => return Err(error),
    }
    Ok(problems)
}
