//! From a Stripe event to its effect on the ledger (DESIGN §12's table).
//!
//! Events may come in any order, more than once, and long after the fact,
//! so the effect is worked out from the object's current state at Stripe
//! (a PaymentIntent is fetched with its charge and balance transaction:
//! status, method and fee at once), not from the event's snapshot alone.
//! The same handler serves the webhook and `payments stripe sync`.

use serde::de::DeserializeOwned;

use super::client::{StripeClient, StripeError};
use super::objects::{
    CheckoutSession, Dispute, Event, Invoice, PaymentIntent, Refund, Subscription,
};
use crate::domain::{
    self, CampaignName, DisputeStatus, Interval, MembershipStatus, Method, RefundReason, Status,
    Timestamp,
};
use crate::storage::memberships::SubscriptionState;
use crate::storage::processor::{
    Effect, EventRecord, Outcome, ProcessorPayment, ProcessorRefund, Source,
};
use crate::storage::{Store, StoreError};

/// Why an event could not be handled now.
#[derive(Debug, thiserror::Error)]
pub enum HandleError {
    /// The object in the event is not what Stripe documents for its type.
    #[error("the event's object is not a readable {0}")]
    Unreadable(&'static str),
    /// Stripe could not be asked for the object's current state: retry.
    #[error("{0}")]
    Stripe(StripeError),
    /// The database failed, or the event depends on one not recorded yet.
    #[error("{0}")]
    Store(StoreError),
}

impl From<StoreError> for HandleError {
    fn from(e: StoreError) -> Self {
        HandleError::Store(e)
    }
}

impl From<StripeError> for HandleError {
    fn from(e: StripeError) -> Self {
        HandleError::Stripe(e)
    }
}

/// Handles one event: records its id and its effect, once.
pub async fn handle(
    store: &Store,
    client: &StripeClient,
    event: &Event,
    source: Source,
) -> Result<Outcome, HandleError> {
    let object_id = event.object_id();
    let record = EventRecord {
        id: &event.id,
        kind: &event.kind,
        object_id: object_id.as_deref(),
        created: event.created,
        source,
    };
    if store.event_seen(&event.id).await? {
        return Ok(Outcome::Duplicate);
    }
    let effect = if event.livemode != client.mode().is_live() {
        Effect::Ignore
    } else {
        effect_of(store, client, event).await?
    };
    Ok(store.apply_event(&record, &effect).await?)
}

fn object<T: DeserializeOwned>(event: &Event, what: &'static str) -> Result<T, HandleError> {
    event.object().map_err(|_| HandleError::Unreadable(what))
}

async fn effect_of(
    store: &Store,
    client: &StripeClient,
    event: &Event,
) -> Result<Effect, HandleError> {
    match event.kind.as_str() {
        "checkout.session.completed"
        | "checkout.session.async_payment_succeeded"
        | "checkout.session.async_payment_failed" => {
            let session: CheckoutSession = object(event, "checkout session")?;
            checkout_session(client, &session).await
        }
        "payment_intent.succeeded" | "payment_intent.payment_failed" => {
            let pi: PaymentIntent = object(event, "payment intent")?;
            // A PaymentIntent the ledger has not recorded is recorded by its
            // Checkout Session's or invoice's event, from its state then.
            if store.payment_by_external_ref(&pi.id).await?.is_none() {
                return Ok(Effect::Ignore);
            }
            let current = client.payment_intent(&pi.id).await?;
            Ok(Effect::Status {
                payment_ref: pi.id.clone(),
                to: status_of(&current.status),
                fee: fee_of(&current),
            })
        }
        "charge.refunded" => {
            let charge: super::objects::Charge = object(event, "charge")?;
            let payment_ref = match charge.payment_intent {
                Some(pi) => pi,
                None => return Ok(Effect::Ignore),
            };
            let refunds = client.refunds_of_charge(&charge.id).await?;
            Ok(Effect::Refunds(
                refunds
                    .iter()
                    .filter_map(|r| processor_refund(&payment_ref, r))
                    .collect(),
            ))
        }
        "refund.created" | "refund.updated" => {
            let refund: Refund = object(event, "refund")?;
            let Some(payment_ref) =
                payment_intent_of(client, &refund.payment_intent, &refund.charge).await?
            else {
                return Ok(Effect::Ignore);
            };
            Ok(match processor_refund(&payment_ref, &refund) {
                Some(r) => Effect::Refunds(vec![r]),
                None => Effect::Ignore,
            })
        }
        "charge.dispute.created" | "charge.dispute.updated" | "charge.dispute.closed" => {
            let dispute: Dispute = object(event, "dispute")?;
            let Ok(status) = DisputeStatus::parse(&dispute.status) else {
                return Ok(Effect::Ignore);
            };
            let Some(payment_ref) =
                payment_intent_of(client, &dispute.payment_intent, &dispute.charge).await?
            else {
                return Ok(Effect::Ignore);
            };
            Ok(Effect::Dispute {
                payment_ref,
                dispute: domain::Dispute {
                    status,
                    amount: dispute.amount,
                    reason: dispute.reason.unwrap_or_default(),
                },
                at: Timestamp(event.created.saturating_mul(1_000_000)),
            })
        }
        "invoice.paid" => {
            let invoice: Invoice = object(event, "invoice")?;
            invoice_paid(client, &invoice).await
        }
        "customer.subscription.created"
        | "customer.subscription.updated"
        | "customer.subscription.deleted" => {
            let sub: Subscription = object(event, "subscription")?;
            // The current state, not the event's snapshot: events come in
            // any order. A subscription Stripe no longer has is as the
            // event shows it.
            let current = match client.subscription(&sub.id).await {
                Err(StripeError::NotFound(_)) => sub,
                other => other?,
            };
            Ok(membership_effect(&current, None))
        }
        "invoice.payment_failed" => {
            let invoice: Invoice = object(event, "invoice")?;
            let Some(sub) = invoice.subscription_id() else {
                return Ok(Effect::Ignore);
            };
            let current = client.subscription(sub).await?;
            Ok(membership_effect(&current, None))
        }
        _ => Ok(Effect::Ignore),
    }
}

/// The PaymentIntent a refund or dispute is about: named, or that of its
/// charge (fetched); none for a charge made without one.
async fn payment_intent_of(
    client: &StripeClient,
    payment_intent: &Option<String>,
    charge: &Option<String>,
) -> Result<Option<String>, HandleError> {
    Ok(match (payment_intent, charge) {
        (Some(pi), _) => Some(pi.clone()),
        (None, Some(charge)) => client.charge(charge).await?.payment_intent,
        (None, None) => None,
    })
}

async fn checkout_session(
    client: &StripeClient,
    session: &CheckoutSession,
) -> Result<Effect, HandleError> {
    // A subscription session starts a membership (its member is the
    // session's customer); its payments are the invoices (`invoice.paid`).
    if session.mode == "subscription" {
        let Some(sub) = session.subscription_id() else {
            return Ok(Effect::Ignore);
        };
        let current = client.subscription(sub).await?;
        let member = session.customer_details.as_ref().and_then(|d| {
            let email = d.email.clone().filter(|e| !e.trim().is_empty())?;
            let name = d
                .name
                .clone()
                .filter(|n| !n.trim().is_empty())
                .unwrap_or_else(|| email.clone());
            Some((email, name))
        });
        let mut effect = membership_effect(&current, member);
        if let Effect::Membership(state) = &mut effect
            && state.campaign.is_none()
        {
            state.campaign = metadata_campaign(&session.metadata);
        }
        return Ok(effect);
    }
    if session.mode != "payment" {
        return Ok(Effect::Ignore);
    }
    let Some(pi) = &session.payment_intent else {
        return Ok(Effect::Ignore);
    };
    let pi = client.payment_intent(pi.id()).await?;
    let details = session.customer_details.as_ref();
    let billing = pi
        .latest_charge
        .as_ref()
        .and_then(|c| c.object())
        .and_then(|c| c.billing_details.as_ref());
    let email = details
        .and_then(|d| d.email.clone())
        .or_else(|| billing.and_then(|b| b.email.clone()))
        .unwrap_or_default();
    let name = details
        .and_then(|d| d.name.clone())
        .or_else(|| billing.and_then(|b| b.name.clone()))
        .filter(|n| !n.trim().is_empty())
        .unwrap_or_else(|| email.clone());
    let campaign = metadata_campaign(&session.metadata);
    let currency = session.currency.as_deref().unwrap_or(&pi.currency);
    Ok(Effect::Payment(ProcessorPayment {
        external_ref: pi.id.clone(),
        amount: session.amount_total.unwrap_or(pi.amount),
        currency: currency.to_ascii_uppercase(),
        status: status_of(&pi.status),
        method: method_of(&pi),
        payer_name: name,
        payer_email: email,
        campaign,
        fee: fee_of(&pi),
        subscription: None,
        membership: None,
        created_at: Timestamp(pi.created.saturating_mul(1_000_000)),
    }))
}

async fn invoice_paid(client: &StripeClient, invoice: &Invoice) -> Result<Effect, HandleError> {
    if invoice.amount_paid <= 0 {
        return Ok(Effect::Ignore);
    }
    let pi = match invoice.payment_intent_id() {
        Some(id) => Some(client.payment_intent(id).await?),
        None => None,
    };
    let email = invoice.customer_email.clone().unwrap_or_default();
    let name = invoice
        .customer_name
        .clone()
        .filter(|n| !n.trim().is_empty())
        .unwrap_or_else(|| email.clone());
    // The membership as it is now, so that the payment can be linked to it
    // even when the subscription's own events come later.
    let membership = match invoice.subscription_id() {
        Some(sub) => {
            let member = (!email.trim().is_empty()).then(|| (email.clone(), name.clone()));
            // A subscription Stripe does not have (any more): the payment
            // is recorded all the same, and linked when its membership is.
            match client.subscription(sub).await {
                Err(StripeError::NotFound(_)) => None,
                other => match membership_effect(&other?, member) {
                    Effect::Membership(state) => Some(state),
                    _ => None,
                },
            }
        }
        None => None,
    };
    Ok(Effect::Payment(ProcessorPayment {
        external_ref: pi
            .as_ref()
            .map(|p| p.id.clone())
            .unwrap_or_else(|| invoice.id.clone()),
        amount: invoice.amount_paid,
        currency: invoice.currency.to_ascii_uppercase(),
        // The invoice is paid, whatever the PaymentIntent said when fetched.
        status: Status::Succeeded,
        method: pi.as_ref().map(method_of).unwrap_or(Method::Other),
        payer_name: name,
        payer_email: email,
        campaign: invoice.campaign().and_then(campaign_name),
        fee: pi.as_ref().and_then(fee_of),
        subscription: invoice.subscription_id().map(str::to_owned),
        membership,
        created_at: Timestamp(invoice.created.saturating_mul(1_000_000)),
    }))
}

fn metadata_campaign(metadata: &Option<serde_json::Value>) -> Option<String> {
    metadata
        .as_ref()
        .and_then(|m| m.get("campaign"))
        .and_then(|c| c.as_str())
        .and_then(campaign_name)
}

/// The membership a subscription is now: its first item's price is the
/// gift (times its quantity), its interval the renewal. A subscription this
/// ledger cannot read as a membership (no price, an interval other than a
/// month or a year, a status Stripe added later) changes nothing.
pub fn membership_effect(sub: &Subscription, member: Option<(String, String)>) -> Effect {
    let Some(item) = sub.items.data.first() else {
        return Effect::Ignore;
    };
    let Some(price) = &item.price else {
        return Effect::Ignore;
    };
    let interval = match price.recurring.as_ref() {
        Some(r) if r.interval == "month" && r.interval_count == 1 => Interval::Month,
        Some(r) if r.interval == "year" && r.interval_count == 1 => Interval::Year,
        Some(r) if r.interval == "month" && r.interval_count == 12 => Interval::Year,
        _ => return Effect::Ignore,
    };
    let (Some(unit), Some(status)) = (
        price.unit_amount,
        MembershipStatus::from_subscription(&sub.status),
    ) else {
        return Effect::Ignore;
    };
    let seconds = |s: i64| Timestamp(s.saturating_mul(1_000_000));
    Effect::Membership(SubscriptionState {
        external_ref: sub.id.clone(),
        amount: unit.saturating_mul(item.quantity.unwrap_or(1).max(1)),
        currency: price.currency.to_ascii_uppercase(),
        interval,
        status,
        campaign: metadata_campaign(&sub.metadata),
        cancel_at_period_end: sub.cancel_at_period_end,
        started_at: seconds(sub.start_date.unwrap_or(sub.created)),
        canceled_at: sub.canceled_at.map(seconds),
        current_period_end: item.current_period_end.map(seconds),
        member,
    })
}

/// A campaign name the ledger can store, or none.
fn campaign_name(c: &str) -> Option<String> {
    CampaignName::parse(c).ok().map(|c| c.to_string())
}

/// The ledger's status of a payment whose PaymentIntent is in `status`.
/// Only called once the reader has completed Checkout, so a PaymentIntent
/// back at `requires_payment_method` is a payment that failed.
pub fn status_of(status: &str) -> Status {
    match status {
        "succeeded" => Status::Succeeded,
        "requires_payment_method" | "canceled" => Status::Failed,
        _ => Status::Pending,
    }
}

/// The method, from the latest charge's payment method type.
pub fn method_of(pi: &PaymentIntent) -> Method {
    let kind = pi
        .latest_charge
        .as_ref()
        .and_then(|c| c.object())
        .and_then(|c| c.payment_method_details.as_ref())
        .map(|d| d.kind.as_str());
    match kind {
        Some("card" | "link") => Method::Card,
        Some("us_bank_account") => Method::Ach,
        Some("paypal") => Method::Paypal,
        _ => Method::Other,
    }
}

/// The processor's fee, once the charge has a balance transaction.
fn fee_of(pi: &PaymentIntent) -> Option<i64> {
    let charge = pi.latest_charge.as_ref()?.object()?;
    Some(charge.balance_transaction.as_ref()?.object()?.fee)
}

fn processor_refund(payment_ref: &str, r: &Refund) -> Option<ProcessorRefund> {
    if r.status.as_deref() != Some("succeeded") {
        return None;
    }
    let reason = match r.reason.as_deref() {
        Some("duplicate") => RefundReason::Duplicate,
        Some("fraudulent") => RefundReason::Fraudulent,
        Some("requested_by_customer") => RefundReason::RequestedByCustomer,
        _ => RefundReason::Other,
    };
    Some(ProcessorRefund {
        payment_ref: payment_ref.to_owned(),
        refund_ref: r.id.clone(),
        amount: r.amount,
        reason,
        created_at: Timestamp(r.created.saturating_mul(1_000_000)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pi(kind: Option<&str>) -> PaymentIntent {
        let charge = kind.map(|k| {
            serde_json::json!({"id": "ch_1", "amount": 100, "currency": "usd",
                "payment_method_details": {"type": k},
                "balance_transaction": {"id": "txn_1", "amount": 100, "fee": 33,
                    "currency": "usd", "created": 1, "type": "charge"}})
        });
        serde_json::from_value(serde_json::json!({
            "id": "pi_1", "amount": 100, "currency": "usd", "status": "succeeded",
            "created": 1, "latest_charge": charge,
        }))
        .unwrap()
    }

    #[test]
    fn methods_follow_the_charge() {
        assert_eq!(method_of(&pi(Some("card"))), Method::Card);
        assert_eq!(method_of(&pi(Some("link"))), Method::Card);
        assert_eq!(method_of(&pi(Some("us_bank_account"))), Method::Ach);
        assert_eq!(method_of(&pi(Some("paypal"))), Method::Paypal);
        assert_eq!(method_of(&pi(Some("sepa_debit"))), Method::Other);
        assert_eq!(method_of(&pi(None)), Method::Other);
        assert_eq!(fee_of(&pi(Some("card"))), Some(33));
        assert_eq!(fee_of(&pi(None)), None);
    }

    #[test]
    fn statuses_follow_the_payment_intent() {
        assert_eq!(status_of("succeeded"), Status::Succeeded);
        assert_eq!(status_of("processing"), Status::Pending);
        assert_eq!(status_of("requires_payment_method"), Status::Failed);
        assert_eq!(status_of("canceled"), Status::Failed);
    }

    #[test]
    fn only_succeeded_refunds_count() {
        let r = |status: &str| Refund {
            id: "re_1".into(),
            amount: 10,
            currency: "usd".into(),
            status: Some(status.into()),
            payment_intent: Some("pi_1".into()),
            charge: None,
            reason: Some("requested_by_customer".into()),
            created: 2,
        };
        assert!(processor_refund("pi_1", &r("pending")).is_none());
        assert!(processor_refund("pi_1", &r("failed")).is_none());
        let counted = processor_refund("pi_1", &r("succeeded")).unwrap();
        assert_eq!(counted.reason, RefundReason::RequestedByCustomer);
        assert_eq!(counted.created_at, Timestamp(2_000_000));
    }
}
