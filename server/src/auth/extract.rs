//! Reading credentials from a request, checking them, and the axum
//! extractors built on that: [`Principal`], [`SdkKey`], [`IntegrationToken`].
//!
//! A credential is `Authorization: Bearer <jwt>`; SDK keys may instead come
//! as the WebSocket subprotocol `vexil.<key>`, since browsers cannot set
//! headers on a WebSocket. After the signature and claims ([`super::Keys::verify`]),
//! stored tokens are looked up by `jti` (through the cache) so revocation
//! works, and sessions by username so disabling a user works.
//!
//! Every refusal is logged at `warn` with its reason and, once the
//! signature has been checked, the subject (`user:<name>`, `token:<id>`);
//! never the token.

use std::sync::Arc;

use axum::extract::{FromRef, FromRequestParts};
use axum::http::HeaderMap;
use axum::http::header::{AUTHORIZATION, SEC_WEBSOCKET_PROTOCOL};
use axum::http::request::Parts;
use time::OffsetDateTime;
use tracing::warn;

use super::cache::Cached;
use super::claims::{Audience, ClaimKind, Claims, EnvClaim, check_record};
use super::jwt::{CLOCK_SKEW, check_use};
use super::{AuthError, AuthState, IntegrationToken, Principal, SdkKey};
use crate::api::ApiError;
use crate::store::{StoreError, TokenKind, TokenRecord, UserRecord};

/// The WebSocket subprotocol prefix that carries an SDK key.
pub const SUBPROTOCOL_PREFIX: &str = "vexil.";

impl AuthState {
    /// The REST API caller: a session or an API token.
    pub async fn principal(&self, headers: &HeaderMap) -> Result<Principal, AuthError> {
        let mut subject = None;
        let result = self.principal_inner(headers, &mut subject).await;
        result.map_err(|err| refused(err, subject, "user session or API token"))
    }

    /// An SDK key, from `Authorization` or the `vexil.<key>` subprotocol.
    /// The stream handler uses this directly to answer refusals with a
    /// close code ([`AuthError::close_code`]) rather than an HTTP status.
    pub async fn sdk_key(&self, headers: &HeaderMap) -> Result<SdkKey, AuthError> {
        let mut subject = None;
        let result = self.sdk_key_inner(headers, &mut subject).await;
        result.map_err(|err| refused(err, subject, "SDK key"))
    }

    /// An integration token (health events).
    pub async fn integration_token(
        &self,
        headers: &HeaderMap,
    ) -> Result<IntegrationToken, AuthError> {
        let mut subject = None;
        let result = self.integration_inner(headers, &mut subject).await;
        result.map_err(|err| refused(err, subject, "integration token"))
    }

    async fn principal_inner(
        &self,
        headers: &HeaderMap,
        subject: &mut Option<String>,
    ) -> Result<Principal, AuthError> {
        let token = bearer(headers)?.ok_or(AuthError::Missing)?;
        let now = self.now();
        let claims = self.claims(token, &[Audience::Session, Audience::Api], now, subject)?;
        match claims.kind {
            ClaimKind::Session => {
                let user = self.session_user(&claims, now).await?;
                Ok(Principal::user(user.username.clone(), user.role))
            }
            ClaimKind::Api => {
                let record = self.stored_token(&claims, now).await?;
                let role = record
                    .role
                    .ok_or(AuthError::Invalid("token record without a role"))?;
                Ok(Principal::token(
                    record.id.clone(),
                    role,
                    record.environments.clone(),
                ))
            }
            ClaimKind::Integration => {
                // Revoked or unknown says so first; then the missing right.
                self.stored_token(&claims, now).await?;
                Err(AuthError::Forbidden(
                    "integration tokens may only post health events (alerts and deploys)".into(),
                ))
            }
            ClaimKind::Sdk => Err(AuthError::Invalid("kind does not match audience")),
        }
    }

