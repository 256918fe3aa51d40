//! The parts of Stripe's objects the ledger reads. Each struct names only
//! the fields used, so a field Stripe adds, or one we do not read changing
//! shape, never makes an event unreadable.

use serde::Deserialize;
use serde_json::Value;

/// A list page (`{"object":"list","data":[…],"has_more":…}`).
#[derive(Debug, Deserialize)]
pub struct List<T> {
    pub data: Vec<T>,
    #[serde(default)]
    pub has_more: bool,
}

/// An event, as delivered to the webhook and listed by `GET /v1/events`.
#[derive(Debug, Deserialize)]
pub struct Event {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub created: i64,
    pub livemode: bool,
    pub data: EventData,
}

#[derive(Debug, Deserialize)]
pub struct EventData {
    /// As received: parsed once, into the type the event's `type` names.
    pub object: Box<serde_json::value::RawValue>,
}

#[derive(Deserialize)]
struct IdOnly {
    id: Option<String>,
}

impl HasId for Event {
    fn id(&self) -> &str {
        &self.id
    }
}

impl HasId for Refund {
    fn id(&self) -> &str {
        &self.id
    }
}

impl Event {
    /// The id of the object the event is about.
    pub fn object_id(&self) -> Option<String> {
        serde_json::from_str::<IdOnly>(self.data.object.get())
            .ok()?
            .id
    }

    /// The event's object as `T`.
    pub fn object<T: serde::de::DeserializeOwned>(&self) -> Result<T, serde_json::Error> {
        serde_json::from_str(self.data.object.get())
    }
}

/// A field that holds an id, or the object itself when expanded.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum Expandable<T> {
    Id(String),
    Object(Box<T>),
}

impl<T: HasId> Expandable<T> {
    pub fn id(&self) -> &str {
        match self {
            Expandable::Id(id) => id,
            Expandable::Object(o) => o.id(),
        }
    }

    pub fn object(&self) -> Option<&T> {
        match self {
            Expandable::Id(_) => None,
            Expandable::Object(o) => Some(o),
        }
    }
}

pub trait HasId {
    fn id(&self) -> &str;
}

#[derive(Debug, Deserialize)]
pub struct CheckoutSession {
    pub id: String,
    pub mode: String,
    pub payment_status: String,
    pub amount_total: Option<i64>,
    pub currency: Option<String>,
    pub payment_intent: Option<Expandable<PaymentIntent>>,
    pub customer_details: Option<CustomerDetails>,
    #[serde(default)]
    pub metadata: Option<Value>,
    pub created: i64,
    /// For `mode=subscription`: the subscription it started.
    #[serde(default)]
    pub subscription: Option<Value>,
    /// Where the reader pays; null once the session is complete or expired.
    #[serde(default)]
    pub url: Option<String>,
    /// `open`, `complete` or `expired`.
    #[serde(default)]
    pub status: Option<String>,
}

impl CheckoutSession {
    pub fn subscription_id(&self) -> Option<&str> {
        self.subscription.as_ref().and_then(id_of)
    }

    /// A text value of `metadata`.
    pub fn metadata_value(&self, key: &str) -> Option<&str> {
        self.metadata.as_ref()?.get(key)?.as_str()
    }
}

/// The parts of a subscription a membership follows. Since API version
/// 2025-03-31 the period is on each item, not on the subscription.
#[derive(Debug, Deserialize)]
pub struct Subscription {
    pub id: String,
    pub status: String,
    pub currency: String,
    #[serde(default)]
    pub cancel_at_period_end: bool,
    pub canceled_at: Option<i64>,
    pub start_date: Option<i64>,
    pub created: i64,
    #[serde(default)]
    pub metadata: Option<Value>,
    pub items: List<SubscriptionItem>,
}

#[derive(Debug, Deserialize)]
pub struct SubscriptionItem {
    pub price: Option<Price>,
    pub quantity: Option<i64>,
    pub current_period_end: Option<i64>,
}

#[derive(Debug, Deserialize)]
pub struct Price {
    pub unit_amount: Option<i64>,
    pub currency: String,
    pub recurring: Option<Recurring>,
}

#[derive(Debug, Deserialize)]
pub struct Recurring {
    pub interval: String,
    #[serde(default = "one")]
    pub interval_count: i64,
}

fn one() -> i64 {
    1
}

