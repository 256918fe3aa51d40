//! A donor's year-end giving statement: every captured gift of one calendar
//! year (UTC), refunds netted, with totals per currency.

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate, TimeZone, Utc};

use super::donor::GiftTotals;
use super::payment::Timestamp;

/// One gift as the statement lists it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StatementGift {
    pub id: String,
    pub created_at: Timestamp,
    /// The campaign, or what kind of gift it was.
    pub description: String,
    pub currency: String,
    pub amount: i64,
    pub refunded: i64,
}

impl StatementGift {
    pub fn net(&self) -> i64 {
        self.amount - self.refunded
    }

    pub fn date(&self) -> NaiveDate {
        Utc.timestamp_micros(self.created_at.0)
            .single()
            .map_or(NaiveDate::MIN, |t| t.date_naive())
    }
}

/// The statement of one donor for one year.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Statement {
    pub year: i32,
    pub donor_id: String,
    pub donor_name: String,
    pub donor_email: String,
    /// Oldest first.
    pub gifts: Vec<StatementGift>,
}

impl Statement {
    /// Gross, refunded and net per currency.
    pub fn totals(&self) -> BTreeMap<String, GiftTotals> {
        let mut totals: BTreeMap<String, GiftTotals> = BTreeMap::new();
        for g in &self.gifts {
            let t = totals.entry(g.currency.clone()).or_default();
            t.count += 1;
            t.gross += g.amount;
            t.refunded += g.refunded;
            t.net += g.net();
        }
        totals
    }
}

/// The first instant of `year` and of the year after, in the ledger's
/// microseconds (UTC); None for a year chrono cannot represent.
pub fn year_bounds(year: i32) -> Option<(Timestamp, Timestamp)> {
    let start = |y: i32| {
        NaiveDate::from_ymd_opt(y, 1, 1)
            .and_then(|d| d.and_hms_opt(0, 0, 0))
            .map(|t| Timestamp(t.and_utc().timestamp_micros()))
    };
    Some((start(year)?, start(year.checked_add(1)?)?))
}

/// A statement year as typed: four digits, not before 2000 and not after
/// the current year.
pub fn parse_year(s: &str, now: Timestamp) -> Result<i32, String> {
    let this_year = Utc
        .timestamp_micros(now.0)
        .single()
        .map_or(9999, |t| t.year());
    match s.trim().parse::<i32>() {
        Ok(y) if (2000..=this_year).contains(&y) => Ok(y),
        _ => Err(format!("must be a year from 2000 to {this_year}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gift(currency: &str, amount: i64, refunded: i64) -> StatementGift {
        StatementGift {
            id: "pay_1".into(),
            created_at: Timestamp(1_767_225_600_000_000),
            description: "Gift".into(),
            currency: currency.into(),
            amount,
            refunded,
        }
    }

    #[test]
    fn totals_net_refunds_per_currency() {
        let s = Statement {
            year: 2026,
            donor_id: "don_1".into(),
            donor_name: "Ada".into(),
            donor_email: "ada@example.org".into(),
            gifts: vec![
                gift("USD", 5_000, 0),
                gift("USD", 2_500, 1_000),
                gift("EUR", 700, 700),
            ],
        };
        let t = s.totals();
        assert_eq!(
            (
                t["USD"].count,
                t["USD"].gross,
                t["USD"].refunded,
                t["USD"].net
            ),
            (2, 7_500, 1_000, 6_500)
        );
        assert_eq!((t["EUR"].gross, t["EUR"].net), (700, 0));
        assert_eq!(
            s.gifts[0].date(),
            NaiveDate::from_ymd_opt(2026, 1, 1).unwrap()
        );
    }

    #[test]
    fn years_are_bounded_in_utc_and_checked() {
        let (start, end) = year_bounds(2026).unwrap();
        assert_eq!(start.0, 1_767_225_600_000_000);
        assert_eq!(end.0 - start.0, 365 * 86_400 * 1_000_000);
        let now = year_bounds(2027).unwrap().0;
        assert_eq!(parse_year(" 2026 ", now), Ok(2026));
        assert_eq!(parse_year("2027", now), Ok(2027));
        for bad in ["2028", "1999", "26", "next"] {
            assert_eq!(
                parse_year(bad, now),
                Err("must be a year from 2000 to 2027".into()),
                "{bad}"
            );
        }
    }
}
