//! Projects, environments, and the `default` project of a fresh install.

use sqlx::SqliteConnection;
use time::OffsetDateTime;
use vexil_proto::{Environment, Project};

use super::SqliteStore;
use super::accounts::revoke_environment_keys;
use super::codec::{self, ENVIRONMENT_COLUMNS, PROJECT_COLUMNS, nanos};
use super::flags::insert_config;
use super::log::{Bump, commit, record};
use super::rows::{delete_in_project, row_by_key, row_in_project};
use crate::store::bootstrap::{BOOTSTRAPPED, default_project};
use crate::store::changes::NewChange;
use crate::store::checks::check_version;
use crate::store::codec::unsigned;
use crate::store::records;
use crate::store::{
    ChangeAction, EnvironmentRecord, ProjectRecord, StoreResult, WriteMeta, default_config,
};

pub(super) async fn project_row(
    conn: &mut SqliteConnection,
    key: &str,
) -> StoreResult<ProjectRecord> {
    let table = ("projects", PROJECT_COLUMNS);
    records::project(&row_by_key(conn, table, "key", key, "project").await?)
}

pub(super) async fn environment_row(
    conn: &mut SqliteConnection,
    project: &str,
    key: &str,
) -> StoreResult<EnvironmentRecord> {
    let table = ("environments", ENVIRONMENT_COLUMNS);
    let row = row_in_project(conn, table, project, key, "environment").await?;
    records::environment(&row)
}

/// Inserts the environment at version 1 after the project's last one.
async fn insert_environment(
    conn: &mut SqliteConnection,
    project: &str,
    environment: &Environment,
    at: i64,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO environments \
             (project, key, name, production, version, position, created_at, updated_at) \
         VALUES (?1, ?2, ?3, ?4, 1, \
             (SELECT coalesce(max(position), 0) + 1 FROM environments WHERE project = ?1), ?5, ?5)",
    )
    .bind(project)
    .bind(&environment.key)
    .bind(&environment.name)
    .bind(environment.production)
    .bind(at)
    .execute(&mut *conn)
    .await
    .map_err(codec::unique(|| format!("environment {}", environment.key)))?;
    Ok(())
}

/// Creates a project with its environments inside a write transaction.
async fn create_project_in(
    conn: &mut SqliteConnection,
    project: &Project,
    environments: &[Environment],
    meta: &WriteMeta,
) -> StoreResult<ProjectRecord> {
    let at = nanos(meta.at)?;
    sqlx::query(
        "INSERT INTO projects (key, name, description, version, created_at, updated_at) \
         VALUES (?1, ?2, ?3, 1, ?4, ?4)",
    )
    .bind(&project.key)
    .bind(&project.name)
    .bind(&project.description)
    .bind(at)
    .execute(&mut *conn)
    .await
    .map_err(codec::unique(|| format!("project {}", project.key)))?;
    for environment in environments {
        insert_environment(conn, &project.key, environment, at).await?;
    }
    let created = project_row(conn, &project.key).await?;
    let change = NewChange::project(&project.key, ChangeAction::Created, None, Some(&created))?;
    record(conn, meta, change, Bump::Created(&project.key, None)).await?;
    Ok(created)
}

