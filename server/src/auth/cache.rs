//! A short memory of token records and users, so that a 30 000 req/s
//! evaluate endpoint does not read the database on every request.
//!
//! Entries are fresh for [`CACHE_TTL`]: a token revoked on another replica
//! stops working here within that time; on this replica the revoking
//! handler calls [`AuthCache::invalidate_token`] and it stops at once.
//! When the store fails, an entry up to [`STALE_GRACE`] old is still used
//! (with a warning), so a database blip does not lock every SDK out.
//! Ages are read from the injected clock, so tests move time instead of
//! sleeping.
//!
//! It also remembers the claims of tokens whose signature checked out,
//! keyed by the token itself: the same bytes verify the same way every
//! time, so a key presented 30 000 times a second is decoded and its HMAC
//! computed once. Expiry is still checked on every use, and revocation
//! against the (briefly cached) stored record; only tokens we signed get
//! in, so the map cannot be flooded with garbage.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use time::{Duration, OffsetDateTime};

use super::Claims;
use crate::store::{TokenRecord, UserRecord};

/// How long a looked-up token or user is trusted without asking the store.
pub const CACHE_TTL: Duration = Duration::seconds(5);

/// How much older than [`CACHE_TTL`] an entry may be and still stand in
/// for a store that is failing.
pub const STALE_GRACE: Duration = Duration::minutes(5);

/// A token's `last_used_at` is written at most this often (per replica).
pub const TOUCH_INTERVAL: Duration = Duration::minutes(1);

/// Above this many entries, a map drops its expired ones on insert.
const PRUNE_ABOVE: usize = 10_000;

/// What the cache knows about one key.
#[derive(Debug)]
pub(crate) enum Cached<T> {
    /// Younger than the TTL: use it.
    Fresh(Arc<T>),
    /// Older, but usable if the store fails.
    Stale(Arc<T>),
    Miss,
}

#[derive(Debug)]
struct Entry<T> {
    value: Arc<T>,
    fetched_at: OffsetDateTime,
}

/// Token records by id, users by username, and when each token was last
/// touched.
#[derive(Debug)]
pub struct AuthCache {
    ttl: Duration,
    tokens: Mutex<HashMap<String, Entry<TokenRecord>>>,
    users: Mutex<HashMap<String, Entry<UserRecord>>>,
    touched: Mutex<HashMap<String, OffsetDateTime>>,
    /// Claims of verified tokens, by token. Hashed with foldhash: keys are
    /// tokens we signed, so nobody can choose colliding ones.
    verified: Mutex<HashMap<String, Arc<Claims>, foldhash::quality::RandomState>>,
}

impl Default for AuthCache {
    fn default() -> Self {
        AuthCache::new(CACHE_TTL)
    }
}

impl AuthCache {
    pub fn new(ttl: Duration) -> Self {
        AuthCache {
            ttl,
            tokens: Mutex::default(),
            users: Mutex::default(),
            touched: Mutex::default(),
            verified: Mutex::default(),
        }
    }

    /// The claims of `token` if it was verified before.
    pub(crate) fn verified(&self, token: &str) -> Option<Arc<Claims>> {
        lock(&self.verified).get(token).cloned()
    }

    /// Remembers the claims of a token that was just verified. Above
    /// [`PRUNE_ABOVE`] tokens, expired ones are dropped first (and all of
    /// them if that is not enough).
    pub(crate) fn put_verified(
        &self,
        token: &str,
        claims: Claims,
        now: OffsetDateTime,
    ) -> Arc<Claims> {
        let claims = Arc::new(claims);
        let mut verified = lock(&self.verified);
        if verified.len() > PRUNE_ABOVE {
            let now = now.unix_timestamp();
            verified.retain(|_, claims| claims.exp > now);
            if verified.len() > PRUNE_ABOVE {
                verified.clear();
            }
        }
        verified.insert(token.to_owned(), Arc::clone(&claims));
        claims
    }

    /// Forgets a token, so its next use reads the store: call it after
    /// revoking.
    pub fn invalidate_token(&self, id: &str) {
        lock(&self.tokens).remove(id);
    }

    /// Forgets a user: call it after disabling, deleting or changing one.
    pub fn invalidate_user(&self, username: &str) {
        lock(&self.users).remove(username);
    }

    pub(crate) fn token(&self, id: &str, now: OffsetDateTime) -> Cached<TokenRecord> {
        get(&self.tokens, id, now, self.ttl)
    }

    pub(crate) fn put_token(&self, record: TokenRecord, now: OffsetDateTime) -> Arc<TokenRecord> {
        put(&self.tokens, record.id.clone(), record, now, self.ttl)
    }

    pub(crate) fn user(&self, username: &str, now: OffsetDateTime) -> Cached<UserRecord> {
        get(&self.users, username, now, self.ttl)
    }

    pub(crate) fn put_user(&self, user: UserRecord, now: OffsetDateTime) -> Arc<UserRecord> {
        put(&self.users, user.username.clone(), user, now, self.ttl)
    }

