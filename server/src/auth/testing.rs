//! Records for auth's unit tests, and the in-memory store they use
//! (`store::fake`).

use time::OffsetDateTime;
use time::macros::datetime;

pub(crate) use crate::store::fake::FakeStore;
use crate::store::{Role, TokenKind, TokenRecord, UserRecord};

/// When test records were created.
pub(crate) const CREATED: OffsetDateTime = datetime!(2030-01-01 00:00 UTC);

pub(crate) fn user(username: &str, role: Role) -> UserRecord {
    UserRecord {
        id: format!("u-{username}"),
        username: username.into(),
        password_hash: String::new(),
        role,
        disabled: false,
        version: 1,
        created_at: CREATED,
        updated_at: CREATED,
    }
}

fn token(id: &str, kind: TokenKind) -> TokenRecord {
    TokenRecord {
        id: id.into(),
        kind,
        name: format!("{id} name"),
        role: None,
        project: None,
        environments: Vec::new(),
        created_by: "user:ada".into(),
        created_at: CREATED,
        expires_at: CREATED + time::Duration::days(90),
        last_used_at: None,
        revoked_at: None,
    }
}

/// An unrestricted editor API token.
pub(crate) fn api_token(id: &str) -> TokenRecord {
    TokenRecord {
        role: Some(Role::Editor),
        ..token(id, TokenKind::Api)
    }
}

pub(crate) fn integration_token(id: &str) -> TokenRecord {
    token(id, TokenKind::Integration)
}

pub(crate) fn sdk_key(id: &str, project: &str, environment: &str) -> TokenRecord {
    TokenRecord {
        project: Some(project.into()),
        environments: vec![environment.into()],
        ..token(id, TokenKind::Sdk)
    }
}

/// RFC 4648 base64url without padding, for hand-made tokens.
pub(crate) fn b64url(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}
