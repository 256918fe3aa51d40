//! Idempotency keys: a write with a key claims it inside its own
//! transaction, records the response the caller will send, and commits both
//! with the payment or refund. A repeat of the request gets that recorded
//! response back; the same key with another request is a mismatch.
//!
//! A concurrent request with the same key waits on the row lock (MySQL) or
//! the write lock (SQLite) until the first commits, then replays it.

use super::exec::Tx;
use super::retry::TxError;
use super::text::Text;
use super::{Store, StoreError};
use crate::domain::Timestamp;

/// Hours an idempotency key is kept (the contract asks for at least 24).
pub const IDEMPOTENCY_RETENTION_HOURS: i64 = 25;

/// An idempotency key as claimed by one principal (token or user).
#[derive(Clone, Debug)]
pub struct IdempotencyClaim {
    pub principal: String,
    pub key: String,
    /// SHA-256 of the method, path and canonical JSON body.
    pub request_hash: String,
}

/// The response to a write as its caller recorded it, handed back as it is
/// on a replay. Storage keeps it and never looks inside: what it holds is
/// the caller's to encode and decode.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RecordedResponse(String);

impl RecordedResponse {
    pub fn new(text: impl Into<String>) -> Self {
        RecordedResponse(text.into())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

/// The result of an idempotent write.
#[derive(Debug)]
pub enum Idempotent<T> {
    /// Done now.
    Done(T),
    /// Done before with the same key and request: what was recorded then.
    Replay(RecordedResponse),
    /// The key was used before for a different request.
    Mismatch,
}

/// What an earlier request with the same key left.
pub(crate) enum Prior {
    Replay(RecordedResponse),
    Mismatch,
}

impl<T> From<Prior> for Idempotent<T> {
    fn from(prior: Prior) -> Self {
        match prior {
            Prior::Replay(response) => Idempotent::Replay(response),
            Prior::Mismatch => Idempotent::Mismatch,
        }
    }
}

/// Claims `claim` in `tx`: `None` when this request owns the key now, else
/// what the earlier request left.
pub(crate) async fn claim(
    tx: &mut Tx<'_>,
    claim: &IdempotencyClaim,
    now: Timestamp,
) -> Result<Option<Prior>, TxError> {
    let sql = format!(
        "{} INTO idempotency_keys (principal, idem_key, request_hash, created_at) VALUES (?, ?, ?, ?)",
        tx.dialect().insert_ignore()
    );
    let args = [
        claim.principal.as_str().into(),
        claim.key.as_str().into(),
        claim.request_hash.as_str().into(),
        now.0.into(),
    ];
    if tx.execute(&sql, &args).await? == 1 {
        return Ok(None);
    }
    // `response_body` is what every version of this table has recorded the
    // response in, so keys claimed before an upgrade replay the same way.
    let row: Option<(Text, Option<Text>)> = tx
        .fetch_optional(
            "SELECT request_hash, response_body FROM idempotency_keys \
             WHERE principal = ? AND idem_key = ?",
            &[claim.principal.as_str().into(), claim.key.as_str().into()],
        )
        .await?;
    match row {
        Some((hash, _)) if hash.0 != claim.request_hash => Ok(Some(Prior::Mismatch)),
        Some((_, Some(response))) => Ok(Some(Prior::Replay(RecordedResponse(response.0)))),
        // Claimed by a transaction that has not committed yet: only possible
        // when the lock wait gave up; report it as busy.
        _ => Err(StoreError::Conflict(
            "a request with this Idempotency-Key is still being processed; retry shortly".into(),
        )
        .into()),
    }
}

/// Records the response of the request that claimed `claim` in `tx`.
pub(crate) async fn record(
    tx: &mut Tx<'_>,
    claim: &IdempotencyClaim,
    response: &RecordedResponse,
) -> Result<(), sqlx::Error> {
    tx.execute(
        "UPDATE idempotency_keys SET response_body = ? WHERE principal = ? AND idem_key = ?",
        &[
            response.as_str().into(),
            claim.principal.as_str().into(),
            claim.key.as_str().into(),
        ],
    )
    .await?;
    Ok(())
}

impl Store {
    /// What an earlier request with the same key left, read without
    /// claiming the key: `None` when there is nothing to answer with yet.
    /// Work done outside the database (a call to the processor) checks
    /// this first, so a repeat is answered without doing it again.
    pub async fn idempotency_prior<T>(
        &self,
        claim: &IdempotencyClaim,
    ) -> Result<Option<Idempotent<T>>, StoreError> {
        let row: Option<(Text, Option<Text>)> = self
            .read(|c| {
                Box::pin(async move {
                    c.fetch_optional(
                        "SELECT request_hash, response_body FROM idempotency_keys \
                         WHERE principal = ? AND idem_key = ?",
                        &[claim.principal.as_str().into(), claim.key.as_str().into()],
                    )
                    .await
                })
            })
            .await?;
        Ok(match row {
            Some((hash, _)) if hash.0 != claim.request_hash => Some(Idempotent::Mismatch),
            Some((_, Some(response))) => Some(Idempotent::Replay(RecordedResponse(response.0))),
            _ => None,
        })
    }

    /// Forgets idempotency keys older than the retention period.
    pub async fn purge_idempotency_keys(&self) -> Result<u64, StoreError> {
        let cutoff = Timestamp::now().0 - IDEMPOTENCY_RETENTION_HOURS * 3_600_000_000;
        // Deleting what is expired twice deletes nothing more: safe to repeat.
        self.read(|c| {
            Box::pin(async move {
                c.execute(
                    "DELETE FROM idempotency_keys WHERE created_at < ?",
                    &[cutoff.into()],
                )
                .await
            })
        })
        .await
    }
}
