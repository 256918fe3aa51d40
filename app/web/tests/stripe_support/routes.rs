//! The routes [`FakeStripe`](super::FakeStripe) answers once a request is
//! authorised: retrieval with `expand[]`, lists, refund and Checkout
//! Session creation, and cancelling a subscription.

use serde_json::{Map, Value, json};

use super::server::{
    Inner, Recorded, Reply, error, first, invalid, kind_of, missing, now, random_id,
};

/// The objects `GET /v1/<collection>/{id}` retrieves.
const RETRIEVE: &[(&str, &str)] = &[
    ("payment_intents", "payment_intent"),
    ("charges", "charge"),
    ("balance_transactions", "balance_transaction"),
    ("refunds", "refund"),
    ("disputes", "dispute"),
    ("checkout/sessions", "checkout.session"),
    ("invoices", "invoice"),
    ("subscriptions", "subscription"),
    ("events", "event"),
];

pub(super) fn route(inner: &mut Inner, req: &Recorded) -> Reply {
    let rest = req.path.strip_prefix("/v1/").unwrap_or("");
    match (req.method.as_str(), rest) {
        ("GET", "events") => list(inner, req, "event", &["type", "types[]"]),
        ("GET", "balance_transactions") => {
            list(inner, req, "balance_transaction", &["type", "source"])
        }
        ("GET", "refunds") => list(inner, req, "refund", &["charge", "payment_intent"]),
        ("POST", "refunds") => create_refund(inner, req),
        ("POST", "checkout/sessions") => super::checkout::create(inner, req),
        ("DELETE", _) => match rest
            .strip_prefix("subscriptions/")
            .filter(|id| !id.is_empty() && !id.contains('/'))
        {
            Some(id) => cancel_subscription(inner, req, id),
            None => unrecognized(req),
        },
        ("GET", _) => {
            for (collection, kind) in RETRIEVE {
                let id = rest
                    .strip_prefix(collection)
                    .and_then(|r| r.strip_prefix('/'))
                    .filter(|id| !id.is_empty() && !id.contains('/'));
                if let Some(id) = id {
                    return retrieve(inner, req, kind, id);
                }
            }
            unrecognized(req)
        }
        _ => unrecognized(req),
    }
}

fn unrecognized(req: &Recorded) -> Reply {
    let message = format!(
        "Unrecognized request URL ({}: {}). Please see https://stripe.com/docs or we can help \
         at https://support.stripe.com/.",
        req.method, req.path
    );
    error(404, "invalid_request_error", None, message, None)
}

fn expansions(req: &Recorded) -> Vec<String> {
    req.query
        .iter()
        .chain(&req.form)
        .filter(|(k, _)| {
            k.strip_prefix("expand[")
                .and_then(|r| r.strip_suffix(']'))
                .is_some_and(|i| i.chars().all(|c| c.is_ascii_digit()))
        })
        .map(|(_, v)| v.clone())
        .collect()
}

fn is_expand(name: &str) -> bool {
    name.starts_with("expand[")
}

/// Applies every `expand[]` of `req` to `value`, or answers Stripe's 400.
fn expand_all(inner: &Inner, req: &Recorded, mut value: Value) -> Reply {
    for path in expansions(req) {
        let segments: Vec<&str> = path.split('.').collect();
        if !expand(inner, &mut value, &segments) {
            let message = format!("This property cannot be expanded ({path}).");
            return invalid(None, message, Some("expand"));
        }
    }
    Reply::ok(value)
}

