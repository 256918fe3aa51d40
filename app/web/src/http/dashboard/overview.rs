//! `/`: this and last month per currency, 90 days of daily totals, and the
//! breakdowns by method and campaign.

use std::collections::BTreeMap;

use askama::Template;
use axum::extract::State;
use axum::response::Response;
use chrono::{Datelike, Days, Utc};

use super::session::Staff;
use super::view::money;
use super::{Chrome, DashError, charts, render};
use crate::domain::{Breakdown, Currency, SummaryRequest};
use crate::http::AppState;

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

#[derive(Template)]
#[template(path = "overview.html")]
struct OverviewPage {
    chrome: Chrome,
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
    let methods = by_gross(&s.by_method);
    let campaigns = by_gross(&s.by_campaign);
    let page = OverviewPage {
        chrome: Chrome::new(&staff, "overview"),
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
