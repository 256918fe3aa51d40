//! Storage: pools, migrations and every query. One query layer for SQLite and
//! MySQL/MariaDB; the statements that differ are in [`dialect`].
//!
//! Each backend keeps its native pool (sqlx's `Any` driver cannot decode many
//! column types). Statements run through [`exec`], which dispatches each one
//! to its backend, so every query is a plain function written once;
//! [`retry`] runs reads and write transactions and says when they run again.

pub mod accounts;
mod audit;
pub mod campaigns;
pub mod dialect;
pub mod donors;
mod exec;
pub mod idempotency;
mod keyset;
pub mod memberships;
pub mod outbox;
pub mod payments;
pub mod privacy;
pub mod processor;
pub mod recurring;
mod release;
mod retry;
#[cfg(test)]
mod retry_tests;
pub mod rollups;
pub mod seed;
mod statements;
pub mod text;
mod tokens;

pub use release::released_in_transaction;
pub use tokens::TOKEN_CACHE_TTL;

use std::str::FromStr;
use std::time::Duration;

use sqlx::migrate::Migrator;
use sqlx::mysql::{MySqlConnectOptions, MySqlPool, MySqlPoolOptions};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

pub use dialect::Dialect;
use exec::on_backend;

static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("migrations/sqlite");
static MYSQL_MIGRATIONS: Migrator = sqlx::migrate!("migrations/mysql");

/// How long a request waits for a pooled connection before the database
/// counts as unavailable (the API then answers 503 quickly instead of hanging).
pub const ACQUIRE_TIMEOUT: Duration = Duration::from_millis(1500);

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("the database is unavailable ({0})")]
    Unavailable(String),
    #[error("not found")]
    NotFound,
    /// Not yet possible: what it depends on is not recorded yet (a refund
    /// of a payment whose event has not arrived). Asked again later, it may
    /// succeed.
    #[error("not yet: {0}")]
    NotYet(String),
    #[error("{0}")]
    Conflict(String),
    /// Bad configuration (an unknown URL scheme, a malformed URL).
    #[error("{0}")]
    Config(String),
    /// The database could not be opened or reached at start-up.
    #[error("{0}")]
    Connect(String),
    #[error("migrations failed: {0}")]
    Migration(String),
    /// The tables do not exist: the database was never migrated.
    #[error("the database has no payments tables yet; run `payments migrate` first")]
    NotMigrated,
    /// A stored row that the code cannot read back.
    #[error("{0}")]
    Corrupt(String),
    #[error("database error: {0}")]
    Database(sqlx::Error),
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        match e {
            sqlx::Error::PoolTimedOut => {
                StoreError::Unavailable("no database connection became available in time".into())
            }
            sqlx::Error::PoolClosed => StoreError::Unavailable("the pool is closed".into()),
            sqlx::Error::Io(io) => StoreError::Unavailable(io.to_string()),
            sqlx::Error::Tls(tls) => StoreError::Unavailable(format!("TLS: {tls}")),
            e if dialect::is_connection_lost(&e) => {
                StoreError::Unavailable(format!("the connection was lost ({e})"))
            }
            // 28000: the server refused the login of a new connection (during
            // a credentials rotation, until the new password is read): retry.
            sqlx::Error::Database(db) if db.code().as_deref() == Some("28000") => {
                StoreError::Unavailable("the database refused the credentials".into())
            }
            // 42S02 is MySQL's "table doesn't exist"; SQLite says it in words.
            sqlx::Error::Database(db)
                if db.code().as_deref() == Some("42S02")
                    || db.message().starts_with("no such table") =>
            {
                StoreError::NotMigrated
            }
            other => StoreError::Database(other),
        }
    }
}

impl From<sqlx::migrate::MigrateError> for StoreError {
    fn from(e: sqlx::migrate::MigrateError) -> Self {
        match e {
            sqlx::migrate::MigrateError::Execute(inner) => StoreError::from(inner),
            other => StoreError::Migration(other.to_string()),
        }
    }
}

/// The native pool of the backend.
pub(crate) type Pool = exec::Backend<SqlitePool, MySqlPool>;