/// Replaces the id in the field `path[0]` of `value` (or of each element of
/// an array) with the stored object, then goes on along the rest of `path`.
fn expand(inner: &Inner, value: &mut Value, path: &[&str]) -> bool {
    let Some((field, rest)) = path.split_first() else {
        return true;
    };
    match value {
        Value::Array(items) => items.iter_mut().all(|item| expand(inner, item, path)),
        Value::Object(map) => {
            let Some(target) = map.get_mut(*field) else {
                return false;
            };
            let inline = |v: &mut Value| {
                if let Some(found) = v.as_str().and_then(|id| inner.get(id)) {
                    *v = found.clone();
                }
            };
            match &mut *target {
                Value::Array(items) => items.iter_mut().for_each(inline),
                other => inline(other),
            }
            match target {
                // An id of an object not stored stays an id.
                Value::Null => true,
                Value::String(id) => looks_like_id(id),
                Value::Object(_) | Value::Array(_) => expand(inner, target, rest),
                _ => false,
            }
        }
        _ => false,
    }
}

fn looks_like_id(text: &str) -> bool {
    text.split_once('_').is_some_and(|(prefix, rest)| {
        !prefix.is_empty() && !rest.is_empty() && prefix.bytes().all(|b| b.is_ascii_lowercase())
    })
}

fn retrieve(inner: &Inner, req: &Recorded, kind: &str, id: &str) -> Reply {
    match inner.get(id) {
        Some(found) if kind_of(id) == Some(kind) => expand_all(inner, req, found.clone()),
        _ => missing(kind, id, "id"),
    }
}

fn parse_int(pairs: &[(String, String)], name: &str) -> Result<Option<i64>, Reply> {
    match first(pairs, name) {
        None => Ok(None),
        Some(text) => text.parse().map(Some).map_err(|_| {
            invalid(
                Some("parameter_invalid_integer"),
                format!("Invalid integer: {text}"),
                Some(name),
            )
        }),
    }
}

/// A Stripe list of stored objects of `kind`: `limit` (1 to 100, default
/// 10), `starting_after`, `ending_before`, `created[gt|gte|lt|lte]` and
/// `created`, plus `filters` compared with the object's field of that name
/// (`types[]` matching any of its values against `type`; a `type` ending in
/// `*` matches a prefix). Any other parameter is refused, as Stripe does.
fn list(inner: &Inner, req: &Recorded, kind: &str, filters: &[&str]) -> Reply {
    const PAGING: &[&str] = &["limit", "starting_after", "ending_before"];
    type Bound = fn(i64, i64) -> bool;
    const CREATED: &[(&str, Bound)] = &[
        ("created", |c, v| c == v),
        ("created[gt]", |c, v| c > v),
        ("created[gte]", |c, v| c >= v),
        ("created[lt]", |c, v| c < v),
        ("created[lte]", |c, v| c <= v),
    ];
    let q = &req.query;
    for (name, _) in q {
        let known = PAGING.contains(&name.as_str())
            || CREATED.iter().any(|(n, _)| n == name)
            || filters.contains(&name.as_str())
            || is_expand(name);
        if !known {
            return invalid(
                None,
                format!("Received unknown parameter: {name}"),
                Some(name),
            );
        }
    }
    let limit = match parse_int(q, "limit") {
        Ok(limit) => limit.unwrap_or(10),
        Err(reply) => return reply,
    };
    if !(1..=100).contains(&limit) {
        let message =
            "This value must be greater than or equal to 1 and less than or equal to 100.";
        return invalid(
            Some("parameter_invalid_integer"),
            message.into(),
            Some("limit"),
        );
    }
    let mut bounds = Vec::new();
    for (name, test) in CREATED {
        match parse_int(q, name) {
            Ok(Some(bound)) => bounds.push((*test, bound)),
            Ok(None) => {}
            Err(reply) => return reply,
        }
    }
    let wanted: Vec<(&str, Vec<&str>)> = filters
        .iter()
        .map(|name| {
            let field = if *name == "types[]" { "type" } else { name };
            let values = q.iter().filter(|(k, _)| k == name).map(|(_, v)| v.as_str());
            (field, values.collect::<Vec<_>>())
        })
        .filter(|(_, values)| !values.is_empty())
        .collect();
    let keep = |o: &&Value| {
        let created = o["created"].as_i64().unwrap_or(0);
        bounds.iter().all(|(test, bound)| test(created, *bound))
            && wanted.iter().all(|(field, values)| {
                let have = match &o[*field] {
                    Value::Object(inline) => inline.get("id").and_then(Value::as_str),
                    other => other.as_str(),
                };
                have.is_some_and(|h| {
                    values.iter().any(|w| match w.strip_suffix('*') {
                        Some(prefix) => h.starts_with(prefix),
                        None => h == *w,
                    })
                })
            })
    };
    // Cursors are positions in the whole list, so a cursor object that the
    // filters leave out still works (Stripe pages by the object's place).
    let all = inner.list(kind);
    let cursor = |param: &str| -> Result<Option<usize>, Reply> {
        match first(q, param) {
            None => Ok(None),
            Some(id) => match all.iter().position(|o| o["id"] == id) {
                Some(at) => Ok(Some(at)),
                None => Err(invalid(
                    Some("resource_missing"),
                    format!("No such {kind}: '{id}'"),
                    Some(param),
                )),
            },
        }
    };
    let limit = limit as usize;
    let (page, has_more): (Vec<&Value>, bool) =
        match (cursor("starting_after"), cursor("ending_before")) {
            (Err(reply), _) | (_, Err(reply)) => return reply,
            (Ok(Some(after)), _) => {
                let rest: Vec<&Value> = all[after + 1..].iter().copied().filter(keep).collect();
                let more = rest.len() > limit;
                (rest.into_iter().take(limit).collect(), more)
            }
            (Ok(None), Ok(Some(before))) => {
                let rest: Vec<&Value> = all[..before].iter().copied().filter(keep).collect();
                let from = rest.len().saturating_sub(limit);
                (rest[from..].to_vec(), from > 0)
            }
            (Ok(None), Ok(None)) => {
                let rest: Vec<&Value> = all.iter().copied().filter(keep).collect();
                let more = rest.len() > limit;
                (rest.into_iter().take(limit).collect(), more)
            }
        };
    let data: Vec<Value> = page.into_iter().cloned().collect();
    let url = format!("/v1/{}", req.path.trim_start_matches("/v1/"));
    let body = json!({ "object": "list", "data": data, "has_more": has_more, "url": url });
    expand_all(inner, req, body)
}

