//! One storage scenario suite, run against SQLite and PostgreSQL.
//!
//! Every scenario takes an `Arc<dyn Store>` and asserts exact results, so
//! both backends are held to the same contract. SQLite runs on a fresh file
//! per test; PostgreSQL runs when `VEXIL_TEST_POSTGRES_URL` is set
//! (e.g. `postgres://postgres@127.0.0.1:5432/test`), each test in a fresh
//! database `vexil_test_<random>` created from that URL and dropped after.
//!
//! # Layout
//! - `common`: fixtures (times, write metadata, flags, segments, users),
//!   setup writes (`add_flag`, `add_segment`, ...) and error assertions.
//! - `fresh_db`: a PostgreSQL database per test, or a loud skip (shared
//!   with `postgres_replicas.rs`).
//! - `projects`: a fresh install, projects and environments.
//! - `flags`: flags and configs, which environments each write bumps,
//!   If-Match, list filters and paging.
//! - `lifecycle`: archiving and deleting flags, segments, snapshots.
//! - `log`: the change log and `changes_since`.
//! - `accounts`: users, tokens, secrets.
//! - `concurrency`: concurrent writers keep versions contiguous.
//! - `integrity`: what writes check inside their transaction (references
//!   a config names, the last admin), and races against those checks.
//! - `sqlite_file`: SQLite only: reopening a file, corrupt data, a crowd
//!   of concurrent writers.
//! - `kill_switches`: kill switches (audited, no version bump), their
//!   transitions with the flag's config in one change, health events once.
//! - `usage`: evaluation counts, last-evaluated times, stale flags.
//! - `rollout_plans`: rollout plans (a put writes its exposure into the
//!   flag's config as one change), moves conditional on the plan's version,
//!   plans going with their flag or environment.
//! - `rollout_races`: moves refused while a kill switch is tripped, two
//!   racing moves (one store, or two on one database) committing once, a
//!   raise racing a kill switch's trip.

mod accounts;
mod common;
mod concurrency;
mod flags;
mod fresh_db;
mod integrity;
mod kill_switches;
mod lifecycle;
mod log;
mod projects;
mod rollout_plans;
mod rollout_races;
mod sqlite_file;
mod usage;

use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;

use vexil_server::store::Store;
use vexil_server::store::postgres::PostgresStore;
use vexil_server::store::sqlite::SqliteStore;

use crate::fresh_db::{FreshDatabase, with_database};

/// A directory of its own under the system temp dir, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> Self {
        let dir = std::env::temp_dir().join(format!("vexil-store-{}", uuid::Uuid::new_v4()));
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Runs `scenario` on a fresh SQLite file (its directory does not exist
/// yet: `open` creates it).
async fn run_on_sqlite<F, Fut>(scenario: F)
where
    F: FnOnce(Arc<dyn Store>) -> Fut,
    Fut: Future<Output = ()>,
{
    let dir = TempDir::new();
    let store = SqliteStore::open(&dir.0.join("data").join("vexil.db"))
        .await
        .unwrap();
    scenario(Arc::new(store.clone())).await;
    store.close().await;
}

/// Runs `scenario` on a fresh PostgreSQL database, or says loudly that it
/// did not. The database is dropped even when the scenario fails.
async fn run_on_postgres<F, Fut>(test: &str, scenario: F)
where
    F: FnOnce(Arc<dyn Store>) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let Some(url) = fresh_db::postgres_url(test) else {
        return;
    };
    let db = FreshDatabase::create(&url).await;
    let store = PostgresStore::connect(db.url()).await.unwrap();
    let outcome = tokio::spawn(scenario(Arc::new(store.clone()))).await;
    db.drop(&store).await;
    if let Err(error) = outcome {
        match error.try_into_panic() {
            Ok(panic) => std::panic::resume_unwind(panic),
            Err(error) => panic!("scenario did not finish: {error}"),
        }
    }
}

/// One `#[tokio::test]` per scenario and backend: `sqlite::<name>` and
/// `postgres::<name>`.
macro_rules! scenarios {
    ($($module:ident :: $name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() {
                    super::run_on_sqlite(super::$module::$name).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() {
                    super::run_on_postgres(stringify!($name), super::$module::$name).await;
                }
            )*
        }
    };
}

