//! Why a credential was refused. Every variant maps to a 401 (no usable
//! credential) or a 403 (a valid credential that may not do this); the
//! messages are safe to show clients and to log: they never contain the
//! token or any secret.

use axum::http::StatusCode;

use crate::api::ApiError;
use crate::store::StoreError;

/// A refused or failed authentication.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// No `Authorization` header (nor, for SDK keys, a `vexil.` subprotocol).
    #[error("missing credentials: send `Authorization: Bearer <token>`")]
    Missing,
    /// A header that is not `Bearer <token>`.
    #[error("malformed credentials: expected `Authorization: Bearer <token>`")]
    Malformed,
    /// Not a JWT we signed: garbled, wrong algorithm, wrong key, wrong
    /// issuer, missing claims. The reason is for people, not for parsing.
    #[error("invalid token: {0}")]
    Invalid(&'static str),
    /// A real token of another kind than the endpoint takes (an SDK key
    /// sent to the REST API, a session sent to the stream, ...).
    #[error("wrong kind of token: this endpoint takes {expected}, not {found}")]
    WrongKind {
        expected: &'static str,
        found: &'static str,
    },
    #[error("token expired")]
    Expired,
    #[error("token not valid yet")]
    NotYetValid,
    /// The token's `jti` is not in the store (deleted, or another install's
    /// database with the same key).
    #[error("unknown token")]
    UnknownToken,
    #[error("token revoked")]
    Revoked,
    /// The session's user was deleted (or deleted and re-created since the
    /// session was issued).
    #[error("the session's user no longer exists")]
    UnknownUser,
    #[error("user is disabled")]
    UserDisabled,
    /// Valid credentials that may not do this (403).
    #[error("{0}")]
    Forbidden(String),
    /// The store failed and no cached answer was usable (500).
    #[error("credential lookup failed: {0}")]
    Store(StoreError),
}

impl AuthError {
    pub fn status_code(&self) -> StatusCode {
        match self {
            AuthError::Forbidden(_) => StatusCode::FORBIDDEN,
            AuthError::Store(_) => StatusCode::INTERNAL_SERVER_ERROR,
            _ => StatusCode::UNAUTHORIZED,
        }
    }

    /// The WebSocket close code of the wire protocol: 4403 for a revoked
    /// key (the SDK stops retrying), 4401 for every other refusal.
    pub fn close_code(&self) -> u16 {
        match self {
            AuthError::Revoked | AuthError::Forbidden(_) => 4403,
            _ => 4401,
        }
    }
}

impl From<AuthError> for ApiError {
    fn from(err: AuthError) -> Self {
        match err {
            AuthError::Forbidden(message) => ApiError::Forbidden(message),
            AuthError::Store(cause) => ApiError::Internal(cause.to_string()),
            other => ApiError::Unauthorized(other.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_and_close_codes() {
        let revoked = ApiError::from(AuthError::Revoked);
        assert_eq!(revoked.status_code(), StatusCode::UNAUTHORIZED);
        assert_eq!(revoked.to_string(), "token revoked");
        assert_eq!(AuthError::Revoked.close_code(), 4403);
        assert_eq!(AuthError::Expired.close_code(), 4401);
        let forbidden = ApiError::from(AuthError::Forbidden("no".into()));
        assert_eq!(forbidden.status_code(), StatusCode::FORBIDDEN);
        let failed = ApiError::from(AuthError::Store(StoreError::Corrupt("x".into())));
        assert_eq!(failed.status_code(), StatusCode::INTERNAL_SERVER_ERROR);
    }
}
