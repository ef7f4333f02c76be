//! Flag definitions over HTTP: create, list with filters and pages,
//! replace, and what each leaves in the change log and the environment
//! versions. Patching, archiving and deleting: `api_flag_lifecycle.rs`.

mod api_support;
mod common;

use api_support::*;
use common::{TestServer, json};
use reqwest::Method;
use serde_json::json;
use vexil_server::store::Role;

#[tokio::test]
async fn create_gives_default_configs_everywhere_and_logs_the_change() {
    let server = TestServer::start().await;
    let editor = server.user("eve", Role::Editor).await;
    let before = versions(&server).await;

    let mut body = boolean_flag("new-checkout");
    body["tags"] = json!(["checkout"]);
    let response = server
        .request(Method::POST, &flags_path(), Some(&editor))
        .header("x-vexil-reason", "JIRA-12")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.headers()["location"],
        "/api/v1/projects/default/flags/new-checkout"
    );
    assert_eq!(response.headers()["etag"], "\"1\"");
    let (status, created) = json(response).await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["key"], "new-checkout");
    assert_eq!(created["tags"], json!(["checkout"]));
    assert_eq!(created["version"], 1);
    assert_eq!(created["archived"], false);

    let (status, mut fetched, etag) = get(&server, &flag_path("new-checkout")).await;
    assert_eq!((status, etag.as_deref()), (200, Some("\"1\"")));
    // Reads add when the flag was last evaluated: never, yet.
    assert_eq!(fetched["last_evaluated"], json!({}));
    fetched.as_object_mut().unwrap().remove("last_evaluated");
    assert_eq!(fetched, created);

    // Disabled, serving its off variant, in every environment.
    for environment in ALL_ENVIRONMENTS {
        let (status, config, etag) = get(&server, &config_path("new-checkout", environment)).await;
        assert_eq!((status, etag.as_deref()), (200, Some("\"1\"")));
        assert_eq!(
            config,
            json!({"enabled": false, "off_variant": "off", "targets": [], "rules": [],
                   "default_serve": {"variant": "off"}, "prerequisites": [], "version": 1})
        );
    }
    assert_eq!(versions(&server).await, bumped(&before, &ALL_ENVIRONMENTS));

    let change = newest_change(&server).await;
    assert_eq!(change["resource"], "flag");
    assert_eq!(change["action"], "created");
    assert_eq!(change["key"], "new-checkout");
    assert_eq!(change["actor"], "user:eve");
    assert_eq!(change["reason"], "JIRA-12");
    assert_eq!(change["before"], json!(null));
    assert_eq!(change["after"], created);
    assert_eq!(change["versions"].as_array().unwrap().len(), 3);

    // The same key again.
    let (status, body) = json(
        server
            .send(
                Method::POST,
                &flags_path(),
                &editor,
                &boolean_flag("new-checkout"),
            )
            .await,
    )
    .await;
    assert_eq!(
        (status, body),
        (409, error("conflict", "flag new-checkout already exists"))
    );
}