    async fn sdk_key_inner(
        &self,
        headers: &HeaderMap,
        subject: &mut Option<String>,
    ) -> Result<SdkKey, AuthError> {
        let token = match bearer(headers)? {
            Some(token) => token,
            None => subprotocol_key(headers).ok_or(AuthError::Missing)?,
        };
        let now = self.now();
        let claims = self.claims(token, &[Audience::Sdk], now, subject)?;
        let record = self.stored_token(&claims, now).await?;
        match (&record.project, record.environments.as_slice()) {
            (Some(project), [environment]) => {
                Ok(SdkKey::new(record.id.clone(), project, environment))
            }
            _ => Err(AuthError::Invalid("SDK key record without one environment")),
        }
    }

    async fn integration_inner(
        &self,
        headers: &HeaderMap,
        subject: &mut Option<String>,
    ) -> Result<IntegrationToken, AuthError> {
        let token = bearer(headers)?.ok_or(AuthError::Missing)?;
        let now = self.now();
        let claims = self.claims(token, &[Audience::Api], now, subject)?;
        let record = self.stored_token(&claims, now).await?;
        if record.kind != TokenKind::Integration {
            return Err(AuthError::Forbidden(
                "this endpoint takes an integration token, not an API token".into(),
            ));
        }
        Ok(IntegrationToken::new(
            record.id.clone(),
            record.name.clone(),
        ))
    }

    /// Verified claims usable here; `subject` is set as soon as the
    /// signature is known to be ours, so later refusals can name it. A
    /// token seen before is not decoded again (see [`super::AuthCache`]);
    /// its times are checked again.
    fn claims(
        &self,
        token: &str,
        accept: &[Audience],
        now: OffsetDateTime,
        subject: &mut Option<String>,
    ) -> Result<Arc<Claims>, AuthError> {
        let claims = match self.cache.verified(token) {
            Some(claims) => claims,
            None => self
                .cache
                .put_verified(token, self.keys.decode(token)?, now),
        };
        *subject = Some(claims.subject());
        check_use(&claims, accept, now)?;
        Ok(claims)
    }

    /// The live record of a stored token: known, not revoked, not expired,
    /// and matching what the JWT says. Records its use, at most once a
    /// minute, without delaying the request.
    async fn stored_token(
        &self,
        claims: &Claims,
        now: OffsetDateTime,
    ) -> Result<Arc<TokenRecord>, AuthError> {
        let id = claims.jti.as_str();
        let record = match self.cache.token(id, now) {
            Cached::Fresh(record) => record,
            cached => match self.store.get_token(id).await {
                Ok(record) => self.cache.put_token(record, now),
                Err(StoreError::NotFound(_)) => return Err(AuthError::UnknownToken),
                Err(err) => match cached {
                    Cached::Stale(record) => {
                        warn!(subject = %format!("token:{id}"), error = %err, "token lookup failed; using the cached record");
                        record
                    }
                    _ => return Err(AuthError::Store(err)),
                },
            },
        };
        if record.revoked_at.is_some() {
            return Err(AuthError::Revoked);
        }
        if now >= record.expires_at + CLOCK_SKEW {
            return Err(AuthError::Expired);
        }
        check_record(&record)
            .map_err(|_| AuthError::Invalid("the token's record is inconsistent"))?;
        if !matches_record(claims, &record) {
            return Err(AuthError::Invalid("token does not match its record"));
        }
        if self.cache.claim_touch(id, record.last_used_at, now) {
            self.touch(id, now);
        }
        Ok(record)
    }

    /// Writes `last_used_at` in the background; a failure only logs.
    fn touch(&self, id: &str, now: OffsetDateTime) {
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let store = self.store.clone();
        let id = id.to_string();
        runtime.spawn(async move {
            if let Err(err) = store.touch_token(&id, now).await {
                warn!(subject = %format!("token:{id}"), error = %err, "could not record the token's use");
            }
        });
    }

