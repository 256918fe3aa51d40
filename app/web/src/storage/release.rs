//! The check made on every connection handed back to the pool: it must be
//! outside any transaction, or the next request would read (and write) inside
//! a transaction it did not open: an old snapshot, or locks held forever.
//! A connection that fails the check is counted, logged and closed, never
//! reused.

use std::sync::atomic::{AtomicU64, Ordering};

use sqlx::mysql::MySqlConnection;
use sqlx::sqlite::SqliteConnection;

static RELEASED_IN_TRANSACTION: AtomicU64 = AtomicU64::new(0);

/// How many connections were handed back to a pool inside a transaction since
/// the process started (each was closed instead of reused). Tests assert 0.
pub fn released_in_transaction() -> u64 {
    RELEASED_IN_TRANSACTION.load(Ordering::SeqCst)
}

fn refuse(backend: &str, state: &str) -> bool {
    RELEASED_IN_TRANSACTION.fetch_add(1, Ordering::SeqCst);
    tracing::error!(
        backend,
        state,
        "a connection came back to the pool inside a transaction; closing it"
    );
    false
}

/// What SQLite says of a connection: whether autocommit is on (no open
/// `BEGIN`) and whether one of its statements is still running (stepped, not
/// reset), which holds a read snapshot open.
struct SqliteState {
    autocommit: bool,
    busy_statement: bool,
}

impl SqliteState {
    fn outside(&self) -> bool {
        self.autocommit && !self.busy_statement
    }
}

async fn sqlite_state(conn: &mut SqliteConnection) -> Result<SqliteState, sqlx::Error> {
    let mut handle = conn.lock_handle().await?;
    let db = handle.as_raw_handle().as_ptr();
    // SAFETY: `db` is the live handle of this connection, held exclusively by
    // `handle` for the duration; these calls only read the connection's state.
    unsafe {
        let autocommit = libsqlite3_sys::sqlite3_get_autocommit(db) != 0;
        let mut statement = libsqlite3_sys::sqlite3_next_stmt(db, std::ptr::null_mut());
        let mut busy_statement = false;
        while !statement.is_null() && !busy_statement {
            busy_statement = libsqlite3_sys::sqlite3_stmt_busy(statement) != 0;
            statement = libsqlite3_sys::sqlite3_next_stmt(db, statement);
        }
        Ok(SqliteState {
            autocommit,
            busy_statement,
        })
    }
}

/// SQLite: asked of the library itself, no round trip.
pub(super) async fn sqlite_outside_transaction(
    conn: &mut SqliteConnection,
) -> Result<bool, sqlx::Error> {
    let state = sqlite_state(conn).await?;
    Ok(match (state.autocommit, state.busy_statement) {
        (true, false) => true,
        (false, _) => refuse("sqlite", "inside a transaction"),
        (true, true) => refuse("sqlite", "with a statement still holding a read snapshot"),
    })
}

async fn mysql_in_transaction(conn: &mut MySqlConnection) -> Result<bool, sqlx::Error> {
    let open: i64 = sqlx::query_scalar("SELECT CAST(@@in_transaction AS SIGNED)")
        .fetch_one(conn)
        .await?;
    Ok(open != 0)
}

/// MySQL/MariaDB: `@@in_transaction` is 1 between `BEGIN` and its end. A
/// transaction that was dropped unfinished has its `ROLLBACK` already sent;
/// this query runs after it.
pub(super) async fn mysql_outside_transaction(
    conn: &mut MySqlConnection,
) -> Result<bool, sqlx::Error> {
    Ok(!mysql_in_transaction(conn).await? || refuse("mysql", "inside a transaction"))
}

impl super::Store {
    /// Checks every connection the pool holds right now (it takes them all,
    /// so call it while the store is otherwise idle) and returns how many are
    /// inside a transaction. A diagnostic for tests and operators: 0 always.
    pub async fn pooled_connections_in_transaction(&self) -> Result<usize, super::StoreError> {
        let mut inside = 0;
        match &self.pool {
            super::Pool::Sqlite(pool) => {
                for conn in &mut acquire_all(pool).await? {
                    inside += usize::from(!sqlite_state(conn).await?.outside());
                }
            }
            super::Pool::MySql(pool) => {
                for conn in &mut acquire_all(pool).await? {
                    inside += usize::from(mysql_in_transaction(conn).await?);
                }
            }
        }
        Ok(inside)
    }
}

