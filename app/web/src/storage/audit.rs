//! The audit log: one writer for every entry, in the transaction of the
//! change it records.

use super::exec::Tx;
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

/// Writes `entry` in `tx`, the open transaction of the change.
pub(crate) async fn record(tx: &mut Tx<'_>, entry: &AuditEntry<'_>) -> Result<(), sqlx::Error> {
    tx.execute(
        "INSERT INTO audit_log (occurred_at, actor, action, subject, details) VALUES (?, ?, ?, ?, ?)",
        &[
            entry.at.0.into(),
            entry.actor.into(),
            entry.action.into(),
            entry.subject.into(),
            entry.details.to_string().into(),
        ],
    )
    .await?;
    Ok(())
}
