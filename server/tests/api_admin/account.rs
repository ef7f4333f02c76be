//! `/api/v1/users/me/password`.

use reqwest::Method;
use serde_json::json;
use vexil_server::store::{Role, TokenKind};

use crate::common::TestServer;
use crate::support::{error, expect, fingerprint, invalid, jti, last_change, unchanged};
use crate::users::{PASSWORD, login, status};

#[tokio::test]
async fn people_change_their_own_password() {
    let server = TestServer::start().await;
    let body = json!({"username": "bob", "password": PASSWORD, "role": "viewer"});
    assert_eq!(
        status(&server, Method::POST, "/api/v1/users", &server.admin, &body).await,
        201
    );
    let session = login(&server, "bob", PASSWORD).await.unwrap();
    let token = server
        .token(TokenKind::Api, Some(Role::Admin), None, &[])
        .await;
    let before = fingerprint(&server).await;
    let change =
        |current: &str, new: &str| json!({"current_password": current, "new_password": new});

    expect(
        server
            .send(
                Method::PUT,
                "/api/v1/users/me/password",
                &session,
                &change("wrong horse battery", "a new passphrase"),
            )
            .await,
        422,
        invalid(&[("/current_password", "is not your current password")]),
    )
    .await;
    expect(
        server
            .send(
                Method::PUT,
                "/api/v1/users/me/password",
                &session,
                &change(PASSWORD, "short"),
            )
            .await,
        422,
        invalid(&[(
            "/new_password",
            "the password must be at least 12 characters long",
        )]),
    )
    .await;
    expect(
        server
            .send(
                Method::PUT,
                "/api/v1/users/me/password",
                &session,
                &json!({"new_password": "a new passphrase"}),
            )
            .await,
        422,
        invalid(&[("", "missing field `current_password`")]),
    )
    .await;
    expect(
        server.send(Method::PUT, "/api/v1/users/me/password", &token, &change(PASSWORD, "a new passphrase")).await,
        403,
        error(
            "forbidden",
            &format!("token:{} is an API token, which has no password; only a logged-in user can change theirs", jti(&token)),
        ),
    )
    .await;
    expect(
        server
            .request(Method::PUT, "/api/v1/users/me/password", None)
            .json(&change(PASSWORD, "x"))
            .send()
            .await
            .unwrap(),
        401,
        error(
            "unauthorized",
            "missing credentials: send `Authorization: Bearer <token>`",
        ),
    )
    .await;
    unchanged(&server, &before).await;

    let response = server
        .send(
            Method::PUT,
            "/api/v1/users/me/password",
            &session,
            &change(PASSWORD, "a new passphrase"),
        )
        .await;
    assert_eq!(response.status(), 204);
    assert!(login(&server, "bob", PASSWORD).await.is_err());
    login(&server, "bob", "a new passphrase").await.unwrap();
    assert_eq!(
        last_change(&server, None).await,
        (
            "user".into(),
            "bob".into(),
            "updated".into(),
            "user:bob".into()
        )
    );
}
