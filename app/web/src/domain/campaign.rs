//! Campaigns: a named drive with an optional goal, an optional match ("every
//! gift matched 2×, up to $50,000") and an end. Payments name a campaign by
//! its slug (free-text values on older payments keep working: a campaign is
//! only needed for a goal, a match or the donation page).

use serde::Serialize;
use utoipa::ToSchema;

use super::money::{Currency, parse_major_units};
use super::payment::Timestamp;

/// The longest slug, the same bound as a payment's campaign value.
pub const SLUG_MAX: usize = 100;
pub const NAME_MAX: usize = 200;

#[derive(Clone, Debug, PartialEq, Serialize, ToSchema)]
pub struct Campaign {
    pub slug: String,
    pub name: String,
    /// In minor units of `currency`.
    pub goal: Option<i64>,
    #[schema(value_type = String, example = "USD")]
    #[serde(serialize_with = "currency_code")]
    pub currency: Currency,
    /// What the matcher adds to each unit given, in hundredths: 100 is
    /// dollar for dollar ("matched 1×"), 200 is "matched 2×".
    pub match_ratio: Option<i64>,
    /// The most the matcher gives, in minor units of `currency`.
    pub match_cap: Option<i64>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub ends_at: Option<Timestamp>,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: Timestamp,
}

fn currency_code<S: serde::Serializer>(c: &Currency, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(c.code())
}

/// How far a campaign has come, in its currency: captured gifts less
/// refunds, and what the match adds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, ToSchema)]
pub struct CampaignProgress {
    pub count: i64,
    pub raised: i64,
    pub matched: i64,
    /// What the match can still add; null when there is no cap (or no match).
    pub match_remaining: Option<i64>,
}

impl Campaign {
    /// Gifts are taken until the end (exclusive).
    pub fn is_open(&self, now: Timestamp) -> bool {
        self.ends_at.is_none_or(|end| now < end)
    }

    /// "2×", "1.5×": how the match is shown; None without a match.
    pub fn match_label(&self) -> Option<String> {
        let r = self.match_ratio.filter(|r| *r > 0)?;
        Some(if r % 100 == 0 {
            format!("{}×", r / 100)
        } else {
            let text = format!("{}.{:02}", r / 100, r % 100);
            format!("{}×", text.trim_end_matches('0'))
        })
    }

    /// What the matcher gives for `raised`: the ratio, up to the cap.
    pub fn matched(&self, raised: i64) -> i64 {
        let Some(ratio) = self.match_ratio.filter(|r| *r > 0) else {
            return 0;
        };
        let full =
            i64::try_from(i128::from(raised.max(0)) * i128::from(ratio) / 100).unwrap_or(i64::MAX);
        self.match_cap.map_or(full, |cap| full.min(cap))
    }

    /// Progress from the captured totals of the campaign's currency.
    pub fn progress(&self, count: i64, gross: i64, refunded: i64) -> CampaignProgress {
        let raised = gross - refunded;
        let matched = self.matched(raised);
        CampaignProgress {
            count,
            raised,
            matched,
            match_remaining: self
                .match_ratio
                .filter(|r| *r > 0)
                .and(self.match_cap)
                .map(|cap| (cap - matched).max(0)),
        }
    }

    /// The match is shown while the campaign is open and the cap not reached.
    pub fn match_active(&self, progress: &CampaignProgress, now: Timestamp) -> bool {
        self.match_label().is_some() && self.is_open(now) && progress.match_remaining != Some(0)
    }
}

impl CampaignProgress {
    /// Raised (with the match) as a whole percentage of the goal, at most 100.
    pub fn percent_of_goal(&self, campaign: &Campaign) -> Option<u8> {
        let goal = campaign.goal.filter(|g| *g > 0)?;
        let total = i128::from((self.raised + self.matched).max(0));
        Some((total * 100 / i128::from(goal)).min(100) as u8)
    }
}

