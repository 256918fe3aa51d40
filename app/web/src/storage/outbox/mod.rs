//! The outbox: every message to a donor, written in the transaction of its
//! cause ([`enqueue`]) and delivered by the mail worker, which claims rows
//! here with a lease:
//!
//! * a row is due when `pending`, its `next_attempt_at` has come and no
//!   worker holds it (`claimed_until` empty or past);
//! * a worker claims a row with one conditional `UPDATE … WHERE claimed_until
//!   IS NULL OR claimed_until < now`: on SQLite writes are serialised, on
//!   InnoDB the row is locked and the condition read again, so of two
//!   workers only one changes the row, and only it sends;
//! * a worker that dies after sending and before marking leaves the lease
//!   to expire; the row is then sent again, with the Message-ID it was
//!   given when it was written.

pub(crate) mod enqueue;

use std::time::Duration;

use super::text::Text;
use super::{Store, StoreError};
use crate::domain::Timestamp;

/// Statuses of a message.
pub const PENDING: &str = "pending";
pub const SENT: &str = "sent";
pub const FAILED: &str = "failed";

/// A message as the worker sends it.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct OutboxMessage {
    pub id: Text,
    pub kind: Text,
    pub recipient: Text,
    pub subject: Text,
    pub text_body: Text,
    pub html_body: Text,
    pub message_id: Text,
    pub attempts: i64,
    pub created_at: i64,
}

/// A message as the dashboard lists it (no bodies).
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct OutboxEntry {
    pub id: Text,
    pub cause: Text,
    pub kind: Text,
    pub donor_id: Option<Text>,
    pub payment_id: Option<Text>,
    pub recipient: Text,
    pub subject: Text,
    pub status: Text,
    pub attempts: i64,
    pub next_attempt_at: i64,
    pub last_error: Option<Text>,
    pub created_at: i64,
    pub sent_at: Option<i64>,
}

/// Which messages the `/outbox` page lists.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OutboxFilter {
    /// Not sent yet.
    Pending,
    /// Given up.
    Failed,
    /// Tried more than once, or waiting to be tried again.
    Retried,
    /// Everything, newest first.
    All,
}

/// How many messages are in each state.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct OutboxCounts {
    pub pending: i64,
    pub sent: i64,
    pub failed: i64,
}

const ENTRY_COLUMNS: &str = "id, cause, kind, donor_id, payment_id, recipient, subject, status, \
     attempts, next_attempt_at, last_error, created_at, sent_at";

fn micros(d: Duration) -> i64 {
    i64::try_from(d.as_micros()).unwrap_or(i64::MAX)
}

impl Store {
    /// Claims up to `limit` due messages for `lease` from `now`: each is
    /// this caller's alone until the lease ends. Counts the attempt.
    pub async fn claim_outbox(
        &self,
        now: Timestamp,
        lease: Duration,
        limit: u32,
    ) -> Result<Vec<OutboxMessage>, StoreError> {
        let due: Vec<(Text,)> = self
            .read(|c| {
                Box::pin(async move {
                    c.fetch_all(
                        "SELECT id FROM outbox WHERE status = ? AND next_attempt_at <= ? \
                         AND (claimed_until IS NULL OR claimed_until < ?) \
                         ORDER BY next_attempt_at, id LIMIT ?",
                        &[
                            PENDING.into(),
                            now.0.into(),
                            now.0.into(),
                            i64::from(limit).into(),
                        ],
                    )
                    .await
                })
            })
            .await?;
        let until = now.0.saturating_add(micros(lease));
        let mut claimed = Vec::with_capacity(due.len());
        for (id,) in due {
            let id = id.0.as_str();
            let row: Option<OutboxMessage> = self
                .write(|tx| {
                    Box::pin(async move {
                        let changed = tx
                            .execute(
                                "UPDATE outbox SET claimed_until = ?, attempts = attempts + 1 \
                                 WHERE id = ? AND status = ? \
                                 AND (claimed_until IS NULL OR claimed_until < ?)",
                                &[until.into(), id.into(), PENDING.into(), now.0.into()],
                            )
                            .await?;
                        if changed != 1 {
                            // Another worker has it.
                            return Ok(None);
                        }
                        Ok(tx
                            .fetch_optional(
                                "SELECT id, kind, recipient, subject, text_body, html_body, \
                                 message_id, attempts, created_at FROM outbox WHERE id = ?",
                                &[id.into()],
                            )
                            .await?)
                    })
                })
                .await?;
            claimed.extend(row);
        }
        Ok(claimed)
    }

