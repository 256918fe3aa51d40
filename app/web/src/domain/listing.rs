//! Listing payments: filters, page size and keyset cursors.

use chrono::NaiveDate;

use super::money::{Currency, MAX_AMOUNT};
use super::payment::{Method, Payment, Status, Timestamp};
use super::query;
use super::validate::FieldError;
use super::values::CampaignName;

pub const DEFAULT_LIMIT: i64 = 25;
pub const MAX_LIMIT: i64 = 100;
/// The longest free-text search.
pub const MAX_QUERY_CHARS: usize = 200;

/// A position in the keyset order (`created_at` then `id`, newest first).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cursor {
    pub created_at: i64,
    pub id: String,
}

impl Cursor {
    /// An opaque token for clients: hex of `created_at:id`.
    pub fn encode(&self) -> String {
        hex::encode(format!("{}:{}", self.created_at, self.id))
    }

    pub fn decode(s: &str) -> Option<Cursor> {
        let bytes = hex::decode(s).ok()?;
        let text = String::from_utf8(bytes).ok()?;
        let (ts, id) = text.split_once(':')?;
        let valid_id = id.len() <= 40
            && !id.is_empty()
            && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
        if !valid_id {
            return None;
        }
        Some(Cursor {
            created_at: ts.parse().ok()?,
            id: id.to_owned(),
        })
    }
}

/// Filters shared by the API list, the dashboard table and the CSV export.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Filter {
    pub status: Option<Status>,
    pub method: Option<Method>,
    pub currency: Option<Currency>,
    pub campaign: Option<String>,
    pub donor_id: Option<String>,
    pub q: Option<String>,
    pub created_gte: Option<Timestamp>,
    pub created_lt: Option<Timestamp>,
    pub amount_gte: Option<i64>,
    pub amount_lte: Option<i64>,
}

/// Which page of the keyset order.
#[derive(Clone, Debug, PartialEq)]
pub enum PageFrom {
    Start,
    /// Rows after this cursor (older).
    After(Cursor),
    /// Rows before this cursor (newer), for "previous" links.
    Before(Cursor),
}

/// Query parameters as they arrive (all strings, all optional), documented
/// as what they must hold ([`super::query`]).
#[derive(Clone, Debug, Default, serde::Deserialize, utoipa::IntoParams)]
#[serde(default)]
#[into_params(parameter_in = Query)]
pub struct RawListParams {
    #[param(schema_with = query::limit)]
    pub limit: Option<String>,
    #[param(schema_with = query::starting_after)]
    pub starting_after: Option<String>,
    #[param(schema_with = query::ending_before)]
    pub ending_before: Option<String>,
    #[param(schema_with = query::status)]
    pub status: Option<String>,
    #[param(schema_with = query::method)]
    pub method: Option<String>,
    #[param(schema_with = query::currency)]
    pub currency: Option<String>,
    #[param(schema_with = query::campaign)]
    pub campaign: Option<String>,
    #[param(schema_with = query::donor_id)]
    pub donor_id: Option<String>,
    #[param(schema_with = query::q)]
    pub q: Option<String>,
    #[param(schema_with = query::created_gte)]
    pub created_gte: Option<String>,
    #[param(schema_with = query::created_lt)]
    pub created_lt: Option<String>,
    #[param(schema_with = query::amount_bound)]
    pub amount_gte: Option<String>,
    #[param(schema_with = query::amount_bound)]
    pub amount_lte: Option<String>,
}

/// A validated list request.
#[derive(Clone, Debug, PartialEq)]
pub struct ListRequest {
    pub filter: Filter,
    pub limit: i64,
    pub from: PageFrom,
}

/// A page of payments in keyset order, newest first.
#[derive(Debug)]
pub struct Page<T = Payment> {
    pub items: Vec<T>,
    /// More rows exist beyond this page in the direction of travel.
    pub has_more: bool,
}

impl<T> Page<T> {
    /// The page from the up to `limit + 1` rows read from `from`, in the
    /// order they were read: a row past the limit only says that more
    /// follow, and rows read towards newer ones (`Before`) are put back
    /// newest first.
    pub fn from_rows(rows: Vec<T>, limit: i64, from: &PageFrom) -> Page<T> {
        let limit = usize::try_from(limit).unwrap_or(0);
        let has_more = rows.len() > limit;
        let mut items: Vec<T> = rows.into_iter().take(limit).collect();
        if matches!(from, PageFrom::Before(_)) {
            items.reverse();
        }
        Page { items, has_more }
    }

