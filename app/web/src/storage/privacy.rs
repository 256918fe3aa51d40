//! What the service holds about a reader, and forgetting it: a donor's
//! export, erasure (the donor pseudonymised everywhere, in one transaction,
//! the money kept), retention (erasure of donors with no gift in N years),
//! and how later processor events about an erased donor are recorded
//! ([`events`]). See `docs/privacy.md`.
//!
//! An erasure keeps every amount, date, status, campaign and id, so totals,
//! rollups and reconciliation with the processor do not change; it replaces
//! the name and email on the donor and on each of their payments, and in
//! the free text and recorded API responses that repeat them.

pub(crate) mod events;
mod scrub;

use serde::Serialize;
use serde_json::{Value, json};

use super::audit::{self, AuditEntry};
use super::dialect::like_pattern;
use super::exec::{Arg, Tx};
use super::payments::{PAYMENT_COLUMNS, PaymentRow};
use super::retry::TxError;
use super::text::Text;
use super::{Store, StoreError};
use crate::domain::{MembershipStatus, Timestamp, email_key};

use scrub::Scrubber;
pub use scrub::{ERASED_NAME, email_hash, pseudonym};

/// The retention period `payments retention apply` uses by default.
pub const DEFAULT_RETENTION_YEARS: u32 = 7;

/// What an erasure changed: counts only, as the audit log records it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ErasureReport {
    pub donor_id: String,
    /// Payments whose payer was replaced.
    pub payments: u64,
    /// Memberships canceled by this erasure (it was asked to).
    pub memberships_canceled: u64,
    /// Recorded API responses rewritten.
    pub idempotency_responses: u64,
    /// Descriptions and metadata that named the donor, rewritten.
    pub free_text: u64,
    /// Messages to the donor deleted from the outbox (sent or not).
    pub outbox_messages: u64,
}

type DonorRow = (Text, Text, Option<i64>);
type ErasedPayment = (Text, Text, Text, Option<Text>, Text);

