//! The mirrored schemas name exactly the fields the real types serialize.

use std::collections::BTreeSet;

use serde_json::Value;
use time::OffsetDateTime;
use utoipa::OpenApi;
use vexil_proto::{Environment, Project};

use super::*;
use crate::api::tokens::IssuedToken;
use crate::store::{
    EnvironmentRecord, Paged, ProjectRecord, Role, TokenKind, TokenRecord, UserRecord,
};

#[derive(OpenApi)]
#[openapi(components(schemas(
    ProjectRecordSchema,
    ProjectPageSchema,
    EnvironmentRecordSchema,
    EnvironmentPageSchema,
    UserSchema,
    UserPageSchema,
    TokenSchema,
    TokenPageSchema,
    IssuedTokenSchema
)))]
struct All;

fn components() -> Value {
    serde_json::to_value(All::openapi()).unwrap()["components"]["schemas"].clone()
}

/// The property names of schema `schema`, following `allOf` and `$ref`.
fn properties(components: &Value, schema: &Value) -> BTreeSet<String> {
    if let Some(reference) = schema["$ref"].as_str() {
        let name = reference.trim_start_matches("#/components/schemas/");
        return properties(components, &components[name]);
    }
    let mut names: BTreeSet<String> = schema["properties"]
        .as_object()
        .map(|p| p.keys().cloned().collect())
        .unwrap_or_default();
    for part in schema["allOf"].as_array().into_iter().flatten() {
        names.extend(properties(components, part));
    }
    names
}

fn keys(value: &impl serde::Serialize) -> BTreeSet<String> {
    let value = serde_json::to_value(value).unwrap();
    value.as_object().unwrap().keys().cloned().collect()
}

fn assert_fields(components: &Value, name: &str, value: &impl serde::Serialize) {
    assert!(components.get(name).is_some(), "no schema {name}");
    let documented = properties(components, &components[name]);
    assert_eq!(documented, keys(value), "schema {name}");
}

fn page<T: Clone>(item: &T) -> Paged<T> {
    Paged {
        items: vec![item.clone()],
        total: 1,
        page: 1,
        per_page: 50,
    }
}

#[test]
fn schemas_name_the_serialized_fields() {
    let now = OffsetDateTime::UNIX_EPOCH;
    let components = components();
    let project = ProjectRecord {
        project: Project {
            key: "p".into(),
            name: "P".into(),
            description: "d".into(),
        },
        version: 1,
        created_at: now,
        updated_at: now,
    };
    assert_fields(&components, "ProjectRecord", &project);
    assert_fields(&components, "ProjectPage", &page(&project));
    let environment = EnvironmentRecord {
        project: "p".into(),
        environment: Environment {
            key: "e".into(),
            name: "E".into(),
            production: true,
            version: 3,
        },
        created_at: now,
        updated_at: now,
    };
    assert_fields(&components, "EnvironmentRecord", &environment);
    assert_fields(&components, "EnvironmentPage", &page(&environment));
    let user = UserRecord {
        id: "u1".into(),
        username: "ada".into(),
        password_hash: "$argon2id$secret".into(),
        role: Role::Admin,
        disabled: false,
        version: 1,
        created_at: now,
        updated_at: now,
    };
    assert_fields(&components, "User", &user);
    assert_fields(&components, "UserPage", &page(&user));
    assert!(
        !serde_json::to_string(&user).unwrap().contains("argon2"),
        "the hash is never serialized"
    );
    let token = TokenRecord {
        id: "t1".into(),
        kind: TokenKind::Api,
        name: "ci".into(),
        role: Some(Role::Editor),
        project: Some("p".into()),
        environments: vec!["e".into()],
        created_by: "user:ada".into(),
        created_at: now,
        expires_at: now,
        last_used_at: Some(now),
        revoked_at: Some(now),
    };
    assert_fields(&components, "Token", &token);
    assert_fields(&components, "TokenPage", &page(&token));
    let issued = IssuedToken {
        token: "jwt".into(),
        record: token,
    };
    assert_fields(&components, "IssuedToken", &issued);
    assert!(
        !format!("{issued:?}").contains("jwt\""),
        "Debug hides the token"
    );
}

#[test]
fn enums_list_the_serialized_names() {
    let components = components();
    let names = |name: &str| -> BTreeSet<String> {
        components[name]["enum"]
            .as_array()
            .unwrap_or_else(|| panic!("{name}: {}", components[name]))
            .iter()
            .map(|v| v.as_str().unwrap().to_owned())
            .collect()
    };
    let serialized = |values: &[Value]| -> BTreeSet<String> {
        values
            .iter()
            .map(|v| v.as_str().unwrap().to_owned())
            .collect()
    };
    let roles = [Role::Viewer, Role::Editor, Role::Admin].map(|r| serde_json::to_value(r).unwrap());
    assert_eq!(names("Role"), serialized(&roles));
    let kinds = [TokenKind::Api, TokenKind::Integration, TokenKind::Sdk]
        .map(|k| serde_json::to_value(k).unwrap());
    assert_eq!(names("TokenKind"), serialized(&kinds));
}
