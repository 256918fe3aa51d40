//! Summaries and totals, read from the rollups only. Which rows make a
//! summary is decided here; how they add up is the domain's
//! ([`crate::domain::summarise`]).

use std::collections::BTreeMap;

use chrono::NaiveDate;

use super::super::text::Text;
use super::super::{Store, StoreError};
use crate::domain::{Dimension, DimensionTotals, Summary, SummaryRequest, Totals, summarise};

/// Splits `from..=to` into (table, period column, first, last): whole
/// calendar months from `monthly_rollups`, the partial months at either end
/// from `daily_rollups`.
fn summary_spans(
    from: NaiveDate,
    to: NaiveDate,
) -> Vec<(&'static str, &'static str, String, String)> {
    use chrono::Datelike;
    let day = |d: NaiveDate| d.format("%Y-%m-%d").to_string();
    let month = |d: NaiveDate| d.format("%Y-%m").to_string();
    let month_start = |d: NaiveDate| d.with_day(1).unwrap_or(d);
    let month_end = |d: NaiveDate| {
        let next = if d.month() == 12 {
            NaiveDate::from_ymd_opt(d.year() + 1, 1, 1)
        } else {
            NaiveDate::from_ymd_opt(d.year(), d.month() + 1, 1)
        };
        next.and_then(|n| n.pred_opt()).unwrap_or(d)
    };
    // Whole months: the first month starting on or after `from`, to the last
    // month ending on or before `to`.
    let first_full = if from.day() == 1 {
        from
    } else {
        month_end(from).succ_opt().unwrap_or(from)
    };
    let last_full_end = if to == month_end(to) {
        to
    } else {
        month_start(to).pred_opt().unwrap_or(to)
    };
    if first_full > last_full_end {
        return vec![("daily_rollups", "day", day(from), day(to))];
    }
    let mut spans = Vec::new();
    if from < first_full {
        spans.push((
            "daily_rollups",
            "day",
            day(from),
            day(first_full.pred_opt().unwrap_or(from)),
        ));
    }
    spans.push((
        "monthly_rollups",
        "month",
        month(first_full),
        month(last_full_end),
    ));
    if last_full_end < to {
        spans.push((
            "daily_rollups",
            "day",
            day(last_full_end.succ_opt().unwrap_or(to)),
            day(to),
        ));
    }
    spans
}

fn dimension(name: &str) -> Result<Dimension, StoreError> {
    match name {
        "status" => Ok(Dimension::Status),
        "method" => Ok(Dimension::Method),
        "campaign" => Ok(Dimension::Campaign),
        "fee" => Ok(Dimension::Fee),
        "disputed" => Ok(Dimension::Disputed),
        other => Err(StoreError::Corrupt(format!(
            "a rollup row has the unknown dimension {other}"
        ))),
    }
}

