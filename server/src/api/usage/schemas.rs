//! OpenAPI schemas of the usage report (proto's serde types, without
//! utoipa) and of a stored hourly count. Never constructed; a test checks
//! they name exactly the real types' fields.

#![allow(dead_code)]

use serde::Serialize;
use utoipa::ToSchema;

/// One window of evaluation counts from one SDK instance.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = UsageReport)]
pub struct UsageReportSchema {
    /// When counting for this report began (RFC 3339).
    #[schema(value_type = String, format = DateTime)]
    pub window_start: String,
    /// When it ended; the flags counted were last evaluated no later. At
    /// most 5 minutes ahead of the server, at most 7 days ago, at most 24
    /// hours after `window_start`.
    #[schema(value_type = String, format = DateTime)]
    pub window_end: String,
    /// At most 1000 entries, one per flag and variant.
    #[serde(default)]
    #[schema(default = json!([]))]
    pub counts: Vec<UsageCountSchema>,
}

/// How many times one flag served one variant.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = UsageCount)]
pub struct UsageCountSchema {
    pub flag: String,
    /// Absent when the evaluation failed and the caller's default was used.
    #[schema(nullable = false)]
    pub variant: Option<String>,
    /// 1 to 10¹².
    #[schema(minimum = 1, maximum = 1_000_000_000_000_u64)]
    pub count: u64,
}

/// One hour of one variant's count in one environment.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = UsageBucket)]
pub struct UsageBucketSchema {
    pub environment: String,
    /// `null` counts failed evaluations (the caller's default was used).
    pub variant: Option<String>,
    /// The start of the hour (UTC).
    #[schema(value_type = String, format = DateTime)]
    pub hour: String,
    pub count: u64,
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use serde_json::Value;
    use time::macros::datetime;
    use utoipa::OpenApi;
    use vexil_proto::usage::{UsageCount, UsageReport};

    use super::*;
    use crate::store::UsageBucket;

    #[derive(OpenApi)]
    #[openapi(components(schemas(UsageReportSchema, UsageCountSchema, UsageBucketSchema)))]
    struct All;

    fn documented(name: &str) -> BTreeSet<String> {
        let doc = serde_json::to_value(All::openapi()).unwrap();
        let schema = &doc["components"]["schemas"][name]["properties"];
        schema.as_object().unwrap().keys().cloned().collect()
    }

    fn keys(value: &impl Serialize) -> BTreeSet<String> {
        match serde_json::to_value(value).unwrap() {
            Value::Object(map) => map.keys().cloned().collect(),
            other => panic!("{other}"),
        }
    }

    #[test]
    fn schemas_name_the_real_fields() {
        let at = datetime!(2026-11-22 10:00 UTC);
        let report = UsageReport {
            window_start: at,
            window_end: at,
            counts: vec![UsageCount {
                flag: "f".into(),
                variant: Some("on".into()),
                count: 1,
            }],
        };
        assert_eq!(documented("UsageReport"), keys(&report));
        assert_eq!(documented("UsageCount"), keys(&report.counts[0]));
        let bucket = UsageBucket {
            environment: "production".into(),
            variant: None,
            hour: at,
            count: 1,
        };
        assert_eq!(documented("UsageBucket"), keys(&bucket));
    }
}
