//! Checkout Sessions in [`FakeStripe`](super::FakeStripe): creation
//! (`POST /v1/checkout/sessions`, form-encoded), the page its `url` points
//! at (`GET /c/pay/{id}`, a stand-in for Checkout's own page), and
//! completing a session as a reader paying would.

use serde_json::{Map, Value, json};

use super::server::{Inner, Recorded, Reply, first, invalid, now, random_id};

/// The parameters this fake knows; anything else is refused as Stripe does.
fn known(name: &str) -> bool {
    [
        "mode",
        "submit_type",
        "success_url",
        "cancel_url",
        "customer_email",
        "client_reference_id",
    ]
    .contains(&name)
        || [
            "line_items[",
            "metadata[",
            "payment_intent_data[",
            "subscription_data[",
            "expand[",
        ]
        .iter()
        .any(|p| name.starts_with(p))
}

/// `metadata[key]=value` pairs under `prefix` as a JSON object.
fn metadata(form: &[(String, String)], prefix: &str) -> Map<String, Value> {
    form.iter()
        .filter_map(|(name, value)| {
            let key = name
                .strip_prefix(prefix)?
                .strip_prefix('[')?
                .strip_suffix(']')?;
            Some((key.to_owned(), Value::from(value.as_str())))
        })
        .collect()
}

/// `POST /v1/checkout/sessions`: one line item with inline `price_data`
/// (`currency`, `unit_amount`, `product_data[name]`, and
/// `recurring[interval]` in subscription mode), `mode`, the URLs and
/// metadata. The session is built from Stripe's example object, `open` and
/// `unpaid`, its `url` on this fake (`<base>/c/pay/<id>`), and stored so
/// that `GET /v1/checkout/sessions/{id}` answers it.
pub(super) fn create(inner: &mut Inner, req: &Recorded) -> Reply {
    let f = &req.form;
    for (name, _) in f {
        if !known(name) {
            return invalid(
                None,
                format!("Received unknown parameter: {name}"),
                Some(name),
            );
        }
    }
    let mode = first(f, "mode").unwrap_or("");
    if !["payment", "subscription", "setup"].contains(&mode) {
        let message =
            format!("Invalid mode: must be one of payment, setup, or subscription (got {mode:?})");
        return invalid(None, message, Some("mode"));
    }
    let item = |field: &str| first(f, &format!("line_items[0][{field}]"));
    let Some(currency) = item("price_data][currency") else {
        let message = "Missing required param: line_items[0][price_data][currency].";
        return invalid(
            Some("parameter_missing"),
            message.into(),
            Some("line_items"),
        );
    };
    if currency.len() != 3 || currency.bytes().any(|b| !b.is_ascii_lowercase()) {
        let message = format!("Invalid currency: {currency}.");
        return invalid(None, message, Some("line_items[0][price_data][currency]"));
    }
    let int = |field: &str| -> Result<i64, Reply> {
        let text = item(field).unwrap_or("1");
        text.parse::<i64>().ok().filter(|n| *n >= 0).ok_or_else(|| {
            invalid(
                Some("parameter_invalid_integer"),
                format!("Invalid integer: {text}"),
                Some("line_items"),
            )
        })
    };
    let (unit_amount, quantity) = match (int("price_data][unit_amount"), int("quantity")) {
        (Ok(a), Ok(q)) => (a, q),
        (Err(reply), _) | (_, Err(reply)) => return reply,
    };
    let recurring = item("price_data][recurring][interval");
    if let Some(interval) = recurring
        && !["day", "week", "month", "year"].contains(&interval)
    {
        let message =
            format!("Invalid interval: must be one of day, month, week, or year (got {interval})");
        return invalid(
            None,
            message,
            Some("line_items[0][price_data][recurring][interval]"),
        );
    }
    let refusal = match mode {
        "subscription" if recurring.is_none() => Some(
            "You must provide at least one recurring price in `subscription` mode when using prices.",
        ),
        "payment" if recurring.is_some() => Some(
            "You specified `payment` mode but passed a recurring price. Either switch to \
             `subscription` mode or use only one-time prices.",
        ),
        "subscription" if first(f, "submit_type").is_some() => {
            Some("`submit_type` can only be used in `payment` mode.")
        }
        "subscription" if f.iter().any(|(k, _)| k.starts_with("payment_intent_data[")) => {
            Some("`payment_intent_data` can only be used in `payment` mode.")
        }
        "payment" if f.iter().any(|(k, _)| k.starts_with("subscription_data[")) => {
            Some("`subscription_data` can only be used in `subscription` mode.")
        }
        _ => None,
    };
    if let Some(message) = refusal {
        return invalid(None, message.into(), None);
    }
    let id = random_id("cs_test_");
    let mut cs: Value =
        serde_json::from_str(include_str!("../fixtures/stripe/checkout_session.json"))
            .expect("a Stripe fixture is valid JSON");
    let total = unit_amount * quantity;
    cs["id"] = id.clone().into();
    cs["url"] = format!("{}/c/pay/{id}", inner.base).into();
    cs["mode"] = mode.into();
    cs["status"] = "open".into();
    cs["payment_status"] = "unpaid".into();
    cs["amount_subtotal"] = total.into();
    cs["amount_total"] = total.into();
    cs["currency"] = currency.into();
    cs["created"] = now().into();
    cs["expires_at"] = (now() + 24 * 3600).into();
    cs["livemode"] = false.into();
    cs["success_url"] = first(f, "success_url").into();
    cs["cancel_url"] = first(f, "cancel_url").into();
    cs["submit_type"] = first(f, "submit_type").into();
    cs["metadata"] = Value::Object(metadata(f, "metadata"));
    cs["customer_email"] = first(f, "customer_email").into();
    // Until the reader pays, Checkout knows nothing of them.
    cs["customer_details"] = Value::Null;
    cs["payment_intent"] = Value::Null;
    cs["subscription"] = Value::Null;
    inner.put(cs.clone());
    Reply::ok(cs)
}

