//! `/api/v1/users[/{username}]`.

use reqwest::Method;
use serde_json::{Value, json};
use vexil_server::store::{Role, TokenKind};

use crate::common::{TestServer, json};
use crate::support::{
    Credentials, error, expect, fingerprint, invalid, last_change, raw, unchanged,
};

pub const PASSWORD: &str = "correct horse battery";

pub async fn login(server: &TestServer, username: &str, password: &str) -> Result<String, Value> {
    let response = server
        .request(Method::POST, "/api/v1/auth/login", None)
        .json(&json!({"username": username, "password": password}))
        .send()
        .await
        .unwrap();
    match json(response).await {
        (200, body) => Ok(body["token"].as_str().unwrap().to_owned()),
        (_, body) => Err(body),
    }
}

pub async fn status(
    server: &TestServer,
    method: Method,
    path: &str,
    bearer: &str,
    body: &Value,
) -> u16 {
    json(server.send(method, path, bearer, body).await).await.0
}

#[tokio::test]
async fn users_are_created_changed_and_deleted() {
    let server = TestServer::start().await;
    let created = server
        .request(Method::POST, "/api/v1/users", Some(&server.admin))
        .json(&json!({"username": "ada", "password": PASSWORD, "role": "admin"}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    assert_eq!(created.headers()["location"], "/api/v1/users/ada");
    assert_eq!(created.headers()["etag"], "\"1\"");
    let (_, body) = json(created).await;
    let mut fields: Vec<_> = body.as_object().unwrap().keys().cloned().collect();
    fields.sort();
    assert_eq!(
        fields,
        [
            "created_at",
            "disabled",
            "id",
            "role",
            "updated_at",
            "username",
            "version"
        ]
    );
    assert_eq!(
        (&body["role"], &body["disabled"]),
        (&json!("admin"), &json!(false))
    );
    let hash = server.store.get_user("ada").await.unwrap().password_hash;
    assert!(hash.starts_with("$argon2id$"), "{hash}");
    assert_eq!(
        last_change(&server, None).await,
        (
            "user".into(),
            "ada".into(),
            "created".into(),
            "user:admin".into()
        )
    );
    let (_, listed) = json(server.get("/api/v1/users").await).await;
    let names: Vec<_> = listed["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["username"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["ada", "admin"]);
    let (status_code, one) = json(server.get("/api/v1/users/ada").await).await;
    assert_eq!((status_code, one), (200, body));

    // Her session follows every change at once.
    let session = login(&server, "ada", PASSWORD).await.unwrap();
    assert_eq!(
        status(&server, Method::GET, "/api/v1/users", &session, &json!({})).await,
        200
    );
    let demoted = server
        .request(Method::PUT, "/api/v1/users/ada", Some(&server.admin))
        .header("if-match", "1")
        .json(&json!({"role": "viewer"}))
        .send()
        .await
        .unwrap();
    assert_eq!(demoted.headers()["etag"], "\"2\"");
    assert_eq!(json(demoted).await.1["role"], "viewer");
    assert_eq!(
        status(&server, Method::GET, "/api/v1/users", &session, &json!({})).await,
        403
    );

    let reset = json!({"password": "a brand new passphrase"});
    assert_eq!(
        status(
            &server,
            Method::PUT,
            "/api/v1/users/ada",
            &server.admin,
            &reset
        )
        .await,
        200
    );
    assert!(login(&server, "ada", PASSWORD).await.is_err());
    login(&server, "ada", "a brand new passphrase")
        .await
        .unwrap();

    let disable = json!({"disabled": true});
    assert_eq!(
        status(
            &server,
            Method::PUT,
            "/api/v1/users/ada",
            &server.admin,
            &disable
        )
        .await,
        200
    );
    expect(
        server
            .request(Method::GET, "/api/v1/projects", Some(&session))
            .send()
            .await
            .unwrap(),
        401,
        error("unauthorized", "user is disabled"),
    )
    .await;
    let enable = json!({"disabled": false});
    assert_eq!(
        status(
            &server,
            Method::PUT,
            "/api/v1/users/ada",
            &server.admin,
            &enable
        )
        .await,
        200
    );
    assert_eq!(
        status(
            &server,
            Method::GET,
            "/api/v1/projects",
            &session,
            &json!({})
        )
        .await,
        200
    );

    let deleted = server
        .request(Method::DELETE, "/api/v1/users/ada", Some(&server.admin))
        .header("x-vexil-reason", "left the team")
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), 204);
    expect(
        server
            .request(Method::GET, "/api/v1/projects", Some(&session))
            .send()
            .await
            .unwrap(),
        401,
        error("unauthorized", "the session's user no longer exists"),
    )
    .await;
    let log = crate::support::changes(&server, None).await;
    assert_eq!(
        (
            log[0].key.as_str(),
            log[0].actor.as_str(),
            log[0].reason.as_deref()
        ),
        ("ada", "user:admin", Some("left the team"))
    );
    let actions: Vec<_> = log
        .iter()
        .filter(|c| c.key == "ada")
        .map(|c| serde_json::to_value(c.action).unwrap())
        .collect();
    assert_eq!(
        actions,
        [
            "deleted", "updated", "updated", "updated", "updated", "created"
        ]
    );
    assert!(
        !serde_json::to_string(&log).unwrap().contains("argon2"),
        "no hash in the log"
    );
}

#[tokio::test]
async fn the_last_enabled_admin_stays() {
    let server = TestServer::start().await;
    let admin_token = server
        .token(TokenKind::Api, Some(Role::Admin), None, &[])
        .await;
    let before = fingerprint(&server).await;
    let last = error(
        "conflict",
        "`admin` is the last enabled admin; make another user admin first",
    );
    for bearer in [&server.admin, &admin_token] {
        for body in [json!({"role": "editor"}), json!({"disabled": true})] {
            expect(
                server
                    .send(Method::PUT, "/api/v1/users/admin", bearer, &body)
                    .await,
                409,
                last.clone(),
            )
            .await;
        }
        expect(
            server
                .request(Method::DELETE, "/api/v1/users/admin", Some(bearer))
                .send()
                .await
                .unwrap(),
            409,
            last.clone(),
        )
        .await;
    }
    unchanged(&server, &before).await;

    // A disabled admin does not count; an enabled one does.
    server.user("grace", Role::Admin).await;
    let disable = json!({"disabled": true});
    assert_eq!(
        status(
            &server,
            Method::PUT,
            "/api/v1/users/grace",
            &server.admin,
            &disable
        )
        .await,
        200
    );
    expect(
        server
            .send(
                Method::PUT,
                "/api/v1/users/admin",
                &server.admin,
                &json!({"role": "viewer"}),
            )
            .await,
        409,
        last,
    )
    .await;
    let enable = json!({"disabled": false});
    assert_eq!(
        status(
            &server,
            Method::PUT,
            "/api/v1/users/grace",
            &server.admin,
            &enable
        )
        .await,
        200
    );
    let demote = json!({"role": "viewer"});
    assert_eq!(
        status(
            &server,
            Method::PUT,
            "/api/v1/users/admin",
            &server.admin,
            &demote
        )
        .await,
        200
    );
    // The demotion counts at once: admin is a viewer now.
    assert_eq!(
        status(
            &server,
            Method::GET,
            "/api/v1/users",
            &server.admin,
            &json!({})
        )
        .await,
        403
    );
}

#[tokio::test]
async fn bad_user_requests_change_nothing() {
    let server = TestServer::start().await;
    let admin = server.admin.clone();
    server.user("eve", Role::Editor).await;
    let before = fingerprint(&server).await;
    let post = async |body: Value| {
        server
            .send(Method::POST, "/api/v1/users", &admin, &body)
            .await
    };

    expect(
        raw(
            &server,
            Method::POST,
            "/api/v1/users",
            &admin,
            Some("application/json"),
            "[",
        )
        .await,
        400,
        error(
            "bad_request",
            "the request body is not valid JSON: EOF while parsing a list at line 1 column 1",
        ),
    )
    .await;
    expect(
        post(json!({"username": "x", "password": PASSWORD, "role": "admin", "email": "x@y"})).await,
        422,
        invalid(&[(
            "/email",
            "unknown field `email`, expected one of `username`, `password`, `role`, `disabled`",
        )]),
    )
    .await;
    expect(
        post(json!({"username": "x", "password": PASSWORD, "role": "owner"})).await,
        422,
        invalid(&[(
            "/role",
            "unknown variant `owner`, expected one of `viewer`, `editor`, `admin`",
        )]),
    )
    .await;
    let bad_name = "use 1 to 64 lowercase letters, digits, '.', '_', '-', '@' or '+', starting with a letter or a digit";
    expect(
        post(json!({"username": "Ada Lovelace", "password": "short", "role": "viewer"})).await,
        422,
        invalid(&[
            ("/username", bad_name),
            (
                "/password",
                "the password must be at least 12 characters long",
            ),
        ]),
    )
    .await;
    for username in ["", ".ada", &"a".repeat(65)] {
        expect(
            post(json!({"username": username, "password": PASSWORD, "role": "viewer"})).await,
            422,
            invalid(&[("/username", bad_name)]),
        )
        .await;
    }
    expect(
        post(json!({"username": "me", "password": PASSWORD, "role": "viewer"})).await,
        422,
        invalid(&[("/username", "`me` is reserved: it names the caller")]),
    )
    .await;
    expect(
        post(json!({"username": "eve", "password": PASSWORD, "role": "viewer"})).await,
        409,
        error("conflict", "user eve already exists"),
    )
    .await;
    expect(
        raw(
            &server,
            Method::POST,
            "/api/v1/users",
            &admin,
            Some("multipart/form-data"),
            "x",
        )
        .await,
        415,
        error(
            "unsupported_media_type",
            "expected a body of type application/json",
        ),
    )
    .await;
    let huge = serde_json::to_vec(
        &json!({"username": "x", "password": "p".repeat(2 * 1024 * 1024), "role": "viewer"}),
    )
    .unwrap();
    expect(
        raw(
            &server,
            Method::POST,
            "/api/v1/users",
            &admin,
            Some("application/json"),
            huge,
        )
        .await,
        413,
        error(
            "payload_too_large",
            "the request body is larger than 2097152 bytes",
        ),
    )
    .await;

    expect(
        server
            .send(
                Method::PUT,
                "/api/v1/users/eve",
                &admin,
                &json!({"password": "x".repeat(1025)}),
            )
            .await,
        422,
        invalid(&[("/password", "the password must be at most 1024 bytes long")]),
    )
    .await;
    expect(
        server
            .send(
                Method::PUT,
                "/api/v1/users/eve",
                &admin,
                &json!({"username": "eva"}),
            )
            .await,
        422,
        invalid(&[(
            "/username",
            "unknown field `username`, expected one of `role`, `disabled`, `password`",
        )]),
    )
    .await;
    expect(
        server
            .send(
                Method::PUT,
                "/api/v1/users/nobody",
                &admin,
                &json!({"role": "viewer"}),
            )
            .await,
        404,
        error("not_found", "user nobody not found"),
    )
    .await;
    expect(
        server.get("/api/v1/users/nobody").await,
        404,
        error("not_found", "user nobody not found"),
    )
    .await;
    expect(
        server
            .request(Method::DELETE, "/api/v1/users/nobody", Some(&admin))
            .send()
            .await
            .unwrap(),
        404,
        error("not_found", "user nobody not found"),
    )
    .await;
    let stale = error(
        "conflict",
        "version conflict: If-Match was 4, the current version is 1; reload and retry",
    );
    expect(
        server
            .request(Method::PUT, "/api/v1/users/eve", Some(&admin))
            .header("if-match", "4")
            .json(&json!({"role": "viewer"}))
            .send()
            .await
            .unwrap(),
        409,
        stale.clone(),
    )
    .await;
    expect(
        server
            .request(Method::DELETE, "/api/v1/users/eve", Some(&admin))
            .header("if-match", "4")
            .send()
            .await
            .unwrap(),
        409,
        stale,
    )
    .await;
    unchanged(&server, &before).await;
}

#[tokio::test]
async fn user_refusals_change_nothing() {
    let server = TestServer::start().await;
    let credentials = Credentials::new(&server).await;
    let before = fingerprint(&server).await;
    let new = json!({"username": "zed", "password": PASSWORD, "role": "admin"});
    let promote = json!({"role": "admin"});
    let requests = [
        (Method::GET, "/api/v1/users", &new),
        (Method::POST, "/api/v1/users", &new),
        (Method::GET, "/api/v1/users/vic", &promote),
        (Method::PUT, "/api/v1/users/vic", &promote),
        (Method::DELETE, "/api/v1/users/vic", &promote),
    ];
    expect(
        server
            .request(Method::POST, "/api/v1/users", None)
            .json(&new)
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
    for (who, bearer, status_code, answer) in credentials.refused_everywhere() {
        for (method, path, body) in &requests {
            let got = json(server.send(method.clone(), path, bearer, body).await).await;
            assert_eq!(got, (status_code, answer.clone()), "{who}: {method} {path}");
        }
    }
    for (who, bearer, answer) in credentials.not_admins() {
        for (method, path, body) in &requests {
            let got = json(server.send(method.clone(), path, bearer, body).await).await;
            assert_eq!(got, (403, answer.clone()), "{who}: {method} {path}");
        }
    }
    unchanged(&server, &before).await;
}
