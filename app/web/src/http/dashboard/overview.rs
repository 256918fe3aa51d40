//! `/`: this and last month per currency, memberships and 12 months of
//! recurring revenue, 90 days of daily totals, and the breakdowns by method
//! and campaign.

use std::collections::BTreeMap;

use askama::Template;
use axum::extract::State;
use axum::response::Response;
use chrono::{Datelike, Days, Months, NaiveDate, Utc};

use super::session::Staff;
use super::view::money;
use super::{Chrome, DashError, charts, render};
use crate::domain::{Breakdown, Currency, SummaryRequest, Timestamp};
use crate::http::AppState;
use crate::storage::recurring::RecurringMonth;

/// Totals of one row or card: a month of a currency, a method or a campaign.
struct Totals {
    label: String,
    count: i64,
    gross: String,
    refunded: String,
    net: String,
}

impl Totals {
    fn new(label: String, count: i64, gross: i64, refunded: i64, net: i64, code: &str) -> Totals {
        Totals {
            label,
            count,
            gross: money(gross, code),
            refunded: money(refunded, code),
            net: money(net, code),
        }
    }
}

struct CurrencyView {
    code: String,
    months: Vec<Totals>,
}

/// The membership cards: members now, and this month's changes.
struct MembersView {
    members: i64,
    /// Monthly recurring revenue, one formatted amount per currency.
    mrr: Vec<String>,
    started: i64,
    canceled: i64,
    recurring_chart: String,
    recurring_caption: String,
}

/// Net recurring revenue for each of the 12 months ending with `month_start`'s,
/// oldest first, a month without payments as zero.
fn recurring_months(rows: &[RecurringMonth], month_start: NaiveDate) -> Vec<(String, i64)> {
    (0..12)
        .rev()
        .filter_map(|back| month_start.checked_sub_months(Months::new(back)))
        .map(|m| {
            let key = m.format("%Y-%m").to_string();
            let net = rows.iter().find(|r| r.month == key).map_or(0, |r| r.net());
            (m.format("%b %Y").to_string(), net)
        })
        .collect()
}

async fn members_view(
    state: &AppState,
    month_start: NaiveDate,
    primary: &str,
) -> Result<MembersView, DashError> {
    let since = month_start
        .and_hms_opt(0, 0, 0)
        .unwrap_or_default()
        .and_utc();
    let stats = state
        .store
        .membership_stats(Timestamp::from_datetime(since))
        .await?;
    let first = month_start
        .checked_sub_months(Months::new(11))
        .unwrap_or(month_start);
    let rows = state
        .store
        .recurring_by_month(
            primary,
            &first.format("%Y-%m").to_string(),
            &month_start.format("%Y-%m").to_string(),
        )
        .await?;
    let (count, gross, refunded) = rows.iter().fold((0, 0, 0), |t, r| {
        (t.0 + r.count, t.1 + r.gross, t.2 + r.refunded)
    });
    let (recurring_chart, recurring_caption) = if rows.is_empty() {
        (String::new(), String::new())
    } else {
        let title = format!("Recurring revenue per month, net of refunds ({primary})");
        let chart = charts::bars(
            &recurring_months(&rows, month_start),
            &title,
            primary,
            crate::domain::exponent_of(primary),
        );
        let caption = format!(
            "Since {}: {count} {} by memberships; gross {}, refunded {}, net {}.",
            first.format("%B %Y"),
            if count == 1 { "payment" } else { "payments" },
            money(gross, primary),
            money(refunded, primary),
            money(gross - refunded, primary),
        );
        (chart, caption)
    };
    Ok(MembersView {
        members: stats.members,
        mrr: stats.mrr.iter().map(|(code, v)| money(*v, code)).collect(),
        started: stats.started_since,
        canceled: stats.canceled_since,
        recurring_chart,
        recurring_caption,
    })
}

#[derive(Template)]
#[template(path = "overview.html")]
struct OverviewPage {
    chrome: Chrome,
    month: String,
    members: MembersView,
    currencies: Vec<CurrencyView>,
    primary: String,
    daily_chart: String,
    daily_caption: String,
    method_chart: String,
    by_method: Vec<Totals>,
    by_campaign: Vec<Totals>,
}

