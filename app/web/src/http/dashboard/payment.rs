//! `/payments/{id}`: one payment, its refunds and audit trail, and the
//! refund form.

use crate::stripe::refunds::RefundError;
use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::session::{Admin, Staff};
use super::view::{Notice, NoticeQuery, money, or_dash, status_label, when};
use super::{Chrome, DashError, render};
use crate::domain::{
    IdempotencyKey, MinorUnits, NewRefund, RefundReason, Status, Timestamp, exponent_of,
    parse_major_units, to_major_units,
};
use crate::http::AppState;
use crate::http::extract::request_hash;
use crate::storage::StoreError;
use crate::storage::payments::{IdempotencyClaim, Idempotent, RecordedResponse};

struct DetailView {
    id: String,
    amount: String,
    refunded: String,
    remaining: String,
    currency: String,
    status: &'static str,
    status_label: String,
    method: &'static str,
    name: String,
    email: String,
    campaign: String,
    description: String,
    external_ref: String,
    created: String,
    updated: String,
    metadata: Vec<(String, String)>,
    processor: String,
    /// Stripe's dashboard page of the PaymentIntent.
    stripe_link: Option<String>,
    fee: String,
    dispute: Option<String>,
}

struct RefundView {
    id: String,
    created: String,
    amount: String,
    reason: &'static str,
    external_ref: String,
}

/// Stripe's dashboard page of a PaymentIntent, in the key's mode.
fn stripe_link(state: &AppState, pi: &str) -> Option<String> {
    if !pi.starts_with("pi_") {
        return None;
    }
    let live = state
        .stripe
        .as_deref()
        .is_some_and(|s| s.client.mode().is_live());
    Some(format!(
        "https://dashboard.stripe.com/{}payments/{pi}",
        if live { "" } else { "test/" }
    ))
}

struct AuditView {
    when: String,
    actor: String,
    action: String,
    details: String,
}

struct RefundFormView {
    remaining: String,
    idempotency_key: String,
}

#[derive(Template)]
#[template(path = "payment.html")]
struct PaymentPage {
    chrome: Chrome,
    p: DetailView,
    refunds: Vec<RefundView>,
    audit: Vec<AuditView>,
    messages: Vec<super::outbox::MessageView>,
    refund_form: Option<RefundFormView>,
    reasons: Vec<&'static str>,
    notice: Option<Notice>,
}

async fn payment_page(
    state: &AppState,
    staff: &Staff,
    id: &str,
    notice: Option<Notice>,
) -> Result<PaymentPage, DashError> {
    let p = state.store.payment_with_refunds(id).await?;
    let audit = state.store.audit_trail(id).await?;
    let messages =
        super::outbox::messages_of(state, crate::storage::outbox::OutboxOf::Payment, id).await?;
    let code = p.currency.clone();
    let remaining = p.amount - p.amount_refunded;
    let refundable =
        matches!(p.status, Status::Succeeded | Status::PartiallyRefunded) && remaining > 0;
    Ok(PaymentPage {
        chrome: Chrome::new(staff, "payments"),
        messages,
        refund_form: (staff.is_admin() && refundable).then(|| RefundFormView {
            remaining: to_major_units(remaining, &code),
            idempotency_key: uuid::Uuid::now_v7().to_string(),
        }),
        reasons: RefundReason::ALL.iter().map(|r| r.as_str()).collect(),
        refunds: p
            .refunds
            .clone()
            .unwrap_or_default()
            .iter()
            .map(|r| RefundView {
                id: r.id.clone(),
                created: when(r.created_at),
                amount: money(r.amount, &code),
                reason: r.reason.as_str(),
                external_ref: or_dash(r.external_ref.as_ref()),
            })
            .collect(),
        audit: audit
            .into_iter()
            .map(|a| AuditView {
                when: when(Timestamp(a.occurred_at)),
                actor: a.actor.0,
                action: a.action.0,
                details: a.details.0,
            })
            .collect(),
        p: DetailView {
            amount: money(p.amount, &code),
            refunded: money(p.amount_refunded, &code),
            remaining: money(remaining, &code),
            status: p.status.as_str(),
            status_label: status_label(p.status),
            method: p.method.as_str(),
            name: p.payer.name.clone(),
            email: p.payer.email.clone(),
            campaign: or_dash(p.campaign.as_ref()),
            description: or_dash(p.description.as_ref()),
            external_ref: or_dash(p.external_ref.as_ref()),
            created: when(p.created_at),
            updated: when(p.updated_at),
            metadata: p.metadata.clone().into_iter().collect(),
            processor: p.processor.unwrap_or("—").to_owned(),
            stripe_link: p
                .external_ref
                .as_deref()
                .filter(|_| p.processor.is_some())
                .and_then(|pi| stripe_link(state, pi)),
            fee: p.fee.map_or_else(|| "—".to_owned(), |f| money(f, &code)),
            dispute: p.dispute.as_ref().map(|d| {
                format!(
                    "{} of {} ({})",
                    d.status.as_str().replace('_', " "),
                    money(d.amount, &code),
                    if d.reason.is_empty() {
                        "no reason given"
                    } else {
                        d.reason.as_str()
                    }
                )
            }),
            currency: code,
            id: p.id,
        },
        notice,
    })
}

