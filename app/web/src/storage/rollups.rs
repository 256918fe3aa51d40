//! Daily and monthly rollups: how each write changes the totals that
//! summaries read, and the statements that apply the changes. Dimensions: `total`, `status`, `method`, `campaign`, `recurring`.
//!
//! * `total`, `method`, `campaign`: count and gross of captured payments
//!   (succeeded, partially or fully refunded) on the day they were created;
//!   refunded amounts on the day of the refund.
//! * `recurring`: the same for payments a membership made (recurring
//!   revenue by month).
//! * `status`: count and amount of payments by their current status, on the
//!   day they were created.
//! * `fee`: count and sum (in `gross`) of processor fees, on the day the
//!   payment was created.
//! * `disputed`: count and sum (in `gross`) of lost disputes, on the day
//!   each was lost.

use std::collections::BTreeMap;

use super::exec::{Arg, Tx};
use crate::domain::{Status, Timestamp};

pub const NO_CAMPAIGN: &str = "(none)";

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Key {
    pub currency: String,
    pub dimension: &'static str,
    pub day: String,
    pub value: String,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counters {
    pub count: i64,
    pub gross: i64,
    pub refunded: i64,
}

/// The facts about one payment that its rollups depend on.
#[derive(Clone, Debug)]
pub struct Subject<'a> {
    pub currency: &'a str,
    pub method: &'a str,
    pub campaign: Option<&'a str>,
    pub amount: i64,
    pub created_at: Timestamp,
    /// Made by a membership.
    pub recurring: bool,
}

/// A set of changes, merged by key and applied in key order (a fixed lock
/// order keeps concurrent writers from deadlocking on rollup rows).
#[derive(Debug, Default)]
pub struct Deltas(BTreeMap<Key, Counters>);

impl Deltas {
    fn add(
        &mut self,
        s: &Subject<'_>,
        dimension: &'static str,
        day: &str,
        value: &str,
        c: Counters,
    ) {
        let key = Key {
            currency: s.currency.to_owned(),
            dimension,
            day: day.to_owned(),
            value: value.to_owned(),
        };
        let e = self.0.entry(key).or_default();
        e.count += c.count;
        e.gross += c.gross;
        e.refunded += c.refunded;
    }

    fn captured(&mut self, s: &Subject<'_>, day: &str, c: Counters) {
        self.add(s, "total", day, "", c);
        self.add(s, "method", day, s.method, c);
        self.add(s, "campaign", day, s.campaign.unwrap_or(NO_CAMPAIGN), c);
        if s.recurring {
            self.add(s, "recurring", day, "", c);
        }
    }

    /// A payment recorded with `status`.
    pub fn created(&mut self, s: &Subject<'_>, status: Status) {
        let day = s.created_at.day();
        let c = Counters {
            count: 1,
            gross: s.amount,
            refunded: 0,
        };
        self.add(s, "status", &day, status.as_str(), c);
        if status.is_captured() {
            self.captured(s, &day, c);
        }
    }

    /// A payment moved from one status to another.
    pub fn status_changed(&mut self, s: &Subject<'_>, from: Status, to: Status) {
        if from == to {
            return;
        }
        let day = s.created_at.day();
        let c = Counters {
            count: 1,
            gross: s.amount,
            refunded: 0,
        };
        let minus = Counters {
            count: -1,
            gross: -s.amount,
            refunded: 0,
        };
        self.add(s, "status", &day, from.as_str(), minus);
        self.add(s, "status", &day, to.as_str(), c);
        match (from.is_captured(), to.is_captured()) {
            (false, true) => self.captured(s, &day, c),
            (true, false) => self.captured(s, &day, minus),
            _ => {}
        }
    }

    /// `amount` was refunded at `at`.
    pub fn refunded(&mut self, s: &Subject<'_>, amount: i64, at: Timestamp) {
        self.captured(
            s,
            &at.day(),
            Counters {
                count: 0,
                gross: 0,
                refunded: amount,
            },
        );
    }

    /// The processor's `fee` on a payment, on the day the payment was made.
    pub fn fee(&mut self, s: &Subject<'_>, fee: i64) {
        let c = Counters {
            count: 1,
            gross: fee,
            refunded: 0,
        };
        self.add(s, "fee", &s.created_at.day(), "", c);
    }

