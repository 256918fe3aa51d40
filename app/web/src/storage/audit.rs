//! The audit log: one writer for every entry, in the transaction of the
//! change it records.

use sqlx::{Database, Encode, Executor, IntoArguments, Type};

use crate::domain::Timestamp;

/// One line of the audit trail: who did what to which object, and the
/// details worth keeping (never a secret).
pub struct AuditEntry<'a> {
    pub at: Timestamp,
    pub actor: &'a str,
    pub action: &'a str,
    pub subject: &'a str,
    pub details: serde_json::Value,
}

/// Writes `entry` with `executor` (the open transaction of the change).
pub async fn record<'c, DB, E>(executor: E, entry: &AuditEntry<'_>) -> Result<(), sqlx::Error>
where
    DB: Database,
    E: Executor<'c, Database = DB>,
    for<'q> i64: Encode<'q, DB> + Type<DB>,
    for<'q> String: Encode<'q, DB> + Type<DB>,
    for<'q> <DB as Database>::Arguments<'q>: IntoArguments<'q, DB>,
{
    sqlx::query(
        "INSERT INTO audit_log (occurred_at, actor, action, subject, details) VALUES (?, ?, ?, ?, ?)",
    )
    .bind(entry.at.0)
    .bind(entry.actor.to_owned())
    .bind(entry.action.to_owned())
    .bind(entry.subject.to_owned())
    .bind(entry.details.to_string())
    .execute(executor)
    .await?;
    Ok(())
}