/// A connection pool to one database, SQLite or MySQL/MariaDB.
#[derive(Clone, Debug)]
pub struct Store {
    pub(crate) pool: Pool,
    sqlite_file: Option<std::path::PathBuf>,
    /// Tokens recently read, so most API requests need one query, not two.
    pub(crate) tokens: std::sync::Arc<tokens::TokenCache>,
    /// Campaigns as the donation page shows them, read at most once per
    /// [`campaigns::PAGE_CACHE_TTL`].
    pub(crate) page_campaigns: std::sync::Arc<campaigns::PageCache>,
    /// When a connection was last lost (see [`retry`]).
    losses: std::sync::Arc<retry::Losses>,
    /// Who mail is from, as the messages written to the outbox name it.
    letterhead: std::sync::Arc<std::sync::RwLock<std::sync::Arc<crate::mail::Letterhead>>>,
}

/// Connection settings beyond the URL.
#[derive(Clone, Debug)]
pub struct ConnectOptions {
    pub max_connections: u32,
    pub acquire_timeout: Duration,
    /// Ask MySQL/MariaDB (`@@in_transaction`, one round trip) whether each
    /// connection handed back to the pool is outside a transaction. On by
    /// default in debug builds and tests; SQLite's check costs no round trip
    /// and always runs.
    pub check_released_connections: bool,
}

impl Default for ConnectOptions {
    fn default() -> Self {
        ConnectOptions {
            max_connections: 16,
            acquire_timeout: ACQUIRE_TIMEOUT,
            check_released_connections: cfg!(debug_assertions),
        }
    }
}

impl Store {
    /// Opens a pool for `url` (`sqlite://…`, `mysql://…` or `mariadb://…`) and
    /// checks that the database answers. Errors never repeat the URL, which
    /// may hold a password.
    pub async fn connect(url: &str, options: &ConnectOptions) -> Result<Store, StoreError> {
        let scheme = url.split_once(':').map_or("", |(s, _)| s);
        match scheme {
            "sqlite" => Self::connect_sqlite(url, options).await,
            "mysql" | "mariadb" => {
                let url = match url.strip_prefix("mariadb:") {
                    Some(rest) => format!("mysql:{rest}"),
                    None => url.to_owned(),
                };
                Self::connect_mysql(&url, options).await
            }
            "" => Err(StoreError::Config(
                "the database URL has no scheme: use sqlite://FILE or mysql://USER:PASSWORD@HOST/DB"
                    .into(),
            )),
            other => Err(StoreError::Config(format!(
                "unsupported database URL scheme '{other}': use sqlite://FILE or mysql://USER:PASSWORD@HOST/DB"
            ))),
        }
    }

