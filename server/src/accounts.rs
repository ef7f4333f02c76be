//! Admin accounts made outside the API, which needs an account to log in
//! with: `vexil admin create`, and the first admin from `VEXIL_ADMIN_*` on
//! the first start of an empty database.

use tracing::info;

use crate::auth::{Clock, Passwords, check_policy};
use crate::error::ServerError;
use crate::store::{Role, Store, StoreError, UserRecord, WriteMeta};

/// Creates an admin with this password (hashed with argon2id off the async
/// runtime). `actor` goes into the change log (`cli`, `bootstrap`).
pub async fn create_admin(
    store: &dyn Store,
    clock: &dyn Clock,
    username: &str,
    password: &str,
    actor: &str,
) -> Result<UserRecord, ServerError> {
    check_policy(password).map_err(|err| ServerError::Account(err.to_string()))?;
    let candidate = password.to_owned();
    let hash = tokio::task::spawn_blocking(move || Passwords::default().hash(&candidate))
        .await
        .map_err(|err| ServerError::Account(err.to_string()))?
        .map_err(|err| ServerError::Account(err.to_string()))?;
    let now = clock.now();
    let user = UserRecord {
        id: String::new(),
        username: username.to_owned(),
        password_hash: hash,
        role: Role::Admin,
        disabled: false,
        version: 0,
        created_at: now,
        updated_at: now,
    };
    let meta = WriteMeta {
        actor: actor.to_owned(),
        reason: Some("admin account created outside the API".to_owned()),
        at: now,
        expected_version: None,
    };
    match store.create_user(&user, &meta).await {
        Ok(created) => {
            info!(username, "admin account created");
            Ok(created)
        }
        Err(StoreError::AlreadyExists(_)) => Err(ServerError::Account(format!(
            "a user named `{username}` already exists"
        ))),
        Err(err) => Err(ServerError::Storage(err)),
    }
}

/// On a database with no users, creates the admin named by `--admin-username`
/// / `--admin-password` (or their `VEXIL_ADMIN_*` variables), if given.
/// Returns whether it did.
pub async fn bootstrap_admin(
    store: &dyn Store,
    clock: &dyn Clock,
    username: Option<&str>,
    password: Option<&str>,
) -> Result<bool, ServerError> {
    let (Some(username), Some(password)) = (username, password) else {
        return Ok(false);
    };
    if store.count_users().await.map_err(ServerError::Storage)? > 0 {
        return Ok(false);
    }
    create_admin(store, clock, username, password, "bootstrap").await?;
    Ok(true)
}
