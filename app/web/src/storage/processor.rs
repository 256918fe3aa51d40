//! What a processor's events do to the ledger. One transaction per event:
//! its id in `processor_events` and its effect commit together, so a
//! redelivered event changes nothing; and each effect is keyed by the
//! processor's object (a PaymentIntent is one payment, a `re_…` one
//! refund), so two events about one object never count it twice.

use serde_json::json;

use super::audit::{self, AuditEntry};
use super::exec::Tx;
use super::memberships::{self, SubscriptionState};
use super::outbox::enqueue;
use super::payments::{INSERT_COLUMNS, PAYMENT_COLUMNS, RefundMade, apply_refund, metadata_json};
use super::privacy::events as privacy;
use super::retry::TxError;
use super::rollups::{self, Deltas};
use super::text::Text;
use super::{Store, StoreError};
use crate::domain::{
    Dispute, Metadata, Method, RefundReason, STRIPE, Status, Timestamp, new_id, refund_amount,
};
use crate::mail::Letterhead;

/// Who the audit log names for changes the processor made.
pub const ACTOR: &str = "stripe";

/// What the webhook answers about an event.
#[derive(Clone, Copy, Debug, PartialEq, Eq, strum::IntoStaticStr)]
#[strum(serialize_all = "snake_case")]
pub enum Outcome {
    Processed,
    Duplicate,
    Ignored,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// How an event reached us.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    Webhook,
    Sync,
}

impl Source {
    fn as_str(self) -> &'static str {
        match self {
            Source::Webhook => "webhook",
            Source::Sync => "sync",
        }
    }
}

/// The event as recorded: ids and type, never its body.
#[derive(Clone, Debug)]
pub struct EventRecord<'a> {
    pub id: &'a str,
    pub kind: &'a str,
    pub object_id: Option<&'a str>,
    /// When the processor created it (Unix seconds).
    pub created: i64,
    pub source: Source,
}

/// A payment as the processor reports it now.
#[derive(Clone, Debug)]
pub struct ProcessorPayment {
    /// The PaymentIntent (or the invoice, when it has none): the payment's key.
    pub external_ref: String,
    pub amount: i64,
    /// Upper case ISO 4217.
    pub currency: String,
    pub status: Status,
    pub method: Method,
    pub payer_name: String,
    pub payer_email: String,
    pub campaign: Option<String>,
    pub fee: Option<i64>,
    pub subscription: Option<String>,
    /// The subscription's current state, when the payment is a membership's.
    pub membership: Option<SubscriptionState>,
    pub created_at: Timestamp,
}

/// A refund as the processor reports it (only succeeded ones are counted).
#[derive(Clone, Debug)]
pub struct ProcessorRefund {
    /// The payment's key (its PaymentIntent).
    pub payment_ref: String,
    /// The processor's refund id (`re_…`).
    pub refund_ref: String,
    pub amount: i64,
    pub reason: RefundReason,
    pub created_at: Timestamp,
}

/// What one event does.
#[derive(Clone, Debug)]
pub enum Effect {
    /// Nothing: an event type or mode that is not ours.
    Ignore,
    /// Records the payment, or brings the recorded one up to date.
    Payment(ProcessorPayment),
    /// Moves a recorded payment forward (`fee` fills one not yet known);
    /// nothing when the payment is not recorded yet: the event that
    /// records it carries its current state.
    Status {
        payment_ref: String,
        to: Status,
        fee: Option<i64>,
    },
    Refunds(Vec<ProcessorRefund>),
    Dispute {
        payment_ref: String,
        dispute: Dispute,
        at: Timestamp,
    },
    /// Records the membership of a subscription or brings it up to date.
    Membership(SubscriptionState),
}

/// A recent event, for the dashboard.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct ReceivedEvent {
    pub id: Text,
    #[sqlx(rename = "type")]
    pub kind: Text,
    pub object_id: Option<Text>,
    pub outcome: Text,
    pub source: Text,
    pub received_at: i64,
}

/// A recorded payment as an effect sees it.
#[derive(sqlx::FromRow)]
struct Current {
    id: Text,
    amount: i64,
    amount_refunded: i64,
    currency: Text,
    status: Text,
    method: Text,
    campaign: Option<Text>,
    created_at: i64,
    fee: Option<i64>,
    dispute_status: Option<Text>,
    membership_id: Option<Text>,
}

