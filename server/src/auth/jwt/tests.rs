//! Strict verification: every refusal the brief lists, and issuing.

use serde_json::{Value, json};

use super::*;
use crate::auth::clock::ManualClock;
use crate::auth::testing::{CREATED, api_token, b64url, integration_token, sdk_key, user};
use crate::store::Role;

const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef-test-secret";

fn keys() -> Keys {
    Keys::new(SECRET).unwrap()
}

fn at(seconds: i64) -> OffsetDateTime {
    CREATED + Duration::seconds(seconds)
}

/// Claims as Vexil would issue for an API token, as JSON to tamper with.
fn api_claims() -> Value {
    json!({"sub": "t1", "jti": "t1", "iss": "vexil", "aud": "vexil:api", "iat": at(0).unix_timestamp(),
           "exp": at(3600).unix_timestamp(), "kind": "api", "role": "editor"})
}

/// Signs `claims` with `alg` and `secret` through jsonwebtoken.
fn sign(alg: Algorithm, claims: &Value, secret: &[u8]) -> String {
    jsonwebtoken::encode(&Header::new(alg), claims, &EncodingKey::from_secret(secret)).unwrap()
}

/// A token with any header, its HS256 signature made with our secret.
fn hand_made(header: &Value, claims: &Value) -> String {
    let message = format!(
        "{}.{}",
        b64url(header.to_string().as_bytes()),
        b64url(claims.to_string().as_bytes())
    );
    let signature = jsonwebtoken::crypto::sign(
        message.as_bytes(),
        &EncodingKey::from_secret(SECRET),
        Algorithm::HS256,
    )
    .unwrap();
    format!("{message}.{signature}")
}

fn invalid(result: Result<Claims, AuthError>) -> &'static str {
    match result {
        Err(AuthError::Invalid(reason)) => reason,
        other => panic!("expected an invalid token, got {other:?}"),
    }
}

#[test]
fn b64url_matches_the_rfc() {
    assert_eq!(b64url(b"f"), "Zg");
    assert_eq!(b64url(b"fo"), "Zm8");
    assert_eq!(b64url(b"foo"), "Zm9v");
    assert_eq!(b64url(&[0xfb, 0xff]), "-_8");
}

#[test]
fn sessions_round_trip() {
    let keys = keys();
    let clock = ManualClock::new(at(0));
    let token = keys
        .issue_session(&user("ada", Role::Admin), &clock)
        .unwrap();
    let claims = keys.verify(&token, &[Audience::Session], at(10)).unwrap();
    assert_eq!(claims.sub, "ada");
    assert_eq!(claims.iss, "vexil");
    assert_eq!(claims.aud, "vexil:session");
    assert_eq!(claims.kind, ClaimKind::Session);
    assert_eq!(claims.role, Some(Role::Admin));
    assert_eq!(claims.exp - claims.iat, 3600);
    uuid::Uuid::parse_str(&claims.jti).unwrap();
    let other = keys
        .issue_session(&user("ada", Role::Admin), &clock)
        .unwrap();
    assert_ne!(
        keys.verify(&other, &[Audience::Session], at(0))
            .unwrap()
            .jti,
        claims.jti
    );
}

#[test]
fn session_lifetime_is_configurable() {
    let keys = keys().with_session_ttl(Duration::minutes(15));
    let (token, expires_at) = keys
        .issue_session_at(&user("ada", Role::Admin), at(0))
        .unwrap();
    assert_eq!(expires_at, at(900));
    assert_eq!(
        keys.verify(&token, &[Audience::Session], at(0))
            .unwrap()
            .exp,
        at(900).unix_timestamp()
    );
}

#[test]
fn stored_tokens_carry_their_record() {
    let keys = keys();
    let mut record = api_token("t1");
    record.environments = vec!["staging".into()];
    let claims = keys
        .verify(&keys.issue_token(&record).unwrap(), &[Audience::Api], at(0))
        .unwrap();
    assert_eq!(
        (claims.jti.as_str(), claims.aud.as_str()),
        ("t1", "vexil:api")
    );
    assert_eq!(claims.env, Some(EnvClaim::Many(vec!["staging".into()])));
    assert_eq!(claims.exp, record.expires_at.unix_timestamp());
    assert_eq!(claims.iat, record.created_at.unix_timestamp());

    let sdk = keys
        .issue_token(&sdk_key("k1", "default", "production"))
        .unwrap();
    let claims = keys.verify(&sdk, &[Audience::Sdk], at(0)).unwrap();
    assert_eq!(claims.project.as_deref(), Some("default"));
    assert_eq!(claims.env, Some(EnvClaim::One("production".into())));
    assert_eq!(claims.role, None);

    let integration = keys.issue_token(&integration_token("i1")).unwrap();
    let claims = keys.verify(&integration, &[Audience::Api], at(0)).unwrap();
    assert_eq!(claims.kind, ClaimKind::Integration);
}

