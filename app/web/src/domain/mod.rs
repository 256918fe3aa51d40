//! The domain: money, payments, refunds and their validation. No HTTP, no SQL.

pub mod access;
pub mod campaign;
pub mod donation;
pub mod donor;
pub mod listing;
pub mod money;
mod names;
pub mod payment;
pub mod people;
pub mod query;
pub mod requests;
pub mod statement;
pub mod summary;
pub mod validate;
pub mod values;

pub use access::{Role, Scope, Token, User};
pub use campaign::{Campaign, CampaignInput, CampaignProgress, CampaignSpec, parse_slug};
pub use donor::{
    Donor, GiftTotals, Interval, Membership, MembershipStatus, email_key, mask_email,
    monthly_amount, monthly_recurring_revenue,
};
pub use listing::{Cursor, Filter, ListRequest, Page, PageFrom, RawListParams};
pub use money::{
    Currency, MAX_AMOUNT, exponent_of, format_amount, parse_major_units, to_major_units,
    write_major_units,
};
pub use payment::{
    Dispute, DisputeStatus, Method, Payer, Payment, Refund, RefundReason, RefundRefusal, STRIPE,
    Status, Timestamp, new_id, refund_amount,
};
pub use requests::{InitialStatus, NewPayer, NewPayment, NewRefund, PaymentPatch};
pub use summary::{
    Breakdown, DailyTotal, Dimension, DimensionTotals, RawSummaryParams, StatusTotal, Summary,
    SummaryRequest, Totals, breakdowns, daily_series, summarise,
};
pub use validate::FieldError;
pub use values::{
    CampaignName, Description, Email, ExternalRef, IdempotencyKey, Metadata, MinorUnits, PayerName,
    PaymentId, TokenName,
};