impl Current {
    fn subject(&self) -> rollups::Subject<'_> {
        rollups::Subject {
            currency: &self.currency,
            method: &self.method,
            campaign: self.campaign.as_deref(),
            amount: self.amount,
            created_at: Timestamp(self.created_at),
            recurring: self.membership_id.is_some(),
        }
    }

    fn status(&self) -> Result<Status, StoreError> {
        Status::parse(&self.status).map_err(|_| {
            StoreError::Corrupt(format!("stored status of {} is not valid", self.id.0))
        })
    }
}

const CURRENT: &str = "SELECT id, amount, amount_refunded, currency, status, method, campaign, \
     created_at, fee, dispute_status, membership_id FROM payments WHERE external_ref = ?";

impl Store {
    /// Whether the event was already recorded (a cheap answer to a
    /// redelivery, before anything is fetched for it).
    pub async fn event_seen(&self, id: &str) -> Result<bool, StoreError> {
        let row: Option<(Text,)> = self
            .read(|c| {
                Box::pin(async move {
                    c.fetch_optional("SELECT id FROM processor_events WHERE id = ?", &[id.into()])
                        .await
                })
            })
            .await?;
        Ok(row.is_some())
    }

    /// Applies `effect` and records `event`, in one transaction. A refund
    /// or dispute of a payment not recorded yet is refused with
    /// [`StoreError::NotYet`] and nothing is recorded, so the processor's
    /// redelivery applies it later.
    #[tracing::instrument(skip_all, fields(event = event.id, kind = event.kind))]
    pub async fn apply_event(
        &self,
        event: &EventRecord<'_>,
        effect: &Effect,
    ) -> Result<Outcome, StoreError> {
        let org = &*self.letterhead();
        let outcome = self
            .write(|tx| Box::pin(apply(tx, org, event, effect)))
            .await?;
        metrics::counter!("processor_events_total", "outcome" => outcome.as_str()).increment(1);
        Ok(outcome)
    }

    /// The latest events received, newest first.
    pub async fn recent_events(&self, limit: u32) -> Result<Vec<ReceivedEvent>, StoreError> {
        self.read(|c| {
            Box::pin(async move {
                c.fetch_all(
                    "SELECT id, type, object_id, outcome, source, received_at FROM processor_events \
                     ORDER BY received_at DESC, id LIMIT ?",
                    &[i64::from(limit).into()],
                )
                .await
            })
        })
        .await
    }

    /// The payment with this processor reference, if recorded.
    pub async fn payment_by_external_ref(
        &self,
        external_ref: &str,
    ) -> Result<Option<crate::domain::Payment>, StoreError> {
        let row: Option<super::payments::PaymentRow> = self
            .read(|c| {
                Box::pin(async move {
                    c.fetch_optional(
                        &format!("SELECT {PAYMENT_COLUMNS} FROM payments WHERE external_ref = ?"),
                        &[external_ref.into()],
                    )
                    .await
                })
            })
            .await?;
        row.map(|r| r.into_payment()).transpose()
    }
}

async fn apply(
    tx: &mut Tx<'_>,
    org: &Letterhead,
    event: &EventRecord<'_>,
    effect: &Effect,
) -> Result<Outcome, TxError> {
    let now = Timestamp::now();
    // First, so a concurrent delivery of the same event waits here for this
    // one's commit and then finds it recorded.
    let inserted = tx
        .execute(
            "INSERT INTO processor_events (id, type, object_id, outcome, source, created_at, received_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?)",
            &[
                event.id.into(),
                event.kind.into(),
                event.object_id.into(),
                Outcome::Processed.as_str().into(),
                event.source.as_str().into(),
                event.created.into(),
                now.0.into(),
            ],
        )
        .await;
    match inserted {
        Err(e) if tx.dialect().is_unique_violation(&e) => return Ok(Outcome::Duplicate),
        other => other?,
    };
    let outcome = match effect {
        Effect::Ignore => Outcome::Ignored,
        Effect::Payment(p) => upsert_payment(tx, org, p, now).await?,
        Effect::Status {
            payment_ref,
            to,
            fee,
        } => advance(tx, org, payment_ref, *to, *fee, now).await?,
        Effect::Refunds(refunds) => {
            for r in refunds {
                refund(tx, org, r, now).await?;
            }
            Outcome::Processed
        }
        Effect::Dispute {
            payment_ref,
            dispute,
            at,
        } => dispute_changed(tx, payment_ref, dispute, *at, now).await?,
        Effect::Membership(state) => {
            let state = privacy::member_state(tx, state, false).await?;
            let id = memberships::upsert(tx, &state, now).await?;
            let details = json!({"status": state.status, "amount": state.amount,
                                 "currency": state.currency, "interval": state.interval,
                                 "cancel_at_period_end": state.cancel_at_period_end});
            audit::record(
                tx,
                &AuditEntry {
                    at: now,
                    actor: ACTOR,
                    action: "membership.updated",
                    subject: &id,
                    details,
                },
            )
            .await?;
            // Its notices, once per cause (see `outbox::enqueue`).
            enqueue::membership_canceled(tx, org, &state.external_ref, now).await?;
            if event.kind == "invoice.payment_failed"
                && let Some(invoice) = event.object_id
            {
                enqueue::renewal_failed(tx, org, &state.external_ref, invoice, now).await?;
            }
            Outcome::Processed
        }
    };
    if outcome != Outcome::Processed {
        tx.execute(
            "UPDATE processor_events SET outcome = ? WHERE id = ?",
            &[outcome.as_str().into(), event.id.into()],
        )
        .await?;
    }
    Ok(outcome)
}

