//! `GET /donate/thanks?session_id=cs_…`: where Checkout sends the reader
//! back. The details come from Stripe; Stripe's own errors are never shown.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;

use super::page;
use crate::domain::donation::{Frequency, mask_email};
use crate::domain::format_amount;
use crate::http::AppState;
use crate::http::dashboard::ASSET_VERSION;
use crate::stripe::StripeError;
use crate::stripe::objects::CheckoutSession;

#[derive(Deserialize)]
pub struct ThanksQuery {
    #[serde(default)]
    session_id: String,
}

/// What the page says.
enum Shown {
    /// A completed session: "25.00 USD a month", the receipt's address.
    Thanks {
        amount: String,
        frequency: &'static str,
        email: Option<String>,
        processing: bool,
    },
    /// Stripe could not be asked: thanks, without the details.
    ThanksOnly,
    /// The reader has not paid (yet): the session is open or expired.
    NotCompleted,
    NotFound,
}

#[derive(Template)]
#[template(path = "donate_thanks.html")]
struct ThanksPage {
    org_name: String,
    asset_version: &'static str,
    shown: Shown,
}

/// Stripe's Checkout Session ids: `cs_test_…` or `cs_live_…`, letters and
/// digits, well under 255 characters.
fn is_session_id(id: &str) -> bool {
    let tail = id
        .strip_prefix("cs_test_")
        .or_else(|| id.strip_prefix("cs_live_"));
    tail.is_some_and(|t| {
        !t.is_empty() && t.len() <= 200 && t.bytes().all(|b| b.is_ascii_alphanumeric())
    })
}

fn shown(session: &CheckoutSession) -> Shown {
    if session.status.as_deref() != Some("complete") {
        return Shown::NotCompleted;
    }
    let currency = session
        .currency
        .as_deref()
        .unwrap_or("usd")
        .to_ascii_uppercase();
    let frequency = session
        .metadata_value("frequency")
        .and_then(|f| Frequency::parse(f).ok())
        .or((session.mode == "payment").then_some(Frequency::Once));
    Shown::Thanks {
        amount: format_amount(session.amount_total.unwrap_or(0), &currency),
        frequency: frequency.map_or("", Frequency::per),
        email: session
            .customer_details
            .as_ref()
            .and_then(|d| d.email.as_deref())
            .and_then(mask_email),
        // Bank debits complete Checkout before the money arrives.
        processing: session.payment_status == "unpaid",
    }
}

pub async fn thanks(State(state): State<AppState>, Query(query): Query<ThanksQuery>) -> Response {
    let config = &state.donations;
    let answer = |status: StatusCode, shown: Shown| {
        let page_data = ThanksPage {
            org_name: config.org_name.clone(),
            asset_version: ASSET_VERSION,
            shown,
        };
        page(status, &page_data, &config.checkout_origin)
    };
    if !is_session_id(&query.session_id) {
        return answer(StatusCode::NOT_FOUND, Shown::NotFound);
    }
    let Some(stripe) = &state.stripe else {
        return answer(StatusCode::OK, Shown::ThanksOnly);
    };
    match stripe.client.checkout_session(&query.session_id).await {
        Ok(session) => answer(StatusCode::OK, shown(&session)),
        Err(StripeError::NotFound(_) | StripeError::Refused { .. }) => {
            answer(StatusCode::NOT_FOUND, Shown::NotFound)
        }
        Err(e @ StripeError::Unavailable(_)) => {
            tracing::warn!(error = %e, "Checkout Session not read for the thanks page");
            answer(StatusCode::OK, Shown::ThanksOnly)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_checkout_session_ids_are_asked_for() {
        assert!(is_session_id(
            "cs_test_a1YS1URlnyQCN5fUUduORoQ7Pw41PJqDWkIVQCpJPqkfIhd6tVY8XB1OLY"
        ));
        assert!(is_session_id("cs_live_abc123"));
        for bad in [
            "",
            "cs_test_",
            "pi_123",
            "cs_test_../../v1/balance",
            "cs_test_a b",
            "cs_abc",
        ] {
            assert!(!is_session_id(bad), "{bad:?}");
        }
    }
}
