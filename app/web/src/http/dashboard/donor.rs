//! `/donors/{id}`: one donor: totals per currency, memberships, giving
//! history as a chart, and their latest payments.

use std::collections::BTreeMap;

use askama::Template;
use axum::extract::{Path, State};
use axum::response::Response;
use chrono::{Datelike, NaiveDate, Utc};

use super::donors::{Standing, standing};
use super::session::Staff;
use super::view::{
    date, date_or_dash, membership_label, money, money_if_any, or_dash, per_interval, status_label,
    when,
};
use super::{Chrome, DashError, charts, render};
use crate::domain::listing::parse_object_id;
use crate::domain::{Donor, Filter, ListRequest, PageFrom, exponent_of};
use crate::http::AppState;
use crate::storage::donors::Gift;

/// Payments shown on the page; the payments table has the rest.
const PAYMENTS_SHOWN: i64 = 25;
/// Gifts the chart reads at most (newest first): decades of monthly gifts.
const CHART_GIFTS: i64 = 5_000;
/// Up to this many months the chart has a bar per month, beyond it per year.
const MONTHLY_UP_TO: i32 = 24;

struct TotalsView {
    currency: String,
    count: i64,
    gross: String,
    refunded: String,
    net: String,
}

struct MembershipView {
    amount: String,
    status: &'static str,
    status_label: String,
    started: String,
    period_end: String,
    cancel_at_period_end: bool,
    canceled: String,
    campaign: String,
    external_ref: String,
}

struct PaymentView {
    id: String,
    created: String,
    amount: String,
    refunded: String,
    status: &'static str,
    status_label: String,
    method: &'static str,
    campaign: String,
}

#[derive(Template)]
#[template(path = "donor.html")]
struct DonorPage {
    chrome: Chrome,
    id: String,
    name: String,
    email: String,
    first_gift: String,
    last_gift: String,
    standing: Standing,
    totals: Vec<TotalsView>,
    memberships: Vec<MembershipView>,
    chart: String,
    chart_caption: String,
    payments: Vec<PaymentView>,
    more_payments: bool,
    all_payments: String,
    messages: Vec<super::outbox::MessageView>,
}

/// The currency the donor gave the most gifts in (the chart's).
fn main_currency(d: &Donor) -> Option<String> {
    d.totals
        .iter()
        .max_by(|a, b| a.1.count.cmp(&b.1.count).then(b.0.cmp(a.0)))
        .map(|(code, _)| code.clone())
}

fn month_index(d: NaiveDate) -> i32 {
    d.year() * 12 + d.month0() as i32
}

/// Net given in `currency` per month (up to [`MONTHLY_UP_TO`] months) or
/// per year, from the first gift's period to `today`'s, every period
/// shown (a lapsed donor's recent ones as zero); and whether it is by year.
fn history(gifts: &[Gift], currency: &str, today: NaiveDate) -> (Vec<(String, i64)>, bool) {
    let days: Vec<(NaiveDate, i64)> = gifts
        .iter()
        .filter(|g| g.currency == currency)
        .map(|g| {
            (
                g.created_at.to_datetime().date_naive(),
                g.amount - g.refunded,
            )
        })
        .collect();
    let Some(first) = days.iter().map(|d| d.0).min() else {
        return (Vec::new(), false);
    };
    let last = today.max(first);
    let by_year = month_index(last) - month_index(first) >= MONTHLY_UP_TO;
    let key = |d: NaiveDate| if by_year { d.year() } else { month_index(d) };
    let mut sums: BTreeMap<i32, i64> = (key(first)..=key(last)).map(|k| (k, 0)).collect();
    for (day, net) in days {
        *sums.entry(key(day)).or_insert(0) += net;
    }
    let label = |k: i32| {
        if by_year {
            k.to_string()
        } else {
            NaiveDate::from_ymd_opt(k.div_euclid(12), k.rem_euclid(12) as u32 + 1, 1)
                .map_or_else(String::new, |d| d.format("%b %Y").to_string())
        }
    };
    (
        sums.into_iter().map(|(k, v)| (label(k), v)).collect(),
        by_year,
    )
}