async fn current(tx: &mut Tx<'_>, payment_ref: &str) -> Result<Option<Current>, sqlx::Error> {
    let sql = format!("{CURRENT}{}", tx.dialect().for_update());
    tx.fetch_optional(&sql, &[payment_ref.into()]).await
}

async fn upsert_payment(
    tx: &mut Tx<'_>,
    org: &Letterhead,
    p: &ProcessorPayment,
    now: Timestamp,
) -> Result<Outcome, TxError> {
    // Insert first and let the unique key say whether it is recorded: a
    // locking read of a reference not there yet would lock the index gap,
    // and concurrent inserts into one gap deadlock on MySQL.
    let id = new_id("pay");
    let metadata = Metadata::default();
    // The payer as recorded: a pseudonym when the donor was erased.
    let payer = privacy::payer_of(
        tx,
        &p.external_ref,
        p.subscription.as_deref(),
        &p.payer_email,
        &p.payer_name,
        p.created_at,
    )
    .await?;
    let donor = payer.donor.as_str();
    if let Some(state) = &p.membership {
        let state = privacy::member_state(tx, state, payer.erased).await?;
        memberships::upsert(tx, &state, now).await?;
    }
    let membership = match &p.subscription {
        Some(sub) => memberships::of_subscription(tx, sub, donor).await?,
        None => None,
    };
    let sql = format!(
        "INSERT INTO payments ({INSERT_COLUMNS}, processor, fee, subscription, membership_id) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
    );
    let args = [
        id.as_str().into(),
        p.amount.into(),
        0.into(),
        p.currency.as_str().into(),
        p.status.as_str().into(),
        p.method.as_str().into(),
        payer.name.as_str().into(),
        payer.email.as_str().into(),
        p.campaign.as_deref().into(),
        None::<&str>.into(),
        p.external_ref.as_str().into(),
        metadata_json(&metadata).into(),
        p.created_at.0.into(),
        now.0.into(),
        donor.into(),
        STRIPE.into(),
        p.fee.into(),
        p.subscription.as_deref().into(),
        membership.as_deref().into(),
    ];
    match tx.execute(&sql, &args).await {
        // Recorded already (by another event about the same PaymentIntent,
        // perhaps one committed just now): bring it up to date.
        Err(e) if tx.dialect().is_unique_violation(&e) => {
            return advance(tx, org, &p.external_ref, p.status, p.fee, now).await;
        }
        other => other?,
    };
    let subject = rollups::Subject {
        currency: &p.currency,
        method: p.method.as_str(),
        campaign: p.campaign.as_deref(),
        amount: p.amount,
        created_at: p.created_at,
        recurring: membership.is_some(),
    };
    let mut deltas = Deltas::default();
    deltas.created(&subject, p.status);
    if let Some(fee) = p.fee {
        deltas.fee(&subject, fee);
    }
    rollups::apply(tx, &deltas).await?;
    let details = json!({"amount": p.amount, "currency": p.currency, "status": p.status,
                         "method": p.method, "external_ref": p.external_ref});
    audit::record(
        tx,
        &AuditEntry {
            at: now,
            actor: ACTOR,
            action: "payment.created",
            subject: &id,
            details,
        },
    )
    .await?;
    if p.status == Status::Succeeded {
        enqueue::receipt(tx, org, &id, enqueue::Asked::ByProcessor, now).await?;
    }
    Ok(Outcome::Processed)
}

