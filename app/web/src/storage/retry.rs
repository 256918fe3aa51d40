//! How reads and write transactions run, and when they are run again.
//!
//! * A lock conflict (deadlock, lock wait timeout, SQLite busy) has rolled
//!   the transaction back: it runs again, up to three times in all.
//! * A lost connection (killed, server restarted or failed over, network
//!   cut): a read runs once more, on a fresh connection. A write transaction
//!   runs once more only when the connection was lost before COMMIT was
//!   sent, because the server then rolled it back; a failure during or
//!   after COMMIT may have committed, so it is never repeated (it could
//!   double a payment) and is answered as unavailable.
//! * A refusal (not found, conflict, a row that cannot be read) is final.
//!
//! Connections are not pinged before each use (a round trip per request):
//! a dead one is found by the statement itself. After a loss, connections
//! opened before it are closed instead of handed out ([`Losses`]), so the
//! one retry gets a new connection even when the server dropped them all.

use std::future::Future;
use std::pin::Pin;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::dialect::is_connection_lost;
use super::exec::{Conn, Tx, on_backend};
use super::{Store, StoreError};

/// Why one attempt at a transaction failed.
#[derive(Debug)]
pub(crate) enum TxError {
    /// The database failed: the transaction may run again (see the module).
    Database(sqlx::Error),
    /// The request is refused, or a stored row cannot be read: final.
    Refused(StoreError),
}

impl From<sqlx::Error> for TxError {
    fn from(e: sqlx::Error) -> Self {
        TxError::Database(e)
    }
}

impl From<StoreError> for TxError {
    fn from(e: StoreError) -> Self {
        TxError::Refused(e)
    }
}

impl From<TxError> for StoreError {
    fn from(e: TxError) -> Self {
        match e {
            TxError::Database(e) => StoreError::from(e),
            TxError::Refused(e) => e,
        }
    }
}

/// The future of one attempt, borrowing the connection for `'t`.
pub(crate) type Attempt<'t, T, E> = Pin<Box<dyn Future<Output = Result<T, E>> + Send + 't>>;

/// When a connection was last found lost.
#[derive(Debug, Default)]
pub(crate) struct Losses(Mutex<Option<Instant>>);

impl Losses {
    fn record(&self) {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = Some(Instant::now());
    }

    /// Whether a connection opened `age` ago was opened before the last loss.
    pub(crate) fn predates_loss(&self, age: Duration) -> bool {
        Instant::now()
            .checked_sub(age)
            .is_none_or(|opened| self.opened_before_loss(opened))
    }

    fn opened_before_loss(&self, opened: Instant) -> bool {
        let last = *self.0.lock().unwrap_or_else(|e| e.into_inner());
        last.is_some_and(|lost| opened <= lost)
    }
}

/// How one attempt at a write transaction failed.
enum Failure {
    BeforeCommit(TxError),
    AtCommit(sqlx::Error),
}

impl Store {
    async fn begin<'a>(&self) -> Result<Tx<'a>, sqlx::Error> {
        on_backend!(&self.pool, |pool, d| Ok(pool
            .begin_with(d.begin_write())
            .await?
            .into()))
    }

    async fn acquire<'a>(&self) -> Result<Conn<'a>, sqlx::Error> {
        on_backend!(&self.pool, |pool, d| Ok(pool.acquire().await?.into()))
    }

    /// One attempt: begin, run `body`, commit (or roll back what it refused).
    async fn attempt_write<'a, T, F>(&self, body: &mut F) -> Result<T, Failure>
    where
        F: for<'t> FnMut(&'t mut Tx<'a>) -> Attempt<'t, T, TxError>,
    {
        let mut tx = self
            .begin()
            .await
            .map_err(|e| Failure::BeforeCommit(e.into()))?;
        match body(&mut tx).await {
            Ok(value) => match tx.commit().await {
                Ok(()) => Ok(value),
                Err(e) => Err(Failure::AtCommit(e)),
            },
            Err(e) => {
                // A failed rollback commits nothing either; the connection
                // then fails its check on release and is closed.
                let _ = tx.rollback().await;
                Err(Failure::BeforeCommit(e))
            }
        }
    }

    /// Runs `body` in a write transaction and commits it, running it again
    /// as the module says. `body` is called once per attempt.
    pub(crate) async fn write<'a, T, F>(&self, mut body: F) -> Result<T, StoreError>
    where
        F: for<'t> FnMut(&'t mut Tx<'a>) -> Attempt<'t, T, TxError>,
    {
        let dialect = self.dialect();
        let mut conflicts = 0;
        let mut reconnected = false;
        loop {
            let error = match self.attempt_write(&mut body).await {
                Ok(value) => return Ok(value),
                Err(Failure::BeforeCommit(TxError::Refused(e))) => return Err(e),
                Err(Failure::BeforeCommit(TxError::Database(e))) => {
                    if is_connection_lost(&e) && !reconnected {
                        self.losses.record();
                        reconnected = true;
                        continue;
                    }
                    e
                }
                Err(Failure::AtCommit(e)) => {
                    if is_connection_lost(&e) {
                        self.losses.record();
                    }
                    e
                }
            };
            // A lock conflict means the transaction did not commit (the
            // database rolled it back, or it is rolled back here), at COMMIT
            // too: running it again is safe.
            if conflicts < 2 && dialect.is_retryable(&error) {
                conflicts += 1;
                tokio::time::sleep(Duration::from_millis(5 * conflicts)).await;
                continue;
            }
            return Err(error.into());
        }
    }

    /// Runs `body` on a pooled connection, once more on a fresh connection
    /// when the first was lost. For reads, and statements as safe to repeat.
    pub(crate) async fn read<'a, T, F>(&self, mut body: F) -> Result<T, StoreError>
    where
        F: for<'t> FnMut(&'t mut Conn<'a>) -> Attempt<'t, T, sqlx::Error>,
    {
        let mut reconnected = false;
        loop {
            let result = match self.acquire().await {
                Ok(mut conn) => body(&mut conn).await,
                Err(e) => Err(e),
            };
            match result {
                Err(e) if is_connection_lost(&e) && !reconnected => {
                    self.losses.record();
                    reconnected = true;
                }
                other => return other.map_err(StoreError::from),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_connections_opened_before_a_loss_predate_it() {
        let losses = Losses::default();
        let before = Instant::now();
        assert!(!losses.opened_before_loss(before), "no loss yet");
        losses.record();
        assert!(losses.opened_before_loss(before));
        assert!(losses.predates_loss(Duration::from_secs(60)));
        let after = Instant::now() + Duration::from_secs(1);
        assert!(!losses.opened_before_loss(after));
    }
}
