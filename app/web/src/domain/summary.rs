//! Totals over a date range: what a summary is, and how the rollup rows
//! that storage reads add up to one.

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
    /// Lost disputes: money the bank took back from a payment.
    pub disputed: i64,
    /// `gross - refunded - disputed`.
    pub net: i64,
    /// The processor's fees on the payments of the range (known ones).
    pub fees: i64,
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

#[derive(Clone, Debug, Default, serde::Deserialize, utoipa::IntoParams)]
#[serde(default)]
#[into_params(parameter_in = Query)]
pub struct RawSummaryParams {
    #[param(schema_with = super::query::summary_from)]
    pub from: Option<String>,
    #[param(schema_with = super::query::summary_to)]
    pub to: Option<String>,
    #[param(schema_with = super::query::summary_currency)]
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

/// Count, gross and refunded of one rollup row.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Totals {
    pub count: i64,
    pub gross: i64,
    pub refunded: i64,
}

/// Which breakdown of a summary a rollup row belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dimension {
    Status,
    Method,
    Campaign,
    /// Processor fees (the sum is in `gross`).
    Fee,
    /// Lost disputes (the sum is in `gross`), on the day each was lost.
    Disputed,
}

/// One rollup row of a breakdown: the totals of one status, method or
/// campaign over a day or a month.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DimensionTotals {
    pub dimension: Dimension,
    pub value: String,
    pub totals: Totals,
}

/// One entry per day of `from..=to`, each the sum of the `days` rows of that
/// day (rows outside the range are left out).
pub fn daily_series(
    from: NaiveDate,
    to: NaiveDate,
    days: impl IntoIterator<Item = (NaiveDate, Totals)>,
) -> Vec<DailyTotal> {
    let mut daily: BTreeMap<NaiveDate, DailyTotal> = BTreeMap::new();
    let mut day = from;
    while day <= to {
        daily.insert(
            day,
            DailyTotal {
                date: day,
                count: 0,
                gross: 0,
                refunded: 0,
            },
        );
        day = day.succ_opt().unwrap_or(day);
        if day == NaiveDate::MAX {
            break;
        }
    }
    for (day, t) in days {
        if let Some(entry) = daily.get_mut(&day) {
            entry.count += t.count;
            entry.gross += t.gross;
            entry.refunded += t.refunded;
        }
    }
    daily.into_values().collect()
}

/// The three breakdowns, by status, method and campaign: rows of the same
/// value add up (a value can come from a daily and a monthly row), and a
/// value whose totals all add up to zero is left out.
pub fn breakdowns(
    rows: impl IntoIterator<Item = DimensionTotals>,
) -> (
    BTreeMap<String, StatusTotal>,
    BTreeMap<String, Breakdown>,
    BTreeMap<String, Breakdown>,
) {
    let (mut by_status, mut by_method, mut by_campaign) =
        (BTreeMap::new(), BTreeMap::new(), BTreeMap::new());
    for row in rows {
        let map: &mut BTreeMap<String, Breakdown> = match row.dimension {
            Dimension::Status => &mut by_status,
            Dimension::Method => &mut by_method,
            Dimension::Campaign => &mut by_campaign,
            Dimension::Fee | Dimension::Disputed => continue,
        };
        let b = map.entry(row.value).or_default();
        b.count += row.totals.count;
        b.gross += row.totals.gross;
        b.refunded += row.totals.refunded;
        b.net = b.gross - b.refunded;
    }
    for map in [&mut by_status, &mut by_method, &mut by_campaign] {
        map.retain(|_, b| *b != Breakdown::default());
    }
    let by_status = by_status
        .into_iter()
        .map(|(status, b)| {
            let total = StatusTotal {
                count: b.count,
                gross: b.gross,
            };
            (status, total)
        })
        .collect();
    (by_status, by_method, by_campaign)
}