/// Moves the payment forward: pending to succeeded or failed, never back,
/// and fills its fee once.
async fn advance(
    tx: &mut Tx<'_>,
    org: &Letterhead,
    payment_ref: &str,
    to: Status,
    fee: Option<i64>,
    now: Timestamp,
) -> Result<Outcome, TxError> {
    let Some(row) = current(tx, payment_ref).await? else {
        return Ok(Outcome::Ignored);
    };
    let from = row.status()?;
    let status = if from.can_change_to(to) { to } else { from };
    let fee = row.fee.or(fee);
    if status == from && fee == row.fee {
        return Ok(Outcome::Processed);
    }
    tx.execute(
        "UPDATE payments SET status = ?, fee = ?, updated_at = ? WHERE id = ?",
        &[
            status.as_str().into(),
            fee.into(),
            now.0.into(),
            row.id.0.as_str().into(),
        ],
    )
    .await?;
    let mut deltas = Deltas::default();
    deltas.status_changed(&row.subject(), from, status);
    if let (None, Some(fee)) = (row.fee, fee) {
        deltas.fee(&row.subject(), fee);
    }
    rollups::apply(tx, &deltas).await?;
    let mut details = serde_json::Map::new();
    if status != from {
        details.insert("status".into(), json!([from, status]));
    }
    if fee != row.fee {
        details.insert("fee".into(), json!(fee));
    }
    audit::record(
        tx,
        &AuditEntry {
            at: now,
            actor: ACTOR,
            action: "payment.updated",
            subject: &row.id,
            details: serde_json::Value::Object(details),
        },
    )
    .await?;
    if status == Status::Succeeded && from != Status::Succeeded {
        enqueue::receipt(tx, org, &row.id, enqueue::Asked::ByProcessor, now).await?;
    }
    Ok(Outcome::Processed)
}

/// Records one refund by its processor id, once.
pub(crate) async fn refund(
    tx: &mut Tx<'_>,
    org: &Letterhead,
    r: &ProcessorRefund,
    now: Timestamp,
) -> Result<(), TxError> {
    let known: Option<(Text,)> = tx
        .fetch_optional(
            "SELECT id FROM refunds WHERE external_ref = ?",
            &[r.refund_ref.as_str().into()],
        )
        .await?;
    if known.is_some() {
        return Ok(());
    }
    let Some(row) = current(tx, &r.payment_ref).await? else {
        return Err(StoreError::NotYet(format!(
            "refund {} is of a payment not recorded yet",
            r.refund_ref
        ))
        .into());
    };
    let status = row.status()?;
    if status == Status::Pending {
        return Err(StoreError::NotYet(format!(
            "refund {} is of a payment still pending",
            r.refund_ref
        ))
        .into());
    }
    let Ok(amount) = refund_amount(status, row.amount, row.amount_refunded, Some(r.amount)) else {
        // More than remains (the ledger's own refunds already cover it): never
        // beyond the payment. Reconciliation reports the difference.
        tracing::warn!(refund = %r.refund_ref, payment = %row.id.0, "processor refund exceeds what remains; not recorded");
        return Ok(());
    };
    let made = RefundMade {
        amount,
        reason: r.reason,
        external_ref: Some(&r.refund_ref),
        at: r.created_at,
    };
    let made = apply_refund(
        tx,
        ACTOR,
        &row.id,
        &row.subject(),
        status,
        row.amount,
        row.amount_refunded,
        &made,
        now,
    )
    .await?;
    enqueue::refund(tx, org, &made, now).await?;
    Ok(())
}