    /// The items, each made into another type (a row into its object).
    pub fn try_map<U, E>(self, f: impl FnMut(T) -> Result<U, E>) -> Result<Page<U>, E> {
        Ok(Page {
            items: self.items.into_iter().map(f).collect::<Result<_, _>>()?,
            has_more: self.has_more,
        })
    }

    /// The cursor of the last item (`key` gives it) when more follow it in
    /// the order read, encoded for `starting_after`.
    pub fn next_cursor(&self, key: impl Fn(&T) -> Cursor) -> Option<String> {
        let last = self.items.last().filter(|_| self.has_more)?;
        Some(key(last).encode())
    }
}

/// A parameter's value, trimmed; None when absent or blank.
pub(crate) fn non_empty(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

/// `limit`: 1 to [`MAX_LIMIT`], [`DEFAULT_LIMIT`] when absent (and, with
/// an error recorded, when bad).
pub(crate) fn parse_limit(v: &Option<String>, errors: &mut Vec<FieldError>) -> i64 {
    match non_empty(v) {
        None => DEFAULT_LIMIT,
        Some(s) => match s.parse::<i64>() {
            Ok(n) if (1..=MAX_LIMIT).contains(&n) => n,
            _ => {
                errors.push(FieldError::new(
                    "limit",
                    format!("must be an integer between 1 and {MAX_LIMIT}"),
                ));
                DEFAULT_LIMIT
            }
        },
    }
}

/// A cursor parameter (`field` names it in the error), None when absent.
pub(crate) fn parse_cursor(
    field: &str,
    v: &Option<String>,
    errors: &mut Vec<FieldError>,
) -> Option<Cursor> {
    let c = Cursor::decode(non_empty(v)?);
    if c.is_none() {
        errors.push(FieldError::new(
            field,
            "must be a cursor returned as next_cursor",
        ));
    }
    c
}

/// An id of ours with `prefix` (`don`, `mem`): the prefix, `_`, and up to
/// 40 characters in all of letters and digits.
pub fn parse_object_id(s: &str, prefix: &str) -> Result<String, String> {
    let ok = s.len() <= 40
        && s.strip_prefix(prefix)
            .and_then(|rest| rest.strip_prefix('_'))
            .is_some_and(|rest| {
                !rest.is_empty() && rest.bytes().all(|b| b.is_ascii_alphanumeric())
            });
    if ok {
        Ok(s.to_owned())
    } else {
        Err(format!(
            "must be an id such as {prefix}_0193…, at most 40 characters"
        ))
    }
}

/// Accepts an RFC 3339 timestamp or a plain date (midnight UTC).
pub fn parse_instant(s: &str) -> Result<Timestamp, String> {
    if let Ok(dt) = chrono::DateTime::parse_from_rfc3339(s) {
        return Ok(Timestamp::from_datetime(dt.with_timezone(&chrono::Utc)));
    }
    if let Ok(date) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        return Ok(Timestamp::from_datetime(
            date.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc(),
        ));
    }
    Err("must be an RFC 3339 timestamp or a date (YYYY-MM-DD)".into())
}