/// The rows of a breakdown, largest gross first (then by name).
fn by_gross(map: &BTreeMap<String, Breakdown>) -> Vec<(String, Breakdown)> {
    let mut rows: Vec<(String, Breakdown)> = map.iter().map(|(k, b)| (k.clone(), *b)).collect();
    rows.sort_by(|a, b| b.1.gross.cmp(&a.1.gross).then(a.0.cmp(&b.0)));
    rows
}

fn breakdown_rows(rows: &[(String, Breakdown)], code: &str) -> Vec<Totals> {
    rows.iter()
        .map(|(k, b)| Totals::new(k.clone(), b.count, b.gross, b.refunded, b.net, code))
        .collect()
}

/// `/`: this and last month per currency, 90 days of daily totals, and
/// breakdowns, all from the daily rollups.
pub async fn overview(State(state): State<AppState>, staff: Staff) -> Result<Response, DashError> {
    let today = Utc::now().date_naive();
    let month_start = today.with_day(1).unwrap_or(today);
    let last_month_end = month_start - Days::new(1);
    let last_month_start = last_month_end.with_day(1).unwrap_or(last_month_end);
    // The cards: up to six currencies, most used first, two reads for all.
    let codes = state.store.currencies().await?;
    let shown: Vec<String> = codes
        .iter()
        .filter(|c| Currency::parse(c).is_ok())
        .take(6)
        .cloned()
        .collect();
    let this_month = state
        .store
        .totals_by_currency(&shown, month_start, today)
        .await?;
    let last_month = state
        .store
        .totals_by_currency(&shown, last_month_start, last_month_end)
        .await?;
    let currencies = shown
        .iter()
        .map(|code| CurrencyView {
            code: code.clone(),
            months: [
                (month_start.format("%B %Y").to_string(), &this_month),
                (last_month_start.format("%B %Y").to_string(), &last_month),
            ]
            .into_iter()
            .map(|(label, totals)| {
                let (count, gross, refunded) = totals.get(code).copied().unwrap_or_default();
                Totals::new(label, count, gross, refunded, gross - refunded, code)
            })
            .collect(),
        })
        .collect();
    let primary = codes.first().cloned().unwrap_or_else(|| "USD".to_owned());
    let currency = Currency::parse(&primary).unwrap_or(Currency::USD);
    let s = state
        .store
        .summary(&SummaryRequest {
            currency,
            from: today - Days::new(89),
            to: today,
        })
        .await?;
    let exponent = currency.exponent();
    let members = members_view(&state, month_start, &primary).await?;
    let methods = by_gross(&s.by_method);
    let campaigns = by_gross(&s.by_campaign);
    let page = OverviewPage {
        chrome: Chrome::new(&staff, "overview"),
        month: month_start.format("%B %Y").to_string(),
        members,
        daily_chart: charts::daily(&s.daily, &primary, exponent),
        daily_caption: format!(
            "{} payments, gross {}, refunded {}, lost to disputes {}, net {} from {} to {}; processor fees {}.",
            s.count,
            money(s.gross, &primary),
            money(s.refunded, &primary),
            money(s.disputed, &primary),
            money(s.net, &primary),
            s.from,
            s.to,
            money(s.fees, &primary),
        ),
        method_chart: charts::breakdown(
            &methods,
            &format!("Gross by method ({primary})"),
            &primary,
            exponent,
        ),
        by_method: breakdown_rows(&methods, &primary),
        by_campaign: breakdown_rows(&campaigns, &primary),
        currencies,
        primary,
    };
    Ok(render(&page))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn twelve_months_end_with_this_one_and_fill_gaps_with_zero() {
        let row = |month: &str, gross, refunded| RecurringMonth {
            month: month.into(),
            count: 1,
            gross,
            refunded,
        };
        let months = recurring_months(
            &[row("2025-03", 500, 0), row("2026-02", 2_000, 300)],
            NaiveDate::from_ymd_opt(2026, 2, 1).unwrap(),
        );
        assert_eq!(months.len(), 12);
        assert_eq!(months[0], ("Mar 2025".to_owned(), 500));
        assert_eq!(months[1], ("Apr 2025".to_owned(), 0));
        assert_eq!(months[11], ("Feb 2026".to_owned(), 1_700));
    }
}
