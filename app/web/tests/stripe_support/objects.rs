//! Stripe objects for tests, each built from Stripe's own example object in
//! `tests/fixtures/stripe/` with only the fields a test sets overridden (plus
//! the few fields Stripe always keeps consistent with them, named per
//! builder). Every other field keeps the fixture's value and shape.

use serde_json::{Value, json};

fn fixture(text: &str) -> Value {
    serde_json::from_str(text).expect("a Stripe fixture is valid JSON")
}

/// Sets `path` (keys separated by `/`) in `object`, which must exist up to
/// the last key's parent.
fn set(object: &mut Value, path: &str, value: impl Into<Value>) {
    let target = object
        .pointer_mut(&format!("/{path}"))
        .unwrap_or_else(|| panic!("the fixture has no field {path}"));
    *target = value.into();
}

/// A PaymentIntent. Also keeps `amount_received` (the amount when
/// `status` is `succeeded`, else 0) and `client_secret` (starts with the id)
/// consistent.
pub fn payment_intent(
    id: &str,
    amount: i64,
    currency_lower: &str,
    status: &str,
    latest_charge: Option<&str>,
) -> Value {
    let mut pi = fixture(include_str!("../fixtures/stripe/payment_intent.json"));
    set(&mut pi, "id", id);
    set(&mut pi, "amount", amount);
    set(&mut pi, "currency", currency_lower);
    set(&mut pi, "status", status);
    set(&mut pi, "latest_charge", latest_charge);
    set(
        &mut pi,
        "amount_received",
        if status == "succeeded" { amount } else { 0 },
    );
    set(&mut pi, "client_secret", format!("{id}_secret_test"));
    pi
}

/// A charge, captured, for `amount`. `payment_method_details` holds
/// `type` and the one sub-object of that name: the fixture's own for
/// `card`; for other types an empty object, since the fixture has no example
/// of them to copy.
pub fn charge(
    id: &str,
    payment_intent: &str,
    amount: i64,
    currency: &str,
    payment_method_type: &str,
    balance_transaction: Option<&str>,
) -> Value {
    let mut ch = fixture(include_str!("../fixtures/stripe/charge.json"));
    set(&mut ch, "id", id);
    set(&mut ch, "payment_intent", payment_intent);
    set(&mut ch, "amount", amount);
    set(&mut ch, "amount_captured", amount);
    set(&mut ch, "captured", true);
    set(&mut ch, "currency", currency);
    set(&mut ch, "balance_transaction", balance_transaction);
    set(&mut ch, "refunds/url", format!("/v1/charges/{id}/refunds"));
    let details = &mut ch["payment_method_details"];
    let sub = if payment_method_type == "card" {
        details["card"].take()
    } else {
        json!({})
    };
    let mut replaced = serde_json::Map::new();
    replaced.insert("type".into(), payment_method_type.into());
    replaced.insert(payment_method_type.into(), sub);
    *details = Value::Object(replaced);
    ch
}

/// A balance transaction: `kind` is its `type` (`charge`, `refund`,
/// `adjustment` for disputes), `reporting_category` follows it (`charge`,
/// `refund`, `dispute`), `net` is `amount - fee`, and a non-zero fee is one
/// `stripe_fee` entry in `fee_details`.
pub fn balance_transaction(
    id: &str,
    source: &str,
    kind: &str,
    amount: i64,
    fee: i64,
    currency: &str,
    created: i64,
) -> Value {
    let mut txn = fixture(include_str!("../fixtures/stripe/balance_transaction.json"));
    set(&mut txn, "id", id);
    set(&mut txn, "source", source);
    set(&mut txn, "type", kind);
    let category = match kind {
        "adjustment" => "dispute",
        other => other,
    };
    set(&mut txn, "reporting_category", category);
    set(&mut txn, "amount", amount);
    set(&mut txn, "fee", fee);
    set(&mut txn, "net", amount - fee);
    set(&mut txn, "currency", currency);
    set(&mut txn, "created", created);
    let fee_details = if fee == 0 {
        json!([])
    } else {
        json!([{
            "amount": fee,
            "application": null,
            "currency": currency,
            "description": "Stripe processing fees",
            "type": "stripe_fee",
        }])
    };
    set(&mut txn, "fee_details", fee_details);
    txn
}

/// A completed Checkout Session in `mode` `payment` (`status` `complete`,
/// `url` null as Stripe leaves it once complete; `amount_subtotal` equals
/// `amount_total`). `metadata.campaign` is set only when `campaign` is given.
#[allow(clippy::too_many_arguments)]
pub fn checkout_session(
    id: &str,
    payment_intent: &str,
    amount_total: i64,
    currency: &str,
    payment_status: &str,
    name: Option<&str>,
    email: &str,
    campaign: Option<&str>,
) -> Value {
    let mut cs = fixture(include_str!("../fixtures/stripe/checkout_session.json"));
    set(&mut cs, "id", id);
    set(&mut cs, "mode", "payment");
    set(&mut cs, "status", "complete");
    set(&mut cs, "url", Value::Null);
    set(&mut cs, "payment_intent", payment_intent);
    set(&mut cs, "amount_total", amount_total);
    set(&mut cs, "amount_subtotal", amount_total);
    set(&mut cs, "currency", currency);
    set(&mut cs, "payment_status", payment_status);
    set(&mut cs, "customer_details/name", name);
    set(&mut cs, "customer_details/email", email);
    if let Some(campaign) = campaign {
        cs["metadata"]["campaign"] = campaign.into();
    }
    cs
}

/// A refund.
pub fn refund(id: &str, payment_intent: &str, charge: &str, amount: i64, status: &str) -> Value {
    let mut re = fixture(include_str!("../fixtures/stripe/refund.json"));
    set(&mut re, "id", id);
    set(&mut re, "payment_intent", payment_intent);
    set(&mut re, "charge", charge);
    set(&mut re, "amount", amount);
    set(&mut re, "status", status);
    re
}