/// `/payments/{id}`: every field, refunds, the audit trail, and (for admins) the refund form.
pub async fn payment(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
    Query(q): Query<NoticeQuery>,
) -> Result<Response, DashError> {
    let page = payment_page(&state, &staff, &id, q.notice()).await?;
    Ok(render(&page))
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct RefundForm {
    csrf: String,
    idempotency_key: String,
    amount: String,
    reason: String,
}

/// What a refund form led to.
enum Outcome {
    /// Redirect to the payment with this notice (`refunded`, or `already`
    /// for a form sent twice).
    Done(&'static str),
    /// The payment page again, with this status and why not.
    Refused(StatusCode, String),
}

fn unprocessable(text: impl Into<String>) -> Outcome {
    Outcome::Refused(StatusCode::UNPROCESSABLE_ENTITY, text.into())
}

/// Refunds through the same rules and idempotency as the API: a form sent
/// twice (same hidden key) refunds once.
pub async fn refund(
    State(state): State<AppState>,
    Admin(staff): Admin,
    Path(id): Path<String>,
    Form(form): Form<RefundForm>,
) -> Result<Response, DashError> {
    staff.check_csrf(&form.csrf)?;
    match make_refund(&state, &staff, &id, &form).await? {
        Outcome::Done(notice) => {
            Ok(Redirect::to(&format!("/payments/{id}?notice={notice}")).into_response())
        }
        Outcome::Refused(status, text) => {
            let page = payment_page(&state, &staff, &id, Some(Notice::error(text))).await?;
            Ok((status, render(&page)).into_response())
        }
    }
}

/// Checks the form and makes the refund, or says why not.
async fn make_refund(
    state: &AppState,
    staff: &Staff,
    id: &str,
    form: &RefundForm,
) -> Result<Outcome, DashError> {
    let payment = state.store.payment(id).await?;
    let amount = match parse_major_units(&form.amount, exponent_of(&payment.currency)) {
        Ok(a) => a,
        Err(m) => return Ok(unprocessable(format!("The amount {m}."))),
    };
    let amount = match MinorUnits::new(amount) {
        Ok(a) => a,
        Err(m) => return Ok(unprocessable(format!("The amount {m}."))),
    };
    let reason = match RefundReason::parse(&form.reason) {
        Ok(r) => r,
        Err(m) => return Ok(unprocessable(format!("The reason {m}."))),
    };
    let Ok(key) = IdempotencyKey::parse(form.idempotency_key.trim().as_bytes()) else {
        return Ok(unprocessable("The form is incomplete; reload the page."));
    };
    let new = NewRefund {
        amount: Some(amount),
        reason: Some(reason),
    };
    let idem = IdempotencyClaim {
        principal: staff.actor(),
        key: key.into_string(),
        request_hash: request_hash(
            "POST",
            &format!("/payments/{id}/refund"),
            &serde_json::to_value(&new).unwrap_or_default(),
        ),
    };
    // A repeat is answered with a notice of its own: nothing to record.
    let outcome = crate::stripe::refunds::refund(
        &state.store,
        state.stripe.as_deref(),
        &staff.actor(),
        &idem,
        &payment,
        &new,
        |_| RecordedResponse::default(),
    )
    .await;
    match outcome {
        Ok(Idempotent::Done(_)) => Ok(Outcome::Done("refunded")),
        Ok(Idempotent::Replay(_)) => Ok(Outcome::Done("already")),
        Ok(Idempotent::Mismatch) => Ok(unprocessable(
            "This form was already used for another refund; reload the page.",
        )),
        Err(RefundError::Store(StoreError::Conflict(m))) => Ok(Outcome::Refused(
            StatusCode::CONFLICT,
            format!("Not refunded: {m}."),
        )),
        Err(RefundError::Refused(m)) => Ok(Outcome::Refused(
            StatusCode::CONFLICT,
            format!("Not refunded: Stripe refused it ({m})."),
        )),
        Err(e @ RefundError::Unreachable(_)) => Ok(Outcome::Refused(
            StatusCode::BAD_GATEWAY,
            format!("Not refunded: {e}."),
        )),
        Err(RefundError::Store(e)) => Err(e.into()),
    }
}