/// The stored session as a reader who paid leaves it: `complete`, `paid`,
/// their email in `customer_details`, `url` null; a PaymentIntent id for a
/// payment, a subscription id for a subscription.
pub(super) fn complete(session: &mut Value, email: &str) {
    session["status"] = "complete".into();
    session["payment_status"] = "paid".into();
    session["url"] = Value::Null;
    session["customer_details"] = json!({
        "address": null, "email": email, "name": null, "phone": null,
        "tax_exempt": "none", "tax_ids": [], "business_name": null, "individual_name": null,
    });
    if session["mode"] == "subscription" {
        session["subscription"] = random_id("sub_").into();
    } else {
        session["payment_intent"] = random_id("pi_").into();
    }
}

/// Checkout's page, as far as a test needs one: the amount and two links,
/// back to `cancel_url` and on to `success_url` (as if paid).
pub(super) fn page(inner: &Inner, id: &str) -> Option<String> {
    let session = inner.get(id)?;
    let escape = |s: &str| {
        s.replace('&', "&amp;")
            .replace('"', "&quot;")
            .replace('<', "&lt;")
    };
    let success = session["success_url"]
        .as_str()
        .unwrap_or("")
        .replace("{CHECKOUT_SESSION_ID}", id);
    Some(format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Fake Checkout</title></head>\
         <body><main><h1>Fake Checkout</h1><p id=\"amount\">{} {}</p><p id=\"mode\">{}</p>\
         <p><a id=\"cancel\" href=\"{}\">Back</a> <a id=\"success\" href=\"{}\">Pay</a></p></main></body></html>",
        session["amount_total"],
        session["currency"].as_str().unwrap_or(""),
        session["mode"].as_str().unwrap_or(""),
        escape(session["cancel_url"].as_str().unwrap_or("")),
        escape(&success),
    ))
}