#[test]
fn inconsistent_records_are_not_issued() {
    let keys = keys();
    let mut no_role = api_token("t1");
    no_role.role = None;
    let mut two_envs = sdk_key("k1", "default", "production");
    two_envs.environments.push("staging".into());
    let mut with_role = integration_token("i1");
    with_role.role = Some(Role::Admin);
    let mut backwards = api_token("t2");
    backwards.expires_at = backwards.created_at;
    for record in [no_role, two_envs, with_role, backwards] {
        assert!(
            matches!(keys.issue_token(&record), Err(IssueError::InvalidRecord(_))),
            "{record:?}"
        );
    }
}

#[test]
fn expiry_allows_only_the_documented_skew() {
    let keys = keys();
    let token = sign(Algorithm::HS256, &api_claims(), SECRET);
    keys.verify(&token, &[Audience::Api], at(3600 + 29))
        .unwrap();
    assert!(matches!(
        keys.verify(&token, &[Audience::Api], at(3600 + 30)),
        Err(AuthError::Expired)
    ));
    assert!(matches!(
        keys.verify(&token, &[Audience::Api], at(86_400)),
        Err(AuthError::Expired)
    ));
}

#[test]
fn not_before_and_issued_at_are_honoured() {
    let keys = keys();
    let mut claims = api_claims();
    claims["nbf"] = json!(at(600).unix_timestamp());
    let token = sign(Algorithm::HS256, &claims, SECRET);
    assert!(matches!(
        keys.verify(&token, &[Audience::Api], at(0)),
        Err(AuthError::NotYetValid)
    ));
    keys.verify(&token, &[Audience::Api], at(600 - 30)).unwrap();
    keys.verify(&token, &[Audience::Api], at(601)).unwrap();

    // Issued in the future: another replica's clock is far ahead, or a forgery.
    let token = sign(Algorithm::HS256, &api_claims(), SECRET);
    assert!(matches!(
        keys.verify(&token, &[Audience::Api], at(-31)),
        Err(AuthError::NotYetValid)
    ));
    keys.verify(&token, &[Audience::Api], at(-30)).unwrap();
}

#[test]
fn exp_is_required() {
    let mut claims = api_claims();
    claims.as_object_mut().unwrap().remove("exp");
    let token = sign(Algorithm::HS256, &claims, SECRET);
    invalid(keys().verify(&token, &[Audience::Api], at(0)));
    claims["exp"] = json!("tomorrow");
    let token = sign(Algorithm::HS256, &claims, SECRET);
    invalid(keys().verify(&token, &[Audience::Api], at(0)));
}

#[test]
fn alg_none_is_refused() {
    let claims = api_claims().to_string();
    for alg in ["none", "None", "NONE"] {
        let header = json!({"alg": alg, "typ": "JWT"}).to_string();
        let unsigned = format!(
            "{}.{}.",
            b64url(header.as_bytes()),
            b64url(claims.as_bytes())
        );
        invalid(keys().verify(&unsigned, &[Audience::Api], at(0)));
        // Even with our valid HS256 signature attached.
        let signed = hand_made(&json!({"alg": alg}), &api_claims());
        invalid(keys().verify(&signed, &[Audience::Api], at(0)));
    }
}

#[test]
fn other_hmac_algorithms_are_refused() {
    for alg in [Algorithm::HS384, Algorithm::HS512] {
        let token = sign(alg, &api_claims(), SECRET);
        assert_eq!(
            invalid(keys().verify(&token, &[Audience::Api], at(0))),
            "algorithm not accepted (HS256 only)"
        );
    }
}

#[test]
fn public_key_algorithms_with_the_secret_are_refused() {
    // The classic confusion attack: an RS256/ES256 header, "signed" by
    // HMAC with the key a verifier might treat as a public key.
    for alg in ["RS256", "ES256", "PS256", "EdDSA"] {
        let token = hand_made(&json!({"alg": alg, "typ": "JWT"}), &api_claims());
        assert_eq!(
            invalid(keys().verify(&token, &[Audience::Api], at(0))),
            "algorithm not accepted (HS256 only)"
        );
    }
    // The same token with an HS256 header is fine: only the alg differs.
    keys()
        .verify(
            &hand_made(&json!({"alg": "HS256"}), &api_claims()),
            &[Audience::Api],
            at(0),
        )
        .unwrap();
}

#[test]
fn another_key_is_refused() {
    let token = sign(
        Algorithm::HS256,
        &api_claims(),
        b"another secret of thirty-two bytes or more",
    );
    assert_eq!(
        invalid(keys().verify(&token, &[Audience::Api], at(0))),
        "signature does not match"
    );
    // And a token whose signature was cut off or altered.
    let good = sign(Algorithm::HS256, &api_claims(), SECRET);
    let (message, _) = good.rsplit_once('.').unwrap();
    invalid(keys().verify(&format!("{message}."), &[Audience::Api], at(0)));
    invalid(keys().verify(&format!("{message}.AAAA"), &[Audience::Api], at(0)));
}

