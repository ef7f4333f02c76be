//! A command's JSON output against the document's: equal, except that
//! fields whose values change from run to run (times, random ids, tokens)
//! need only be present, and null where the document shows null, and that
//! a UUID inside a string (a token named in a message) may differ.

use serde_json::Value;

/// Field names whose values differ on every run.
const VOLATILE: &[&str] = &[
    "at",
    "created_at",
    "updated_at",
    "expires_at",
    "last_used_at",
    "revoked_at",
    "token",
    "id",
    "since",
    "until",
];

/// `Ok` when `actual` matches `expected`; else where (a JSON pointer) and
/// how it differs.
pub fn matches(expected: &Value, actual: &Value) -> Result<(), String> {
    compare(expected, actual, "")
}

fn compare(expected: &Value, actual: &Value, path: &str) -> Result<(), String> {
    match (expected, actual) {
        (Value::Object(want), Value::Object(got)) => {
            for key in got.keys() {
                if !want.contains_key(key) {
                    return Err(format!("{path}/{key}: not in the document"));
                }
            }
            for (key, want_value) in want {
                let here = format!("{path}/{key}");
                let got_value = got
                    .get(key)
                    .ok_or_else(|| format!("{here}: missing from the output"))?;
                if VOLATILE.contains(&key.as_str()) {
                    if want_value.is_null() != got_value.is_null() {
                        return Err(format!("{here}: document {want_value}, output {got_value}"));
                    }
                    continue;
                }
                compare(want_value, got_value, &here)?;
            }
            Ok(())
        }
        (Value::Array(want), Value::Array(got)) => {
            if want.len() != got.len() {
                return Err(format!(
                    "{path}: document has {} items, output {}",
                    want.len(),
                    got.len()
                ));
            }
            want.iter()
                .zip(got)
                .enumerate()
                .try_for_each(|(i, (w, g))| compare(w, g, &format!("{path}/{i}")))
        }
        (Value::String(want), Value::String(got)) if without_uuids(want) == without_uuids(got) => {
            Ok(())
        }
        _ if expected == actual => Ok(()),
        _ => Err(format!("{path}: document {expected}, output {actual}")),
    }
}

/// `text` with every UUID (8-4-4-4-12 hex digits) replaced by `<uuid>`.
fn without_uuids(text: &str) -> String {
    const SHAPE: [usize; 5] = [8, 4, 4, 4, 12];
    let is_uuid = |s: &[u8]| {
        let mut at = 0;
        SHAPE.iter().enumerate().all(|(i, &len)| {
            let group = s
                .get(at..at + len)
                .is_some_and(|g| g.iter().all(u8::is_ascii_hexdigit));
            at += len;
            let dash = i == SHAPE.len() - 1 || s.get(at) == Some(&b'-');
            at += 1;
            group && dash
        })
    };
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < bytes.len() {
        if is_uuid(&bytes[i..]) {
            out.push_str("<uuid>");
            i += 36;
        } else {
            let c = text[i..].chars().next().unwrap_or_default();
            out.push(c);
            i += c.len_utf8().max(1);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn volatile_fields_need_only_be_there() {
        let doc = json!({"id": "x", "name": "a", "at": "2026", "revoked_at": null});
        let out = json!({"id": "y", "name": "a", "at": "2027", "revoked_at": null});
        assert_eq!(matches(&doc, &out), Ok(()));
    }

    #[test]
    fn uuids_inside_strings_may_differ() {
        let doc = json!("token:521b46ed-bcb6-4cb4-9bca-806d2944a1c5 may not");
        let out = json!("token:79e476a8-1807-42eb-a804-20878e14e301 may not");
        assert_eq!(matches(&doc, &out), Ok(()));
        let other = json!("token:79e476a8-1807-42eb-a804-20878e14e301 may");
        assert!(matches(&doc, &other).is_err());
    }

    #[test]
    fn any_other_difference_is_reported_with_its_path() {
        let doc = json!({"items": [{"key": "a", "enabled": true}], "revoked_at": null});
        let cases = [
            (
                json!({"items": [{"key": "a", "enabled": false}], "revoked_at": null}),
                "/items/0/enabled",
            ),
            (
                json!({"items": [{"key": "a"}], "revoked_at": null}),
                "/items/0/enabled: missing",
            ),
            (
                json!({"items": [{"key": "a", "enabled": true, "x": 1}], "revoked_at": null}),
                "/items/0/x",
            ),
            (
                json!({"items": [], "revoked_at": null}),
                "/items: document has 1",
            ),
            (
                json!({"items": [{"key": "a", "enabled": true}], "revoked_at": "now"}),
                "/revoked_at",
            ),
        ];
        for (out, why) in cases {
            let error = matches(&doc, &out).unwrap_err();
            assert!(error.starts_with(why), "{error} (wanted {why})");
        }
    }
}