/// A campaign to create or the new values of one, validated.
#[derive(Clone, Debug, PartialEq)]
pub struct CampaignSpec {
    pub name: String,
    pub goal: Option<i64>,
    pub currency: Currency,
    pub match_ratio: Option<i64>,
    pub match_cap: Option<i64>,
    pub ends_at: Option<Timestamp>,
}

/// A campaign's fields as typed by a person (the command line or the
/// dashboard's form): amounts in major units, the ratio as a decimal
/// ("2", "1.5"), the end as a date (the campaign ends at its midnight UTC)
/// or an RFC 3339 instant.
#[derive(Clone, Debug, Default)]
pub struct CampaignInput<'a> {
    pub name: &'a str,
    pub goal: Option<&'a str>,
    pub currency: Option<&'a str>,
    pub match_ratio: Option<&'a str>,
    pub match_cap: Option<&'a str>,
    pub ends: Option<&'a str>,
}

/// A slug: 1–100 of ASCII letters, digits, `-`, `_` and `.`, so it reads well
/// in a link (`/donate?campaign=2026-year-end`).
pub fn parse_slug(slug: &str) -> Result<String, String> {
    let ok = !slug.is_empty()
        && slug.len() <= SLUG_MAX
        && slug
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    if ok {
        Ok(slug.to_owned())
    } else {
        Err(format!(
            "must be 1 to {SLUG_MAX} letters, digits, '-', '_' or '.'"
        ))
    }
}

fn blank(v: Option<&str>) -> Option<&str> {
    v.map(str::trim).filter(|s| !s.is_empty())
}

impl CampaignInput<'_> {
    /// The validated fields, or one (field, message) per bad field.
    pub fn parse(&self) -> Result<CampaignSpec, Vec<(&'static str, String)>> {
        let mut errors = Vec::new();
        let name = self.name.trim();
        if name.is_empty() || name.chars().count() > NAME_MAX {
            errors.push(("name", format!("must be 1 to {NAME_MAX} characters")));
        }
        let currency = match blank(self.currency) {
            None => Currency::USD,
            Some(code) => match Currency::parse(&code.to_ascii_uppercase()) {
                Ok(c) => c,
                Err(e) => {
                    errors.push(("currency", e.to_owned()));
                    Currency::USD
                }
            },
        };
        let mut amount = |field: &'static str, text: Option<&str>| match blank(text) {
            None => None,
            Some(t) => match parse_major_units(t, currency.exponent()) {
                Ok(v) if v > 0 => Some(v),
                Ok(_) => {
                    errors.push((field, "must be more than zero".into()));
                    None
                }
                Err(e) => {
                    errors.push((field, e));
                    None
                }
            },
        };
        let goal = amount("goal", self.goal);
        let match_cap = amount("match_cap", self.match_cap);
        let match_ratio = match blank(self.match_ratio) {
            None => None,
            Some(t) => match parse_major_units(t, 2) {
                Ok(v) if v > 0 && v <= 10_000 => Some(v),
                _ => {
                    errors.push((
                        "match_ratio",
                        "must be a number from 0.01 to 100, such as 1 or 1.5".into(),
                    ));
                    None
                }
            },
        };
        if match_cap.is_some() && match_ratio.is_none() && blank(self.match_ratio).is_none() {
            errors.push(("match_ratio", "is needed with a match cap".into()));
        }
        let ends_at = match blank(self.ends) {
            None => None,
            Some(t) => match parse_end(t) {
                Ok(at) => Some(at),
                Err(e) => {
                    errors.push(("ends", e));
                    None
                }
            },
        };
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(CampaignSpec {
            name: name.to_owned(),
            goal,
            currency,
            match_ratio,
            match_cap,
            ends_at,
        })
    }
}

