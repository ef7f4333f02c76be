//! Authentication and authorization: passwords, JWTs, and the extractors
//! handlers take to say who may call them.
//!
//! Every credential is an HS256 JWT signed with one secret that all
//! replicas share (`Store::secret("jwt_signing_key", generate_secret)`):
//! user sessions (short-lived, from `POST /api/v1/auth/login`), API and
//! integration tokens, and SDK keys. Stored tokens carry their record's id
//! as `jti`, are looked up on use (briefly cached) and can be revoked.
//!
//! Handlers name what they need in their signature; the rejection is the
//! API's one error shape (401 without usable credentials, 403 without the
//! right):
//!
//! ```ignore
//! async fn toggle(
//!     principal: Principal,
//!     Path((project, flag, env)): Path<(String, String, String)>,
//!     Json(body): Json<Toggle>,
//! ) -> Result<Json<FlagConfig>, ApiError> {
//!     principal.require_env_write(&project, &env)?; // 403 unless allowed
//!     let meta = WriteMeta { actor: principal.actor(), reason: body.reason, at, expected_version };
//!     // ...
//! }
//!
//! async fn snapshot(key: SdkKey) -> Result<Json<Snapshot>, ApiError> {
//!     // key.project(), key.environment(): the only one it may read
//! }
//!
//! async fn deploy_event(token: IntegrationToken, Json(event): Json<Deploy>) -> StatusCode {
//!     // token.actor(), token.name()
//! }
//! ```
//!
//! The router's state must provide an [`AuthState`] (`AuthState:
//! FromRef<S>`). OIDC can be added later as another way to obtain the same
//! session JWT; the extractors would not change.
//!
//! # Layout
//! - `clock`: [`Clock`], the injectable time every check reads.
//! - `password`: argon2id hashing, the password policy, timing-safe verify.
//! - `claims`: [`Claims`], audiences and kinds, and what each kind carries.
//! - `jwt`: [`Keys`]: the shared secret, issuing, and strict verification.
//! - `cache`: [`AuthCache`], token records and users remembered for seconds.
//! - `principal`: [`Principal`], [`SdkKey`], [`IntegrationToken`] and their
//!   permission checks.
//! - `extract`: reading credentials from headers; the axum extractors.
//! - `error`: [`AuthError`], why a credential was refused (401/403).

mod cache;
mod claims;
mod clock;
mod error;
mod extract;
mod jwt;
mod password;
mod principal;
#[cfg(test)]
mod testing;

use std::fmt;
use std::sync::Arc;

use time::OffsetDateTime;
use tracing::warn;

pub use cache::{AuthCache, CACHE_TTL, STALE_GRACE, TOUCH_INTERVAL};
pub use claims::{Audience, ClaimKind, Claims, EnvClaim};
pub use clock::{Clock, ManualClock, SystemClock};
pub use error::AuthError;
pub use jwt::{
    CLOCK_SKEW, DEFAULT_SESSION_TTL, ISSUER, IssueError, KeyError, Keys, MIN_SECRET_BYTES,
    SECRET_NAME, generate_secret,
};
pub use password::{
    MAX_PASSWORD_BYTES, MIN_PASSWORD_CHARS, PasswordError, Passwords, check_policy,
};
pub use principal::{Identity, IntegrationToken, Principal, SdkKey};

use crate::api::ApiError;
use crate::store::{Store, StoreError, UserRecord};

/// What the extractors need: the keys, the clock, the store and the cache.
/// Cheap to clone (`Arc`s); the app state hands it out through `FromRef`.
#[derive(Debug, Clone)]
pub struct AuthState {
    keys: Arc<Keys>,
    clock: Arc<dyn Clock>,
    store: Arc<dyn Store>,
    cache: Arc<AuthCache>,
    passwords: Arc<Passwords>,
}

impl AuthState {
    /// With the default cache TTL and argon2 parameters.
    pub fn new(keys: Keys, store: Arc<dyn Store>, clock: Arc<dyn Clock>) -> Self {
        AuthState {
            keys: Arc::new(keys),
            clock,
            store,
            cache: Arc::new(AuthCache::default()),
            passwords: Arc::new(Passwords::default()),
        }
    }

    /// The keys from the store's shared secret (created on first start).
    pub async fn load_keys(store: &dyn Store) -> Result<Keys, KeyError> {
        let secret = store.secret(SECRET_NAME, &generate_secret).await?;
        Keys::from_stored_secret(&secret)
    }

    pub fn with_passwords(mut self, passwords: Passwords) -> Self {
        self.passwords = Arc::new(passwords);
        self
    }

    pub fn with_cache(mut self, cache: AuthCache) -> Self {
        self.cache = Arc::new(cache);
        self
    }

    pub fn keys(&self) -> &Keys {
        &self.keys
    }

    pub fn clock(&self) -> &dyn Clock {
        &*self.clock
    }

    pub fn now(&self) -> OffsetDateTime {
        self.clock.now()
    }

    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    /// Handlers that revoke a token or change a user invalidate it here.
    pub fn cache(&self) -> &AuthCache {
        &self.cache
    }

    pub fn passwords(&self) -> &Passwords {
        &self.passwords
    }

    /// The work of `POST /api/v1/auth/login`: checks the password (off the
    /// async runtime, and as slowly for unknown users as for known ones)
    /// and issues a session. Every failure is the same 401, except a
    /// disabled account, which is only reported after a correct password.
    pub async fn login(&self, username: &str, password: &str) -> Result<LoggedIn, ApiError> {
        const REFUSED: &str = "invalid username or password";
        let user = match self.store.get_user(username).await {
            Ok(user) => Some(user),
            Err(StoreError::NotFound(_)) => None,
            Err(err) => return Err(err.into()),
        };
        let passwords = self.passwords.clone();
        let candidate = password.to_owned();
        let stored = user.as_ref().map(|user| user.password_hash.clone());
        let matches =
            tokio::task::spawn_blocking(move || passwords.verify(&candidate, stored.as_deref()))
                .await
                .map_err(|err| ApiError::Internal(format!("password check failed: {err}")))?;
        let Some(user) = user else {
            // The name is not logged: people type passwords into it.
            warn!(reason = "unknown user", "login refused");
            return Err(ApiError::Unauthorized(REFUSED.into()));
        };
        if !matches {
            warn!(subject = %format!("user:{}", user.username), reason = "wrong password", "login refused");
            return Err(ApiError::Unauthorized(REFUSED.into()));
        }
        if user.disabled {
            warn!(subject = %format!("user:{}", user.username), reason = "user is disabled", "login refused");
            return Err(ApiError::Unauthorized("this account is disabled".into()));
        }
        let (token, expires_at) = self.keys.issue_session_at(&user, self.clock.now())?;
        Ok(LoggedIn {
            token,
            expires_at,
            user,
        })
    }
}

/// A successful login. `Debug` hides the token.
pub struct LoggedIn {
    /// The session JWT, for `Authorization: Bearer`.
    pub token: String,
    /// When the session ends (the UI logs out or asks again then).
    pub expires_at: OffsetDateTime,
    pub user: UserRecord,
}

impl fmt::Debug for LoggedIn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LoggedIn")
            .field("token", &"[redacted]")
            .field("expires_at", &self.expires_at)
            .field("user", &self.user.username)
            .finish()
    }
}