/// `POST /v1/refunds` (`payment_intent` or `charge`, optional `amount`,
/// `reason`, `metadata[…]`): refunds part or all of what remains of a
/// succeeded PaymentIntent's amount, on its latest charge. What remains is
/// the amount minus the stored refunds for it that are `succeeded` or
/// `pending` (Stripe holds a pending refund's amount too).
fn create_refund(inner: &mut Inner, req: &Recorded) -> Reply {
    let f = &req.form;
    for (name, _) in f {
        let known = ["payment_intent", "charge", "amount", "reason"].contains(&name.as_str())
            || name.starts_with("metadata[")
            || is_expand(name);
        if !known {
            return invalid(
                None,
                format!("Received unknown parameter: {name}"),
                Some(name),
            );
        }
    }
    let pi_id = match (first(f, "payment_intent"), first(f, "charge")) {
        (Some(pi), _) => pi.to_owned(),
        (None, Some(ch)) => match inner.get(ch).filter(|_| kind_of(ch) == Some("charge")) {
            Some(charge) => charge["payment_intent"]
                .as_str()
                .unwrap_or_default()
                .to_owned(),
            None => {
                return invalid(
                    Some("resource_missing"),
                    format!("No such charge: '{ch}'"),
                    Some("charge"),
                );
            }
        },
        (None, None) => {
            let message = "One of the following params should be provided for this request: payment_intent or charge.";
            return invalid(
                Some("parameter_missing"),
                message.into(),
                Some("payment_intent"),
            );
        }
    };
    let Some(pi) = inner
        .get(&pi_id)
        .filter(|_| kind_of(&pi_id) == Some("payment_intent"))
        .cloned()
    else {
        let message = format!("No such payment_intent: '{pi_id}'");
        return invalid(Some("resource_missing"), message, Some("payment_intent"));
    };
    let charge_id = match &pi["latest_charge"] {
        Value::Object(charge) => charge.get("id").and_then(Value::as_str).map(str::to_owned),
        other => other.as_str().map(str::to_owned),
    };
    let Some(charge_id) = charge_id.filter(|_| pi["status"] == "succeeded") else {
        let message =
            format!("This PaymentIntent ({pi_id}) does not have a successful charge to refund.");
        return invalid(
            Some("payment_intent_unexpected_state"),
            message,
            Some("payment_intent"),
        );
    };
    let total = pi["amount"].as_i64().unwrap_or(0);
    let refunded: i64 = inner
        .list("refund")
        .iter()
        .filter(|r| r["payment_intent"] == pi_id.as_str())
        .filter(|r| r["status"] == "succeeded" || r["status"] == "pending")
        .filter_map(|r| r["amount"].as_i64())
        .sum();
    let remaining = total - refunded;
    if remaining <= 0 {
        let message = format!("Charge {charge_id} has already been refunded.");
        return invalid(Some("charge_already_refunded"), message, None);
    }
    let amount = match parse_int(f, "amount") {
        Ok(amount) => amount.unwrap_or(remaining),
        Err(reply) => return reply,
    };
    if amount < 1 {
        let message = "This value must be greater than or equal to 1.";
        return invalid(
            Some("parameter_invalid_integer"),
            message.into(),
            Some("amount"),
        );
    }
    if amount > remaining {
        let message = format!(
            "Refund amount ({amount}) is greater than the amount that remains unrefunded on \
             charge {charge_id} ({remaining}), in the currency's smallest unit."
        );
        return invalid(Some("amount_too_large"), message, Some("amount"));
    }
    let reason = first(f, "reason");
    if let Some(reason) = reason
        && !["duplicate", "fraudulent", "requested_by_customer"].contains(&reason)
    {
        let message = format!(
            "Invalid reason: must be one of duplicate, fraudulent, or requested_by_customer (got {reason})"
        );
        return invalid(None, message, Some("reason"));
    }
    let mut metadata = Map::new();
    for (name, value) in f {
        if let Some(key) = name
            .strip_prefix("metadata[")
            .and_then(|k| k.strip_suffix(']'))
        {
            metadata.insert(key.to_owned(), value.as_str().into());
        }
    }
    let id = random_id("re_");
    let mut refund = super::objects::refund(&id, &pi_id, &charge_id, amount, "succeeded");
    refund["currency"] = pi["currency"].clone();
    refund["reason"] = reason.into();
    refund["created"] = now().into();
    refund["metadata"] = Value::Object(metadata);
    inner.put(refund.clone());
    if let Some(mut charge) = inner.get(&charge_id).cloned() {
        let charged = charge["amount"].as_i64().unwrap_or(0);
        let now_refunded = charge["amount_refunded"].as_i64().unwrap_or(0) + amount;
        charge["amount_refunded"] = now_refunded.into();
        charge["refunded"] = (now_refunded >= charged).into();
        inner.put(charge);
    }
    expand_all(inner, req, refund)
}

/// `DELETE /v1/subscriptions/{id}`: cancels it now (`status` `canceled`,
/// `canceled_at` and `ended_at` now, `cancel_at_period_end` false). One
/// already canceled is refused, as Stripe does, with a 400.
fn cancel_subscription(inner: &mut Inner, req: &Recorded, id: &str) -> Reply {
    let Some(mut sub) = inner
        .get(id)
        .filter(|_| kind_of(id) == Some("subscription"))
        .cloned()
    else {
        return missing("subscription", id, "id");
    };
    if sub["status"] == "canceled" {
        let message = format!("A canceled subscription can only update its metadata ({id}).");
        return invalid(None, message, None);
    }
    let at = now();
    sub["status"] = "canceled".into();
    sub["canceled_at"] = at.into();
    sub["ended_at"] = at.into();
    sub["cancel_at_period_end"] = false.into();
    inner.put(sub.clone());
    expand_all(inner, req, sub)
}