impl Store {
    /// Totals for one currency over a range of days, from the rollups only.
    #[tracing::instrument(skip_all)]
    pub async fn summary(&self, req: &SummaryRequest) -> Result<Summary, StoreError> {
        let from = req.from.format("%Y-%m-%d").to_string();
        let to = req.to.format("%Y-%m-%d").to_string();
        let currency = req.currency.code();
        type DayRow = (Text, i64, i64, i64);
        type DimRow = (Text, Text, i64, i64, i64);
        let spans = summary_spans(req.from, req.to);
        let (from, to, spans) = (&from, &to, &spans);
        // Range scans of the rollups' primary key, on one connection (one
        // pool checkout): the daily totals, then the dimensions.
        let (days, dims): (Vec<DayRow>, Vec<DimRow>) = self
            .read(|c| {
                Box::pin(async move {
                    let days = c
                        .fetch_all(
                            "SELECT day, count, gross, refunded FROM daily_rollups \
                             WHERE currency = ? AND dimension = 'total' AND day >= ? AND day <= ?",
                            &[currency.into(), from.into(), to.into()],
                        )
                        .await?;
                    // Whole months from monthly_rollups, the partial months at
                    // either end from daily_rollups (under two months of days in
                    // all): a few hundred rows of the primary key, summed by
                    // the domain. (Grouping in the database made it walk every
                    // day of each value.)
                    let mut dims: Vec<DimRow> = Vec::new();
                    for (table, period, lo, hi) in spans {
                        let sql = format!(
                            "SELECT dimension, value, count, gross, refunded FROM {table} \
                             WHERE currency = ? AND dimension IN ('status', 'method', 'campaign', 'fee', 'disputed') \
                             AND {period} >= ? AND {period} <= ?"
                        );
                        let mut part = c
                            .fetch_all(&sql, &[currency.into(), lo.into(), hi.into()])
                            .await?;
                        dims.append(&mut part);
                    }
                    Ok((days, dims))
                })
            })
            .await?;
        // A day that does not parse is not a day of the range.
        let days = days
            .into_iter()
            .filter_map(|(day, count, gross, refunded)| {
                let day = NaiveDate::parse_from_str(&day, "%Y-%m-%d").ok()?;
                Some((
                    day,
                    Totals {
                        count,
                        gross,
                        refunded,
                    },
                ))
            });
        let dims = dims
            .into_iter()
            .map(|(name, value, count, gross, refunded)| {
                Ok(DimensionTotals {
                    dimension: dimension(&name)?,
                    value: value.0,
                    totals: Totals {
                        count,
                        gross,
                        refunded,
                    },
                })
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        Ok(summarise(req, days, dims))
    }

    /// Count, gross and refunded per currency over a range of days, for the
    /// currencies named: whole months from the monthly rollups, partial ones
    /// from the daily rollups, one range scan per currency and span.
    pub async fn totals_by_currency(
        &self,
        currencies: &[String],
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<BTreeMap<String, (i64, i64, i64)>, StoreError> {
        let mut totals = BTreeMap::new();
        if currencies.is_empty() {
            return Ok(totals);
        }
        let marks = vec!["?"; currencies.len()].join(", ");
        let spans = summary_spans(from, to);
        let (marks, spans) = (&marks, &spans);
        let rows: Vec<(Text, i64, i64, i64)> = self
            .read(|c| {
                Box::pin(async move {
                    let d = c.dialect();
                    let mut rows = Vec::new();
                    for (table, period, lo, hi) in spans {
                        let sql = format!(
                            "SELECT currency, {}, {}, {} FROM {table} \
                             WHERE currency IN ({marks}) AND dimension = 'total' \
                             AND {period} >= ? AND {period} <= ? GROUP BY currency",
                            d.sum("count"),
                            d.sum("gross"),
                            d.sum("refunded")
                        );
                        let mut args: Vec<_> = currencies.iter().map(Into::into).collect();
                        args.extend([lo.into(), hi.into()]);
                        rows.append(&mut c.fetch_all(&sql, &args).await?);
                    }
                    Ok(rows)
                })
            })
            .await?;
        for (code, count, gross, refunded) in rows {
            let entry = totals.entry(code.0).or_insert((0, 0, 0));
            entry.0 += count;
            entry.1 += gross;
            entry.2 += refunded;
        }
        Ok(totals)
    }

    /// Currencies that have any captured payment, most used first.
    pub async fn currencies(&self) -> Result<Vec<String>, StoreError> {
        let rows: Vec<(Text,)> = self
            .read(|c| {
                Box::pin(async move {
                    c.fetch_all(
                        "SELECT currency FROM monthly_rollups WHERE dimension = 'total' \
                         GROUP BY currency ORDER BY SUM(count) DESC, currency",
                        &[],
                    )
                    .await
                })
            })
            .await?;
        Ok(rows.into_iter().map(|(c,)| c.0).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn spans(from: &str, to: &str) -> Vec<(&'static str, String, String)> {
        summary_spans(d(from), d(to))
            .into_iter()
            .map(|(t, _, a, b)| (t, a, b))
            .collect()
    }

    #[test]
    fn ranges_split_into_whole_months_and_partial_ends() {
        assert_eq!(
            spans("2026-05-03", "2026-05-20"),
            vec![("daily_rollups", "2026-05-03".into(), "2026-05-20".into())]
        );
        assert_eq!(
            spans("2026-05-01", "2026-05-31"),
            vec![("monthly_rollups", "2026-05".into(), "2026-05".into())]
        );
        assert_eq!(
            spans("2025-10-26", "2026-11-29"),
            vec![
                ("daily_rollups", "2025-10-26".into(), "2025-10-31".into()),
                ("monthly_rollups", "2025-11".into(), "2026-10".into()),
                ("daily_rollups", "2026-11-01".into(), "2026-11-29".into()),
            ]
        );
        assert_eq!(
            spans("2025-12-15", "2026-01-31"),
            vec![
                ("daily_rollups", "2025-12-15".into(), "2025-12-31".into()),
                ("monthly_rollups", "2026-01".into(), "2026-01".into())
            ]
        );
        assert_eq!(
            spans("2026-02-01", "2026-02-27"),
            vec![("daily_rollups", "2026-02-01".into(), "2026-02-27".into())]
        );
        assert_eq!(
            spans("2024-02-29", "2024-02-29"),
            vec![("daily_rollups", "2024-02-29".into(), "2024-02-29".into())]
        );
    }
}
