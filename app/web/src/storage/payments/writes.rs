//! Recording, changing and refunding payments. Each write is one
//! transaction with its rollups, its audit entry and its idempotency record.

use serde_json::json;

use super::super::audit::{self, AuditEntry};
use super::super::donors;
use super::super::exec::Tx;
use super::super::idempotency::{self, IdempotencyClaim, Idempotent, RecordedResponse};
use super::super::outbox;
use super::super::retry::TxError;
use super::super::rollups::{self, Deltas, Subject};
use super::super::{Store, StoreError};
use super::rows::{INSERT_COLUMNS, PaymentRow, corrupt, metadata_json, select_payment};
use crate::domain::{
    MinorUnits, NewPayment, NewRefund, Payer, Payment, PaymentPatch, Refund, RefundReason, Status,
    Timestamp, new_id, refund_amount,
};
use crate::mail::Letterhead;

/// How a caller records the response to what a write made.
pub(crate) type Record<'r, T> = &'r (dyn Fn(&T) -> RecordedResponse + Sync);

impl Store {
    /// Records a payment. With `idempotency`, a repeat of the same request
    /// gets back the response `record` made of the first.
    #[tracing::instrument(skip_all, fields(actor = actor))]
    pub async fn create_payment(
        &self,
        actor: &str,
        idempotency: Option<&IdempotencyClaim>,
        new: &NewPayment,
        record: impl Fn(&Payment) -> RecordedResponse + Sync,
    ) -> Result<Idempotent<Payment>, StoreError> {
        let record: Record<'_, Payment> = &record;
        let org = &*self.letterhead();
        let outcome = self
            .write(|tx| Box::pin(create(tx, org, actor, idempotency, new, record)))
            .await?;
        if matches!(outcome, Idempotent::Done(_)) {
            metrics::counter!("payments_created_total").increment(1);
        }
        Ok(outcome)
    }

    /// Changes status (allowed transitions only), description or metadata.
    #[tracing::instrument(skip_all, fields(actor = actor))]
    pub async fn update_payment(
        &self,
        actor: &str,
        id: &str,
        patch: &PaymentPatch,
    ) -> Result<Payment, StoreError> {
        self.write(|tx| Box::pin(update(tx, actor, id, patch)))
            .await
    }

    /// Refunds part or all of what remains of a payment. The payment row is
    /// locked (MySQL) or the database write-locked (SQLite), and the update is
    /// conditional, so concurrent refunds can never exceed the payment.
    #[tracing::instrument(skip_all, fields(actor = actor))]
    pub async fn refund_payment(
        &self,
        actor: &str,
        idempotency: Option<&IdempotencyClaim>,
        payment_id: &str,
        new: &NewRefund,
        record: impl Fn(&Refund) -> RecordedResponse + Sync,
    ) -> Result<Idempotent<Refund>, StoreError> {
        self.record_refund(actor, idempotency, payment_id, new, None, record)
            .await
    }

    /// [`Store::refund_payment`] for a refund the processor has made, with
    /// its id (`re_…`): when that refund is already recorded (its webhook
    /// came first), it is the answer, and nothing is refunded twice.
    #[tracing::instrument(skip_all, fields(actor = actor))]
    pub async fn record_refund(
        &self,
        actor: &str,
        idempotency: Option<&IdempotencyClaim>,
        payment_id: &str,
        new: &NewRefund,
        external_ref: Option<&str>,
        record: impl Fn(&Refund) -> RecordedResponse + Sync,
    ) -> Result<Idempotent<Refund>, StoreError> {
        let record: Record<'_, Refund> = &record;
        let org = &*self.letterhead();
        let outcome = self
            .write(|tx| {
                Box::pin(refund(
                    tx,
                    org,
                    actor,
                    idempotency,
                    payment_id,
                    new,
                    external_ref,
                    record,
                ))
            })
            .await?;
        if matches!(outcome, Idempotent::Done(_)) {
            metrics::counter!("refunds_created_total").increment(1);
        }
        Ok(outcome)
    }
}

