//! Donor mail in the dashboard: `/outbox` for admins (pending, failed and
//! retried messages with their attempts and last error), and the messages
//! of one payment or donor, which their pages list.

use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use serde::Deserialize;

use super::session::Admin;
use super::view::when;
use super::{Chrome, DashError, render};
use crate::domain::Timestamp;
use crate::http::AppState;
use crate::mail::messages::Kind;
use crate::storage::StoreError;
use crate::storage::outbox::{OutboxEntry, OutboxFilter, OutboxOf};

/// Messages the page lists at most.
const SHOWN: u32 = 200;

/// One message, as a page shows it.
pub struct MessageView {
    pub kind: &'static str,
    pub subject: String,
    pub recipient: String,
    pub payment_id: String,
    /// `pending`, `sent` or `failed` (the badge's class).
    pub status: String,
    /// In words: "Not sent yet", "Retrying", "Sent", "Failed".
    pub status_label: &'static str,
    pub attempts: i64,
    pub last_error: String,
    pub created: String,
    /// When it was sent, or when it is tried next.
    pub next_or_sent: String,
}

impl From<OutboxEntry> for MessageView {
    fn from(m: OutboxEntry) -> Self {
        let status_label = match (m.status.0.as_str(), m.attempts) {
            ("sent", _) => "Sent",
            ("failed", _) => "Failed",
            (_, 0) => "Not sent yet",
            _ => "Retrying",
        };
        let next_or_sent = match (m.sent_at, m.status.0.as_str()) {
            (Some(sent), _) => when(Timestamp(sent)),
            (None, "pending") => when(Timestamp(m.next_attempt_at)),
            _ => String::new(),
        };
        MessageView {
            kind: m.kind.parse::<Kind>().map_or("Message", Kind::label),
            subject: m.subject.0,
            recipient: m.recipient.0,
            payment_id: m.payment_id.map(|p| p.0).unwrap_or_default(),
            status: m.status.0,
            status_label,
            attempts: m.attempts,
            last_error: m.last_error.map(|e| e.0).unwrap_or_default(),
            created: when(Timestamp(m.created_at)),
            next_or_sent,
        }
    }
}

/// The messages about a payment or to a donor, for their pages.
pub async fn messages_of(
    state: &AppState,
    of: OutboxOf,
    id: &str,
) -> Result<Vec<MessageView>, StoreError> {
    let rows = state.store.outbox_of(of, id).await?;
    Ok(rows.into_iter().map(MessageView::from).collect())
}

#[derive(Debug, Default, Deserialize)]
pub struct OutboxQuery {
    /// `pending` (default), `failed`, `retried` or `all`.
    show: Option<String>,
}

struct Tab {
    key: &'static str,
    label: &'static str,
    current: bool,
}

#[derive(Template)]
#[template(path = "outbox.html")]
struct OutboxPage {
    chrome: Chrome,
    tabs: Vec<Tab>,
    shown: &'static str,
    pending: i64,
    sent: i64,
    failed: i64,
    messages: Vec<MessageView>,
    limit: u32,
}

/// `/outbox`: the messages of one state, newest first, with the counts.
pub async fn outbox(
    State(state): State<AppState>,
    Admin(staff): Admin,
    Query(query): Query<OutboxQuery>,
) -> Result<Response, DashError> {
    let tabs_def: [(&str, &str, OutboxFilter); 4] = [
        ("pending", "Not sent", OutboxFilter::Pending),
        ("failed", "Failed", OutboxFilter::Failed),
        ("retried", "Retried", OutboxFilter::Retried),
        ("all", "All", OutboxFilter::All),
    ];
    let chosen = query.show.as_deref().unwrap_or("pending");
    let (key, label, filter) = tabs_def
        .iter()
        .find(|(k, _, _)| *k == chosen)
        .copied()
        .ok_or(DashError::NotFound)?;
    let counts = state.store.outbox_counts().await?;
    let messages = state.store.outbox_entries(filter, SHOWN).await?;
    let page = OutboxPage {
        chrome: Chrome::new(&staff, "outbox"),
        tabs: tabs_def
            .iter()
            .map(|(k, l, _)| Tab {
                key: k,
                label: l,
                current: *k == key,
            })
            .collect(),
        shown: label,
        pending: counts.pending,
        sent: counts.sent,
        failed: counts.failed,
        messages: messages.into_iter().map(MessageView::from).collect(),
        limit: SHOWN,
    };
    Ok(render(&page))
}
