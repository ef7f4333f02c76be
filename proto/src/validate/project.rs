//! Projects and environments: key syntax and a name.

use super::ValidationErrors;
use super::path::{Path, Problems, check_key, check_len, check_name};
use crate::limits::MAX_TEXT_LEN;
use crate::project::{Environment, Project};

/// Checks a project document: key syntax, a non-empty name, text lengths.
pub fn validate_project(project: &Project) -> Result<(), ValidationErrors> {
    let mut problems = Problems::default();
    let root = Path::ROOT;
    check_key(&mut problems, &root.field("key"), &project.key);
    check_name(&mut problems, &root.field("name"), &project.name);
    check_len(
        &mut problems,
        &root.field("description"),
        &project.description,
        MAX_TEXT_LEN,
    );
    problems.finish()
}

/// Checks an environment document: key syntax and a non-empty name.
pub fn validate_environment(environment: &Environment) -> Result<(), ValidationErrors> {
    let mut problems = Problems::default();
    let root = Path::ROOT;
    check_key(&mut problems, &root.field("key"), &environment.key);
    check_name(&mut problems, &root.field("name"), &environment.name);
    problems.finish()
}