/// `/donors/{id}`; an unknown or malformed id is the 404 page.
pub async fn donor(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
) -> Result<Response, DashError> {
    let id = parse_object_id(&id, "don").map_err(|_| DashError::NotFound)?;
    let d = state.store.donor(&id).await?;
    let payments = state
        .store
        .list_payments(&ListRequest {
            filter: Filter {
                donor_id: Some(d.id.clone()),
                ..Filter::default()
            },
            limit: PAYMENTS_SHOWN,
            from: PageFrom::Start,
        })
        .await?;
    let (chart, chart_caption) = match main_currency(&d) {
        Some(code) => {
            let gifts = state.store.donor_gifts(&d.id, CHART_GIFTS).await?;
            let (rows, by_year) = history(&gifts, &code, Utc::now().date_naive());
            let per = if by_year { "year" } else { "month" };
            let title = format!("Given per {per}, net of refunds ({code})");
            let mut caption = format!(
                "Captured gifts in {code} less their refunds, by the {per} of the gift (UTC)."
            );
            if gifts.len() as i64 == CHART_GIFTS {
                caption.push_str(&format!(" Only the latest {CHART_GIFTS} gifts are drawn."));
            }
            let svg = charts::bars(&rows, &title, &code, exponent_of(&code));
            (svg, caption)
        }
        None => (String::new(), String::new()),
    };
    let messages =
        super::outbox::messages_of(&state, crate::storage::outbox::OutboxOf::Donor, &d.id).await?;
    let page = DonorPage {
        chrome: Chrome::new(&staff, "donors"),
        messages,
        all_payments: format!("/payments?donor_id={}", d.id),
        more_payments: payments.has_more,
        payments: payments
            .items
            .iter()
            .map(|p| PaymentView {
                id: p.id.clone(),
                created: when(p.created_at),
                amount: money(p.amount, &p.currency),
                refunded: money_if_any(p.amount_refunded, &p.currency),
                status: p.status.as_str(),
                status_label: status_label(p.status),
                method: p.method.as_str(),
                campaign: p.campaign.clone().unwrap_or_default(),
            })
            .collect(),
        totals: d
            .totals
            .iter()
            .map(|(code, t)| TotalsView {
                currency: code.clone(),
                count: t.count,
                gross: money(t.gross, code),
                refunded: money(t.refunded, code),
                net: money(t.net, code),
            })
            .collect(),
        memberships: d
            .memberships
            .iter()
            .map(|m| MembershipView {
                amount: per_interval(m.amount, &m.currency, m.interval),
                status: m.status.as_str(),
                status_label: membership_label(m.status),
                started: date(m.started_at),
                period_end: date_or_dash(m.current_period_end),
                cancel_at_period_end: m.cancel_at_period_end,
                canceled: m.canceled_at.map(date).unwrap_or_default(),
                campaign: or_dash(m.campaign.as_ref()),
                external_ref: m.external_ref.clone(),
            })
            .collect(),
        standing: standing(&d),
        first_gift: date_or_dash(d.first_gift_at),
        last_gift: date_or_dash(d.last_gift_at),
        chart,
        chart_caption,
        id: d.id,
        name: d.name,
        email: d.email,
    };
    Ok(render(&page))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Timestamp;

    fn gift(y: i32, m: u32, d: u32, amount: i64, refunded: i64, currency: &str) -> Gift {
        let at = NaiveDate::from_ymd_opt(y, m, d)
            .unwrap()
            .and_hms_opt(12, 0, 0)
            .unwrap()
            .and_utc();
        Gift {
            created_at: Timestamp::from_datetime(at),
            currency: currency.into(),
            amount,
            refunded,
        }
    }

    #[test]
    fn history_is_monthly_up_to_two_years_then_yearly() {
        let today = NaiveDate::from_ymd_opt(2026, 3, 15).unwrap();
        let gifts = [
            gift(2026, 1, 31, 1_000, 0, "USD"),
            gift(2026, 1, 2, 500, 200, "USD"),
            gift(2026, 3, 1, 700, 0, "USD"),
            gift(2025, 12, 1, 9_999, 0, "EUR"),
        ];
        let (rows, by_year) = history(&gifts, "USD", today);
        assert!(!by_year);
        assert_eq!(
            rows,
            [
                ("Jan 2026".to_owned(), 1_300),
                ("Feb 2026".to_owned(), 0),
                ("Mar 2026".to_owned(), 700)
            ]
        );
        let old = [
            gift(2019, 6, 1, 2_000, 0, "USD"),
            gift(2019, 7, 1, 2_000, 0, "USD"),
        ];
        let (rows, by_year) = history(&old, "USD", today);
        assert!(by_year);
        assert_eq!(rows.first(), Some(&("2019".to_owned(), 4_000)));
        assert_eq!(rows.last(), Some(&("2026".to_owned(), 0)));
        assert_eq!(rows.len(), 8);
        assert_eq!(history(&old, "GBP", today), (Vec::new(), false));
    }
}
