//! Payments and refunds: their rows and reads ([`rows`]), listing and
//! export ([`list`]), the writes ([`writes`]: create, update, refund) and
//! summaries ([`summary`]). Idempotency keys are in
//! [`super::idempotency`], bulk seeding in [`super::seed`].

mod list;
mod rows;
mod summary;
mod writes;

pub use super::idempotency::{
    IDEMPOTENCY_RETENTION_HOURS, IdempotencyClaim, Idempotent, RecordedResponse,
};
pub use super::seed::SeedPayment;
pub use crate::domain::Page;
pub use rows::{AuditEntry, ExportRow};
pub(crate) use rows::{INSERT_COLUMNS, PAYMENT_COLUMNS, PaymentRow, corrupt, metadata_json};
#[cfg(test)]
pub(crate) use writes::create;
pub(crate) use writes::{RefundMade, apply_refund};
