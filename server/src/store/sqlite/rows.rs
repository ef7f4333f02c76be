//! Finding one row by its key, with the `NotFound` that fits, and deleting
//! one.

use sqlx::sqlite::SqliteRow;
use sqlx::{AssertSqlSafe, SqliteConnection};

use super::projects::project_row;
use crate::store::{StoreError, StoreResult};

/// `columns` of the row of `table` keyed by (`project`, `key`); when there
/// is none, `NotFound` for the project if it is missing, else for `what`
/// `key`.
pub(super) async fn row_in_project(
    conn: &mut SqliteConnection,
    (table, columns): (&str, &str),
    project: &str,
    key: &str,
    what: &str,
) -> StoreResult<SqliteRow> {
    let sql = format!("SELECT {columns} FROM {table} WHERE project = ?1 AND key = ?2");
    let row = sqlx::query(AssertSqlSafe(sql))
        .bind(project)
        .bind(key)
        .fetch_optional(&mut *conn)
        .await?;
    match row {
        Some(row) => Ok(row),
        None => {
            project_row(conn, project).await?;
            Err(StoreError::NotFound(format!("{what} {key}")))
        }
    }
}

/// `columns` of the row of `table` whose `column` is `key`; `NotFound` for
/// `what` `key` when there is none.
pub(super) async fn row_by_key(
    conn: &mut SqliteConnection,
    (table, columns): (&str, &str),
    column: &str,
    key: &str,
    what: &str,
) -> StoreResult<SqliteRow> {
    let sql = format!("SELECT {columns} FROM {table} WHERE {column} = ?1");
    sqlx::query(AssertSqlSafe(sql))
        .bind(key)
        .fetch_optional(&mut *conn)
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("{what} {key}")))
}

/// Deletes the row of `table` keyed by (`project`, `key`).
pub(super) async fn delete_in_project(
    conn: &mut SqliteConnection,
    table: &str,
    project: &str,
    key: &str,
) -> StoreResult<()> {
    let sql = format!("DELETE FROM {table} WHERE project = ?1 AND key = ?2");
    sqlx::query(AssertSqlSafe(sql))
        .bind(project)
        .bind(key)
        .execute(&mut *conn)
        .await?;
    Ok(())
}