/// The transaction of an erasure. `inactive_since`: only if the donor has
/// no payment created since then (retention checks it again here, with the
/// donor locked, so a gift that just arrived keeps them).
async fn erase(
    tx: &mut Tx<'_>,
    actor: &str,
    donor_id: &str,
    cancel_membership: bool,
    inactive_since: Option<Timestamp>,
) -> Result<ErasureReport, TxError> {
    let now = Timestamp::now();
    let d = tx.dialect();
    let sql = format!(
        "SELECT email, name, erased_at FROM donors WHERE id = ?{}",
        d.for_update()
    );
    let row: Option<DonorRow> = tx.fetch_optional(&sql, &[donor_id.into()]).await?;
    let (email, name, erased_at) = row.ok_or(StoreError::NotFound)?;
    if erased_at.is_some() {
        return Err(StoreError::Conflict("this donor is already erased".into()).into());
    }
    if let Some(since) = inactive_since {
        let recent: Option<(Text,)> = tx
            .fetch_optional(
                "SELECT id FROM payments WHERE donor_id = ? AND created_at >= ? LIMIT 1",
                &[donor_id.into(), since.0.into()],
            )
            .await?;
        if recent.is_some() {
            return Err(StoreError::Conflict("this donor has given since".into()).into());
        }
    }
    let mut report = ErasureReport {
        donor_id: donor_id.to_owned(),
        ..ErasureReport::default()
    };

    let sql = format!(
        "SELECT id, status FROM memberships WHERE donor_id = ?{}",
        d.for_update()
    );
    let memberships: Vec<(Text, Text)> = tx.fetch_all(&sql, &[donor_id.into()]).await?;
    let live: Vec<&Text> = memberships
        .iter()
        .filter(|(_, s)| MembershipStatus::parse(s).is_ok_and(|s| s.is_member()))
        .map(|(id, _)| id)
        .collect();
    if !live.is_empty() && !cancel_membership {
        return Err(StoreError::Conflict(
            "the donor has an active or past-due membership; cancel it first".into(),
        )
        .into());
    }
    for id in live {
        tx.execute(
            "UPDATE memberships SET status = ?, canceled_at = COALESCE(canceled_at, ?), \
             cancel_at_period_end = 0, updated_at = ? WHERE id = ?",
            &[
                MembershipStatus::Canceled.as_str().into(),
                now.0.into(),
                now.0.into(),
                id.0.as_str().into(),
            ],
        )
        .await?;
        let entry = AuditEntry {
            at: now,
            actor,
            action: "membership.canceled",
            subject: id,
            details: json!({"reason": "erasure"}),
        };
        audit::record(tx, &entry).await?;
        report.memberships_canceled += 1;
    }

    let sql = format!(
        "SELECT id, payer_name, payer_email, description, metadata FROM payments \
         WHERE donor_id = ?{}",
        d.for_update()
    );
    let payments: Vec<ErasedPayment> = tx.fetch_all(&sql, &[donor_id.into()]).await?;
    let fake = pseudonym(donor_id);
    let mut emails = vec![email.0.as_str()];
    let mut names = vec![name.0.as_str()];
    for (_, n, e, _, _) in &payments {
        emails.push(e);
        names.push(n);
    }
    let scrubber = Scrubber::new(emails.iter().copied(), names.iter().copied(), &fake);
    report.payments = tx
        .execute(
            "UPDATE payments SET payer_name = ?, payer_email = ?, updated_at = ? \
             WHERE donor_id = ?",
            &[
                ERASED_NAME.into(),
                fake.as_str().into(),
                now.0.into(),
                donor_id.into(),
            ],
        )
        .await?;
    for (id, _, _, description, metadata) in &payments {
        let description = description.as_deref().and_then(|t| scrubber.text(t));
        let metadata = scrubber.json_text(metadata);
        if description.is_none() && metadata.is_none() {
            continue;
        }
        tx.execute(
            "UPDATE payments SET description = COALESCE(?, description), \
             metadata = COALESCE(?, metadata) WHERE id = ?",
            &[
                description.as_deref().into(),
                metadata.as_deref().into(),
                id.0.as_str().into(),
            ],
        )
        .await?;
        report.free_text += 1;
    }

    // Recorded responses are rewritten, not deleted: a retry with the key
    // within its retention must still be answered as the first (a deleted
    // key would let it record the payment twice), now with the pseudonym.
    // Not locked: they never change once committed, and new payments of
    // this donor wait on the payment rows locked above.
    let mut patterns: Vec<(bool, String)> = emails
        .iter()
        .map(|e| (true, like_pattern(&email_key(e))))
        .collect();
    patterns.extend(payments.iter().map(|p| (false, like_pattern(&p.0))));
    patterns.sort();
    patterns.dedup();
    let mut responses: Vec<(Text, Text, Text)> = Vec::new();
    for chunk in patterns.chunks(200) {
        let clauses: Vec<String> = chunk
            .iter()
            .map(|(lower, _)| {
                d.contains(if *lower {
                    "LOWER(response_body)"
                } else {
                    "response_body"
                })
            })
            .collect();
        let sql = format!(
            "SELECT principal, idem_key, response_body FROM idempotency_keys \
             WHERE response_body IS NOT NULL AND ({})",
            clauses.join(" OR ")
        );
        let args: Vec<Arg<'_>> = chunk.iter().map(|(_, p)| p.as_str().into()).collect();
        responses.extend(tx.fetch_all::<(Text, Text, Text)>(&sql, &args).await?);
    }
    responses.sort();
    responses.dedup();
    for (principal, key, body) in &responses {
        let Some(body) = scrubber.json_text(body) else {
            continue;
        };
        tx.execute(
            "UPDATE idempotency_keys SET response_body = ? WHERE principal = ? AND idem_key = ?",
            &[
                body.into(),
                principal.0.as_str().into(),
                key.0.as_str().into(),
            ],
        )
        .await?;
        report.idempotency_responses += 1;
    }

    // Their messages hold their name, address and gifts: deleted, sent or
    // not (one being sent is then not marked, and never sent again).
    report.outbox_messages = tx
        .execute(
            "DELETE FROM outbox WHERE donor_id = ? \
             OR payment_id IN (SELECT id FROM payments WHERE donor_id = ?)",
            &[donor_id.into(), donor_id.into()],
        )
        .await?;
    for e in &emails {
        report.outbox_messages += tx
            .execute(
                "DELETE FROM outbox WHERE LOWER(recipient) = ?",
                &[e.to_lowercase().into()],
            )
            .await?;
    }

    tx.execute(
        "UPDATE donors SET email_key = ?, email = ?, name = ?, erased_at = ?, updated_at = ? \
         WHERE id = ?",
        &[
            fake.as_str().into(),
            fake.as_str().into(),
            ERASED_NAME.into(),
            now.0.into(),
            now.0.into(),
            donor_id.into(),
        ],
    )
    .await?;
    let mut hashes: Vec<String> = emails.iter().map(|e| email_hash(e)).collect();
    hashes.sort();
    hashes.dedup();
    let sql = format!(
        "{} INTO erased_emails (email_hash) VALUES (?)",
        d.insert_ignore()
    );
    for hash in &hashes {
        tx.execute(&sql, &[hash.as_str().into()]).await?;
    }
    let entry = AuditEntry {
        at: now,
        actor,
        action: "donor.erased",
        subject: donor_id,
        details: json!({
            "payments": report.payments,
            "memberships_canceled": report.memberships_canceled,
            "idempotency_responses": report.idempotency_responses,
            "free_text": report.free_text,
            "outbox_messages": report.outbox_messages,
            "retention": inactive_since.is_some(),
        }),
    };
    audit::record(tx, &entry).await?;
    Ok(report)
}