#[tokio::test]
async fn list_filters_by_text_tag_and_archive_state_and_pages() {
    let server = TestServer::start().await;
    for (key, name, tags) in [
        ("alpha", "Alpha checkout", vec!["checkout"]),
        ("beta", "Beta search", vec!["search"]),
        ("gamma", "Gamma", vec!["checkout", "search"]),
        ("delta", "Delta", vec![]),
        ("epsilon", "Epsilon", vec!["checkout"]),
    ] {
        let mut body = boolean_flag(key);
        body["name"] = json!(name);
        body["tags"] = json!(tags);
        if key == "delta" {
            body["description"] = json!("Old CHECKOUT path");
        }
        create_flag(&server, &body).await;
    }
    let (status, _) = json(
        server
            .send(
                Method::PATCH,
                &flag_path("epsilon"),
                &server.admin,
                &json!({"archived": true}),
            )
            .await,
    )
    .await;
    assert_eq!(status, 200);

    let keys = |page: &serde_json::Value| -> Vec<String> {
        page["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["key"].as_str().unwrap().to_owned())
            .collect()
    };
    let list = |query: &'static str| {
        let path = format!("{}?{query}", flags_path());
        let server = &server;
        async move {
            let (status, page, _) = get(server, &path).await;
            assert_eq!(status, 200, "{query}: {page}");
            page
        }
    };

    let all = list("").await;
    assert_eq!(keys(&all), ["alpha", "beta", "delta", "gamma"]);
    assert_eq!(
        (
            all["total"].clone(),
            all["page"].clone(),
            all["per_page"].clone()
        ),
        (json!(4), json!(1), json!(50))
    );
    // Key, name or description, case-insensitively.
    assert_eq!(keys(&list("q=checkout").await), ["alpha", "delta"]);
    assert_eq!(keys(&list("q=AMM").await), ["gamma"]);
    assert_eq!(keys(&list("tag=checkout").await), ["alpha", "gamma"]);
    assert_eq!(keys(&list("tag=search&q=gam").await), ["gamma"]);
    assert_eq!(keys(&list("archived=true").await), ["epsilon"]);
    assert_eq!(
        keys(&list("archived=false&tag=checkout").await),
        ["alpha", "gamma"]
    );

    let first = list("per_page=3").await;
    assert_eq!(keys(&first), ["alpha", "beta", "delta"]);
    assert_eq!(first["total"], 4);
    let second = list("per_page=3&page=2").await;
    assert_eq!(keys(&second), ["gamma"]);
    assert_eq!(
        (second["total"].clone(), second["page"].clone()),
        (json!(4), json!(2))
    );
    let past = list("per_page=3&page=3").await;
    assert_eq!(keys(&past), Vec::<String>::new());
    assert_eq!(past["total"], 4);

    for (query, message) in [
        ("page=0", "page starts at 1"),
        ("per_page=201", "per_page must be between 1 and 200"),
    ] {
        let (status, body, _) = get(&server, &format!("{}?{query}", flags_path())).await;
        assert_eq!(
            (status, body),
            (400, error("bad_request", message)),
            "{query}"
        );
    }
    let (status, body, _) = get(&server, &format!("{}?archived=maybe", flags_path())).await;
    assert_eq!(status, 400);
    assert_eq!(body["error"]["code"], "bad_request");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("archived"),
        "{body}"
    );
}

#[tokio::test]
async fn put_replaces_the_definition_with_if_match() {
    let server = TestServer::start().await;
    create_flag(&server, &color_flag("theme")).await;
    let before = versions(&server).await;

    let mut body = color_flag("theme");
    body["name"] = json!("Theme colour");
    body["variants"][2] = json!({"key": "blue", "value": "#0000ff", "name": "Blue"});
    body["variants"]
        .as_array_mut()
        .unwrap()
        .push(json!({"key": "black", "value": "#000"}));
    let (status, updated, etag) = send_with(
        &server,
        Method::PUT,
        &flag_path("theme"),
        &server.admin,
        &[("if-match", "\"1\""), ("x-vexil-reason", "brand refresh")],
        &body,
    )
    .await;
    assert_eq!(status, 200, "{updated}");
    assert_eq!(etag.as_deref(), Some("\"2\""));
    assert_eq!(updated["version"], 2);
    assert_eq!(updated["name"], "Theme colour");
    assert_eq!(updated["variants"].as_array().unwrap().len(), 4);
    assert_eq!(versions(&server).await, bumped(&before, &ALL_ENVIRONMENTS));

    let change = newest_change(&server).await;
    assert_eq!(change["action"], "updated");
    assert_eq!(change["actor"], "user:admin");
    assert_eq!(change["reason"], "brand refresh");
    assert_eq!(change["before"]["name"], "Colour theme");
    assert_eq!(change["before"]["version"], 1);
    assert_eq!(change["after"], updated);

    // Without If-Match the write is unconditional.
    body["name"] = json!("Theme");
    let (status, updated, _) = send_with(
        &server,
        Method::PUT,
        &flag_path("theme"),
        &server.admin,
        &[],
        &body,
    )
    .await;
    assert_eq!((status, updated["version"].clone()), (200, json!(3)));
}