    async fn connect_sqlite(url: &str, options: &ConnectOptions) -> Result<Store, StoreError> {
        let opts = SqliteConnectOptions::from_str(url)
            .map_err(|_| {
                StoreError::Config("the SQLite URL is not valid (expected sqlite://FILE)".into())
            })?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(10))
            .foreign_keys(true)
            // Freed pages and cells are zeroed, so an erased reader's name
            // and email leave no copy in the file (see `privacy`).
            .pragma("secure_delete", "ON");
        let filename = opts.get_filename().to_path_buf();
        let in_memory = url.contains(":memory:") || url.contains("mode=memory");
        // An in-memory database exists per connection: keep exactly one.
        let max = if in_memory {
            1
        } else {
            options.max_connections.max(1)
        };
        let pool = SqlitePoolOptions::new()
            .max_connections(max)
            .min_connections(if in_memory { 1 } else { 0 })
            .idle_timeout(if in_memory {
                None
            } else {
                Some(Duration::from_secs(600))
            })
            .max_lifetime(if in_memory {
                None
            } else {
                Some(Duration::from_secs(1800))
            })
            .acquire_timeout(options.acquire_timeout)
            .after_release(|conn, _| Box::pin(release::sqlite_outside_transaction(conn)))
            .connect_with(opts)
            .await
            .map_err(|e| {
                StoreError::Connect(format!(
                    "cannot open the SQLite database {}: {} (does the directory exist and is it writable?)",
                    filename.display(),
                    sqlite_reason(&e)
                ))
            })?;
        Ok(Store {
            pool: Pool::Sqlite(pool),
            sqlite_file: (!in_memory).then_some(filename),
            tokens: Default::default(),
            page_campaigns: Default::default(),
            losses: Default::default(),
            letterhead: Default::default(),
        })
    }

    async fn connect_mysql(url: &str, options: &ConnectOptions) -> Result<Store, StoreError> {
        let opts = MySqlConnectOptions::from_str(url)
            .map_err(|_| {
                StoreError::Config(
                    "the MySQL URL is not valid (expected mysql://USER:PASSWORD@HOST:PORT/DATABASE)".into(),
                )
            })?
            .charset("utf8mb4");
        let check_release = options.check_released_connections;
        let losses = std::sync::Arc::new(retry::Losses::default());
        let stale = losses.clone();
        let pool = MySqlPoolOptions::new()
            .max_connections(options.max_connections.max(1))
            .acquire_timeout(options.acquire_timeout)
            .idle_timeout(Some(Duration::from_secs(300)))
            .max_lifetime(Some(Duration::from_secs(1800)))
            // No ping per checkout: a dead connection is found by the query
            // itself, which then runs once more (see `retry`) on a connection
            // opened after the loss; older ones are closed here, unused.
            .test_before_acquire(false)
            .before_acquire(move |_conn, meta| {
                let fresh = !stale.predates_loss(meta.age);
                Box::pin(async move { Ok(fresh) })
            })
            .after_connect(|conn, _| {
                Box::pin(async move {
                    sqlx::query(dialect::MYSQL_SESSION_SETUP)
                        .execute(conn)
                        .await
                        .map(|_| ())
                })
            })
            .after_release(move |conn, _| {
                Box::pin(async move {
                    if check_release {
                        release::mysql_outside_transaction(conn).await
                    } else {
                        Ok(true)
                    }
                })
            })
            .connect_with(opts)
            .await
            .map_err(|e| {
                StoreError::Connect(format!("cannot connect to MySQL: {}", mysql_reason(&e)))
            })?;
        Ok(Store {
            pool: Pool::MySql(pool),
            sqlite_file: None,
            tokens: Default::default(),
            page_campaigns: Default::default(),
            losses,
            letterhead: Default::default(),
        })
    }

    /// Uses `url` for the connections opened from now on (open ones are kept
    /// until they are recycled): how a rotated database password takes
    /// effect without a restart. Only MySQL URLs carry credentials.
    pub fn set_database_url(&self, url: &str) -> Result<(), StoreError> {
        match &self.pool {
            Pool::MySql(pool) => {
                let url = match url.strip_prefix("mariadb:") {
                    Some(rest) => format!("mysql:{rest}"),
                    None => url.to_owned(),
                };
                let opts = MySqlConnectOptions::from_str(&url)
                    .map_err(|_| StoreError::Config("the new MySQL URL is not valid".into()))?
                    .charset("utf8mb4");
                pool.set_connect_options(opts);
                Ok(())
            }
            Pool::Sqlite(_) => Err(StoreError::Config(
                "a SQLite database cannot change its URL while running".into(),
            )),
        }
    }

    /// Sets who mail is from (the organisation, the public URL), for the
    /// messages written from now on, by every clone of this store.
    pub fn set_letterhead(&self, letterhead: crate::mail::Letterhead) {
        *self.letterhead.write().unwrap_or_else(|e| e.into_inner()) =
            std::sync::Arc::new(letterhead);
    }

    /// Who mail is from.
    pub fn letterhead(&self) -> std::sync::Arc<crate::mail::Letterhead> {
        self.letterhead
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    pub fn dialect(&self) -> Dialect {
        on_backend!(&self.pool, |_pool, d| d)
    }

    /// Applies pending migrations. Safe when several processes run it at once:
    /// MySQL takes a named lock (`GET_LOCK`) and SQLite an `flock` on a lock
    /// file beside the database (`<file>.migrate-lock`) for the duration.
    pub async fn migrate(&self) -> Result<usize, StoreError> {
        let before = self.applied_migrations().await;
        match &self.pool {
            Pool::Sqlite(pool) => {
                let _guard = match &self.sqlite_file {
                    Some(path) => {
                        let path = path.clone();
                        // flock blocks: wait for it off the async threads.
                        Some(
                            tokio::task::spawn_blocking(move || lock_file(&path))
                                .await
                                .map_err(|e| StoreError::Migration(e.to_string()))??,
                        )
                    }
                    None => None,
                };
                SQLITE_MIGRATIONS.run(pool).await?;
            }
            Pool::MySql(pool) => {
                // sqlx's own GET_LOCK uses a negative timeout, which MariaDB
                // treats as "do not wait": hold a named lock of our own on the
                // connection that runs the migrations, and check we got it.
                let mut conn = pool.acquire().await?;
                let got: Option<i64> = sqlx::query_scalar(
                    "SELECT GET_LOCK(CONCAT('payments-migrate:', DATABASE()), 300)",
                )
                .fetch_one(&mut *conn)
                .await?;
                if got != Some(1) {
                    return Err(StoreError::Migration(
                        "another process held the migration lock for 5 minutes".into(),
                    ));
                }
                let result = MYSQL_MIGRATIONS.run(&mut *conn).await;
                sqlx::query("SELECT RELEASE_LOCK(CONCAT('payments-migrate:', DATABASE()))")
                    .execute(&mut *conn)
                    .await?;
                result?;
            }
        }
        Ok(self.applied_migrations().await.saturating_sub(before))
    }

    /// How many migrations the database records as applied (0 before the first).
    async fn applied_migrations(&self) -> usize {
        let count: Result<i64, sqlx::Error> = on_backend!(&self.pool, |pool, d| {
            sqlx::query_scalar("SELECT COUNT(*) FROM _sqlx_migrations WHERE success")
                .fetch_one(pool)
                .await
        });
        count.map_or(0, |n| usize::try_from(n).unwrap_or(0))
    }

    /// A cheap round trip, used by `/readyz`.
    pub async fn ping(&self) -> Result<(), StoreError> {
        self.read(|c| Box::pin(async move { c.execute("SELECT 1", &[]).await }))
            .await?;
        Ok(())
    }

    /// Connections open and idle, for `/metrics`.
    pub fn pool_state(&self) -> (u32, usize) {
        on_backend!(&self.pool, |pool, d| (pool.size(), pool.num_idle()))
    }

    pub async fn close(&self) {
        on_backend!(&self.pool, |pool, d| pool.close().await)
    }
}

