//! The query parameters of the donor and membership lists, as they arrive
//! and validated.

use super::donor::MembershipStatus;
use super::listing::{MAX_QUERY_CHARS, PageFrom, non_empty, parse_cursor, parse_limit};
use super::query;
use super::validate::FieldError;

/// `starting_after` (these lists page forwards only).
fn after(v: &Option<String>, errors: &mut Vec<FieldError>) -> PageFrom {
    parse_cursor("starting_after", v, errors).map_or(PageFrom::Start, PageFrom::After)
}

/// `GET /api/v1/donors` as it arrives.
#[derive(Clone, Debug, Default, serde::Deserialize, utoipa::IntoParams)]
#[serde(default)]
#[into_params(parameter_in = Query)]
pub struct RawDonorParams {
    #[param(schema_with = query::donor_q)]
    pub q: Option<String>,
    #[param(schema_with = query::limit)]
    pub limit: Option<String>,
    #[param(schema_with = query::starting_after)]
    pub starting_after: Option<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct DonorQuery {
    pub q: Option<String>,
    pub limit: i64,
    pub from: PageFrom,
}

impl RawDonorParams {
    pub fn parse(&self) -> Result<DonorQuery, Vec<FieldError>> {
        let mut errors = Vec::new();
        let q = non_empty(&self.q).map(str::to_owned);
        if q.as_ref()
            .is_some_and(|q| q.chars().count() > MAX_QUERY_CHARS)
        {
            errors.push(FieldError::new(
                "q",
                format!("must be at most {MAX_QUERY_CHARS} characters"),
            ));
        }
        let limit = parse_limit(&self.limit, &mut errors);
        let from = after(&self.starting_after, &mut errors);
        if errors.is_empty() {
            Ok(DonorQuery { q, limit, from })
        } else {
            Err(errors)
        }
    }
}

/// `GET /api/v1/memberships` as it arrives.
#[derive(Clone, Debug, Default, serde::Deserialize, utoipa::IntoParams)]
#[serde(default)]
#[into_params(parameter_in = Query)]
pub struct RawMembershipParams {
    #[param(schema_with = query::membership_status)]
    pub status: Option<String>,
    #[param(schema_with = query::limit)]
    pub limit: Option<String>,
    #[param(schema_with = query::starting_after)]
    pub starting_after: Option<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct MembershipQuery {
    pub status: Option<MembershipStatus>,
    pub limit: i64,
    pub from: PageFrom,
}

impl RawMembershipParams {
    pub fn parse(&self) -> Result<MembershipQuery, Vec<FieldError>> {
        let mut errors = Vec::new();
        let status = non_empty(&self.status).and_then(|s| {
            MembershipStatus::parse(s)
                .map_err(|m| errors.push(FieldError::new("status", m)))
                .ok()
        });
        let limit = parse_limit(&self.limit, &mut errors);
        let from = after(&self.starting_after, &mut errors);
        if errors.is_empty() {
            Ok(MembershipQuery {
                status,
                limit,
                from,
            })
        } else {
            Err(errors)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_bad_parameter_gets_its_own_error() {
        let raw = RawMembershipParams {
            status: Some("gone".into()),
            limit: Some("0".into()),
            starting_after: Some("zz".into()),
        };
        let fields: Vec<String> = raw
            .parse()
            .unwrap_err()
            .into_iter()
            .map(|e| e.field)
            .collect();
        assert_eq!(fields, ["status", "limit", "starting_after"]);
        let ok = RawMembershipParams {
            status: Some("past_due".into()),
            ..Default::default()
        }
        .parse()
        .unwrap();
        assert_eq!(ok.status, Some(MembershipStatus::PastDue));
        assert_eq!(ok.limit, super::super::listing::DEFAULT_LIMIT);
        let donors = RawDonorParams {
            q: Some("x".repeat(MAX_QUERY_CHARS + 1)),
            limit: Some("101".into()),
            starting_after: None,
        };
        let fields: Vec<String> = donors
            .parse()
            .unwrap_err()
            .into_iter()
            .map(|e| e.field)
            .collect();
        assert_eq!(fields, ["q", "limit"]);
    }
}
