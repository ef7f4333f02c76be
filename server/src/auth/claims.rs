//! What a token says: its audience, kind and claims, and which claims each
//! kind must carry (checked when issuing, verifying, and against the
//! stored record).

use serde::{Deserialize, Serialize};

use crate::store::{Role, TokenKind, TokenRecord};

/// Who a token is for (`aud`). A token is only ever accepted by the
/// endpoints of its audience, so an SDK key shipped in a mobile app can
/// never call the REST API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Audience {
    /// A user's login (`vexil:session`).
    Session,
    /// API and integration tokens (`vexil:api`).
    Api,
    /// SDK keys (`vexil:sdk`).
    Sdk,
}

impl Audience {
    pub const ALL: [Audience; 3] = [Audience::Session, Audience::Api, Audience::Sdk];

    pub const fn as_str(self) -> &'static str {
        match self {
            Audience::Session => "vexil:session",
            Audience::Api => "vexil:api",
            Audience::Sdk => "vexil:sdk",
        }
    }

    pub(crate) fn parse(aud: &str) -> Option<Self> {
        Audience::ALL.into_iter().find(|a| a.as_str() == aud)
    }

    pub(crate) fn describe(self) -> &'static str {
        match self {
            Audience::Session => "a user session",
            Audience::Api => "an API or integration token",
            Audience::Sdk => "an SDK key",
        }
    }
}

/// What the token is (`kind`); finer than the audience, which API and
/// integration tokens share.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClaimKind {
    Session,
    Api,
    Integration,
    Sdk,
}

impl ClaimKind {
    pub fn audience(self) -> Audience {
        match self {
            ClaimKind::Session => Audience::Session,
            ClaimKind::Api | ClaimKind::Integration => Audience::Api,
            ClaimKind::Sdk => Audience::Sdk,
        }
    }
}

impl From<TokenKind> for ClaimKind {
    fn from(kind: TokenKind) -> Self {
        match kind {
            TokenKind::Api => ClaimKind::Api,
            TokenKind::Integration => ClaimKind::Integration,
            TokenKind::Sdk => ClaimKind::Sdk,
        }
    }
}

impl Claims {
    /// Who the token speaks for, for logs: `user:<name>` or `token:<id>`.
    pub fn subject(&self) -> String {
        match self.kind {
            ClaimKind::Session => format!("user:{}", self.sub),
            _ => format!("token:{}", self.jti),
        }
    }
}

/// The `env` claim: an SDK key's one environment (a string), or the
/// environments an API token may change (a list; absent = all).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum EnvClaim {
    One(String),
    Many(Vec<String>),
}

/// A token's payload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// Sessions: the username. Stored tokens: the token id.
    pub sub: String,
    /// Sessions: a fresh UUID. Stored tokens: the [`TokenRecord`] id, by
    /// which they are looked up and revoked.
    pub jti: String,
    pub iss: String,
    /// One of [`Audience`]'s strings; a list is refused.
    pub aud: String,
    pub iat: i64,
    pub exp: i64,
    /// Honoured when present; Vexil does not issue it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nbf: Option<i64>,
    pub kind: ClaimKind,
    /// Sessions and API tokens. For sessions only informational (the UI
    /// reads it); the user's current role in the store is what counts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<Role>,
    /// SDK keys: their project.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project: Option<String>,
    /// SDK keys: their environment; API tokens: the environments they may
    /// change, when limited.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub env: Option<EnvClaim>,
}

/// The claims each kind must (and must not) carry.
pub(crate) fn check_claims(claims: &Claims) -> Result<(), &'static str> {
    let fits = match claims.kind {
        ClaimKind::Session => {
            claims.role.is_some() && claims.project.is_none() && claims.env.is_none()
        }
        ClaimKind::Api => {
            claims.role.is_some()
                && claims.project.is_none()
                && matches!(claims.env, None | Some(EnvClaim::Many(_)))
        }
        ClaimKind::Integration => {
            claims.role.is_none() && claims.project.is_none() && claims.env.is_none()
        }
        ClaimKind::Sdk => {
            claims.role.is_none()
                && claims.project.is_some()
                && matches!(claims.env, Some(EnvClaim::One(_)))
        }
    };
    if fits {
        Ok(())
    } else {
        Err("claims do not fit the token kind")
    }
}

/// The fields each kind of stored token must (and must not) have: API
/// tokens a role and no project; integration tokens neither and no
/// environments; SDK keys a project and exactly one environment.
pub(crate) fn check_record(record: &TokenRecord) -> Result<(), &'static str> {
    match record.kind {
        TokenKind::Api if record.role.is_none() => Err("an API token needs a role"),
        TokenKind::Api if record.project.is_some() => Err("API tokens are not tied to a project"),
        TokenKind::Integration
            if record.role.is_some()
                || record.project.is_some()
                || !record.environments.is_empty() =>
        {
            Err("integration tokens have no role, project or environments")
        }
        TokenKind::Sdk if record.role.is_some() => Err("SDK keys have no role"),
        TokenKind::Sdk if record.project.is_none() || record.environments.len() != 1 => {
            Err("an SDK key needs a project and exactly one environment")
        }
        _ => Ok(()),
    }
}

pub(crate) fn describe_accepted(accept: &[Audience]) -> &'static str {
    match accept {
        [Audience::Sdk] => "an SDK key",
        [Audience::Api] => "an API or integration token",
        [Audience::Session] => "a user session",
        [Audience::Session, Audience::Api] | [Audience::Api, Audience::Session] => {
            "a user session or an API token"
        }
        _ => "another kind of token",
    }
}