scenarios!(
    integrity::configs_naming_what_does_not_exist_are_refused,
    integrity::segment_delete_races_a_config_naming_it,
    integrity::variants_in_use_cannot_be_removed,
    integrity::variant_removal_races_a_config_serving_it,
    integrity::the_last_enabled_admin_stays,
    integrity::deleting_an_environment_revokes_its_sdk_keys,
    integrity::the_last_two_admins_demoting_each_other_leave_one,
    projects::fresh_install_has_the_default_project,
    projects::projects_and_environments,
    flags::flag_create_configures_every_environment,
    flags::config_writes_bump_only_their_environment,
    flags::stale_if_match_changes_nothing,
    flags::flag_list_filters_and_pages,
    lifecycle::archived_flags,
    lifecycle::segments,
    lifecycle::snapshot_contents_and_version,
    log::change_log_filters_and_content,
    log::changes_since_is_contiguous,
    accounts::users,
    accounts::tokens,
    accounts::secrets_are_stable,
    concurrency::concurrent_if_match_writers,
    concurrency::concurrent_toggles,
    usage::usage_adds_up_per_hour,
    usage::usage_counts_saturate,
    usage::usage_goes_with_its_flag,
    usage::unevaluated_since_finds_stale_flags,
    usage::usage_and_writes_run_together,
    kill_switches::kill_switch_crud_is_audited,
    kill_switches::transitions_write_the_flag_in_one_change,
    kill_switches::health_events_are_stored_once,
    kill_switches::switches_go_with_their_flag,
    rollout_plans::rollout_plan_put_writes_the_exposure_in_one_change,
    rollout_plans::rollout_plan_puts_that_fail_change_nothing,
    rollout_plans::rollout_plans_are_read_in_key_order,
    rollout_plans::rollout_moves_write_the_config_or_the_plan,
    rollout_races::rollout_raises_are_refused_while_a_switch_is_tripped,
    rollout_races::rollout_moves_race_to_commit_once,
    rollout_races::rollout_raise_and_trip_race_one_wins,
    rollout_plans::rollout_plans_are_deleted_and_go_with_their_flag,
);

/// Two SQLite stores on one file, as two processes would open it.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_rollout_moves_race_to_commit_once_across_stores() {
    let dir = TempDir::new();
    let path = dir.0.join("data").join("vexil.db");
    let a = SqliteStore::open(&path).await.unwrap();
    let b = SqliteStore::open(&path).await.unwrap();
    rollout_races::rollout_moves_race_to_commit_once_across_stores(
        Arc::new(a.clone()),
        Arc::new(b.clone()),
    )
    .await;
    a.close().await;
    b.close().await;
}

/// Two PostgreSQL stores (two replicas) on one fresh database.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_rollout_moves_race_to_commit_once_across_stores() {
    let test = "rollout_moves_race_to_commit_once_across_stores";
    let Some(url) = fresh_db::postgres_url(test) else {
        return;
    };
    let db = FreshDatabase::create(&url).await;
    let a = PostgresStore::connect(db.url()).await.unwrap();
    let b = PostgresStore::connect(db.url()).await.unwrap();
    let scenario = rollout_races::rollout_moves_race_to_commit_once_across_stores(
        Arc::new(a.clone()),
        Arc::new(b.clone()),
    );
    let outcome = tokio::spawn(scenario).await;
    b.pool().close().await;
    db.drop(&a).await;
    if let Err(error) = outcome {
        match error.try_into_panic() {
            Ok(panic) => std::panic::resume_unwind(panic),
            Err(error) => panic!("scenario did not finish: {error}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_file_concurrent_creates_all_commit() {
    sqlite_file::concurrent_creates_all_commit().await;
}

#[tokio::test]
async fn sqlite_file_keeps_everything_across_reopening() {
    sqlite_file::reopen().await;
}

#[test]
fn with_database_replaces_only_the_path() {
    assert_eq!(
        with_database("postgres://postgres@127.0.0.1:5432/test", "x"),
        "postgres://postgres@127.0.0.1:5432/x"
    );
    assert_eq!(
        with_database("postgres://u:p@h/test?sslmode=disable", "x"),
        "postgres://u:p@h/x?sslmode=disable"
    );
    assert_eq!(
        with_database("postgres://h:5432", "x"),
        "postgres://h:5432/x"
    );
}