/// The transaction of [`Store::create_payment`].
pub(crate) async fn create(
    tx: &mut Tx<'_>,
    org: &Letterhead,
    actor: &str,
    idempotency: Option<&IdempotencyClaim>,
    new: &NewPayment,
    record: Record<'_, Payment>,
) -> Result<Idempotent<Payment>, TxError> {
    let now = Timestamp::now();
    if let Some(claim) = idempotency
        && let Some(prior) = idempotency::claim(tx, claim, now).await?
    {
        return Ok(prior.into());
    }
    let created_at = new.created_at.unwrap_or(now);
    let payment = Payment {
        id: new_id("pay"),
        object: "payment",
        amount: new.amount.get(),
        amount_refunded: 0,
        currency: new.currency.code().to_owned(),
        status: new.initial_status(),
        method: new.method,
        payer: Payer {
            name: new.payer.name.to_string(),
            email: new.payer.email.as_str().to_owned(),
        },
        campaign: new.campaign.as_deref().map(str::to_owned),
        description: new.description.as_deref().map(str::to_owned),
        external_ref: new.external_ref.as_deref().map(str::to_owned),
        metadata: new.metadata.clone(),
        processor: None,
        fee: None,
        dispute: None,
        donor_id: None,
        membership_id: None,
        created_at,
        updated_at: now,
        refunds: None,
    };
    let mut payment = payment;
    let donor = donors::link(tx, &payment.payer.email, &payment.payer.name, created_at).await?;
    payment.donor_id = Some(donor);
    let sql = format!(
        "INSERT INTO payments ({INSERT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
    );
    let args = [
        payment.id.as_str().into(),
        payment.amount.into(),
        0.into(),
        payment.currency.as_str().into(),
        payment.status.as_str().into(),
        payment.method.as_str().into(),
        payment.payer.name.as_str().into(),
        payment.payer.email.as_str().into(),
        payment.campaign.as_deref().into(),
        payment.description.as_deref().into(),
        payment.external_ref.as_deref().into(),
        metadata_json(&payment.metadata).into(),
        created_at.0.into(),
        now.0.into(),
        payment.donor_id.as_deref().into(),
    ];
    match tx.execute(&sql, &args).await {
        Err(e) if tx.dialect().is_unique_violation(&e) => {
            return Err(StoreError::Conflict(
                "a payment with this external_ref already exists".into(),
            )
            .into());
        }
        other => other?,
    };
    let mut deltas = Deltas::default();
    let subject = Subject {
        currency: &payment.currency,
        method: payment.method.as_str(),
        campaign: payment.campaign.as_deref(),
        amount: payment.amount,
        created_at,
        recurring: false,
    };
    deltas.created(&subject, payment.status);
    rollups::apply(tx, &deltas).await?;
    let details = json!({"amount": payment.amount, "currency": payment.currency,
                         "status": payment.status, "method": payment.method});
    let entry = AuditEntry {
        at: now,
        actor,
        action: "payment.created",
        subject: payment.id.as_str(),
        details,
    };
    audit::record(tx, &entry).await?;
    // Imports and relays mail no one unless the request asks.
    if new.send_receipt && payment.status == Status::Succeeded {
        outbox::enqueue::receipt(tx, org, &payment.id, outbox::enqueue::Asked::ByRequest, now)
            .await?;
    }
    if let Some(claim) = idempotency {
        idempotency::record(tx, claim, &record(&payment)).await?;
    }
    Ok(Idempotent::Done(payment))
}

/// The payment `id`, locked for the rest of `tx`.
async fn locked_payment(tx: &mut Tx<'_>, id: &str) -> Result<PaymentRow, TxError> {
    let sql = select_payment(tx.dialect(), true);
    let row: Option<PaymentRow> = tx.fetch_optional(&sql, &[id.into()]).await?;
    Ok(row.ok_or(StoreError::NotFound)?)
}

/// The transaction of [`Store::update_payment`].
async fn update(
    tx: &mut Tx<'_>,
    actor: &str,
    id: &str,
    patch: &PaymentPatch,
) -> Result<Payment, TxError> {
    let now = Timestamp::now();
    let row = locked_payment(tx, id).await?;
    let before = row.clone().into_payment()?;
    let mut after = before.clone();
    if let Some(to) = patch.status
        && to != before.status
    {
        if !before.status.can_change_to(to) {
            return Err(StoreError::Conflict(format!(
                "a payment cannot go from {} to {}; allowed: pending to succeeded or failed",
                before.status, to
            ))
            .into());
        }
        after.status = to;
    }
    if let Some(description) = &patch.description {
        after.description = description.as_deref().map(str::to_owned);
    }
    if let Some(metadata) = &patch.metadata {
        after.metadata = metadata.clone();
    }
    after.updated_at = now;
    tx.execute(
        "UPDATE payments SET status = ?, description = ?, metadata = ?, updated_at = ? WHERE id = ?",
        &[
            after.status.as_str().into(),
            after.description.as_deref().into(),
            metadata_json(&after.metadata).into(),
            now.0.into(),
            id.into(),
        ],
    )
    .await?;
    let mut deltas = Deltas::default();
    deltas.status_changed(&row.subject(), before.status, after.status);
    rollups::apply(tx, &deltas).await?;
    let mut changes = serde_json::Map::new();
    if before.status != after.status {
        changes.insert("status".into(), json!([before.status, after.status]));
    }
    if before.description != after.description {
        changes.insert("description".into(), json!("changed"));
    }
    if before.metadata != after.metadata {
        changes.insert("metadata".into(), json!("changed"));
    }
    let entry = AuditEntry {
        at: now,
        actor,
        action: "payment.updated",
        subject: id,
        details: serde_json::Value::Object(changes),
    };
    audit::record(tx, &entry).await?;
    Ok(after)
}

/// A refund decided against its payment, to be written.
pub(crate) struct RefundMade<'a> {
    pub(crate) amount: i64,
    pub(crate) reason: RefundReason,
    /// The processor's id of the refund, when it went through one.
    pub(crate) external_ref: Option<&'a str>,
    /// When it was made (now, or the processor's time for its own refunds).
    pub(crate) at: Timestamp,
}

