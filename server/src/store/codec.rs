//! Backend-neutral conversions between the store's types and what the
//! databases hold: JSON (as a value or as text), enum names, and versions
//! as signed integers. Stored data that does not read back (JSON of the
//! wrong shape, an unknown enum name, a negative version) is
//! [`StoreError::Corrupt`], never a panic.

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::{StoreError, StoreResult};

/// Any serializable value as JSON: the change log's `before`/`after`, and
/// JSON columns of a backend that binds JSON values.
pub(super) fn to_value<T: Serialize + ?Sized>(value: &T) -> StoreResult<Value> {
    serde_json::to_value(value).map_err(cannot_serialize)
}

/// Any serializable value as JSON text, for a backend that stores text.
pub(super) fn to_json<T: Serialize + ?Sized>(value: &T) -> StoreResult<String> {
    serde_json::to_string(value).map_err(cannot_serialize)
}

fn cannot_serialize(error: serde_json::Error) -> StoreError {
    StoreError::Corrupt(format!("cannot serialize: {error}"))
}

/// Stored JSON back into its type; `what` names it in the error.
pub(super) fn from_value<T: DeserializeOwned>(value: Value, what: &str) -> StoreResult<T> {
    serde_json::from_value(value).map_err(|e| StoreError::Corrupt(format!("{what}: {e}")))
}

/// Stored JSON text back into its type; `what` names it in the error.
pub(super) fn from_json<T: DeserializeOwned>(text: &str, what: &str) -> StoreResult<T> {
    serde_json::from_str(text).map_err(|e| StoreError::Corrupt(format!("{what}: {e}")))
}

/// The snake_case name serde gives a unit enum variant (`"boolean"`,
/// `"admin"`, ...): what is stored in text columns (`kind`, `role`,
/// `resource`, `action`).
pub(super) fn enum_name<T: Serialize>(value: &T) -> StoreResult<String> {
    match to_value(value)? {
        Value::String(name) => Ok(name),
        other => Err(StoreError::Corrupt(format!("not an enum name: {other}"))),
    }
}

/// A stored enum name back into its enum; `what` names it in the error.
pub(super) fn from_name<T: DeserializeOwned>(name: &str, what: &str) -> StoreResult<T> {
    serde_json::from_value(Value::String(name.to_owned()))
        .map_err(|e| StoreError::Corrupt(format!("{what} {name:?}: {e}")))
}

/// A stored (signed) version or counter as the `u64` the records carry;
/// `what` names it in the error.
pub(super) fn unsigned(value: i64, what: &str) -> StoreResult<u64> {
    u64::try_from(value).map_err(|_| StoreError::Corrupt(format!("negative {what}: {value}")))
}

/// A `u64` version as the signed integer it is stored as.
pub(super) fn signed(value: u64) -> StoreResult<i64> {
    i64::try_from(value).map_err(|_| StoreError::Corrupt(format!("version {value} too large")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{ChangeAction, Role};

    #[track_caller]
    fn assert_corrupt<T: std::fmt::Debug>(result: StoreResult<T>) {
        assert!(matches!(result, Err(StoreError::Corrupt(_))), "{result:?}");
    }

    #[test]
    fn enums_round_trip_by_name() {
        assert_eq!(enum_name(&ChangeAction::Toggled).unwrap(), "toggled");
        assert_eq!(from_name::<Role>("admin", "role").unwrap(), Role::Admin);
        assert_corrupt(from_name::<Role>("root", "role"));
        assert_corrupt(enum_name(&vec![1]));
    }

    #[test]
    fn bad_stored_data_is_corrupt() {
        assert_corrupt(from_json::<Vec<String>>("[1", "tags"));
        assert_corrupt(from_value::<Vec<String>>(Value::Bool(true), "tags"));
        assert_corrupt(unsigned(-1, "version"));
        assert_corrupt(signed(u64::MAX));
        assert_eq!(unsigned(7, "version").unwrap(), 7);
        assert_eq!(signed(7).unwrap(), 7);
    }
}