/// Takes every connection the pool has open (at least one), all at once.
async fn acquire_all<DB: sqlx::Database>(
    pool: &sqlx::Pool<DB>,
) -> Result<Vec<sqlx::pool::PoolConnection<DB>>, sqlx::Error> {
    let mut held = Vec::new();
    for _ in 0..pool.size().max(1) {
        held.push(pool.acquire().await?);
    }
    Ok(held)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::{ConnectOptions, Pool, Store};

    /// A connection handed back inside `BEGIN` is counted and closed, not
    /// reused: the next connection the pool hands out is a fresh one.
    async fn leaked_begin_is_refused(store: &Store) {
        let before = released_in_transaction();
        match &store.pool {
            Pool::Sqlite(pool) => {
                let mut conn = pool.acquire().await.unwrap();
                sqlx::query("BEGIN").execute(&mut *conn).await.unwrap();
                sqlx::query("SELECT 1").execute(&mut *conn).await.unwrap();
                assert!(!sqlite_state(&mut conn).await.unwrap().outside());
                drop(conn);
            }
            Pool::MySql(pool) => {
                let mut conn = pool.acquire().await.unwrap();
                sqlx::query("BEGIN").execute(&mut *conn).await.unwrap();
                assert!(mysql_in_transaction(&mut conn).await.unwrap());
                drop(conn);
            }
        }
        // The release runs on a task of its own; wait for its verdict.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while released_in_transaction() == before {
            assert!(
                std::time::Instant::now() < deadline,
                "the leak was not noticed"
            );
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
        assert_eq!(store.pooled_connections_in_transaction().await.unwrap(), 0);
    }

    #[tokio::test]
    async fn sqlite_connection_left_in_a_transaction_is_closed() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("t.db").display());
        let store = Store::connect(&url, &ConnectOptions::default())
            .await
            .unwrap();
        leaked_begin_is_refused(&store).await;
    }

    /// A statement stepped to a row and not reset holds a read snapshot: the
    /// check sees it even though autocommit is on.
    #[tokio::test]
    async fn sqlite_statement_not_reset_is_seen() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("t.db").display());
        let store = Store::connect(&url, &ConnectOptions::default())
            .await
            .unwrap();
        let Pool::Sqlite(pool) = &store.pool else {
            unreachable!()
        };
        let mut conn = pool.acquire().await.unwrap();
        let mut handle = conn.lock_handle().await.unwrap();
        let db = handle.as_raw_handle().as_ptr();
        let sql = c"SELECT 1 UNION ALL SELECT 2";
        let mut statement = std::ptr::null_mut();
        // SAFETY: a live handle held exclusively; the statement is finalized
        // before the handle is released.
        let state = unsafe {
            assert_eq!(
                libsqlite3_sys::sqlite3_prepare_v2(
                    db,
                    sql.as_ptr(),
                    -1,
                    &mut statement,
                    std::ptr::null_mut()
                ),
                libsqlite3_sys::SQLITE_OK
            );
            assert_eq!(
                libsqlite3_sys::sqlite3_step(statement),
                libsqlite3_sys::SQLITE_ROW
            );
            drop(handle);
            let state = sqlite_state(&mut conn).await.unwrap();
            let _handle = conn.lock_handle().await.unwrap();
            libsqlite3_sys::sqlite3_finalize(statement);
            state
        };
        assert!(state.autocommit && state.busy_statement);
        assert!(!state.outside());
    }

    #[tokio::test]
    async fn mysql_connection_left_in_a_transaction_is_closed() {
        let Some(url) = std::env::var("PAYMENTS_TEST_MYSQL_URL")
            .ok()
            .filter(|u| !u.is_empty())
        else {
            return;
        };
        let store = Store::connect(&url, &ConnectOptions::default())
            .await
            .unwrap();
        leaked_begin_is_refused(&store).await;
    }
}