/// When retention counts a donor as gone: `years` calendar years before
/// `now` (at least the epoch).
pub fn retention_cutoff(now: Timestamp, years: u32) -> Timestamp {
    let months = chrono::Months::new(years.saturating_mul(12));
    now.to_datetime()
        .checked_sub_months(months)
        .map_or(Timestamp(0), Timestamp::from_datetime)
}

impl Store {
    /// Pseudonymises the donor `donor_id` everywhere, in one transaction:
    /// name and email on the donor and each payment, in their descriptions
    /// and metadata and in recorded API responses; the email's hash is kept
    /// so later processor events are recognised. Amounts, dates, statuses
    /// and campaigns stay. Refused (`Conflict`) while a membership is active
    /// or past due, unless `cancel_membership`, which marks it canceled: the
    /// caller cancels it at the processor first
    /// (`stripe::erasure::erase_donor` does both). `NotFound` for no such
    /// donor, `Conflict` for one already erased.
    #[tracing::instrument(skip_all, fields(actor = actor, donor = donor_id))]
    pub async fn erase_donor(
        &self,
        actor: &str,
        donor_id: &str,
        cancel_membership: bool,
    ) -> Result<ErasureReport, StoreError> {
        let report = self
            .write(|tx| Box::pin(erase(tx, actor, donor_id, cancel_membership, None)))
            .await?;
        self.truncate_wal().await;
        Ok(report)
    }

    /// Donors with no payment created since `years` before now (and none
    /// made since then), no active or past-due membership, not erased:
    /// their ids, oldest first.
    pub async fn retention_candidates(&self, years: u32) -> Result<Vec<String>, StoreError> {
        let cutoff = retention_cutoff(Timestamp::now(), years);
        let rows: Vec<(Text,)> = self
            .read(|c| {
                Box::pin(async move {
                    c.fetch_all(
                        "SELECT d.id FROM donors d WHERE d.erased_at IS NULL \
                         AND d.created_at < ? \
                         AND NOT EXISTS (SELECT 1 FROM payments p \
                             WHERE p.donor_id = d.id AND p.created_at >= ?) \
                         AND NOT EXISTS (SELECT 1 FROM memberships m \
                             WHERE m.donor_id = d.id AND m.status IN ('active', 'past_due')) \
                         ORDER BY d.created_at, d.id",
                        &[cutoff.0.into(), cutoff.0.into()],
                    )
                    .await
                })
            })
            .await?;
        Ok(rows.into_iter().map(|(id,)| id.0).collect())
    }

    /// Erases every retention candidate, each in its own transaction (one
    /// donor is all or nothing; a crash leaves the rest for the next run).
    /// A donor who gave or became a member since the list was read is kept.
    /// The ids erased.
    pub async fn apply_retention(
        &self,
        actor: &str,
        years: u32,
    ) -> Result<Vec<ErasureReport>, StoreError> {
        let cutoff = retention_cutoff(Timestamp::now(), years);
        let mut erased = Vec::new();
        for id in self.retention_candidates(years).await? {
            let id = id.as_str();
            match self
                .write(|tx| Box::pin(erase(tx, actor, id, false, Some(cutoff))))
                .await
            {
                Ok(report) => erased.push(report),
                Err(StoreError::Conflict(_) | StoreError::NotFound) => {}
                Err(e) => return Err(e),
            }
        }
        if !erased.is_empty() {
            self.truncate_wal().await;
        }
        Ok(erased)
    }

