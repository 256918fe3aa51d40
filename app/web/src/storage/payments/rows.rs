//! Payment and refund rows as stored, and the reads of one payment.

use super::super::rollups::Subject;
use super::super::text::Text;
use super::super::{Store, StoreError};
use crate::domain::{
    Dispute, DisputeStatus, Metadata, Method, Payer, Payment, Refund, RefundReason, STRIPE, Status,
    Timestamp,
};

macro_rules! recorded_columns {
    () => {
        "id, amount, amount_refunded, currency, status, method, payer_name, payer_email, \
         campaign, description, external_ref, metadata, created_at, updated_at"
    };
}

/// The columns every insert writes (a seeded or API payment has nothing else).
pub(crate) const INSERT_COLUMNS: &str = concat!(recorded_columns!(), ", donor_id");

/// The columns a payment is read with: the recorded ones, then what a
/// processor adds.
pub(crate) const PAYMENT_COLUMNS: &str = concat!(
    recorded_columns!(),
    ", processor, fee, dispute_status, dispute_amount, dispute_reason, donor_id, membership_id"
);

/// The SELECT of one payment by id; `lock` takes its row lock for a
/// read-modify-write inside a transaction.
pub(crate) fn select_payment(d: super::super::Dialect, lock: bool) -> String {
    format!(
        "SELECT {PAYMENT_COLUMNS} FROM payments WHERE id = ?{}",
        if lock { d.for_update() } else { "" }
    )
}

/// A payments row as selected with [`PAYMENT_COLUMNS`], in that order.
#[derive(Clone)]
pub(crate) struct PaymentRow {
    pub(crate) id: Text,
    pub(crate) amount: i64,
    pub(crate) amount_refunded: i64,
    currency: Text,
    pub(crate) status: Text,
    method: Text,
    payer_name: Text,
    payer_email: Text,
    campaign: Option<Text>,
    description: Option<Text>,
    external_ref: Option<Text>,
    metadata: Text,
    created_at: i64,
    updated_at: i64,
    processor: Option<Text>,
    pub(crate) fee: Option<i64>,
    pub(crate) dispute_status: Option<Text>,
    pub(crate) dispute_amount: Option<i64>,
    dispute_reason: Option<Text>,
    donor_id: Option<Text>,
    pub(crate) membership_id: Option<Text>,
}

// By position, not by name: exports decode millions of rows, and a lookup
// of each column's name in each row showed in their profile.
impl<'r, R> sqlx::FromRow<'r, R> for PaymentRow
where
    R: sqlx::Row,
    usize: sqlx::ColumnIndex<R>,
    Text: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    i64: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    fn from_row(row: &'r R) -> Result<Self, sqlx::Error> {
        Ok(PaymentRow {
            id: row.try_get(0)?,
            amount: row.try_get(1)?,
            amount_refunded: row.try_get(2)?,
            currency: row.try_get(3)?,
            status: row.try_get(4)?,
            method: row.try_get(5)?,
            payer_name: row.try_get(6)?,
            payer_email: row.try_get(7)?,
            campaign: row.try_get(8)?,
            description: row.try_get(9)?,
            external_ref: row.try_get(10)?,
            metadata: row.try_get(11)?,
            created_at: row.try_get(12)?,
            updated_at: row.try_get(13)?,
            processor: row.try_get(14)?,
            fee: row.try_get(15)?,
            dispute_status: row.try_get(16)?,
            dispute_amount: row.try_get(17)?,
            dispute_reason: row.try_get(18)?,
            donor_id: row.try_get(19)?,
            membership_id: row.try_get(20)?,
        })
    }
}

pub(crate) fn corrupt(what: &str, id: &str) -> StoreError {
    StoreError::Corrupt(format!("stored {what} of {id} is not valid"))
}

/// How metadata is stored: its JSON text.
pub(crate) fn metadata_json(m: &Metadata) -> String {
    serde_json::to_string(m).unwrap_or_else(|_| "{}".into())
}

impl PaymentRow {
    pub(crate) fn into_payment(self) -> Result<Payment, StoreError> {
        let status = Status::parse(&self.status).map_err(|_| corrupt("status", &self.id))?;
        let method = Method::parse(&self.method).map_err(|_| corrupt("method", &self.id))?;
        let metadata: Metadata =
            serde_json::from_str(&self.metadata).map_err(|_| corrupt("metadata", &self.id))?;
        let processor = match self.processor.as_deref() {
            None => None,
            Some(STRIPE) => Some(STRIPE),
            Some(_) => return Err(corrupt("processor", &self.id)),
        };
        let dispute = match (&self.dispute_status, self.dispute_amount) {
            (Some(status), Some(amount)) => Some(Dispute {
                status: DisputeStatus::parse(status)
                    .map_err(|_| corrupt("dispute status", &self.id))?,
                amount,
                reason: self.dispute_reason.map(String::from).unwrap_or_default(),
            }),
            _ => None,
        };
        Ok(Payment {
            id: self.id.0,
            object: "payment",
            amount: self.amount,
            amount_refunded: self.amount_refunded,
            currency: self.currency.0,
            status,
            method,
            payer: Payer {
                name: self.payer_name.0,
                email: self.payer_email.0,
            },
            campaign: self.campaign.map(String::from),
            description: self.description.map(String::from),
            external_ref: self.external_ref.map(String::from),
            metadata,
            processor,
            fee: self.fee,
            dispute,
            donor_id: self.donor_id.map(String::from),
            membership_id: self.membership_id.map(String::from),
            created_at: Timestamp(self.created_at),
            updated_at: Timestamp(self.updated_at),
            refunds: None,
        })
    }

