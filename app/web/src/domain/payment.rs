//! Payments and refunds: the rules, with no HTTP and no SQL.

use std::collections::BTreeMap;
use std::fmt;

use chrono::{DateTime, SecondsFormat, TimeZone, Utc};
use serde::{Serialize, Serializer};
use serde_json::Value;
use utoipa::ToSchema;

use super::money::{Currency, MAX_AMOUNT};
use super::names::string_enum;
use super::validate::{FieldError, Fields};

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

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_rfc3339())
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

pub type Metadata = BTreeMap<String, String>;

pub const MAX_METADATA_KEYS: usize = 20;

fn metadata(fields: &mut Fields<'_>, value: Option<Value>) -> Option<Metadata> {
    let value = value?;
    let Value::Object(map) = value else {
        fields.error(
            "metadata",
            "must be an object of string keys to string values",
        );
        return None;
    };
    let mut out = Metadata::new();
    let mut ok = true;
    if map.len() > MAX_METADATA_KEYS {
        fields.error(
            "metadata",
            format!("must have at most {MAX_METADATA_KEYS} keys"),
        );
        ok = false;
    }
    for (key, value) in map {
        let name = format!("metadata.{key}");
        if key.is_empty() || key.chars().count() > 40 {
            fields.error(&name, "keys must be 1 to 40 characters");
            ok = false;
            continue;
        }
        match value {
            Value::String(s) if s.chars().count() <= 500 => {
                out.insert(key, s);
            }
            Value::String(_) => {
                fields.error(&name, "must be at most 500 characters");
                ok = false;
            }
            _ => {
                fields.error(&name, "must be a string");
                ok = false;
            }
        }
    }
    ok.then_some(out)
}

fn email(s: &str) -> Result<String, String> {
    if s.chars().count() > 254 {
        return Err("must be at most 254 characters".into());
    }
    // Plain addresses only: no display names, comments or IP literals.
    match email_address::EmailAddress::parse_with_options(
        s,
        email_address::Options::default()
            .without_display_text()
            .without_domain_literal(),
    ) {
        Ok(addr) if addr.domain().contains('.') => Ok(addr.email().to_owned()),
        _ => Err("must be an email address such as reader@example.org".into()),
    }
}

fn timestamp(s: &str) -> Result<Timestamp, String> {
    let dt = DateTime::parse_from_rfc3339(s)
        .map_err(|_| "must be an RFC 3339 timestamp such as 2026-11-29T07:46:58Z".to_owned())?
        .with_timezone(&Utc);
    let ts = Timestamp::from_datetime(dt);
    // Imports may backdate, but not into the future (five minutes of clock skew allowed)
    // and not before the Unix epoch.
    if ts.0 > Timestamp::now().0 + 300_000_000 {
        return Err("must not be in the future".into());
    }
    if ts.0 < 0 {
        return Err("must not be before 1970-01-01".into());
    }
    Ok(ts)
}

/// A validated request to record a payment.
#[derive(Clone, Debug, PartialEq)]
pub struct NewPayment {
    pub amount: i64,
    pub currency: Currency,
    pub payer_name: String,
    pub payer_email: String,
    pub method: Method,
    pub status: Status,
    pub campaign: Option<String>,
    pub description: Option<String>,
    pub external_ref: Option<String>,
    pub metadata: Metadata,
    pub created_at: Option<Timestamp>,
}

