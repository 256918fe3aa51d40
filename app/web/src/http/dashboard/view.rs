//! How the pages show things: times, amounts and statuses, the notice above
//! a page, and the options of a select.

use serde::Deserialize;

use crate::domain::{Status, Timestamp, format_amount};

/// A time as the pages show it: UTC, to the second.
pub fn when(ts: Timestamp) -> String {
    ts.to_datetime().format("%Y-%m-%d %H:%M:%S").to_string()
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
}
