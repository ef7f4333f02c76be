//! What flag reads (`GET` one, the list) answer: the stored record plus
//! when the flag was last evaluated in each environment, from the counts
//! SDKs report (`POST /api/v1/usage`).

use std::collections::BTreeMap;

use serde::Serialize;
use time::OffsetDateTime;

use crate::api::ApiError;
use crate::store::{FlagRecord, Store};

/// A flag as reads show it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FlagView {
    #[serde(flatten)]
    pub record: FlagRecord,
    /// Environment key → the end of the latest report window that counted
    /// the flag there; environments where it never was are absent, so `{}`
    /// means no SDK has reported evaluating it.
    pub last_evaluated: BTreeMap<String, Rfc3339>,
}

/// A time that serializes as RFC 3339.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Rfc3339(#[serde(with = "time::serde::rfc3339")] pub OffsetDateTime);

/// `records` with their last-evaluated times, in one store read.
pub async fn with_last_evaluated(
    store: &dyn Store,
    project: &str,
    records: Vec<FlagRecord>,
) -> Result<Vec<FlagView>, ApiError> {
    let keys: Vec<String> = records.iter().map(|r| r.flag.key.clone()).collect();
    let mut by_flag: BTreeMap<String, BTreeMap<String, Rfc3339>> = BTreeMap::new();
    for last in store.last_evaluated(project, &keys).await? {
        by_flag
            .entry(last.flag)
            .or_default()
            .insert(last.environment, Rfc3339(last.at));
    }
    Ok(records
        .into_iter()
        .map(|record| FlagView {
            last_evaluated: by_flag.remove(&record.flag.key).unwrap_or_default(),
            record,
        })
        .collect())
}