impl SqliteStore {
    /// Creates the `default` project with `development`, `staging` and
    /// `production` the first time the database is opened.
    pub(super) async fn bootstrap(&self, now: OffsetDateTime) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        let done: Option<String> = sqlx::query_scalar("SELECT value FROM settings WHERE name = ?1")
            .bind(BOOTSTRAPPED)
            .fetch_optional(&mut *tx)
            .await?;
        if done.is_some() {
            return Ok(());
        }
        sqlx::query("INSERT INTO settings (name, value) VALUES (?1, ?2)")
            .bind(BOOTSTRAPPED)
            .bind(nanos(now)?.to_string())
            .execute(&mut *tx)
            .await?;
        let default = default_project(now);
        let (project, environments) = (&default.project, &default.environments);
        create_project_in(&mut tx, project, environments, &default.meta).await?;
        tx.commit().await?;
        Ok(())
    }

    pub(super) async fn list_projects_impl(&self) -> StoreResult<Vec<ProjectRecord>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {PROJECT_COLUMNS} FROM projects ORDER BY key"
        )))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(records::project).collect()
    }

    pub(super) async fn get_project_impl(&self, key: &str) -> StoreResult<ProjectRecord> {
        let mut conn = self.pool.acquire().await?;
        project_row(&mut conn, key).await
    }

    pub(super) async fn create_project_impl(
        &self,
        project: &Project,
        environments: &[Environment],
        meta: &WriteMeta,
    ) -> StoreResult<ProjectRecord> {
        let mut tx = self.begin_write().await?;
        let created = create_project_in(&mut tx, project, environments, meta).await?;
        tx.commit().await?;
        Ok(created)
    }

    pub(super) async fn update_project_impl(
        &self,
        project: &Project,
        meta: &WriteMeta,
    ) -> StoreResult<ProjectRecord> {
        let mut tx = self.begin_write().await?;
        let before = project_row(&mut tx, &project.key).await?;
        check_version(meta, before.version)?;
        sqlx::query(
            "UPDATE projects SET name = ?2, description = ?3, version = version + 1, \
             updated_at = ?4 WHERE key = ?1",
        )
        .bind(&project.key)
        .bind(&project.name)
        .bind(&project.description)
        .bind(nanos(meta.at)?)
        .execute(&mut *tx)
        .await?;
        let after = project_row(&mut tx, &project.key).await?;
        let action = ChangeAction::Updated;
        let change = NewChange::project(&project.key, action, Some(&before), Some(&after))?;
        commit(tx, meta, change, Bump::Nothing).await?;
        Ok(after)
    }

    pub(super) async fn delete_project_impl(&self, key: &str, meta: &WriteMeta) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        let before = project_row(&mut tx, key).await?;
        check_version(meta, before.version)?;
        sqlx::query("DELETE FROM projects WHERE key = ?1")
            .bind(key)
            .execute(&mut *tx)
            .await?;
        let change = NewChange::project(key, ChangeAction::Deleted, Some(&before), None)?;
        commit(tx, meta, change, Bump::Nothing).await
    }

    pub(super) async fn list_environments_impl(
        &self,
        project: &str,
    ) -> StoreResult<Vec<EnvironmentRecord>> {
        let mut tx = self.pool.begin().await?;
        project_row(&mut tx, project).await?;
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {ENVIRONMENT_COLUMNS} FROM environments WHERE project = ?1 ORDER BY position"
        )))
        .bind(project)
        .fetch_all(&mut *tx)
        .await?;
        tx.commit().await?;
        rows.iter().map(records::environment).collect()
    }

    pub(super) async fn get_environment_impl(
        &self,
        project: &str,
        key: &str,
    ) -> StoreResult<EnvironmentRecord> {
        let mut conn = self.pool.acquire().await?;
        environment_row(&mut conn, project, key).await
    }

    pub(super) async fn create_environment_impl(
        &self,
        project: &str,
        environment: &Environment,
        meta: &WriteMeta,
    ) -> StoreResult<EnvironmentRecord> {
        let mut tx = self.begin_write().await?;
        project_row(&mut tx, project).await?;
        insert_environment(&mut tx, project, environment, nanos(meta.at)?).await?;
        // Every flag, archived ones too (they may be restored), gets its
        // default config here.
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {} FROM flags WHERE project = ?1",
            codec::FLAG_COLUMNS
        )))
        .bind(project)
        .fetch_all(&mut *tx)
        .await?;
        for row in &rows {
            let flag = records::flag(row)?.flag;
            let config = default_config(&flag);
            insert_config(&mut tx, project, &flag.key, &environment.key, &config).await?;
        }
        let key = &environment.key;
        let created = environment_row(&mut tx, project, key).await?;
        let change =
            NewChange::environment(project, key, ChangeAction::Created, None, Some(&created))?;
        commit(tx, meta, change, Bump::Created(project, Some(key))).await?;
        Ok(created)
    }

    pub(super) async fn update_environment_impl(
        &self,
        project: &str,
        environment: &Environment,
        meta: &WriteMeta,
    ) -> StoreResult<EnvironmentRecord> {
        let mut tx = self.begin_write().await?;
        let before = environment_row(&mut tx, project, &environment.key).await?;
        check_version(meta, before.environment.version)?;
        sqlx::query(
            "UPDATE environments SET name = ?3, production = ?4, updated_at = ?5 \
             WHERE project = ?1 AND key = ?2",
        )
        .bind(project)
        .bind(&environment.key)
        .bind(&environment.name)
        .bind(environment.production)
        .bind(nanos(meta.at)?)
        .execute(&mut *tx)
        .await?;
        // The version goes up with the change record; the write lock makes
        // "one more than before" exact.
        let key = &environment.key;
        let mut after = environment_row(&mut tx, project, key).await?;
        after.environment.version += 1;
        let action = ChangeAction::Updated;
        let change = NewChange::environment(project, key, action, Some(&before), Some(&after))?;
        commit(tx, meta, change, Bump::Environment(project, key)).await?;
        Ok(after)
    }

    pub(super) async fn delete_environment_impl(
        &self,
        project: &str,
        key: &str,
        meta: &WriteMeta,
    ) -> StoreResult<Vec<String>> {
        let mut tx = self.begin_write().await?;
        let before = environment_row(&mut tx, project, key).await?;
        check_version(meta, before.environment.version)?;
        delete_in_project(&mut tx, "environments", project, key).await?;
        let action = ChangeAction::Deleted;
        let change = NewChange::environment(project, key, action, Some(&before), None)?;
        record(&mut tx, meta, change, Bump::Nothing).await?;
        // Logged after the deletion, as its consequence.
        let revoked = revoke_environment_keys(&mut tx, project, key, meta).await?;
        tx.commit().await?;
        Ok(revoked)
    }

    pub(super) async fn environment_versions_impl(
        &self,
    ) -> StoreResult<Vec<(String, String, u64)>> {
        let rows: Vec<(String, String, i64)> = sqlx::query_as(
            "SELECT e.project, e.key, e.version FROM environments e \
             JOIN projects p ON p.key = e.project ORDER BY e.project, e.position",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|(project, key, version)| {
                Ok((project, key, unsigned(version, "environments.version")?))
            })
            .collect()
    }
}