impl NewPayment {
    pub fn from_json(body: Value) -> Result<Self, Vec<FieldError>> {
        let mut f = Fields::new("", body)?;
        let v = f.required("amount");
        let amount = f.integer("amount", v, 1, MAX_AMOUNT);
        let v = f.required("currency");
        let currency = f.parsed("currency", v, |s| Currency::parse(s).map_err(str::to_owned));
        let (payer_name, payer_email) = match f.required("payer") {
            Some(payer) => match Fields::new("payer", payer) {
                Ok(mut p) => {
                    let v = p.required("name");
                    let name = p.string("name", v, 1, 200);
                    let v = p.required("email");
                    let email = p.parsed("email", v, email);
                    if let Err(errors) = p.finish() {
                        f.extend(errors);
                    }
                    (name, email)
                }
                Err(errors) => {
                    f.extend(errors);
                    (None, None)
                }
            },
            None => (None, None),
        };
        let v = f.required("method");
        let method = f.parsed("method", v, Method::parse);
        let status = match f.take("status") {
            None => Some(Status::Succeeded),
            v => f.parsed("status", v, |s| match Status::parse(s)? {
                st @ (Status::Pending | Status::Succeeded | Status::Failed) => Ok(st),
                _ => Err(
                    "must be one of: pending, succeeded, failed (refunds set the others)".into(),
                ),
            }),
        };
        let v = f.take("campaign");
        let campaign = f.string("campaign", v, 1, 100);
        let v = f.take("description");
        let description = f.string("description", v, 0, 500);
        let v = f.take("external_ref");
        let external_ref = f.string("external_ref", v, 1, 255);
        let v = f.take("metadata");
        let has_metadata = v.is_some();
        let metadata = metadata(&mut f, v);
        let v = f.take("created_at");
        let has_created_at = v.is_some();
        let created_at = f.parsed("created_at", v, timestamp);
        f.finish()?;
        // finish() returned Ok, so every required value parsed.
        let missing = || vec![FieldError::new("body", "is incomplete")];
        Ok(NewPayment {
            amount: amount.ok_or_else(missing)?,
            currency: currency.ok_or_else(missing)?,
            payer_name: payer_name.ok_or_else(missing)?,
            payer_email: payer_email.ok_or_else(missing)?,
            method: method.ok_or_else(missing)?,
            status: status.ok_or_else(missing)?,
            campaign,
            description,
            external_ref,
            metadata: if has_metadata {
                metadata.ok_or_else(missing)?
            } else {
                Metadata::new()
            },
            created_at: if has_created_at {
                Some(created_at.ok_or_else(missing)?)
            } else {
                None
            },
        })
    }
}

/// A validated change to a payment. `None` leaves a field as it is.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PaymentPatch {
    pub status: Option<Status>,
    /// `Some(None)` clears the description.
    pub description: Option<Option<String>>,
    /// Replaces the whole metadata map.
    pub metadata: Option<Metadata>,
}

pub const PATCH_FIELDS: &[&str] = &["status", "description", "metadata"];

impl PaymentPatch {
    pub fn from_json(body: Value) -> Result<Self, Vec<FieldError>> {
        let mut f = Fields::new("", body)?;
        let clears_description = matches!(&f_get(&f, "description"), Some(Value::Null));
        let v = f.take("status");
        let status = f.parsed("status", v, Status::parse);
        let v = f.take("description");
        let description = f.string("description", v, 0, 500);
        let v = f.take("metadata");
        let metadata = metadata(&mut f, v);
        f.finish()?;
        let patch = PaymentPatch {
            status,
            description: if clears_description {
                Some(None)
            } else {
                description.map(Some)
            },
            metadata,
        };
        if patch == PaymentPatch::default() {
            return Err(vec![FieldError::new(
                "body",
                "must change at least one of: status, description, metadata",
            )]);
        }
        Ok(patch)
    }
}

fn f_get(f: &Fields<'_>, name: &str) -> Option<Value> {
    f.peek(name).cloned()
}

/// A validated refund request. `amount: None` refunds all that remains.
#[derive(Clone, Debug, PartialEq)]
pub struct NewRefund {
    pub amount: Option<i64>,
    pub reason: RefundReason,
}

pub const REFUND_FIELDS: &[&str] = &["amount", "reason"];

