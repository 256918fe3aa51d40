//! Totals over a date range, read from the daily rollups.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::Serialize;
use utoipa::ToSchema;

use super::money::Currency;
use super::validate::FieldError;

/// The longest range a summary covers (ten years of days).
pub const MAX_SUMMARY_DAYS: i64 = 3660;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, ToSchema)]
pub struct Breakdown {
    pub count: i64,
    pub gross: i64,
    pub refunded: i64,
    pub net: i64,
}

/// Payments with one status: how many, and their amount. There is no
/// `refunded` or `net` here on purpose: refunds are counted on the day they
/// are made (in `refunded`, `daily`, `by_method` and `by_campaign`), while a
/// payment's status is what it is now, so a refund cannot be attributed to a
/// status of the range without misleading (a `refunded` payment is counted
/// under `refunded`, its refund under the day it happened).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, ToSchema)]
pub struct StatusTotal {
    pub count: i64,
    pub gross: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
pub struct DailyTotal {
    #[schema(value_type = String, format = Date)]
    pub date: NaiveDate,
    pub count: i64,
    pub gross: i64,
    pub refunded: i64,
}

/// Totals for one currency over `from..=to` (UTC days).
///
/// `count` and `gross` cover captured payments (succeeded, partially or fully
/// refunded) by the day they were created; `refunded` covers refunds by the
/// day they were made. `by_status` counts every payment created in the range
/// by its current status, with the amount of those payments, and no refund
/// figures (see [`StatusTotal`]).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
pub struct Summary {
    #[schema(example = "USD")]
    pub currency: String,
    #[schema(value_type = String, format = Date)]
    pub from: NaiveDate,
    #[schema(value_type = String, format = Date)]
    pub to: NaiveDate,
    pub count: i64,
    pub gross: i64,
    pub refunded: i64,
    pub net: i64,
    pub by_status: BTreeMap<String, StatusTotal>,
    pub by_method: BTreeMap<String, Breakdown>,
    pub by_campaign: BTreeMap<String, Breakdown>,
    pub daily: Vec<DailyTotal>,
}

/// A validated summary request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SummaryRequest {
    pub currency: Currency,
    pub from: NaiveDate,
    pub to: NaiveDate,
}

#[derive(Clone, Debug, Default, serde::Deserialize)]
#[serde(default)]
pub struct RawSummaryParams {
    pub from: Option<String>,
    pub to: Option<String>,
    pub currency: Option<String>,
}

impl RawSummaryParams {
    /// Defaults: the last 30 days up to today, in USD.
    pub fn validate(&self, today: NaiveDate) -> Result<SummaryRequest, Vec<FieldError>> {
        let mut errors = Vec::new();
        let mut date = |field: &str, v: &Option<String>, default: NaiveDate| match v.as_deref() {
            None | Some("") => Some(default),
            Some(s) => match NaiveDate::parse_from_str(s, "%Y-%m-%d") {
                Ok(d) => Some(d),
                Err(_) => {
                    errors.push(FieldError::new(field, "must be a date (YYYY-MM-DD)"));
                    None
                }
            },
        };
        let to = date("to", &self.to, today);
        let from = date(
            "from",
            &self.from,
            to.unwrap_or(today) - chrono::Days::new(29),
        );
        let currency = match self.currency.as_deref() {
            None | Some("") => Some(Currency::USD),
            Some(s) => match Currency::parse(s) {
                Ok(c) => Some(c),
                Err(m) => {
                    errors.push(FieldError::new("currency", m));
                    None
                }
            },
        };
        if let (Some(from), Some(to)) = (from, to) {
            if from > to {
                errors.push(FieldError::new("from", "must not be after to"));
            } else if (to - from).num_days() >= MAX_SUMMARY_DAYS {
                errors.push(FieldError::new(
                    "from",
                    format!("the range must cover at most {MAX_SUMMARY_DAYS} days"),
                ));
            }
        }
        match (errors.is_empty(), currency, from, to) {
            (true, Some(currency), Some(from), Some(to)) => {
                Ok(SummaryRequest { currency, from, to })
            }
            _ => Err(errors),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validates_ranges() {
        let today = NaiveDate::from_ymd_opt(2026, 11, 29).unwrap();
        let ok = RawSummaryParams::default().validate(today).unwrap();
        assert_eq!(ok.to, today);
        assert_eq!((ok.to - ok.from).num_days(), 29);
        let bad = RawSummaryParams {
            from: Some("2026-12-01".into()),
            to: Some("2026-11-01".into()),
            currency: Some("usd".into()),
        };
        assert_eq!(bad.validate(today).unwrap_err().len(), 2);
        let long = RawSummaryParams {
            from: Some("1990-01-01".into()),
            ..Default::default()
        };
        assert!(long.validate(today).is_err());
    }
}
