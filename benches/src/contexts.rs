//! The contexts the flag shapes are written against.

use vexil_proto::Context;

/// The `account` of [`user`]: inside every long list built with
/// [`crate::shapes::account_list`] of more than 4 242 values.
pub const USER_ACCOUNT: &str = "acct-004242";

/// An `account` that no list built by [`crate::shapes::account_list`] holds.
pub const STRANGER_ACCOUNT: &str = "acct-unknown";

/// A signed-in user of a typical web app: eight attributes of every type the
/// operators read. Against [`crate::shapes::five_rules`] every rule but the
/// last fails on its third clause, and the last one matches.
pub fn user() -> Context {
    Context::new("user-4821")
        .with_kind("user")
        .with("email", "alice@example.com")
        .with("region", "eu-west-1")
        .with("country", "DE")
        .with("plan", "enterprise")
        .with("seats", 42i64)
        .with("app_version", "2.7.1")
        .with("beta", true)
        .with("account", USER_ACCOUNT)
}

/// [`user`] with an `account` that is in no list, for the miss path of `in`.
pub fn stranger() -> Context {
    user().with("account", STRANGER_ACCOUNT)
}
