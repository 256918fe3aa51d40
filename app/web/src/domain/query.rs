//! How the query parameters of the list and the summary are documented:
//! each from the same constants and types their parsers use. The parsers
//! take every parameter as a string, so that a bad value is a 422 naming
//! it, not a 400 for the whole query string.

use utoipa::openapi::schema::{AnyOfBuilder, ObjectBuilder, Schema, SchemaFormat, Type};
use utoipa::openapi::{KnownFormat, Ref, RefOr};

use super::listing::{DEFAULT_LIMIT, MAX_LIMIT, MAX_QUERY_CHARS};
use super::money::{Currency, MAX_AMOUNT};
use super::summary::MAX_SUMMARY_DAYS;
use super::values::CampaignName;

fn described(builder: ObjectBuilder, description: &str) -> Schema {
    builder.description(Some(description)).into()
}

pub fn limit() -> Schema {
    described(
        ObjectBuilder::new()
            .schema_type(Type::Integer)
            .minimum(Some(1))
            .maximum(Some(MAX_LIMIT))
            .default(Some(DEFAULT_LIMIT.into())),
        "Payments per page.",
    )
}

pub fn starting_after() -> Schema {
    described(
        ObjectBuilder::new().schema_type(Type::String),
        "A `next_cursor` from an earlier page.",
    )
}

pub fn ending_before() -> Schema {
    described(
        ObjectBuilder::new().schema_type(Type::String),
        "A cursor: the page of newer payments just before it.",
    )
}

pub fn status() -> RefOr<Schema> {
    Ref::from_schema_name("Status").into()
}

pub fn method() -> RefOr<Schema> {
    Ref::from_schema_name("Method").into()
}

pub fn currency() -> Schema {
    Currency::schema()
}

pub fn campaign() -> Schema {
    CampaignName::schema()
}

pub fn donor_id() -> Schema {
    described(
        ObjectBuilder::new()
            .schema_type(Type::String)
            .pattern(Some("^don_[A-Za-z0-9]{1,36}$")),
        "Only this donor's payments.",
    )
}

pub fn q() -> Schema {
    described(
        ObjectBuilder::new()
            .schema_type(Type::String)
            .max_length(Some(MAX_QUERY_CHARS)),
        "Matches id, external_ref, payer name or email, description.",
    )
}

/// An RFC 3339 timestamp or a date (midnight UTC).
fn instant(description: &str) -> Schema {
    let format = |f| {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .format(Some(SchemaFormat::KnownFormat(f)))
    };
    AnyOfBuilder::new()
        .item(format(KnownFormat::DateTime))
        .item(format(KnownFormat::Date))
        .description(Some(description))
        .into()
}

pub fn created_gte() -> Schema {
    instant("RFC 3339 timestamp or date; inclusive.")
}

pub fn created_lt() -> Schema {
    instant("RFC 3339 timestamp or date; exclusive.")
}

pub fn amount_bound() -> Schema {
    described(
        ObjectBuilder::new()
            .schema_type(Type::Integer)
            .minimum(Some(0))
            .maximum(Some(MAX_AMOUNT)),
        "In minor units; inclusive.",
    )
}

fn date(description: &str) -> Schema {
    described(
        ObjectBuilder::new()
            .schema_type(Type::String)
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::Date))),
        description,
    )
}

pub fn summary_from() -> Schema {
    date(&format!(
        "First day (UTC), inclusive; default 29 days before `to`. A range covers at most {MAX_SUMMARY_DAYS} days."
    ))
}

pub fn summary_to() -> Schema {
    date("Last day (UTC), inclusive; default today.")
}

pub fn summary_currency() -> Schema {
    let mut schema = Currency::schema();
    if let Schema::Object(object) = &mut schema {
        object.description = Some("Default USD.".into());
    }
    schema
}

pub fn membership_status() -> RefOr<Schema> {
    Ref::from_schema_name("MembershipStatus").into()
}

pub fn donor_q() -> Schema {
    described(
        ObjectBuilder::new()
            .schema_type(Type::String)
            .max_length(Some(MAX_QUERY_CHARS)),
        "Matches the donor's id, or part of their name or email.",
    )
}