#[test]
fn audiences_keep_kinds_apart() {
    let keys = keys();
    let sdk = keys
        .issue_token(&sdk_key("k1", "default", "production"))
        .unwrap();
    let api = keys.issue_token(&api_token("t1")).unwrap();
    let session = keys
        .issue_session(&user("ada", Role::Admin), &ManualClock::new(at(0)))
        .unwrap();
    let err = keys
        .verify(&sdk, &[Audience::Session, Audience::Api], at(0))
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "wrong kind of token: this endpoint takes a user session or an API token, not an SDK key"
    );
    assert!(matches!(
        keys.verify(&api, &[Audience::Sdk], at(0)),
        Err(AuthError::WrongKind { .. })
    ));
    assert!(matches!(
        keys.verify(&session, &[Audience::Sdk], at(0)),
        Err(AuthError::WrongKind { .. })
    ));
    assert!(matches!(
        keys.verify(&session, &[Audience::Api], at(0)),
        Err(AuthError::WrongKind { .. })
    ));
}

#[test]
fn audience_and_issuer_must_be_ours_and_single() {
    let keys = keys();
    for (field, value) in [
        ("aud", json!("vexil:other")),
        ("aud", json!(["vexil:api", "vexil:sdk"])),
        ("aud", json!(["vexil:api"])),
        ("iss", json!("someone-else")),
        ("iss", json!(["vexil"])),
        // A kind that does not belong to the audience.
        ("kind", json!("sdk")),
        ("kind", json!("root")),
    ] {
        let mut claims = api_claims();
        claims[field] = value.clone();
        let token = sign(Algorithm::HS256, &claims, SECRET);
        let reason = invalid(keys.verify(&token, &[Audience::Api], at(0)));
        assert!(!reason.is_empty(), "{field} = {value}");
    }
    let mut claims = api_claims();
    claims["iss"] = json!("someone-else");
    assert_eq!(
        invalid(keys.verify(
            &sign(Algorithm::HS256, &claims, SECRET),
            &[Audience::Api],
            at(0)
        )),
        "wrong issuer"
    );
}

#[test]
fn claims_must_fit_their_kind() {
    let keys = keys();
    let mut claims = api_claims();
    claims["env"] = json!("production"); // one env is an SDK key's shape
    invalid(keys.verify(
        &sign(Algorithm::HS256, &claims, SECRET),
        &[Audience::Api],
        at(0),
    ));
    let mut claims = api_claims();
    claims.as_object_mut().unwrap().remove("role");
    invalid(keys.verify(
        &sign(Algorithm::HS256, &claims, SECRET),
        &[Audience::Api],
        at(0),
    ));
}

#[test]
fn garbage_is_refused() {
    let keys = keys();
    for token in [
        "",
        "abc",
        "a.b",
        "a.b.c",
        "a.b.c.d",
        "....",
        &"a".repeat(9000),
        "eyJhbGciOiJIUzI1NiJ9..x",
    ] {
        invalid(keys.verify(token, &[Audience::Api], at(0)));
    }
}

#[test]
fn secrets() {
    let secret = generate_secret();
    assert_eq!(secret.len(), 128);
    assert!(secret.bytes().all(|b| b.is_ascii_hexdigit()));
    assert_ne!(secret, generate_secret());
    let keys = Keys::from_stored_secret(&secret).unwrap();
    let token = keys.issue_token(&api_token("t1")).unwrap();
    // Every replica reading the same stored secret verifies the others' tokens.
    Keys::from_stored_secret(&secret)
        .unwrap()
        .verify(&token, &[Audience::Api], at(0))
        .unwrap();
    assert!(matches!(Keys::new(&[7; 31]), Err(KeyError::TooShort)));
    assert!(matches!(
        Keys::from_stored_secret("zz"),
        Err(KeyError::NotHex)
    ));
    assert!(matches!(
        Keys::from_stored_secret(&"+f".repeat(40)),
        Err(KeyError::NotHex)
    ));
    assert!(matches!(
        Keys::from_stored_secret("abcd"),
        Err(KeyError::TooShort)
    ));
}

#[test]
fn debug_shows_no_secret() {
    let secret = generate_secret();
    let keys = Keys::from_stored_secret(&secret).unwrap();
    let debug = format!("{keys:?} {keys:#?}");
    assert!(debug.contains("[redacted]"), "{debug}");
    assert!(!debug.contains(&secret[..8]), "{debug}");
    // Nor the raw bytes, as text or as a byte list.
    let raw = format!("{:?}", Keys::new(SECRET).unwrap());
    assert!(
        !raw.contains("0123456789abcdef") && !raw.contains("48, 49, 50"),
        "{raw}"
    );
    assert!(
        raw.starts_with("Keys { algorithm: HS256, secret: \"[redacted]\""),
        "{raw}"
    );
}