/// A dispute (`status` e.g. `needs_response`, `won`, `lost`; `reason` e.g.
/// `fraudulent`).
pub fn dispute(
    id: &str,
    charge: &str,
    payment_intent: &str,
    amount: i64,
    status: &str,
    reason: &str,
) -> Value {
    let mut du = fixture(include_str!("../fixtures/stripe/dispute.json"));
    set(&mut du, "id", id);
    set(&mut du, "charge", charge);
    set(&mut du, "payment_intent", payment_intent);
    set(&mut du, "amount", amount);
    set(&mut du, "status", status);
    set(&mut du, "reason", reason);
    du
}

/// A paid subscription invoice (`status` `paid`, `amount_due` =
/// `amount_paid`, `amount_remaining` 0; `customer_email`, `customer_name`).
///
/// Where the ids go: the fixture's API version (2025-03-31 and later) names
/// the subscription in `parent.subscription_details.subscription` (with
/// `parent.type` `subscription_details`) and the PaymentIntent in
/// `payments.data[].payment.payment_intent` (an `invoice_payment` from its
/// fixture). Both are set there, and also at the top level (`subscription`,
/// `payment_intent`) where earlier API versions put them.
pub fn invoice(
    id: &str,
    subscription: &str,
    payment_intent: Option<&str>,
    amount_paid: i64,
    currency: &str,
    email: &str,
    name: &str,
) -> Value {
    let mut inv = fixture(include_str!("../fixtures/stripe/invoice.json"));
    set(&mut inv, "id", id);
    set(&mut inv, "status", "paid");
    set(&mut inv, "amount_paid", amount_paid);
    set(&mut inv, "amount_due", amount_paid);
    set(&mut inv, "amount_remaining", 0);
    set(&mut inv, "currency", currency);
    set(&mut inv, "customer_email", email);
    set(&mut inv, "customer_name", name);
    set(&mut inv, "subscription", subscription);
    set(&mut inv, "parent/type", "subscription_details");
    set(&mut inv, "parent/quote_details", Value::Null);
    set(
        &mut inv,
        "parent/subscription_details/subscription",
        subscription,
    );
    set(&mut inv, "lines/url", format!("/v1/invoices/{id}/lines"));
    for line in inv["lines"]["data"].as_array_mut().into_iter().flatten() {
        line["invoice"] = id.into();
    }
    inv["payment_intent"] = payment_intent.into();
    let mut payments = Vec::new();
    if let Some(pi) = payment_intent {
        let mut ip = fixture(include_str!("../fixtures/stripe/invoice_payment.json"));
        set(
            &mut ip,
            "id",
            format!("inpay_{}", id.trim_start_matches("in_")),
        );
        set(&mut ip, "invoice", id);
        set(&mut ip, "amount_paid", amount_paid);
        set(&mut ip, "amount_requested", amount_paid);
        set(&mut ip, "currency", currency);
        set(&mut ip, "status", "paid");
        // The fixture's `payment` has only `type` (`payment_intent`); the id
        // goes beside it, in the field of that name.
        ip["payment"]["payment_intent"] = pi.into();
        payments.push(ip);
    }
    inv["payments"] = json!({
        "object": "list",
        "data": payments,
        "has_more": false,
        "url": format!("/v1/invoices/{id}/payments"),
    });
    inv
}

/// A subscription with one item whose price (and legacy `plan`) is `amount`
/// in `currency` every one `interval` (`month`, `year`). The period end is
/// on the item, where the fixture's API version keeps it. Not set to be
/// cancelled: `cancel_at_period_end` false, `cancel_at` null, and
/// `canceled_at`/`ended_at` null unless `status` is `canceled`.
pub fn subscription(
    id: &str,
    customer: &str,
    status: &str,
    amount: i64,
    currency: &str,
    interval: &str,
    current_period_end: i64,
) -> Value {
    let mut sub = fixture(include_str!("../fixtures/stripe/subscription.json"));
    set(&mut sub, "id", id);
    set(&mut sub, "customer", customer);
    set(&mut sub, "status", status);
    set(&mut sub, "currency", currency);
    set(&mut sub, "cancel_at_period_end", false);
    set(&mut sub, "cancel_at", Value::Null);
    if status != "canceled" {
        set(&mut sub, "canceled_at", Value::Null);
        set(&mut sub, "ended_at", Value::Null);
    }
    set(
        &mut sub,
        "items/url",
        format!("/v1/subscription_items?subscription={id}"),
    );
    let item = &mut sub["items"]["data"][0];
    set(item, "subscription", id);
    set(item, "current_period_end", current_period_end);
    set(item, "price/unit_amount", amount);
    set(item, "price/unit_amount_decimal", amount.to_string());
    set(item, "price/currency", currency);
    set(item, "price/recurring/interval", interval);
    set(item, "plan/amount", amount);
    set(item, "plan/amount_decimal", amount.to_string());
    set(item, "plan/currency", currency);
    set(item, "plan/interval", interval);
    set(item, "plan/interval_count", 1);
    sub
}

/// An event carrying `object` as `data.object`; `api_version`, `request` and
/// `pending_webhooks` are the fixture's.
pub fn event(id: &str, kind: &str, created: i64, livemode: bool, object: Value) -> Value {
    let mut evt = fixture(include_str!("../fixtures/stripe/event.json"));
    set(&mut evt, "id", id);
    set(&mut evt, "type", kind);
    set(&mut evt, "created", created);
    set(&mut evt, "livemode", livemode);
    set(&mut evt, "data/object", object);
    evt
}