#[derive(Debug, Deserialize)]
pub struct CustomerDetails {
    pub email: Option<String>,
    pub name: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct PaymentIntent {
    pub id: String,
    pub amount: i64,
    pub currency: String,
    pub status: String,
    pub latest_charge: Option<Expandable<Charge>>,
    pub created: i64,
}

impl HasId for PaymentIntent {
    fn id(&self) -> &str {
        &self.id
    }
}

#[derive(Debug, Deserialize)]
pub struct Charge {
    pub id: String,
    pub amount: i64,
    pub currency: String,
    pub payment_intent: Option<String>,
    pub balance_transaction: Option<Expandable<BalanceTransaction>>,
    pub payment_method_details: Option<PaymentMethodDetails>,
    pub billing_details: Option<CustomerDetails>,
}

impl HasId for Charge {
    fn id(&self) -> &str {
        &self.id
    }
}

#[derive(Debug, Deserialize)]
pub struct PaymentMethodDetails {
    #[serde(rename = "type")]
    pub kind: String,
}

#[derive(Debug, Deserialize)]
pub struct BalanceTransaction {
    pub id: String,
    pub amount: i64,
    pub fee: i64,
    pub currency: String,
    pub created: i64,
    #[serde(rename = "type")]
    pub kind: String,
    pub reporting_category: Option<String>,
    /// The charge, refund or dispute it moved money for.
    pub source: Option<Value>,
}

impl HasId for BalanceTransaction {
    fn id(&self) -> &str {
        &self.id
    }
}

impl BalanceTransaction {
    pub fn source_id(&self) -> Option<&str> {
        match &self.source {
            Some(Value::String(id)) => Some(id),
            Some(Value::Object(o)) => o.get("id").and_then(Value::as_str),
            _ => None,
        }
    }
}

#[derive(Debug, Deserialize)]
pub struct Refund {
    pub id: String,
    pub amount: i64,
    pub currency: String,
    pub status: Option<String>,
    pub payment_intent: Option<String>,
    pub charge: Option<String>,
    pub reason: Option<String>,
    pub created: i64,
}

#[derive(Debug, Deserialize)]
pub struct Dispute {
    pub id: String,
    pub amount: i64,
    pub currency: String,
    pub status: String,
    pub reason: Option<String>,
    pub charge: Option<String>,
    pub payment_intent: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct Invoice {
    pub id: String,
    pub amount_paid: i64,
    pub currency: String,
    pub customer_email: Option<String>,
    pub customer_name: Option<String>,
    /// Before API version 2025-03-31 the subscription and the payment
    /// intent were top-level; since then they are under `parent` and
    /// `payments`. Both are read.
    pub subscription: Option<Value>,
    pub payment_intent: Option<Value>,
    pub parent: Option<InvoiceParent>,
    pub payments: Option<List<InvoicePayment>>,
    pub created: i64,
}

#[derive(Debug, Deserialize)]
pub struct InvoiceParent {
    pub subscription_details: Option<SubscriptionDetails>,
}

#[derive(Debug, Deserialize)]
pub struct SubscriptionDetails {
    pub subscription: Option<Value>,
    pub metadata: Option<Value>,
}

#[derive(Debug, Deserialize)]
pub struct InvoicePayment {
    pub payment: Option<InvoicePaymentTarget>,
}

#[derive(Debug, Deserialize)]
pub struct InvoicePaymentTarget {
    pub payment_intent: Option<Value>,
}

fn id_of(v: &Value) -> Option<&str> {
    match v {
        Value::String(s) => Some(s),
        Value::Object(o) => o.get("id").and_then(Value::as_str),
        _ => None,
    }
}

impl Invoice {
    pub fn subscription_id(&self) -> Option<&str> {
        self.subscription.as_ref().and_then(id_of).or_else(|| {
            self.parent
                .as_ref()?
                .subscription_details
                .as_ref()?
                .subscription
                .as_ref()
                .and_then(id_of)
        })
    }

    pub fn payment_intent_id(&self) -> Option<&str> {
        self.payment_intent.as_ref().and_then(id_of).or_else(|| {
            self.payments
                .as_ref()?
                .data
                .iter()
                .find_map(|p| p.payment.as_ref()?.payment_intent.as_ref().and_then(id_of))
        })
    }

    /// `metadata.campaign` of the subscription, as the invoice carries it.
    pub fn campaign(&self) -> Option<&str> {
        self.parent
            .as_ref()?
            .subscription_details
            .as_ref()?
            .metadata
            .as_ref()?
            .get("campaign")?
            .as_str()
    }
}

/// `{"error": {"type", "code", "message"}}`.
#[derive(Debug, Deserialize)]
pub struct StripeErrorBody {
    pub error: StripeErrorDetail,
}

#[derive(Debug, Deserialize)]
pub struct StripeErrorDetail {
    pub code: Option<String>,
    pub message: Option<String>,
}