    /// Marks a message sent.
    pub async fn outbox_sent(&self, id: &str, now: Timestamp) -> Result<(), StoreError> {
        self.write(|tx| {
            Box::pin(async move {
                tx.execute(
                    "UPDATE outbox SET status = ?, sent_at = ?, claimed_until = NULL, \
                     last_error = NULL WHERE id = ? AND status = ?",
                    &[SENT.into(), now.0.into(), id.into(), PENDING.into()],
                )
                .await?;
                Ok(())
            })
        })
        .await
    }

    /// Leaves a message pending, to be tried again at `next_attempt`.
    /// `error` names what went wrong, never an address or a body.
    pub async fn outbox_deferred(
        &self,
        id: &str,
        next_attempt: Timestamp,
        error: &str,
    ) -> Result<(), StoreError> {
        self.write(|tx| {
            Box::pin(async move {
                tx.execute(
                    "UPDATE outbox SET next_attempt_at = ?, claimed_until = NULL, last_error = ? \
                     WHERE id = ? AND status = ?",
                    &[
                        next_attempt.0.into(),
                        error.into(),
                        id.into(),
                        PENDING.into(),
                    ],
                )
                .await?;
                Ok(())
            })
        })
        .await
    }

    /// Gives a message up.
    pub async fn outbox_failed(&self, id: &str, error: &str) -> Result<(), StoreError> {
        self.write(|tx| {
            Box::pin(async move {
                tx.execute(
                    "UPDATE outbox SET status = ?, claimed_until = NULL, last_error = ? \
                     WHERE id = ? AND status = ?",
                    &[FAILED.into(), error.into(), id.into(), PENDING.into()],
                )
                .await?;
                Ok(())
            })
        })
        .await
    }

    /// The messages of one filter, newest first.
    pub async fn outbox_entries(
        &self,
        filter: OutboxFilter,
        limit: u32,
    ) -> Result<Vec<OutboxEntry>, StoreError> {
        let condition = match filter {
            OutboxFilter::Pending => "status = 'pending'",
            OutboxFilter::Failed => "status = 'failed'",
            OutboxFilter::Retried => "(attempts > 1 OR (status = 'pending' AND attempts > 0))",
            OutboxFilter::All => "1 = 1",
        };
        let sql = format!(
            "SELECT {ENTRY_COLUMNS} FROM outbox WHERE {condition} \
             ORDER BY created_at DESC, id DESC LIMIT ?"
        );
        let sql = sql.as_str();
        self.read(|c| Box::pin(async move { c.fetch_all(sql, &[i64::from(limit).into()]).await }))
            .await
    }

    /// The messages about one payment (`payment_id`) or to one donor
    /// (`donor_id`), oldest first.
    pub async fn outbox_of(
        &self,
        column: OutboxOf,
        id: &str,
    ) -> Result<Vec<OutboxEntry>, StoreError> {
        let column = match column {
            OutboxOf::Payment => "payment_id",
            OutboxOf::Donor => "donor_id",
        };
        let sql = format!(
            "SELECT {ENTRY_COLUMNS} FROM outbox WHERE {column} = ? ORDER BY created_at, id LIMIT 200"
        );
        let sql = sql.as_str();
        self.read(|c| Box::pin(async move { c.fetch_all(sql, &[id.into()]).await }))
            .await
    }

    /// How many messages are pending, sent and failed.
    pub async fn outbox_counts(&self) -> Result<OutboxCounts, StoreError> {
        let rows: Vec<(Text, i64)> = self
            .read(|c| {
                Box::pin(async move {
                    c.fetch_all("SELECT status, COUNT(*) FROM outbox GROUP BY status", &[])
                        .await
                })
            })
            .await?;
        let mut counts = OutboxCounts::default();
        for (status, n) in rows {
            match status.0.as_str() {
                PENDING => counts.pending = n,
                SENT => counts.sent = n,
                FAILED => counts.failed = n,
                _ => {}
            }
        }
        Ok(counts)
    }
}

/// Whose messages [`Store::outbox_of`] lists.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OutboxOf {
    Payment,
    Donor,
}