/// Writes `made` against the locked payment `payment_id` (now `status`,
/// `total` with `refunded` already given back): the conditional update that
/// never lets refunds exceed the payment, the refund row, its rollups and
/// its audit entry. Every refund, ours or the processor's, is written here.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn apply_refund(
    tx: &mut Tx<'_>,
    actor: &str,
    payment_id: &str,
    subject: &Subject<'_>,
    status: Status,
    total: i64,
    refunded: i64,
    made: &RefundMade<'_>,
    now: Timestamp,
) -> Result<Refund, TxError> {
    let amount = made.amount;
    let new_status = Status::after_refund(total, refunded + amount);
    let updated = tx
        .execute(
            "UPDATE payments SET amount_refunded = amount_refunded + ?, status = ?, updated_at = ? \
             WHERE id = ? AND amount_refunded + ? <= amount",
            &[
                amount.into(),
                new_status.as_str().into(),
                now.0.into(),
                payment_id.into(),
                amount.into(),
            ],
        )
        .await?;
    if updated != 1 {
        return Err(StoreError::Conflict(
            "the payment changed while refunding; the refund would exceed it".into(),
        )
        .into());
    }
    let refund = Refund {
        id: new_id("re"),
        object: "refund",
        payment_id: payment_id.to_owned(),
        amount,
        reason: made.reason,
        external_ref: made.external_ref.map(str::to_owned),
        created_at: made.at,
    };
    tx.execute(
        "INSERT INTO refunds (id, payment_id, amount, reason, external_ref, created_at) \
         VALUES (?, ?, ?, ?, ?, ?)",
        &[
            refund.id.as_str().into(),
            payment_id.into(),
            amount.into(),
            refund.reason.as_str().into(),
            made.external_ref.into(),
            made.at.0.into(),
        ],
    )
    .await?;
    let mut deltas = Deltas::default();
    deltas.refunded(subject, amount, made.at);
    deltas.status_changed(subject, status, new_status);
    rollups::apply(tx, &deltas).await?;
    let mut details = json!({"refund": refund.id, "amount": amount, "reason": refund.reason,
                             "status": [status, new_status]});
    if let Some(external_ref) = made.external_ref {
        details["external_ref"] = json!(external_ref);
    }
    let entry = AuditEntry {
        at: now,
        actor,
        action: "refund.created",
        subject: payment_id,
        details,
    };
    audit::record(tx, &entry).await?;
    Ok(refund)
}

/// The refund recorded with the processor's id `external_ref`, if any.
async fn refund_by_external_ref(
    tx: &mut Tx<'_>,
    external_ref: &str,
) -> Result<Option<Refund>, TxError> {
    let row: Option<super::rows::RefundRow> = tx
        .fetch_optional(
            "SELECT id, payment_id, amount, reason, external_ref, created_at FROM refunds \
             WHERE external_ref = ?",
            &[external_ref.into()],
        )
        .await?;
    Ok(row.map(super::rows::RefundRow::into_refund).transpose()?)
}

/// The transaction of [`Store::refund_payment`].
#[allow(clippy::too_many_arguments)]
async fn refund(
    tx: &mut Tx<'_>,
    org: &Letterhead,
    actor: &str,
    idempotency: Option<&IdempotencyClaim>,
    payment_id: &str,
    new: &NewRefund,
    external_ref: Option<&str>,
    record: Record<'_, Refund>,
) -> Result<Idempotent<Refund>, TxError> {
    let now = Timestamp::now();
    if let Some(claim) = idempotency
        && let Some(prior) = idempotency::claim(tx, claim, now).await?
    {
        return Ok(prior.into());
    }
    let row = locked_payment(tx, payment_id).await?;
    if let Some(external_ref) = external_ref
        && let Some(known) = refund_by_external_ref(tx, external_ref).await?
    {
        if let Some(claim) = idempotency {
            idempotency::record(tx, claim, &record(&known)).await?;
        }
        return Ok(Idempotent::Done(known));
    }
    let status = Status::parse(&row.status).map_err(|_| corrupt("status", payment_id))?;
    let amount = refund_amount(
        status,
        row.amount,
        row.amount_refunded,
        new.amount.map(MinorUnits::get),
    )
    .map_err(|refusal| StoreError::Conflict(refusal.to_string()))?;
    let made = RefundMade {
        amount,
        reason: new.reason(),
        external_ref,
        at: now,
    };
    let refund = apply_refund(
        tx,
        actor,
        payment_id,
        &row.subject(),
        status,
        row.amount,
        row.amount_refunded,
        &made,
        now,
    )
    .await?;
    // A refund through the processor is the reader's money back: they hear
    // of it (its later webhook finds it recorded and adds nothing).
    if external_ref.is_some() {
        outbox::enqueue::refund(tx, org, &refund, now).await?;
    }
    if let Some(claim) = idempotency {
        idempotency::record(tx, claim, &record(&refund)).await?;
    }
    Ok(Idempotent::Done(refund))
}