async fn dispute_changed(
    tx: &mut Tx<'_>,
    payment_ref: &str,
    dispute: &Dispute,
    at: Timestamp,
    now: Timestamp,
) -> Result<Outcome, TxError> {
    let Some(row) = current(tx, payment_ref).await? else {
        return Err(StoreError::NotYet(format!(
            "a dispute of {payment_ref}, a payment not recorded yet"
        ))
        .into());
    };
    let before = match row.dispute_status.as_deref() {
        None => None,
        Some(s) => Some(crate::domain::DisputeStatus::parse(s).map_err(|_| {
            StoreError::Corrupt(format!(
                "stored dispute status of {} is not valid",
                row.id.0
            ))
        })?),
    };
    if before.is_some_and(|b| !b.may_become(dispute.status)) || before == Some(dispute.status) {
        return Ok(Outcome::Processed);
    }
    tx.execute(
        "UPDATE payments SET dispute_status = ?, dispute_amount = ?, dispute_reason = ?, \
         updated_at = ? WHERE id = ?",
        &[
            dispute.status.as_str().into(),
            dispute.amount.into(),
            dispute.reason.as_str().into(),
            now.0.into(),
            row.id.0.as_str().into(),
        ],
    )
    .await?;
    if dispute.status == crate::domain::DisputeStatus::Lost {
        let mut deltas = Deltas::default();
        deltas.disputed(&row.subject(), dispute.amount, at);
        rollups::apply(tx, &deltas).await?;
    }
    audit::record(
        tx,
        &AuditEntry {
            at: now,
            actor: ACTOR,
            action: "payment.disputed",
            subject: &row.id,
            details: json!({"status": dispute.status, "amount": dispute.amount,
                            "reason": dispute.reason}),
        },
    )
    .await?;
    Ok(Outcome::Processed)
}

/// A payment that came through the processor, as reconciliation compares it.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct ProcessorLedgerRow {
    pub id: Text,
    pub external_ref: Text,
    pub amount: i64,
    pub amount_refunded: i64,
    pub status: Text,
    pub fee: Option<i64>,
}

/// A refund made through the processor, as reconciliation compares it.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct ProcessorRefundRow {
    pub id: Text,
    pub payment_id: Text,
    pub amount: i64,
}

/// The last sync or reconcile, for the dashboard.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct ProcessorRun {
    pub occurred_at: i64,
    pub action: Text,
    pub actor: Text,
    pub details: Text,
}

/// The subject the audit log files processor runs under.
const RUNS: &str = "processor:stripe";

impl Store {
    /// Payments that came through the processor, created in `[from, to)`
    /// (microseconds) and captured (money moved).
    pub async fn processor_payments_between(
        &self,
        from: Timestamp,
        to: Timestamp,
    ) -> Result<Vec<ProcessorLedgerRow>, StoreError> {
        self.read(|c| {
            Box::pin(async move {
                c.fetch_all(
                    "SELECT id, external_ref, amount, amount_refunded, status, fee FROM payments \
                     WHERE processor = ? AND created_at >= ? AND created_at < ? \
                     AND status IN ('succeeded', 'partially_refunded', 'refunded') \
                     ORDER BY created_at, id",
                    &[STRIPE.into(), from.0.into(), to.0.into()],
                )
                .await
            })
        })
        .await
    }

    /// The refund recorded with the processor's id, if any.
    pub async fn processor_refund(
        &self,
        refund_ref: &str,
    ) -> Result<Option<ProcessorRefundRow>, StoreError> {
        self.read(|c| {
            Box::pin(async move {
                c.fetch_optional(
                    "SELECT id, payment_id, amount FROM refunds WHERE external_ref = ?",
                    &[refund_ref.into()],
                )
                .await
            })
        })
        .await
    }

    /// Files the result of a sync or reconcile (`action`) in the audit log.
    pub async fn record_processor_run(
        &self,
        actor: &str,
        action: &str,
        details: serde_json::Value,
    ) -> Result<(), StoreError> {
        let details = &details;
        self.write(|tx| {
            Box::pin(async move {
                audit::record(
                    tx,
                    &AuditEntry {
                        at: Timestamp::now(),
                        actor,
                        action,
                        subject: RUNS,
                        details: details.clone(),
                    },
                )
                .await?;
                Ok(())
            })
        })
        .await
    }

    /// The latest run of each kind (`stripe.sync`, `stripe.reconcile`).
    pub async fn last_processor_runs(&self) -> Result<Vec<ProcessorRun>, StoreError> {
        let mut runs = Vec::new();
        for action in ["stripe.sync", "stripe.reconcile"] {
            let run: Option<ProcessorRun> = self
                .read(|c| {
                    Box::pin(async move {
                        c.fetch_optional(
                            "SELECT occurred_at, action, actor, details FROM audit_log \
                             WHERE subject = ? AND action = ? ORDER BY id DESC LIMIT 1",
                            &[RUNS.into(), action.into()],
                        )
                        .await
                    })
                })
                .await?;
            runs.extend(run);
        }
        Ok(runs)
    }
}