    /// Whether this use of token `id` should be recorded: true at most once
    /// per [`TOUCH_INTERVAL`], counting the store's `last_used_at` too (so
    /// a restarted replica does not write again at once).
    pub(crate) fn claim_touch(
        &self,
        id: &str,
        stored_last_use: Option<OffsetDateTime>,
        now: OffsetDateTime,
    ) -> bool {
        let mut touched = lock(&self.touched);
        let last = touched.get(id).copied().or(stored_last_use);
        if last.is_some_and(|last| within(now - last, TOUCH_INTERVAL)) {
            return false;
        }
        if touched.len() > PRUNE_ABOVE {
            touched.retain(|_, last| within(now - *last, TOUCH_INTERVAL));
        }
        touched.insert(id.to_string(), now);
        true
    }
}

/// `0 <= age < limit`: a clock that went backwards makes nothing fresh.
fn within(age: Duration, limit: Duration) -> bool {
    age >= Duration::ZERO && age < limit
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // The maps stay consistent even if a holder panicked: every critical
    // section is a single insert, remove or lookup.
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

fn get<T>(
    map: &Mutex<HashMap<String, Entry<T>>>,
    key: &str,
    now: OffsetDateTime,
    ttl: Duration,
) -> Cached<T> {
    match lock(map).get(key) {
        Some(entry) if within(now - entry.fetched_at, ttl) => Cached::Fresh(entry.value.clone()),
        Some(entry) if within(now - entry.fetched_at, ttl + STALE_GRACE) => {
            Cached::Stale(entry.value.clone())
        }
        _ => Cached::Miss,
    }
}

fn put<T>(
    map: &Mutex<HashMap<String, Entry<T>>>,
    key: String,
    value: T,
    now: OffsetDateTime,
    ttl: Duration,
) -> Arc<T> {
    let value = Arc::new(value);
    let mut map = lock(map);
    if map.len() > PRUNE_ABOVE {
        map.retain(|_, entry| within(now - entry.fetched_at, ttl + STALE_GRACE));
    }
    map.insert(
        key,
        Entry {
            value: value.clone(),
            fetched_at: now,
        },
    );
    value
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;
    use crate::auth::testing::api_token;

    const T0: OffsetDateTime = datetime!(2030-01-01 00:00 UTC);

    #[test]
    fn entries_are_fresh_then_stale_then_gone() {
        let cache = AuthCache::default();
        cache.put_token(api_token("t1"), T0);
        assert!(matches!(
            cache.token("t1", T0 + Duration::seconds(4)),
            Cached::Fresh(_)
        ));
        assert!(matches!(
            cache.token("t1", T0 + Duration::seconds(5)),
            Cached::Stale(_)
        ));
        assert!(matches!(
            cache.token("t1", T0 + CACHE_TTL + STALE_GRACE),
            Cached::Miss
        ));
        assert!(matches!(
            cache.token("t1", T0 - Duration::seconds(1)),
            Cached::Miss
        ));
        assert!(matches!(cache.token("t2", T0), Cached::Miss));
    }

    #[test]
    fn invalidation_forgets_at_once() {
        let cache = AuthCache::default();
        cache.put_token(api_token("t1"), T0);
        cache.invalidate_token("t1");
        assert!(matches!(cache.token("t1", T0), Cached::Miss));
    }

    fn claims(jti: &str, exp: OffsetDateTime) -> Claims {
        Claims {
            sub: jti.into(),
            jti: jti.into(),
            iss: "vexil".into(),
            aud: "vexil:sdk".into(),
            iat: T0.unix_timestamp(),
            exp: exp.unix_timestamp(),
            nbf: None,
            kind: crate::auth::ClaimKind::Sdk,
            role: None,
            project: Some("default".into()),
            env: Some(crate::auth::EnvClaim::One("production".into())),
        }
    }

    #[test]
    fn verified_tokens_are_pruned_by_expiry_past_the_limit() {
        let cache = AuthCache::default();
        let later = T0 + Duration::hours(1);
        for i in 0..PRUNE_ABOVE {
            cache.put_verified(&format!("expired-{i}"), claims("k", T0), T0);
        }
        cache.put_verified("live", claims("k", later), T0);
        assert_eq!(lock(&cache.verified).len(), PRUNE_ABOVE + 1);
        cache.put_verified("next", claims("k", later), T0 + Duration::seconds(1));
        assert_eq!(lock(&cache.verified).len(), 2, "only the live ones stay");
        assert!(cache.verified("live").is_some());
        assert!(cache.verified("expired-0").is_none());
    }

    #[test]
    fn touches_at_most_once_a_minute() {
        let cache = AuthCache::default();
        assert!(cache.claim_touch("t1", None, T0));
        assert!(!cache.claim_touch("t1", None, T0 + Duration::seconds(59)));
        assert!(cache.claim_touch("t1", None, T0 + Duration::seconds(60)));
        assert!(cache.claim_touch("t2", None, T0), "per token");
        // The store's last_used_at counts for a token this replica never touched.
        assert!(!cache.claim_touch("t3", Some(T0), T0 + Duration::seconds(30)));
        assert!(cache.claim_touch("t3", Some(T0), T0 + Duration::seconds(61)));
    }
}
