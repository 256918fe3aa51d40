//! `/admin/stripe`, for admins: whether Stripe is configured, the latest
//! events received with their outcome, and the last sync and reconcile.

use askama::Template;
use axum::extract::State;
use axum::response::Response;

use super::session::Admin;
use super::view::when;
use super::{Chrome, DashError, render};
use crate::domain::Timestamp;
use crate::http::AppState;

struct EventView {
    received: String,
    id: String,
    kind: String,
    object_id: String,
    outcome: String,
    source: String,
}

struct RunView {
    when: String,
    action: String,
    actor: String,
    details: String,
}

#[derive(Template)]
#[template(path = "stripe.html")]
struct StripePage {
    chrome: Chrome,
    /// `test` or `live`, when a key is configured.
    mode: Option<&'static str>,
    webhook_secrets: bool,
    endpoint: String,
    events: Vec<EventView>,
    runs: Vec<RunView>,
}

pub async fn stripe(
    State(state): State<AppState>,
    Admin(staff): Admin,
) -> Result<Response, DashError> {
    let events = state.store.recent_events(50).await?;
    let runs = state.store.last_processor_runs().await?;
    let page = StripePage {
        chrome: Chrome::new(&staff, "stripe"),
        mode: state.stripe.as_deref().map(|s| {
            if s.client.mode().is_live() {
                "live"
            } else {
                "test"
            }
        }),
        webhook_secrets: state.stripe.as_deref().is_some_and(|s| s.webhook.is_some()),
        endpoint: format!("{}/webhooks/stripe", state.public_url),
        events: events
            .into_iter()
            .map(|e| EventView {
                received: when(Timestamp(e.received_at)),
                id: e.id.0,
                kind: e.kind.0,
                object_id: e.object_id.map(|o| o.0).unwrap_or_default(),
                outcome: e.outcome.0,
                source: e.source.0,
            })
            .collect(),
        runs: runs
            .into_iter()
            .map(|r| RunView {
                when: when(Timestamp(r.occurred_at)),
                action: r.action.0,
                actor: r.actor.0,
                details: r.details.0,
            })
            .collect(),
    };
    Ok(render(&page))
}