    /// What this payment's rollups depend on.
    pub(crate) fn subject(&self) -> Subject<'_> {
        Subject {
            currency: &self.currency,
            method: &self.method,
            campaign: self.campaign.as_deref(),
            amount: self.amount,
            created_at: Timestamp(self.created_at),
            recurring: self.membership_id.is_some(),
        }
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct RefundRow {
    id: Text,
    payment_id: Text,
    amount: i64,
    reason: Text,
    external_ref: Option<Text>,
    created_at: i64,
}

impl RefundRow {
    pub(crate) fn into_refund(self) -> Result<Refund, StoreError> {
        Ok(Refund {
            reason: RefundReason::parse(&self.reason).map_err(|_| corrupt("reason", &self.id))?,
            id: self.id.0,
            object: "refund",
            payment_id: self.payment_id.0,
            amount: self.amount,
            external_ref: self.external_ref.map(String::from),
            created_at: Timestamp(self.created_at),
        })
    }
}

/// A stored payment as text, for exports.
pub struct ExportRow(pub(crate) PaymentRow);

impl ExportRow {
    pub fn id(&self) -> &str {
        &self.0.id
    }
    pub fn created_at(&self) -> Timestamp {
        Timestamp(self.0.created_at)
    }
    pub fn amount(&self) -> i64 {
        self.0.amount
    }
    pub fn amount_refunded(&self) -> i64 {
        self.0.amount_refunded
    }
    pub fn currency(&self) -> &str {
        &self.0.currency
    }
    pub fn status(&self) -> &str {
        &self.0.status
    }
    pub fn method(&self) -> &str {
        &self.0.method
    }
    pub fn payer_name(&self) -> &str {
        &self.0.payer_name
    }
    pub fn payer_email(&self) -> &str {
        &self.0.payer_email
    }
    pub fn campaign(&self) -> &str {
        self.0.campaign.as_deref().unwrap_or("")
    }
    pub fn description(&self) -> &str {
        self.0.description.as_deref().unwrap_or("")
    }
    pub fn external_ref(&self) -> &str {
        self.0.external_ref.as_deref().unwrap_or("")
    }
    /// The metadata as stored JSON; empty when there is none.
    pub fn metadata_json(&self) -> &str {
        if &*self.0.metadata == "{}" {
            ""
        } else {
            &self.0.metadata
        }
    }
}

/// One entry of a payment's audit trail.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct AuditEntry {
    pub id: i64,
    pub occurred_at: i64,
    pub actor: Text,
    pub action: Text,
    pub subject: Text,
    pub details: Text,
}

const REFUNDS_OF: &str = "SELECT id, payment_id, amount, reason, external_ref, created_at FROM refunds \
     WHERE payment_id = ? ORDER BY created_at, id";

impl Store {
    /// One payment, without its refunds.
    pub async fn payment(&self, id: &str) -> Result<Payment, StoreError> {
        let row: Option<PaymentRow> = self
            .read(|c| {
                Box::pin(async move {
                    let sql = select_payment(c.dialect(), false);
                    c.fetch_optional(&sql, &[id.into()]).await
                })
            })
            .await?;
        row.ok_or(StoreError::NotFound)?.into_payment()
    }

    /// One payment with its refunds, oldest refund first.
    pub async fn payment_with_refunds(&self, id: &str) -> Result<Payment, StoreError> {
        let mut payment = self.payment(id).await?;
        payment.refunds = Some(self.refunds(id).await?);
        Ok(payment)
    }

    pub async fn refunds(&self, payment_id: &str) -> Result<Vec<Refund>, StoreError> {
        let rows: Vec<RefundRow> = self
            .read(|c| Box::pin(async move { c.fetch_all(REFUNDS_OF, &[payment_id.into()]).await }))
            .await?;
        rows.into_iter().map(RefundRow::into_refund).collect()
    }

    /// The audit trail of one subject (a payment, token or user), oldest first.
    pub async fn audit_trail(&self, subject: &str) -> Result<Vec<AuditEntry>, StoreError> {
        self.read(|c| {
            Box::pin(async move {
                c.fetch_all(
                    "SELECT id, occurred_at, actor, action, subject, details FROM audit_log \
                     WHERE subject = ? ORDER BY id LIMIT 500",
                    &[subject.into()],
                )
                .await
            })
        })
        .await
    }

    /// Whether any payment exists.
    pub async fn has_payments(&self) -> Result<bool, StoreError> {
        let row: Option<(Text,)> = self
            .read(|c| {
                Box::pin(async move {
                    c.fetch_optional("SELECT id FROM payments LIMIT 1", &[])
                        .await
                })
            })
            .await?;
        Ok(row.is_some())
    }
}
