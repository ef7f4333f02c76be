//! JWTs: the signing key, the claims, issuing, and strict verification.
//!
//! Every credential is an HS256 JWT signed with one secret shared by all
//! replicas ([`SECRET_NAME`] in the store). Verification pins the
//! algorithm to HS256 (so `alg: none`, HS384/HS512 and RS/ES algorithms are
//! refused before any signature is checked), requires `exp`, `iss`, `aud`
//! and `sub`, and checks `exp`, `nbf` and `iat` against the injected
//! [`Clock`] with [`CLOCK_SKEW`] of tolerance between replicas.

use std::fmt;

use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use time::{Duration, OffsetDateTime};

use super::claims::{
    Audience, ClaimKind, Claims, EnvClaim, check_claims, check_record, describe_accepted,
};
use super::clock::Clock;
use super::error::AuthError;
use crate::api::ApiError;
use crate::store::{StoreError, TokenKind, TokenRecord, UserRecord};

/// Every token's `iss`.
pub const ISSUER: &str = "vexil";

/// The name of the signing secret in [`crate::store::Store::secret`].
pub const SECRET_NAME: &str = "jwt_signing_key";

/// How far replicas' clocks may disagree: a token is accepted until
/// `exp + CLOCK_SKEW`, and from `nbf - CLOCK_SKEW` / `iat - CLOCK_SKEW`.
pub const CLOCK_SKEW: Duration = Duration::seconds(30);

/// How long a login lasts unless configured otherwise.
pub const DEFAULT_SESSION_TTL: Duration = Duration::hours(1);

/// Shortest accepted signing secret: 256 bits, the size of HS256's hash.
pub const MIN_SECRET_BYTES: usize = 32;

/// Longer headers are refused before any parsing; ours are ~400 bytes.
const MAX_TOKEN_BYTES: usize = 8 * 1024;

/// Why a signing secret was refused.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("the JWT signing secret must be at least {MIN_SECRET_BYTES} bytes")]
    TooShort,
    #[error("the stored JWT signing secret is not a hex string")]
    NotHex,
    #[error("could not read the JWT signing secret: {0}")]
    Store(#[from] StoreError),
}

/// Why a token could not be issued: a caller's bug, so a 500.
#[derive(Debug, thiserror::Error)]
pub enum IssueError {
    #[error("cannot issue a token for this record: {0}")]
    InvalidRecord(&'static str),
    #[error("cannot sign a token: {0}")]
    Sign(String),
}

impl From<IssueError> for ApiError {
    fn from(err: IssueError) -> Self {
        ApiError::Internal(err.to_string())
    }
}

/// A new signing secret for [`crate::store::Store::secret`]: 64 random bytes
/// from the thread-local CSPRNG, as 128 hex digits.
pub fn generate_secret() -> String {
    let mut bytes = [0u8; 64];
    rand::fill(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The signing and verifying keys. `Debug` never shows the secret.
pub struct Keys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    session_ttl: Duration,
}

impl fmt::Debug for Keys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Keys")
            .field("algorithm", &Algorithm::HS256)
            .field("secret", &"[redacted]")
            .field("session_ttl", &self.session_ttl)
            .finish()
    }
}

impl Keys {
    /// Keys from the raw secret bytes (at least [`MIN_SECRET_BYTES`]).
    pub fn new(secret: &[u8]) -> Result<Self, KeyError> {
        if secret.len() < MIN_SECRET_BYTES {
            return Err(KeyError::TooShort);
        }
        let mut validation = Validation::new(Algorithm::HS256);
        // exp and nbf are checked against the injected clock in `verify`;
        // jsonwebtoken would read the system clock.
        validation.validate_exp = false;
        validation.validate_nbf = false;
        validation.leeway = 0;
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.set_issuer(&[ISSUER]);
        validation.set_audience(&Audience::ALL.map(Audience::as_str));
        Ok(Keys {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
            session_ttl: DEFAULT_SESSION_TTL,
        })
    }

    /// Keys from the store's value, as [`generate_secret`] made it.
    pub fn from_stored_secret(hex: &str) -> Result<Self, KeyError> {
        Keys::new(&decode_hex(hex.trim()).ok_or(KeyError::NotHex)?)
    }

    /// How long sessions issued from now on last.
    pub fn with_session_ttl(mut self, ttl: Duration) -> Self {
        self.session_ttl = ttl;
        self
    }

    pub fn session_ttl(&self) -> Duration {
        self.session_ttl
    }

    /// A session for `user`, valid from now for the session lifetime.
    pub fn issue_session(
        &self,
        user: &UserRecord,
        clock: &dyn Clock,
    ) -> Result<String, IssueError> {
        self.issue_session_at(user, clock.now())
            .map(|(token, _)| token)
    }

    /// A session issued at `now`, and when it expires.
    pub(crate) fn issue_session_at(
        &self,
        user: &UserRecord,
        now: OffsetDateTime,
    ) -> Result<(String, OffsetDateTime), IssueError> {
        let iat = now.unix_timestamp();
        let exp = iat.saturating_add(self.session_ttl.whole_seconds());
        let claims = Claims {
            sub: user.username.clone(),
            jti: uuid::Uuid::new_v4().to_string(),
            iss: ISSUER.to_string(),
            aud: Audience::Session.as_str().to_string(),
            iat,
            exp,
            nbf: None,
            kind: ClaimKind::Session,
            role: Some(user.role),
            project: None,
            env: None,
        };
        let expires_at = OffsetDateTime::from_unix_timestamp(exp)
            .map_err(|_| IssueError::Sign("the session would end after year 9999".into()))?;
        Ok((self.sign(&claims)?, expires_at))
    }