fn parse_end(text: &str) -> Result<Timestamp, String> {
    if let Ok(date) = chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        let midnight = date
            .and_hms_opt(0, 0, 0)
            .expect("midnight exists")
            .and_utc();
        return Ok(Timestamp(midnight.timestamp_micros()));
    }
    chrono::DateTime::parse_from_rfc3339(text)
        .map(|t| Timestamp(t.timestamp_micros()))
        .map_err(|_| "must be a date (2026-12-31) or an RFC 3339 time".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn campaign(goal: Option<i64>, ratio: Option<i64>, cap: Option<i64>) -> Campaign {
        Campaign {
            slug: "2026-year-end".into(),
            name: "Year-end drive".into(),
            goal,
            currency: Currency::USD,
            match_ratio: ratio,
            match_cap: cap,
            ends_at: Some(Timestamp(2_000)),
            created_at: Timestamp(0),
            updated_at: Timestamp(0),
        }
    }

    #[test]
    fn the_match_follows_the_ratio_up_to_the_cap() {
        let c = campaign(Some(10_000_000), Some(100), Some(5_000_000));
        let p = c.progress(10, 3_200_000, 80_000);
        assert_eq!(p.raised, 3_120_000);
        assert_eq!(p.matched, 3_120_000);
        assert_eq!(p.match_remaining, Some(1_880_000));
        let p = c.progress(20, 7_000_000, 0);
        assert_eq!((p.matched, p.match_remaining), (5_000_000, Some(0)));
        assert!(!c.match_active(&p, Timestamp(1_000)));
        let double = campaign(None, Some(200), None);
        assert_eq!(double.progress(1, 2_500, 0).matched, 5_000);
        assert_eq!(double.progress(1, 2_500, 0).match_remaining, None);
        assert_eq!(campaign(None, None, None).progress(1, 2_500, 0).matched, 0);
    }

    #[test]
    fn percent_of_goal_counts_the_match_and_stops_at_100() {
        let c = campaign(Some(10_000), Some(100), None);
        assert_eq!(c.progress(1, 2_500, 0).percent_of_goal(&c), Some(50));
        assert_eq!(c.progress(1, 9_000, 0).percent_of_goal(&c), Some(100));
        let no_goal = campaign(None, None, None);
        assert_eq!(
            no_goal.progress(1, 9_000, 0).percent_of_goal(&no_goal),
            None
        );
    }

    #[test]
    fn open_until_the_end_and_labels_the_match() {
        let c = campaign(None, Some(150), None);
        assert!(c.is_open(Timestamp(1_999)));
        assert!(!c.is_open(Timestamp(2_000)));
        assert_eq!(c.match_label().as_deref(), Some("1.5×"));
        assert_eq!(
            campaign(None, Some(200), None).match_label().as_deref(),
            Some("2×")
        );
        assert_eq!(
            campaign(None, Some(125), None).match_label().as_deref(),
            Some("1.25×")
        );
        assert_eq!(campaign(None, None, None).match_label(), None);
    }

    #[test]
    fn parses_what_a_person_types() {
        let spec = CampaignInput {
            name: " Year-end drive ",
            goal: Some("100,000"),
            currency: Some("usd"),
            match_ratio: Some("1"),
            match_cap: Some("50000"),
            ends: Some("2027-01-01"),
        }
        .parse()
        .unwrap();
        assert_eq!(spec.name, "Year-end drive");
        assert_eq!(spec.goal, Some(10_000_000));
        assert_eq!(spec.match_ratio, Some(100));
        assert_eq!(spec.match_cap, Some(5_000_000));
        assert_eq!(spec.ends_at, Some(Timestamp(1_798_761_600_000_000)));
        let errors = CampaignInput {
            name: "",
            goal: Some("-5"),
            currency: Some("XYZ"),
            match_ratio: Some("abc"),
            match_cap: Some("0"),
            ends: Some("next week"),
        }
        .parse()
        .unwrap_err();
        let fields: Vec<_> = errors.iter().map(|e| e.0).collect();
        assert_eq!(
            fields,
            [
                "name",
                "currency",
                "goal",
                "match_cap",
                "match_ratio",
                "ends"
            ]
        );
        assert!(parse_slug("2026-year-end").is_ok());
        assert!(parse_slug("year end").is_err());
        assert!(parse_slug("").is_err());
        assert!(parse_slug(&"a".repeat(101)).is_err());
    }
}
