//! How the pages show things: times, amounts and statuses, the notice above
//! a page, the options of a select, and the links between keyset pages.

use serde::Deserialize;

use crate::domain::{
    Cursor, Interval, MembershipStatus, PageFrom, Status, Timestamp, format_amount,
};

/// A time as the pages show it: UTC, to the second.
pub fn when(ts: Timestamp) -> String {
    ts.to_datetime().format("%Y-%m-%d %H:%M:%S").to_string()
}

/// A day as the pages show it: the UTC date.
pub fn date(ts: Timestamp) -> String {
    ts.to_datetime().format("%Y-%m-%d").to_string()
}

/// An optional time as a date, or a dash.
pub fn date_or_dash(ts: Option<Timestamp>) -> String {
    ts.map_or_else(|| "—".into(), date)
}

/// An amount in minor units, in major units with its currency code
/// ("1,234.50 USD").
pub fn money(amount: i64, currency: &str) -> String {
    format_amount(amount, currency)
}

/// Like [`money`], but blank unless the amount is positive: for a column
/// that is empty for most rows.
pub fn money_if_any(amount: i64, currency: &str) -> String {
    if amount > 0 {
        money(amount, currency)
    } else {
        String::new()
    }
}

/// A status as the pages word it ("partially refunded").
pub fn status_label(status: Status) -> String {
    status.as_str().replace('_', " ")
}

/// A membership's status as the pages word it ("past due").
pub fn membership_label(status: MembershipStatus) -> String {
    status.as_str().replace('_', " ")
}

/// A recurring amount: "10.00 USD / month".
pub fn per_interval(amount: i64, currency: &str, interval: Interval) -> String {
    format!("{} / {}", money(amount, currency), interval.as_str())
}

/// An optional text, or a dash where there is none.
pub fn or_dash(text: Option<&String>) -> String {
    text.cloned().unwrap_or_else(|| "—".into())
}

/// A message above a page; `kind` is its style: `ok`, `info` or `error`.
pub struct Notice {
    pub kind: &'static str,
    pub text: String,
}

impl Notice {
    pub fn error(text: impl Into<String>) -> Notice {
        Notice {
            kind: "error",
            text: text.into(),
        }
    }
}

/// `?notice=`: the outcome of a form, named by the redirect that follows it.
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct NoticeQuery {
    notice: String,
}

impl NoticeQuery {
    /// The notice named, if it is one the pages know.
    pub fn notice(&self) -> Option<Notice> {
        let (kind, text) = match self.notice.as_str() {
            "refunded" => ("ok", "Refund recorded."),
            "already" => (
                "info",
                "This refund was already recorded (the form was sent twice).",
            ),
            "revoked" => ("ok", "Token revoked."),
            "campaign-created" => ("ok", "Campaign created."),
            "campaign-saved" => ("ok", "Campaign saved."),
            _ => return None,
        };
        Some(Notice {
            kind,
            text: text.to_owned(),
        })
    }
}

/// One `<option>` of a select.
pub struct Choice {
    pub value: &'static str,
    pub selected: bool,
}

impl Choice {
    /// The options, with `current` (as the form sent it) selected.
    pub fn list(values: impl Iterator<Item = &'static str>, current: &str) -> Vec<Choice> {
        values
            .map(|value| Choice {
                value,
                selected: value == current.trim(),
            })
            .collect()
    }
}

/// `?starting_after=` / `?ending_before=`: which keyset page a list shows.
#[derive(Deserialize, Default, Clone, Debug)]
#[serde(default)]
pub struct PageQuery {
    pub starting_after: String,
    pub ending_before: String,
}

impl PageQuery {
    /// The page asked for, or a message when a cursor is not one the
    /// links make.
    pub fn from(&self) -> Result<PageFrom, String> {
        let decode = |s: &str| Cursor::decode(s.trim()).ok_or(());
        match (self.starting_after.trim(), self.ending_before.trim()) {
            ("", "") => Ok(PageFrom::Start),
            (after, "") => decode(after).map(PageFrom::After),
            ("", before) => decode(before).map(PageFrom::Before),
            _ => Err(()),
        }
        .map_err(|()| "This page link is not valid (it may have been cut short); start again from the first page.".to_owned())
    }
}

