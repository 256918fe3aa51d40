//! Payments and refunds: the rules, with no HTTP and no SQL.

use std::fmt;

use chrono::{DateTime, SecondsFormat, TimeZone, Utc};
use serde::{Serialize, Serializer};
use utoipa::ToSchema;

use super::names::string_enum;
use super::values::Metadata;

/// Microseconds since the Unix epoch, UTC: how every timestamp is stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(pub i64);

impl Timestamp {
    pub fn now() -> Self {
        Timestamp(Utc::now().timestamp_micros())
    }

    pub fn from_datetime(dt: DateTime<Utc>) -> Self {
        Timestamp(dt.timestamp_micros())
    }

    pub fn to_datetime(self) -> DateTime<Utc> {
        Utc.timestamp_micros(self.0).single().unwrap_or_default()
    }

    /// RFC 3339 with microseconds: `2026-11-29T07:46:58.123456Z`.
    pub fn to_rfc3339(self) -> String {
        self.to_datetime()
            .to_rfc3339_opts(SecondsFormat::Micros, true)
    }

    /// The UTC calendar day, `YYYY-MM-DD`, used by the daily rollups.
    pub fn day(self) -> String {
        self.to_datetime().format("%Y-%m-%d").to_string()
    }
}

impl Timestamp {
    /// [`Timestamp::to_rfc3339`] written into `buf` without allocating:
    /// every payment in a list carries two, so this is on the hot path.
    /// `None` outside years 0000–9999 (never stored: see `PastTimestamp`).
    fn write_rfc3339(self, buf: &mut [u8; 27]) -> Option<&str> {
        use chrono::{Datelike, Timelike};
        let dt = self.to_datetime();
        let year = u32::try_from(dt.year()).ok().filter(|y| *y <= 9999)?;
        let micros = dt.timestamp_subsec_micros().min(999_999);
        let mut put = |at: usize, width: usize, mut value: u32| {
            for i in (at..at + width).rev() {
                buf[i] = b'0' + (value % 10) as u8;
                value /= 10;
            }
        };
        put(0, 4, year);
        put(5, 2, dt.month());
        put(8, 2, dt.day());
        put(11, 2, dt.hour());
        put(14, 2, dt.minute());
        put(17, 2, dt.second());
        put(20, 6, micros);
        for (at, sep) in [
            (4, b'-'),
            (7, b'-'),
            (10, b'T'),
            (13, b':'),
            (16, b':'),
            (19, b'.'),
            (26, b'Z'),
        ] {
            buf[at] = sep;
        }
        std::str::from_utf8(buf).ok()
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut buf = [0u8; 27];
        match self.write_rfc3339(&mut buf) {
            Some(text) => s.serialize_str(text),
            None => s.serialize_str(&self.to_rfc3339()),
        }
    }
}

string_enum!(
    /// Where a payment stands. Refunds move succeeded to partially_refunded or refunded.
    Status {
        Pending,
        Succeeded,
        Failed,
        PartiallyRefunded,
        Refunded,
    }
);

string_enum!(
    /// How the reader paid.
    Method {
        Card,
        Ach,
        Paypal,
        Check,
        Wire,
        Cash,
        Other,
    }
);

string_enum!(
    /// Why money was given back.
    RefundReason {
        RequestedByCustomer,
        Duplicate,
        Fraudulent,
        Other,
    }
);

impl Status {
    /// Money was taken: counts towards gross and may be refunded.
    pub fn is_captured(self) -> bool {
        matches!(
            self,
            Status::Succeeded | Status::PartiallyRefunded | Status::Refunded
        )
    }

    /// The only status changes a client may ask for (refunds make the others).
    pub fn can_change_to(self, to: Status) -> bool {
        matches!(
            (self, to),
            (Status::Pending, Status::Succeeded) | (Status::Pending, Status::Failed)
        )
    }

    /// The status after `refunded` of `amount` has been given back.
    pub fn after_refund(amount: i64, refunded: i64) -> Status {
        if refunded >= amount {
            Status::Refunded
        } else {
            Status::PartiallyRefunded
        }
    }
}

/// Why a refund cannot be made.
#[derive(Debug, PartialEq, Eq)]
pub enum RefundRefusal {
    NotRefundable(Status),
    ExceedsRemaining { requested: i64, remaining: i64 },
}

impl fmt::Display for RefundRefusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RefundRefusal::NotRefundable(Status::Refunded) => {
                f.write_str("the payment has already been refunded in full")
            }
            RefundRefusal::NotRefundable(status) => {
                write!(
                    f,
                    "a {status} payment cannot be refunded; only captured payments can"
                )
            }
            RefundRefusal::ExceedsRemaining {
                requested,
                remaining,
            } => write!(
                f,
                "the refund of {requested} exceeds the {remaining} that remains refundable"
            ),
        }
    }
}

/// Decides the amount of a refund against the payment as it stands.
pub fn refund_amount(
    status: Status,
    amount: i64,
    amount_refunded: i64,
    requested: Option<i64>,
) -> Result<i64, RefundRefusal> {
    if !matches!(status, Status::Succeeded | Status::PartiallyRefunded) {
        return Err(RefundRefusal::NotRefundable(status));
    }
    let remaining = amount - amount_refunded;
    let requested = requested.unwrap_or(remaining);
    if requested > remaining || remaining <= 0 {
        return Err(RefundRefusal::ExceedsRemaining {
            requested,
            remaining,
        });
    }
    Ok(requested)
}