impl RawListParams {
    /// Validates the filters only (the CSV export has no paging).
    pub fn filter(&self) -> Result<Filter, Vec<FieldError>> {
        fn check<T>(errors: &mut Vec<FieldError>, field: &str, r: Result<T, String>) -> Option<T> {
            r.map_err(|m| errors.push(FieldError::new(field, m))).ok()
        }
        fn at_most(s: &str, max: usize) -> Result<String, String> {
            if s.chars().count() <= max {
                Ok(s.to_owned())
            } else {
                Err(format!("must be at most {max} characters"))
            }
        }
        fn amount(s: &str) -> Result<i64, String> {
            s.parse::<i64>()
                .ok()
                .filter(|n| (0..=MAX_AMOUNT).contains(n))
                .ok_or_else(|| format!("must be an integer between 0 and {MAX_AMOUNT}"))
        }
        let e = &mut Vec::new();
        let filter = Filter {
            status: non_empty(&self.status).and_then(|s| check(e, "status", Status::parse(s))),
            method: non_empty(&self.method).and_then(|s| check(e, "method", Method::parse(s))),
            currency: non_empty(&self.currency)
                .and_then(|s| check(e, "currency", Currency::parse(s).map_err(str::to_owned))),
            campaign: non_empty(&self.campaign)
                .and_then(|s| check(e, "campaign", at_most(s, CampaignName::MAX_CHARS))),
            donor_id: non_empty(&self.donor_id)
                .and_then(|s| check(e, "donor_id", parse_object_id(s, "don"))),
            q: non_empty(&self.q).and_then(|s| check(e, "q", at_most(s, MAX_QUERY_CHARS))),
            created_gte: non_empty(&self.created_gte)
                .and_then(|s| check(e, "created_gte", parse_instant(s))),
            created_lt: non_empty(&self.created_lt)
                .and_then(|s| check(e, "created_lt", parse_instant(s))),
            amount_gte: non_empty(&self.amount_gte).and_then(|s| check(e, "amount_gte", amount(s))),
            amount_lte: non_empty(&self.amount_lte).and_then(|s| check(e, "amount_lte", amount(s))),
        };
        if e.is_empty() {
            Ok(filter)
        } else {
            Err(std::mem::take(e))
        }
    }

    pub fn list_request(&self) -> Result<ListRequest, Vec<FieldError>> {
        let mut errors = Vec::new();
        let filter = self.filter().map_err(|e| errors.extend(e)).ok();
        let limit = parse_limit(&self.limit, &mut errors);
        let mut cursor = |field: &str, v: &Option<String>| parse_cursor(field, v, &mut errors);
        let after = cursor("starting_after", &self.starting_after);
        let before = cursor("ending_before", &self.ending_before);
        if after.is_some() && before.is_some() {
            errors.push(FieldError::new(
                "ending_before",
                "cannot be combined with starting_after",
            ));
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        let from = match (after, before) {
            (Some(c), _) => PageFrom::After(c),
            (None, Some(c)) => PageFrom::Before(c),
            (None, None) => PageFrom::Start,
        };
        Ok(ListRequest {
            filter: filter.unwrap_or_default(),
            limit,
            from,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursor_round_trip_and_garbage() {
        let c = Cursor {
            created_at: 1_700_000_000_123_456,
            id: "pay_abc".into(),
        };
        assert_eq!(Cursor::decode(&c.encode()), Some(c));
        assert_eq!(Cursor::decode("zz"), None);
        assert_eq!(Cursor::decode(&hex::encode("x:pay_abc")), None);
        assert_eq!(Cursor::decode(&hex::encode("1:pay' OR 1=1")), None);
    }

    #[test]
    fn validates_every_parameter() {
        let raw = RawListParams {
            limit: Some("0".into()),
            status: Some("lost".into()),
            amount_gte: Some("-1".into()),
            created_lt: Some("soon".into()),
            starting_after: Some("nope".into()),
            ..Default::default()
        };
        let errors = raw.list_request().unwrap_err();
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            vec![
                "status",
                "created_lt",
                "amount_gte",
                "limit",
                "starting_after"
            ]
        );
    }

    #[test]
    fn a_page_drops_the_look_ahead_row_and_keeps_newest_first() {
        let cursor = Cursor {
            created_at: 1,
            id: "pay_a".into(),
        };
        let after = Page::from_rows(vec![9, 8, 7], 2, &PageFrom::After(cursor.clone()));
        assert_eq!((after.items, after.has_more), (vec![9, 8], true));
        let before = Page::from_rows(vec![3, 4], 2, &PageFrom::Before(cursor));
        assert_eq!((before.items, before.has_more), (vec![4, 3], false));
        let empty = Page::from_rows(Vec::<i32>::new(), 25, &PageFrom::Start);
        assert_eq!((empty.items.len(), empty.has_more), (0, false));
    }

    #[test]
    fn defaults_and_dates() {
        let req = RawListParams::default().list_request().unwrap();
        assert_eq!(req.limit, DEFAULT_LIMIT);
        assert_eq!(req.from, PageFrom::Start);
        assert_eq!(
            parse_instant("2026-01-02").unwrap().to_rfc3339(),
            "2026-01-02T00:00:00.000000Z"
        );
        let raw = RawListParams {
            status: Some("".into()),
            ..Default::default()
        };
        assert_eq!(raw.filter().unwrap(), Filter::default());
    }
}
