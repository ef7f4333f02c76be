//! Who is calling, once authenticated, and what they may do.
//!
//! - [`Principal`]: a user (session) or an API token, with a role and, for
//!   tokens, maybe a list of environments it may change. Handlers call
//!   `require_editor()`, `require_admin()` or `require_env_write(p, e)` and
//!   record `actor()` in the change log.
//! - [`SdkKey`]: reads one project's one environment.
//! - [`IntegrationToken`]: posts health events (alerts, deploys).
//!
//! Every refusal here is a 403 with a sentence saying what is missing, and
//! a `warn!` with the actor.

use tracing::warn;

use crate::api::ApiError;
use crate::store::Role;

/// A caller of the REST API: a logged-in user or an API token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    identity: Identity,
    role: Role,
    /// The environments an API token may change; empty for "all" (always
    /// empty for users).
    environments: Vec<String>,
}

/// Which user or token a [`Principal`] is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Identity {
    /// A session: the username.
    User(String),
    /// An API token: its id (the JWT's `jti`).
    Token(String),
}

impl Principal {
    /// A logged-in user with their current role.
    pub fn user(username: impl Into<String>, role: Role) -> Self {
        Principal {
            identity: Identity::User(username.into()),
            role,
            environments: Vec::new(),
        }
    }

    /// An API token; `environments` empty means it may change all.
    pub fn token(id: impl Into<String>, role: Role, environments: Vec<String>) -> Self {
        Principal {
            identity: Identity::Token(id.into()),
            role,
            environments,
        }
    }

    /// The change log's "who": `user:<name>` or `token:<id>`.
    pub fn actor(&self) -> String {
        match &self.identity {
            Identity::User(name) => format!("user:{name}"),
            Identity::Token(id) => format!("token:{id}"),
        }
    }

    pub fn identity(&self) -> &Identity {
        &self.identity
    }

    /// The username, for a session.
    pub fn username(&self) -> Option<&str> {
        match &self.identity {
            Identity::User(name) => Some(name),
            Identity::Token(_) => None,
        }
    }

    pub fn role(&self) -> Role {
        self.role
    }

    /// The environments this principal may change, or `None` for all.
    pub fn environments(&self) -> Option<&[String]> {
        (!self.environments.is_empty()).then_some(self.environments.as_slice())
    }

    /// Whether it may change things in `environment` (flag configs,
    /// toggles, rollout plans): an editor or admin not limited to other
    /// environments.
    pub fn may_write(&self, environment: &str) -> bool {
        self.role >= Role::Editor && self.env_allowed(environment)
    }

    /// For writes that reach every environment: flag definitions and
    /// segments. Needs editor, and a principal not limited to some
    /// environments (such a change would reach the others too).
    pub fn require_editor(&self) -> Result<(), ApiError> {
        self.require_role(Role::Editor)?;
        self.require_unrestricted("flag definitions and segments")
    }

    /// For projects, environments, users and tokens. Needs admin, and a
    /// principal not limited to some environments (an environment-limited
    /// admin token could otherwise mint itself an unlimited one).
    pub fn require_admin(&self) -> Result<(), ApiError> {
        self.require_role(Role::Admin)?;
        self.require_unrestricted("projects, environments, users and tokens")
    }

    /// For writes inside one environment of a project (its flag configs,
    /// the toggle, rollout plans): editor, and `environment` among the
    /// token's environments if it is limited.
    pub fn require_env_write(&self, project: &str, environment: &str) -> Result<(), ApiError> {
        self.require_role(Role::Editor)?;
        if self.env_allowed(environment) {
            return Ok(());
        }
        Err(self.forbid(format!(
            "{} may not change environment `{environment}` of project `{project}`; it may only change {}",
            self.actor(),
            list(&self.environments),
        )))
    }

    fn env_allowed(&self, environment: &str) -> bool {
        self.environments.is_empty() || self.environments.iter().any(|e| e == environment)
    }

    /// Refuses a caller below `needed` (403), before anything is read.
    pub fn require_role(&self, needed: Role) -> Result<(), ApiError> {
        if self.role >= needed {
            return Ok(());
        }
        let has = match self.role {
            Role::Viewer => "the viewer role, which is read-only",
            Role::Editor => "the editor role",
            Role::Admin => "the admin role",
        };
        let needs = match needed {
            Role::Admin => "the admin role",
            _ => "the editor or admin role",
        };
        Err(self.forbid(format!("{} has {has}; this needs {needs}", self.actor())))
    }

    fn require_unrestricted(&self, what: &str) -> Result<(), ApiError> {
        if self.environments.is_empty() {
            return Ok(());
        }
        Err(self.forbid(format!(
            "{} may only change {}; changing {what} needs a token that is not limited to environments",
            self.actor(),
            list(&self.environments),
        )))
    }

    fn forbid(&self, message: String) -> ApiError {
        warn!(actor = %self.actor(), reason = %message, "request forbidden");
        ApiError::Forbidden(message)
    }
}