    /// The JWT of a stored token: `jti` is the record's id, `iat` its
    /// creation, `exp` its expiry; kind, role, project and environments are
    /// copied from it.
    pub fn issue_token(&self, record: &TokenRecord) -> Result<String, IssueError> {
        check_record(record).map_err(IssueError::InvalidRecord)?;
        if record.expires_at <= record.created_at {
            return Err(IssueError::InvalidRecord("it expires before it is created"));
        }
        let kind = ClaimKind::from(record.kind);
        let env = match record.kind {
            TokenKind::Sdk => record.environments.first().cloned().map(EnvClaim::One),
            _ if record.environments.is_empty() => None,
            _ => Some(EnvClaim::Many(record.environments.clone())),
        };
        let claims = Claims {
            sub: record.id.clone(),
            jti: record.id.clone(),
            iss: ISSUER.to_string(),
            aud: kind.audience().as_str().to_string(),
            iat: record.created_at.unix_timestamp(),
            exp: record.expires_at.unix_timestamp(),
            nbf: None,
            kind,
            role: record.role,
            project: record.project.clone(),
            env,
        };
        self.sign(&claims)
    }

    fn sign(&self, claims: &Claims) -> Result<String, IssueError> {
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), claims, &self.encoding)
            .map_err(|err| IssueError::Sign(err.to_string()))
    }

    /// The claims of `token` if we signed it, it is meant for one of
    /// `accept`, and it is valid at `now`. Revocation is checked by the
    /// caller, against the store.
    pub fn verify(
        &self,
        token: &str,
        accept: &[Audience],
        now: OffsetDateTime,
    ) -> Result<Claims, AuthError> {
        let claims = self.decode(token)?;
        check_use(&claims, accept, now)?;
        Ok(claims)
    }

    /// The claims of a token we signed, well formed for its kind, whether
    /// or not it is usable here and now ([`check_use`] says that). Split
    /// from `verify` so refusals after this point can name the subject.
    pub(crate) fn decode(&self, token: &str) -> Result<Claims, AuthError> {
        if token.len() > MAX_TOKEN_BYTES {
            return Err(AuthError::Invalid("too long"));
        }
        let claims = jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)
            .map_err(|err| AuthError::Invalid(reason(err.kind())))?
            .claims;
        // From here on the token is ours: the signature matched.
        if claims.iss != ISSUER {
            return Err(AuthError::Invalid("wrong issuer"));
        }
        let aud = Audience::parse(&claims.aud).ok_or(AuthError::Invalid("unknown audience"))?;
        if claims.kind.audience() != aud {
            return Err(AuthError::Invalid("kind does not match audience"));
        }
        check_claims(&claims).map_err(AuthError::Invalid)?;
        Ok(claims)
    }
}

/// Whether decoded `claims` may be used by an endpoint taking `accept`,
/// at `now`.
pub(crate) fn check_use(
    claims: &Claims,
    accept: &[Audience],
    now: OffsetDateTime,
) -> Result<(), AuthError> {
    let aud = claims.kind.audience();
    if !accept.contains(&aud) {
        return Err(AuthError::WrongKind {
            expected: describe_accepted(accept),
            found: aud.describe(),
        });
    }
    check_times(claims, now)
}

/// `exp`, `nbf` and `iat` against `now`, with [`CLOCK_SKEW`].
fn check_times(claims: &Claims, now: OffsetDateTime) -> Result<(), AuthError> {
    let now = now.unix_timestamp();
    let skew = CLOCK_SKEW.whole_seconds();
    if now >= claims.exp.saturating_add(skew) {
        return Err(AuthError::Expired);
    }
    if claims.nbf.is_some_and(|nbf| now.saturating_add(skew) < nbf) {
        return Err(AuthError::NotYetValid);
    }
    if now.saturating_add(skew) < claims.iat {
        return Err(AuthError::NotYetValid);
    }
    Ok(())
}

/// A short reason for logs and the 401 message; never the token.
fn reason(kind: &ErrorKind) -> &'static str {
    match kind {
        ErrorKind::InvalidSignature => "signature does not match",
        ErrorKind::InvalidAlgorithm
        | ErrorKind::MissingAlgorithm
        | ErrorKind::UnsupportedAlgorithm => "algorithm not accepted (HS256 only)",
        ErrorKind::MissingRequiredClaim(_) => "a required claim is missing",
        ErrorKind::InvalidClaimFormat(_) => "a claim has the wrong type",
        ErrorKind::InvalidIssuer => "wrong issuer",
        ErrorKind::InvalidAudience => "unknown audience",
        ErrorKind::Json(_) => "malformed header or claims",
        ErrorKind::InvalidToken | ErrorKind::Base64(_) | ErrorKind::Utf8(_) => "not a JWT",
        _ => "rejected",
    }
}

fn decode_hex(hex: &str) -> Option<Vec<u8>> {
    if !hex.len().is_multiple_of(2) || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).ok())
        .collect()
}

#[cfg(test)]
mod tests;