/// The "newer" and "older" links around a keyset page.
#[derive(Default)]
pub struct Pager {
    pub prev: Option<String>,
    pub next: Option<String>,
}

/// `path?query` with the non-empty `params`.
pub fn link(path: &str, params: &[(&str, &str)]) -> String {
    let kept: Vec<_> = params.iter().filter(|(_, v)| !v.is_empty()).collect();
    if kept.is_empty() {
        return path.to_owned();
    }
    format!(
        "{path}?{}",
        serde_urlencoded::to_string(kept).unwrap_or_default()
    )
}

/// Whether newer and older rows exist around a page read `from` that found
/// more rows in its direction when `has_more`.
pub fn neighbours(from: &PageFrom, has_more: bool) -> (bool, bool) {
    match from {
        PageFrom::Start => (false, has_more),
        PageFrom::After(_) => (true, has_more),
        PageFrom::Before(_) => (has_more, true),
    }
}

impl Pager {
    /// The links of a page that started `from`, ran from `first` to `last`
    /// and found more rows in its direction when `has_more`; `params` are
    /// the filters the links keep.
    pub fn new(
        path: &str,
        params: &[(&str, &str)],
        from: &PageFrom,
        has_more: bool,
        first: Option<Cursor>,
        last: Option<Cursor>,
    ) -> Pager {
        let (newer_exist, older_exist) = neighbours(from, has_more);
        let with = |key: &'static str, c: Cursor| {
            let cursor = c.encode();
            let mut all = params.to_vec();
            all.push((key, &cursor));
            link(path, &all)
        };
        Pager {
            prev: first
                .filter(|_| newer_exist)
                .map(|c| with("ending_before", c)),
            next: last
                .filter(|_| older_exist)
                .map(|c| with("starting_after", c)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_amounts_and_notices_as_shown() {
        assert_eq!(
            status_label(Status::PartiallyRefunded),
            "partially refunded"
        );
        assert_eq!(money_if_any(0, "USD"), "");
        assert_eq!(money_if_any(150, "USD"), money(150, "USD"));
        assert_eq!(or_dash(None), "—");
        let query = |notice: &str| NoticeQuery {
            notice: notice.into(),
        };
        assert_eq!(query("already").notice().unwrap().kind, "info");
        assert!(query("anything else").notice().is_none());
        let choices = Choice::list(["a", "b"].into_iter(), " b ");
        assert_eq!(
            choices.iter().map(|c| c.selected).collect::<Vec<_>>(),
            [false, true]
        );
    }

    #[test]
    fn pages_link_both_ways_and_refuse_a_bad_cursor() {
        let c = |id: &str| Cursor {
            created_at: 5,
            id: id.into(),
        };
        let first = Pager::new(
            "/donors",
            &[("q", "ada lovelace"), ("status", "")],
            &PageFrom::Start,
            true,
            Some(c("don_a")),
            Some(c("don_b")),
        );
        assert_eq!(first.prev, None);
        assert_eq!(
            first.next.as_deref(),
            Some(
                format!(
                    "/donors?q=ada+lovelace&starting_after={}",
                    c("don_b").encode()
                )
                .as_str()
            )
        );
        let back = Pager::new(
            "/donors",
            &[],
            &PageFrom::Before(c("x")),
            false,
            Some(c("don_a")),
            None,
        );
        assert!(back.prev.is_none() && back.next.is_none());
        let page = |after: &str, before: &str| PageQuery {
            starting_after: after.into(),
            ending_before: before.into(),
        };
        assert_eq!(page("", "").from(), Ok(PageFrom::Start));
        assert_eq!(
            page(&c("don_a").encode(), "").from(),
            Ok(PageFrom::After(c("don_a")))
        );
        assert!(page("zz", "").from().is_err());
        assert!(page(&c("a").encode(), &c("b").encode()).from().is_err());
        assert_eq!(link("/x", &[("a", "")]), "/x");
    }
}