    /// After an erasure on SQLite: the write-ahead log still holds the
    /// pages as they were before it; copy it into the database (where
    /// `secure_delete` zeroed the old cells) and empty it. Best effort: a
    /// long reader can hold it, and the next checkpoints overwrite it.
    async fn truncate_wal(&self) {
        if self.dialect() != super::Dialect::Sqlite {
            return;
        }
        let done = self
            .read(|c| Box::pin(c.execute("PRAGMA wal_checkpoint(TRUNCATE)", &[])))
            .await;
        if let Err(e) = done {
            tracing::warn!(error = %e, "could not truncate the write-ahead log after an erasure");
        }
    }

    /// SQLite's `secure_delete` as a pooled connection has it (`None` on
    /// MySQL, which has no such setting).
    pub async fn secure_delete(&self) -> Result<Option<bool>, StoreError> {
        if self.dialect() != super::Dialect::Sqlite {
            return Ok(None);
        }
        let (on,): (i64,) = self
            .read(|c| Box::pin(c.fetch_one("PRAGMA secure_delete", &[])))
            .await?;
        Ok(Some(on == 1))
    }

    /// Everything held about the donor of `email` (any case), as JSON: the
    /// donor with totals, every payment with its refunds, the memberships,
    /// and the audit entries about any of them. `None` when there is no
    /// such donor (an erased donor is found by its pseudonym only).
    pub async fn donor_export(&self, email: &str) -> Result<Option<Value>, StoreError> {
        let Some(donor) = self.donor_by_email(email).await? else {
            return Ok(None);
        };
        let id = donor.id.as_str();
        let (erased_at,): (Option<i64>,) = self
            .read(|c| {
                Box::pin(async move {
                    c.fetch_one("SELECT erased_at FROM donors WHERE id = ?", &[id.into()])
                        .await
                })
            })
            .await?;
        let sql = format!(
            "SELECT {PAYMENT_COLUMNS} FROM payments WHERE donor_id = ? ORDER BY created_at, id"
        );
        let sql = &sql;
        let rows: Vec<PaymentRow> = self
            .read(|c| Box::pin(async move { c.fetch_all(sql, &[id.into()]).await }))
            .await?;
        let mut payments = Vec::with_capacity(rows.len());
        for row in rows {
            let mut p = row.into_payment()?;
            p.refunds = Some(self.refunds(&p.id).await?);
            payments.push(p);
        }
        let mut subjects = vec![donor.id.clone()];
        subjects.extend(payments.iter().map(|p| p.id.clone()));
        subjects.extend(donor.memberships.iter().map(|m| m.id.clone()));
        let mut audit = Vec::new();
        for chunk in subjects.chunks(500) {
            let sql = format!(
                "SELECT occurred_at, actor, action, subject, details FROM audit_log \
                 WHERE subject IN ({}) ORDER BY id",
                vec!["?"; chunk.len()].join(", ")
            );
            let args: Vec<Arg<'_>> = chunk.iter().map(|s| s.as_str().into()).collect();
            let (sql, args) = (&sql, &args);
            let entries: Vec<(i64, Text, Text, Text, Text)> =
                self.read(|c| Box::pin(c.fetch_all(sql, args))).await?;
            audit.extend(
                entries
                    .into_iter()
                    .map(|(at, actor, action, subject, details)| {
                        json!({
                            "occurred_at": Timestamp(at),
                            "actor": actor.0,
                            "action": action.0,
                            "subject": subject.0,
                            "details": serde_json::from_str::<Value>(&details)
                                .unwrap_or(Value::String(details.0)),
                        })
                    }),
            );
        }
        let mut donor_json = serde_json::to_value(&donor).unwrap_or_default();
        let memberships = donor_json
            .as_object_mut()
            .and_then(|d| d.remove("memberships"))
            .unwrap_or_default();
        donor_json["erased_at"] = json!(erased_at.map(Timestamp));
        Ok(Some(json!({
            "object": "donor_export",
            "exported_at": Timestamp::now(),
            "donor": donor_json,
            "payments": payments,
            "memberships": memberships,
            "audit_log": audit,
        })))
    }
}