#[tokio::test]
async fn put_refuses_another_key_another_kind_and_variants_in_use() {
    let server = TestServer::start().await;
    create_flag(&server, &color_flag("theme")).await;
    create_flag(&server, &boolean_flag("dark-mode")).await;
    put_config(&server, "theme", "production", &serving("red", "green")).await;
    // dark-mode in staging requires theme to serve blue.
    let mut config = serving("off", "on");
    config["prerequisites"] = json!([{"flag": "theme", "variant": "blue"}]);
    put_config(&server, "dark-mode", "staging", &config).await;
    let changes = change_count(&server).await;
    let (_, stored, _) = get(&server, &flag_path("theme")).await;

    let put = |body: serde_json::Value| {
        let server = &server;
        async move {
            let path = flag_path("theme");
            json(server.send(Method::PUT, &path, &server.admin, &body).await).await
        }
    };

    let mut other_key = color_flag("theme");
    other_key["key"] = json!("theme2");
    assert_eq!(
        put(other_key).await,
        (
            422,
            invalid(&[(
                "/key",
                "must be `theme`, the key in the URL: a flag's key cannot change"
            )])
        )
    );

    let mut other_kind = boolean_flag("theme");
    other_kind["name"] = json!("Theme");
    assert_eq!(
        put(other_kind).await,
        (
            422,
            invalid(&[(
                "/kind",
                "must stay `string`: applications read the flag as that type; create a new flag instead"
            )])
        )
    );

    // Only black, white and blue: production's config names red (off) and
    // green (served); the development and staging defaults serve blue (the
    // last variant), which stays; dark-mode's prerequisite needs blue.
    let mut without = color_flag("theme");
    without["variants"] = json!([
        {"key": "black", "value": "#000"},
        {"key": "white", "value": "#fff"},
        {"key": "blue", "value": "#00f"},
    ]);
    assert_eq!(
        put(without).await,
        (
            422,
            invalid(&[
                (
                    "/environments/production/off_variant",
                    "in environment `production`: variant \"red\" does not exist; the flag's variants are \"black\", \"white\", \"blue\""
                ),
                (
                    "/environments/production/default_serve/variant",
                    "in environment `production`: variant \"green\" does not exist; the flag's variants are \"black\", \"white\", \"blue\""
                ),
            ])
        )
    );

    // Dropping blue breaks the defaults and dark-mode's prerequisite.
    let mut without_blue = color_flag("theme");
    without_blue["variants"] =
        json!([{"key": "red", "value": "#f00"}, {"key": "green", "value": "#0f0"}]);
    let (status, body) = put(without_blue).await;
    assert_eq!(status, 422, "{body}");
    let paths: Vec<&str> = body["error"]["details"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["path"].as_str().unwrap())
        .collect();
    assert_eq!(
        paths,
        [
            "/environments/development/off_variant",
            "/environments/development/default_serve/variant",
            "/environments/staging/off_variant",
            "/environments/staging/default_serve/variant",
            "/variants",
        ]
    );
    assert_eq!(
        body["error"]["details"][4]["problem"],
        "variant `blue` is required by a prerequisite of flag `dark-mode` in environment `staging`; change that prerequisite first"
    );

    // Nothing changed.
    assert_eq!(get(&server, &flag_path("theme")).await.1, stored);
    assert_eq!(change_count(&server).await, changes);
}

#[tokio::test]
async fn unknown_projects_and_flags_are_404() {
    let server = TestServer::start().await;
    let (status, body, _) = get(&server, "/api/v1/projects/nope/flags").await;
    assert_eq!(
        (status, body),
        (404, error("not_found", "project nope not found"))
    );
    let (status, body) = json(
        server
            .send(
                Method::POST,
                "/api/v1/projects/nope/flags",
                &server.admin,
                &boolean_flag("f"),
            )
            .await,
    )
    .await;
    assert_eq!(
        (status, body),
        (404, error("not_found", "project nope not found"))
    );
    let missing = error("not_found", "flag nope not found");
    let (status, body, _) = get(&server, &flag_path("nope")).await;
    assert_eq!((status, body), (404, missing.clone()));
    for (method, body) in [
        (Method::PUT, boolean_flag("nope")),
        (Method::PATCH, json!({"name": "x"})),
        (Method::PATCH, json!({"archived": true})),
    ] {
        let (status, error_body) = json(
            server
                .send(method.clone(), &flag_path("nope"), &server.admin, &body)
                .await,
        )
        .await;
        assert_eq!((status, error_body), (404, missing.clone()), "{method}");
    }
    let request = server.request(Method::DELETE, &flag_path("nope"), Some(&server.admin));
    assert_eq!(json(request.send().await.unwrap()).await, (404, missing));
}