/// The payer as the API shows it.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Payer {
    pub name: String,
    pub email: String,
}

/// A payment as the API shows it.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Payment {
    #[schema(example = "pay_01938a4c7e5f7c0e9a3b2d1f0e4c5a6b")]
    pub id: String,
    /// Always `payment`.
    #[schema(value_type = String, example = "payment")]
    pub object: &'static str,
    /// In the currency's minor unit (cents for USD).
    pub amount: i64,
    pub amount_refunded: i64,
    #[schema(example = "USD")]
    pub currency: String,
    pub status: Status,
    pub method: Method,
    pub payer: Payer,
    pub campaign: Option<String>,
    pub description: Option<String>,
    pub external_ref: Option<String>,
    pub metadata: Metadata,
    /// `stripe` for payments that came through Stripe; null otherwise.
    #[schema(value_type = Option<String>, example = "stripe")]
    pub processor: Option<&'static str>,
    /// The processor's fee in minor units, from its balance transaction;
    /// null until known, and for payments made elsewhere.
    pub fee: Option<i64>,
    /// The dispute the payer opened with their bank, if any.
    pub dispute: Option<Dispute>,
    /// The donor of the payer's email (`don_…`).
    pub donor_id: Option<String>,
    /// The membership whose renewal this payment is (`mem_…`), if any.
    pub membership_id: Option<String>,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: Timestamp,
    /// Present on `GET /api/v1/payments/{id}`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refunds: Option<Vec<Refund>>,
}

/// A refund as the API shows it.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Refund {
    #[schema(example = "re_01938a4c7e5f7c0e9a3b2d1f0e4c5a6b")]
    pub id: String,
    /// Always `refund`.
    #[schema(value_type = String, example = "refund")]
    pub object: &'static str,
    pub payment_id: String,
    pub amount: i64,
    pub reason: RefundReason,
    /// The processor's id of this refund (Stripe's `re_…`), when it went
    /// through one.
    pub external_ref: Option<String>,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
}

/// The processor that took a payment. Only Stripe so far.
pub const STRIPE: &str = "stripe";

string_enum!(
    /// Where a dispute stands (Stripe's dispute statuses).
    DisputeStatus {
        WarningNeedsResponse,
        WarningUnderReview,
        WarningClosed,
        NeedsResponse,
        UnderReview,
        Won,
        Lost,
    }
);

impl DisputeStatus {
    /// Closed: a later event about the same dispute cannot reopen it.
    pub fn is_closed(self) -> bool {
        matches!(
            self,
            DisputeStatus::WarningClosed | DisputeStatus::Won | DisputeStatus::Lost
        )
    }

    /// Whether a dispute now at `self` may take the state `to`: the lifecycle
    /// only moves forward, so events delivered out of order converge.
    pub fn may_become(self, to: DisputeStatus) -> bool {
        !self.is_closed() || self == to
    }
}

/// A payer's dispute of a payment with their bank.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
pub struct Dispute {
    pub status: DisputeStatus,
    /// In minor units; a lost dispute takes it out of net.
    pub amount: i64,
    /// The bank's reason, as Stripe reports it (`fraudulent`, `duplicate`, …).
    pub reason: String,
}

/// New identifiers: a prefix and a time-ordered UUID (v7) in hex.
pub fn new_id(prefix: &str) -> String {
    format!("{prefix}_{}", uuid::Uuid::now_v7().simple())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_serialise_as_rfc3339_with_microseconds() {
        for (micros, text) in [
            (0, "1970-01-01T00:00:00.000000Z"),
            (1_764_700_000_123_456, "2025-12-02T18:26:40.123456Z"),
            (1_709_208_000_500_000, "2024-02-29T12:00:00.500000Z"),
            (253_402_300_799_999_999, "9999-12-31T23:59:59.999999Z"),
        ] {
            let ts = Timestamp(micros);
            assert_eq!(serde_json::to_string(&ts).unwrap(), format!("\"{text}\""));
            assert_eq!(ts.to_rfc3339(), text);
        }
        // Past the four-digit years, chrono's own formatting.
        let far = Timestamp(253_402_300_800_000_000);
        assert_eq!(
            serde_json::to_string(&far).unwrap(),
            format!("\"{}\"", far.to_rfc3339())
        );
    }

    #[test]
    fn transitions() {
        assert!(Status::Pending.can_change_to(Status::Succeeded));
        assert!(Status::Pending.can_change_to(Status::Failed));
        assert!(!Status::Succeeded.can_change_to(Status::Pending));
        assert!(!Status::Failed.can_change_to(Status::Succeeded));
        assert!(!Status::Succeeded.can_change_to(Status::Refunded));
    }

    #[test]
    fn refund_rules() {
        assert_eq!(refund_amount(Status::Succeeded, 1000, 0, None), Ok(1000));
        assert_eq!(
            refund_amount(Status::PartiallyRefunded, 1000, 400, None),
            Ok(600)
        );
        assert_eq!(
            refund_amount(Status::Succeeded, 1000, 0, Some(300)),
            Ok(300)
        );
        assert!(refund_amount(Status::Succeeded, 1000, 0, Some(1001)).is_err());
        assert!(refund_amount(Status::Pending, 1000, 0, None).is_err());
        assert!(refund_amount(Status::Refunded, 1000, 1000, None).is_err());
        assert_eq!(Status::after_refund(1000, 400), Status::PartiallyRefunded);
        assert_eq!(Status::after_refund(1000, 1000), Status::Refunded);
    }
}