    /// A dispute of `amount` was lost at `at`: the money left net that day.
    pub fn disputed(&mut self, s: &Subject<'_>, amount: i64, at: Timestamp) {
        let c = Counters {
            count: 1,
            gross: amount,
            refunded: 0,
        };
        self.add(s, "disputed", &at.day(), "", c);
    }

    /// The same changes per calendar month (`day` holds `YYYY-MM`), for
    /// `monthly_rollups`.
    pub fn by_month(&self) -> Deltas {
        let mut months = Deltas::default();
        for (k, c) in self.iter() {
            let key = Key {
                day: k.day.get(..7).unwrap_or(&k.day).to_owned(),
                ..k.clone()
            };
            let e = months.0.entry(key).or_default();
            e.count += c.count;
            e.gross += c.gross;
            e.refunded += c.refunded;
        }
        months
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = (&Key, &Counters)> {
        self.0.iter().filter(|(_, c)| **c != Counters::default())
    }
}

/// Adds `deltas` to the daily rows, then the same changes per month to the
/// monthly rows, in `tx`.
pub(crate) async fn apply(tx: &mut Tx<'_>, deltas: &Deltas) -> Result<(), sqlx::Error> {
    let monthly = deltas.by_month();
    let d = tx.dialect();
    for (table, period, set) in [
        ("daily_rollups", "day", deltas),
        ("monthly_rollups", "month", &monthly),
    ] {
        let rows: Vec<_> = set.iter().collect();
        // A bulk load over many days touches more rows than one statement
        // may carry placeholders for.
        for chunk in rows.chunks(d.max_placeholders() / 7) {
            let sql = format!(
                "INSERT INTO {table} (currency, dimension, {period}, value, count, gross, refunded) VALUES {}{}",
                vec!["(?, ?, ?, ?, ?, ?, ?)"; chunk.len()].join(", "),
                d.rollup_upsert_tail(period)
            );
            let mut args: Vec<Arg<'_>> = Vec::with_capacity(chunk.len() * 7);
            for (k, c) in chunk {
                args.extend([
                    k.currency.as_str().into(),
                    k.dimension.into(),
                    k.day.as_str().into(),
                    k.value.as_str().into(),
                    c.count.into(),
                    c.gross.into(),
                    c.refunded.into(),
                ]);
            }
            tx.execute(&sql, &args).await?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn subject() -> Subject<'static> {
        Subject {
            currency: "USD",
            method: "card",
            campaign: None,
            amount: 1000,
            created_at: Timestamp(0),
            recurring: false,
        }
    }

    fn get(d: &Deltas, dim: &str, day: &str, value: &str) -> Counters {
        d.0.iter()
            .find(|(k, _)| k.dimension == dim && k.day == day && k.value == value)
            .map(|(_, c)| *c)
            .unwrap_or_default()
    }

    #[test]
    fn pending_then_succeeded_equals_created_succeeded() {
        let s = subject();
        let mut a = Deltas::default();
        a.created(&s, Status::Pending);
        a.status_changed(&s, Status::Pending, Status::Succeeded);
        let mut b = Deltas::default();
        b.created(&s, Status::Succeeded);
        let a: Vec<_> = a.iter().map(|(k, c)| (k.clone(), *c)).collect();
        let b: Vec<_> = b.iter().map(|(k, c)| (k.clone(), *c)).collect();
        assert_eq!(a, b);
    }

    #[test]
    fn pending_counts_only_by_status_and_refunds_land_on_their_day() {
        let s = subject();
        let mut d = Deltas::default();
        d.created(&s, Status::Pending);
        assert_eq!(get(&d, "total", "1970-01-01", ""), Counters::default());
        assert_eq!(get(&d, "status", "1970-01-01", "pending").count, 1);
        let mut d = Deltas::default();
        d.refunded(&s, 300, Timestamp(86_400_000_000));
        assert_eq!(get(&d, "total", "1970-01-02", "").refunded, 300);
        assert_eq!(get(&d, "campaign", "1970-01-02", NO_CAMPAIGN).refunded, 300);
        assert_eq!(get(&d, "method", "1970-01-02", "card").refunded, 300);
    }
}