/// An SDK key: reads one environment of one project, nothing else.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SdkKey {
    id: String,
    project: String,
    environment: String,
}

impl SdkKey {
    pub fn new(
        id: impl Into<String>,
        project: impl Into<String>,
        environment: impl Into<String>,
    ) -> Self {
        SdkKey {
            id: id.into(),
            project: project.into(),
            environment: environment.into(),
        }
    }

    /// The key's id (its `jti`), for logs and usage reports.
    pub fn id(&self) -> &str {
        &self.id
    }

    pub fn project(&self) -> &str {
        &self.project
    }

    pub fn environment(&self) -> &str {
        &self.environment
    }

    /// For handlers whose path names an environment: 403 unless it is
    /// this key's.
    pub fn require_environment(&self, project: &str, environment: &str) -> Result<(), ApiError> {
        if self.project == project && self.environment == environment {
            return Ok(());
        }
        let message = format!(
            "this SDK key reads environment `{}` of project `{}` only, not `{environment}` of `{project}`",
            self.environment, self.project
        );
        warn!(sdk_key = %self.id, reason = %message, "request forbidden");
        Err(ApiError::Forbidden(message))
    }
}

/// An integration token: may post health events (Alertmanager webhooks,
/// deploy events) and nothing else.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IntegrationToken {
    id: String,
    name: String,
}

impl IntegrationToken {
    pub fn new(id: impl Into<String>, name: impl Into<String>) -> Self {
        IntegrationToken {
            id: id.into(),
            name: name.into(),
        }
    }

    pub fn id(&self) -> &str {
        &self.id
    }

    /// The name it was created with ("alertmanager-prod"), for the timeline.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// `token:<id>`.
    pub fn actor(&self) -> String {
        format!("token:{}", self.id)
    }
}

fn list(environments: &[String]) -> String {
    environments
        .iter()
        .map(|e| format!("`{e}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use axum::http::StatusCode;

    use super::*;

    fn forbidden(result: Result<(), ApiError>) -> String {
        match result {
            Err(err @ ApiError::Forbidden(_)) => {
                assert_eq!(err.status_code(), StatusCode::FORBIDDEN);
                err.to_string()
            }
            other => panic!("expected 403, got {other:?}"),
        }
    }

    #[test]
    fn actors() {
        assert_eq!(Principal::user("ada", Role::Admin).actor(), "user:ada");
        assert_eq!(
            Principal::token("t1", Role::Editor, vec![]).actor(),
            "token:t1"
        );
        assert_eq!(IntegrationToken::new("i1", "alerts").actor(), "token:i1");
        assert_eq!(Principal::user("ada", Role::Admin).username(), Some("ada"));
        assert_eq!(
            Principal::token("t1", Role::Editor, vec![]).username(),
            None
        );
    }

    #[test]
    fn viewers_read_only() {
        let viewer = Principal::user("vic", Role::Viewer);
        assert!(!viewer.may_write("staging"));
        let message = forbidden(viewer.require_editor());
        assert!(
            message.contains("user:vic has the viewer role, which is read-only"),
            "{message}"
        );
        forbidden(viewer.require_env_write("default", "staging"));
        forbidden(viewer.require_admin());
    }

    #[test]
    fn editors_edit_but_do_not_administer() {
        let editor = Principal::user("eve", Role::Editor);
        assert!(editor.may_write("production"));
        editor.require_editor().unwrap();
        editor.require_env_write("default", "production").unwrap();
        let message = forbidden(editor.require_admin());
        assert!(message.contains("needs the admin role"), "{message}");
        let admin = Principal::user("ada", Role::Admin);
        admin.require_admin().unwrap();
        admin.require_editor().unwrap();
    }

    #[test]
    fn environment_limited_tokens_write_only_their_environments() {
        let token = Principal::token(
            "t1",
            Role::Editor,
            vec!["development".into(), "staging".into()],
        );
        assert_eq!(token.environments().map(<[String]>::len), Some(2));
        assert!(token.may_write("staging"));
        assert!(!token.may_write("production"));
        token.require_env_write("default", "staging").unwrap();
        let message = forbidden(token.require_env_write("default", "production"));
        assert!(
            message
                .contains("token:t1 may not change environment `production` of project `default`"),
            "{message}"
        );
        // Project-wide writes reach production too.
        forbidden(token.require_editor());
        let admin = Principal::token("t2", Role::Admin, vec!["staging".into()]);
        forbidden(admin.require_admin());
        assert_eq!(
            Principal::token("t3", Role::Editor, vec![]).environments(),
            None
        );
    }

    #[test]
    fn sdk_keys_read_their_one_environment() {
        let key = SdkKey::new("k1", "default", "production");
        key.require_environment("default", "production").unwrap();
        let message = forbidden(key.require_environment("default", "staging"));
        assert!(
            message.contains("reads environment `production` of project `default` only"),
            "{message}"
        );
        forbidden(key.require_environment("other", "production"));
    }
}