    /// The user behind a session: still there (the same account, not one
    /// re-created under the name since), and not disabled.
    async fn session_user(
        &self,
        claims: &Claims,
        now: OffsetDateTime,
    ) -> Result<Arc<UserRecord>, AuthError> {
        let username = claims.sub.as_str();
        let user = match self.cache.user(username, now) {
            Cached::Fresh(user) => user,
            cached => match self.store.get_user(username).await {
                Ok(user) => self.cache.put_user(user, now),
                Err(StoreError::NotFound(_)) => return Err(AuthError::UnknownUser),
                Err(err) => match cached {
                    Cached::Stale(user) => {
                        warn!(subject = %format!("user:{username}"), error = %err, "user lookup failed; using the cached user");
                        user
                    }
                    _ => return Err(AuthError::Store(err)),
                },
            },
        };
        if user.created_at.unix_timestamp() > claims.iat {
            return Err(AuthError::UnknownUser);
        }
        if user.disabled {
            return Err(AuthError::UserDisabled);
        }
        Ok(user)
    }
}

/// Whether the signed claims agree with the stored record (they always do
/// unless the record was edited, or the id belongs to another install).
fn matches_record(claims: &Claims, record: &TokenRecord) -> bool {
    if ClaimKind::from(record.kind) != claims.kind || claims.sub != record.id {
        return false;
    }
    match record.kind {
        TokenKind::Api => {
            let environments = match &claims.env {
                Some(EnvClaim::Many(environments)) => environments.as_slice(),
                _ => &[],
            };
            claims.role == record.role && environments == record.environments.as_slice()
        }
        TokenKind::Integration => true,
        TokenKind::Sdk => {
            claims.project == record.project
                && matches!(&claims.env, Some(EnvClaim::One(env)) if record.environments == [env.as_str()])
        }
    }
}

fn refused(err: AuthError, subject: Option<String>, wanted: &'static str) -> AuthError {
    let subject = subject.as_deref().unwrap_or("unknown");
    warn!(reason = %err, subject = %subject, credential = %wanted, "authentication refused");
    err
}

/// The token of `Authorization: Bearer <token>`, if the header is there.
/// Several `Authorization` headers, another scheme, or an empty token are
/// malformed.
fn bearer(headers: &HeaderMap) -> Result<Option<&str>, AuthError> {
    let mut values = headers.get_all(AUTHORIZATION).iter();
    let Some(value) = values.next() else {
        return Ok(None);
    };
    if values.next().is_some() {
        return Err(AuthError::Malformed);
    }
    // `to_str` admits visible ASCII, spaces and tabs only: the only
    // whitespace left to look for is bytes (a per-char Unicode check cost
    // a microsecond per request on a 400-byte token).
    let value = value.to_str().map_err(|_| AuthError::Malformed)?.trim();
    let (scheme, token) = value.split_once(' ').ok_or(AuthError::Malformed)?;
    let token = token.trim();
    if !scheme.eq_ignore_ascii_case("bearer")
        || token.is_empty()
        || token.bytes().any(|b| b == b' ' || b == b'\t')
    {
        return Err(AuthError::Malformed);
    }
    Ok(Some(token))
}

/// The key of a `vexil.<key>` entry of `Sec-WebSocket-Protocol` (a
/// comma-separated list; clients should also offer plain `vexil`, which is
/// what the server selects, so the key is never echoed back).
fn subprotocol_key(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(SEC_WEBSOCKET_PROTOCOL)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .filter_map(|protocol| protocol.trim().strip_prefix(SUBPROTOCOL_PREFIX))
        .find(|key| !key.is_empty())
}

impl<S> FromRequestParts<S> for Principal
where
    AuthState: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Ok(AuthState::from_ref(state).principal(&parts.headers).await?)
    }
}

impl<S> FromRequestParts<S> for SdkKey
where
    AuthState: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Ok(AuthState::from_ref(state).sdk_key(&parts.headers).await?)
    }
}

impl<S> FromRequestParts<S> for IntegrationToken
where
    AuthState: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Ok(AuthState::from_ref(state)
            .integration_token(&parts.headers)
            .await?)
    }
}

#[cfg(test)]
mod tests;