/// Takes the migration lock of the SQLite database at `database`.
///
/// The lock is a separate file on purpose. SQLite's own locks are POSIX
/// `fcntl` locks, which belong to the process, and closing *any* descriptor
/// of the database file drops all of them. Locking (and then closing) the
/// database file itself therefore stripped the pool's connections of their
/// SHARED lock; the next process to close its last connection then found the
/// database unused, checkpointed, and deleted the WAL and its `-shm` index.
/// This process kept reading its own unlinked copy: other processes' writes
/// (a revoked token, seeded payments) stayed invisible, and its writes
/// invisible to them.
fn lock_file(database: &std::path::Path) -> Result<std::fs::File, StoreError> {
    let mut name = database.as_os_str().to_owned();
    name.push(".migrate-lock");
    let path = std::path::PathBuf::from(name);
    let file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .map_err(|e| StoreError::Connect(format!("cannot open {}: {e}", path.display())))?;
    file.lock()
        .map_err(|e| StoreError::Connect(format!("cannot lock {}: {e}", path.display())))?;
    Ok(file)
}

fn sqlite_reason(e: &sqlx::Error) -> String {
    match e {
        sqlx::Error::Database(db) => db.message().to_owned(),
        sqlx::Error::Io(io) => io.to_string(),
        other => other.to_string(),
    }
}

fn mysql_reason(e: &sqlx::Error) -> String {
    match e {
        sqlx::Error::Database(db) => db.message().to_owned(),
        sqlx::Error::Io(io) => format!("the server cannot be reached ({io})"),
        sqlx::Error::Tls(tls) => format!("TLS failed ({tls})"),
        sqlx::Error::PoolTimedOut => "the server did not answer in time".to_owned(),
        other => other.to_string(),
    }
}