/// The summary that `req` asks for, from the `total` rollup rows of its days
/// and the rows of its breakdowns. The overall count, gross and refunded are
/// the sums of the daily series.
pub fn summarise(
    req: &SummaryRequest,
    days: impl IntoIterator<Item = (NaiveDate, Totals)>,
    dimensions: impl IntoIterator<Item = DimensionTotals>,
) -> Summary {
    let daily = daily_series(req.from, req.to, days);
    let (count, gross, refunded) = daily.iter().fold((0, 0, 0), |(c, g, r), d| {
        (c + d.count, g + d.gross, r + d.refunded)
    });
    let dimensions: Vec<DimensionTotals> = dimensions.into_iter().collect();
    let sum_of = |d: Dimension| -> i64 {
        dimensions
            .iter()
            .filter(|r| r.dimension == d)
            .map(|r| r.totals.gross)
            .sum()
    };
    let (fees, disputed) = (sum_of(Dimension::Fee), sum_of(Dimension::Disputed));
    let (by_status, by_method, by_campaign) = breakdowns(dimensions);
    Summary {
        currency: req.currency.code().to_owned(),
        from: req.from,
        to: req.to,
        count,
        gross,
        refunded,
        disputed,
        net: gross - refunded - disputed,
        fees,
        by_status,
        by_method,
        by_campaign,
        daily,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn t(count: i64, gross: i64, refunded: i64) -> Totals {
        Totals {
            count,
            gross,
            refunded,
        }
    }

    fn row(dimension: Dimension, value: &str, totals: Totals) -> DimensionTotals {
        DimensionTotals {
            dimension,
            value: value.into(),
            totals,
        }
    }

    #[test]
    fn a_summary_adds_up_days_and_breakdowns() {
        let req = SummaryRequest {
            currency: Currency::USD,
            from: date("2026-02-27"),
            to: date("2026-03-01"),
        };
        let days = [
            (date("2026-02-27"), t(2, 3000, 0)),
            (date("2026-03-01"), t(1, 500, 200)),
            // The same day twice (two rows) adds up; a day outside the range is ignored.
            (date("2026-03-01"), t(1, 100, 0)),
            (date("2026-03-02"), t(9, 9999, 9)),
        ];
        let dims = [
            row(Dimension::Status, "succeeded", t(3, 3500, 0)),
            row(Dimension::Status, "pending", t(1, 100, 0)),
            row(Dimension::Method, "card", t(2, 2500, 200)),
            // A value from a daily row and from a monthly row adds up.
            row(Dimension::Method, "card", t(1, 1000, 0)),
            row(Dimension::Method, "ach", t(1, 100, 0)),
            row(Dimension::Campaign, "(none)", t(4, 3600, 200)),
            // A status that no payment has any more nets to nothing: left out.
            row(Dimension::Status, "partially_refunded", t(1, 700, 0)),
            row(Dimension::Status, "partially_refunded", t(-1, -700, 0)),
        ];
        let s = summarise(&req, days, dims);
        assert_eq!(s.currency, "USD");
        assert_eq!((s.from, s.to), (date("2026-02-27"), date("2026-03-01")));
        assert_eq!((s.count, s.gross, s.refunded, s.net), (4, 3600, 200, 3400));
        assert_eq!(
            s.daily,
            vec![
                DailyTotal {
                    date: date("2026-02-27"),
                    count: 2,
                    gross: 3000,
                    refunded: 0
                },
                DailyTotal {
                    date: date("2026-02-28"),
                    count: 0,
                    gross: 0,
                    refunded: 0
                },
                DailyTotal {
                    date: date("2026-03-01"),
                    count: 2,
                    gross: 600,
                    refunded: 200
                },
            ]
        );
        assert_eq!(
            s.by_status,
            BTreeMap::from([
                (
                    "pending".to_owned(),
                    StatusTotal {
                        count: 1,
                        gross: 100
                    }
                ),
                (
                    "succeeded".to_owned(),
                    StatusTotal {
                        count: 3,
                        gross: 3500
                    }
                ),
            ])
        );
        let b = |count, gross, refunded, net| Breakdown {
            count,
            gross,
            refunded,
            net,
        };
        assert_eq!(
            s.by_method,
            BTreeMap::from([
                ("ach".to_owned(), b(1, 100, 0, 100)),
                ("card".to_owned(), b(3, 3500, 200, 3300)),
            ])
        );
        assert_eq!(
            s.by_campaign,
            BTreeMap::from([("(none)".to_owned(), b(4, 3600, 200, 3400))])
        );
    }

    #[test]
    fn an_empty_range_has_a_zero_for_every_day() {
        let req = SummaryRequest {
            currency: Currency::USD,
            from: date("2024-02-28"),
            to: date("2024-03-01"),
        };
        let s = summarise(&req, [], []);
        let dates: Vec<String> = s.daily.iter().map(|d| d.date.to_string()).collect();
        assert_eq!(dates, ["2024-02-28", "2024-02-29", "2024-03-01"]);
        assert!(
            s.daily
                .iter()
                .all(|d| (d.count, d.gross, d.refunded) == (0, 0, 0))
        );
        assert_eq!((s.count, s.gross, s.refunded, s.net), (0, 0, 0, 0));
        assert!(s.by_status.is_empty() && s.by_method.is_empty() && s.by_campaign.is_empty());
    }

    #[test]
    fn refunds_can_make_net_negative() {
        let (_, by_method, _) = breakdowns([row(Dimension::Method, "card", t(0, 0, 500))]);
        assert_eq!(
            by_method["card"],
            Breakdown {
                count: 0,
                gross: 0,
                refunded: 500,
                net: -500
            }
        );
    }

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