impl NewRefund {
    pub fn from_json(body: Value) -> Result<Self, Vec<FieldError>> {
        let mut f = Fields::new("", body)?;
        let v = f.take("amount");
        let has_amount = v.is_some();
        let amount = f.integer("amount", v, 1, MAX_AMOUNT);
        let reason = match f.take("reason") {
            None => Some(RefundReason::RequestedByCustomer),
            v => f.parsed("reason", v, RefundReason::parse),
        };
        f.finish()?;
        Ok(NewRefund {
            amount: if has_amount { amount } else { None },
            reason: reason.unwrap_or(RefundReason::RequestedByCustomer),
        })
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
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
}

/// New identifiers: a prefix and a time-ordered UUID (v7) in hex.
pub fn new_id(prefix: &str) -> String {
    format!("{prefix}_{}", uuid::Uuid::now_v7().simple())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn valid() -> Value {
        json!({"amount": 2500, "currency": "USD", "method": "card",
               "payer": {"name": "Ada Reader", "email": "ada@example.org"}})
    }

    #[test]
    fn accepts_a_minimal_payment_with_defaults() {
        let p = NewPayment::from_json(valid()).unwrap();
        assert_eq!(p.amount, 2500);
        assert_eq!(p.status, Status::Succeeded);
        assert_eq!(p.currency.code(), "USD");
        assert!(p.metadata.is_empty());
        assert_eq!(p.created_at, None);
    }

    #[test]
    fn reports_every_bad_field() {
        let body = json!({"amount": 0, "currency": "usd", "method": "bitcoin",
            "payer": {"name": "", "email": "nope"}, "status": "refunded",
            "campaign": "x".repeat(101), "metadata": {"k": 1}, "created_at": "yesterday", "extra": 1});
        let errors = NewPayment::from_json(body).unwrap_err();
        let mut fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        fields.sort();
        assert_eq!(
            fields,
            vec![
                "amount",
                "campaign",
                "created_at",
                "currency",
                "extra",
                "metadata.k",
                "method",
                "payer.email",
                "payer.name",
                "status"
            ]
        );
    }

    #[test]
    fn amount_bounds() {
        for (amount, ok) in [
            (1, true),
            (1_000_000_000_000i64, true),
            (1_000_000_000_001, false),
            (-5, false),
        ] {
            let mut body = valid();
            body["amount"] = json!(amount);
            assert_eq!(NewPayment::from_json(body).is_ok(), ok, "{amount}");
        }
        let mut body = valid();
        body["amount"] = json!(25.5);
        assert!(NewPayment::from_json(body).is_err());
        let mut body = valid();
        body["amount"] = json!("2500");
        assert!(NewPayment::from_json(body).is_err());
    }

    #[test]
    fn metadata_limits() {
        let mut body = valid();
        let many: serde_json::Map<String, Value> =
            (0..21).map(|i| (format!("k{i}"), json!("v"))).collect();
        body["metadata"] = Value::Object(many);
        assert!(NewPayment::from_json(body).is_err());
        let mut body = valid();
        body["metadata"] = json!({"k".repeat(41): "v"});
        assert!(NewPayment::from_json(body).is_err());
        let mut body = valid();
        body["metadata"] = json!({"k": "v".repeat(501)});
        assert!(NewPayment::from_json(body).is_err());
        let mut body = valid();
        body["metadata"] = json!({"k": "v".repeat(500)});
        assert!(NewPayment::from_json(body).is_ok());
    }

    #[test]
    fn created_at_must_be_past_rfc3339() {
        let mut body = valid();
        body["created_at"] = json!("2024-02-29T12:00:00.5+02:00");
        let p = NewPayment::from_json(body).unwrap();
        assert_eq!(
            p.created_at.unwrap().to_rfc3339(),
            "2024-02-29T10:00:00.500000Z"
        );
        let mut body = valid();
        body["created_at"] = json!("2999-01-01T00:00:00Z");
        assert!(NewPayment::from_json(body).is_err());
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

    #[test]
    fn patch_parsing() {
        let p = PaymentPatch::from_json(json!({"description": null})).unwrap();
        assert_eq!(p.description, Some(None));
        assert!(PaymentPatch::from_json(json!({})).is_err());
        assert!(PaymentPatch::from_json(json!({"amount": 5})).is_err());
        let p = PaymentPatch::from_json(json!({"status": "failed", "metadata": {}})).unwrap();
        assert_eq!(p.status, Some(Status::Failed));
        assert_eq!(p.metadata, Some(Metadata::new()));
    }

    #[test]
    fn refund_parsing() {
        assert_eq!(NewRefund::from_json(json!({})).unwrap().amount, None);
        assert!(NewRefund::from_json(json!({"amount": 0})).is_err());
        assert!(NewRefund::from_json(json!({"reason": "because"})).is_err());
        assert_eq!(
            NewRefund::from_json(json!({"amount": 5, "reason": "duplicate"})).unwrap(),
            NewRefund {
                amount: Some(5),
                reason: RefundReason::Duplicate
            }
        );
    }
}
