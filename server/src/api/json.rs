//! The JSON body extractor: like axum's `Json`, but every rejection is an
//! [`ApiError`] in the one error shape, and a document that parses but does
//! not fit (unknown field, wrong type) says where, as a JSON pointer.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{FromRequest, Request};
use axum::http::header::CONTENT_TYPE;
use serde::de::DeserializeOwned;

use super::error::ApiError;

/// Largest request body the API reads; larger ones get 413.
pub const MAX_BODY_BYTES: usize = 2 * 1024 * 1024;

/// A JSON request body of type `T`.
#[derive(Debug, Clone, Copy, Default)]
pub struct Json<T>(pub T);

impl<T, S> FromRequest<S> for Json<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let is_json = req
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .is_some_and(|mime| {
                let mime = mime.trim();
                mime.eq_ignore_ascii_case("application/json")
                    || (mime.starts_with("application/") && mime.ends_with("+json"))
            });
        if !is_json {
            return Err(ApiError::UnsupportedMediaType);
        }
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(|rejection| match rejection {
                BytesRejection::FailedToBufferBody(_) => ApiError::TooLarge(MAX_BODY_BYTES),
                other => ApiError::BadRequest(other.body_text()),
            })?;
        parse(&bytes).map(Json)
    }
}

/// Parses a body: a syntax error is a 400, a document of the wrong shape a
/// 422 with the JSON pointer of the offending value.
pub fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    // Most bodies are fine: parse them without tracking the path, which
    // costs a third of the parse; only a failure is parsed again to say where.
    if let Ok(value) = serde_json::from_slice(bytes) {
        return Ok(value);
    }
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let parsed: Result<T, _> = serde_path_to_error::deserialize(&mut deserializer);
    let value = match parsed {
        Ok(value) => value,
        Err(err) => {
            let pointer = pointer(err.path());
            let inner = err.into_inner();
            return Err(match inner.classify() {
                serde_json::error::Category::Data => {
                    ApiError::invalid(pointer, strip_position(&inner))
                }
                _ => ApiError::BadRequest(format!("the request body is not valid JSON: {inner}")),
            });
        }
    };
    deserializer.end().map_err(|err| {
        ApiError::BadRequest(format!("the request body is not valid JSON: {err}"))
    })?;
    Ok(value)
}

/// `serde_path_to_error`'s path (`rules[0].op`) as a JSON pointer (`/rules/0/op`).
fn pointer(path: &serde_path_to_error::Path) -> String {
    use serde_path_to_error::Segment;
    let mut out = String::new();
    for segment in path.iter() {
        out.push('/');
        match segment {
            Segment::Seq { index } => out.push_str(&index.to_string()),
            Segment::Map { key } | Segment::Enum { variant: key } => {
                out.push_str(&vexil_proto::validate::escape_pointer_segment(key))
            }
            Segment::Unknown => out.push('?'),
        }
    }
    out
}

/// serde_json's message without " at line 1 column 42": the pointer says where.
fn strip_position(err: &serde_json::Error) -> String {
    let message = err.to_string();
    match message.rfind(" at line ") {
        Some(at) => message[..at].to_string(),
        None => message,
    }
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    use super::*;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Doc {
        name: String,
        rules: Vec<Rule>,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Rule {
        id: String,
    }

    fn problems(err: ApiError) -> Vec<(String, String)> {
        match err {
            ApiError::Invalid(p) => p.into_iter().map(|p| (p.path, p.problem)).collect(),
            other => panic!("expected Invalid, got {other:?}"),
        }
    }

    #[test]
    fn unknown_fields_and_wrong_types_say_where() {
        let err =
            parse::<Doc>(br#"{"name": "x", "rules": [{"id": "a"}, {"id": "b", "extra": 1}]}"#)
                .unwrap_err();
        let found = problems(err);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].0, "/rules/1/extra");
        assert!(
            found[0].1.starts_with("unknown field `extra`"),
            "{}",
            found[0].1
        );

        let err = parse::<Doc>(br#"{"name": 5, "rules": []}"#).unwrap_err();
        assert_eq!(problems(err)[0].0, "/name");
    }

    #[test]
    fn malformed_json_is_a_bad_request() {
        for body in [
            &b"{"[..],
            b"",
            b"{\"name\": \"x\", \"rules\": []} trailing",
            b"\xff",
        ] {
            let err = parse::<Doc>(body).unwrap_err();
            assert!(matches!(err, ApiError::BadRequest(_)), "{body:?}: {err:?}");
        }
    }
}
