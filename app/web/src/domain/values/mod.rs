//! Validated values. Each type is built only by its parser, which is also
//! where its limits live; the OpenAPI document reads the same limits through
//! each type's `schema()`, so the document and the server cannot disagree.

use std::collections::BTreeMap;
use std::fmt;
use std::ops::Deref;

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;
use utoipa::openapi::schema::{
    AdditionalProperties, ObjectBuilder, Schema, SchemaFormat, SchemaType, Type,
};
use utoipa::openapi::{KnownFormat, RefOr};

use super::money::{Currency, MAX_AMOUNT};
use super::payment::Timestamp;
use super::validate::FieldError;

/// A value read from one JSON field. `path` names the field in errors
/// (`payer.email`); a value may report several errors (a nested object).
pub trait FromField: Sized {
    fn from_field(value: Value, path: &str, errors: &mut Vec<FieldError>) -> Option<Self>;
}

/// A value with a single error message when it is wrong.
pub trait Scalar: Sized {
    fn from_value(value: Value) -> Result<Self, String>;
}

impl<T: Scalar> FromField for T {
    fn from_field(value: Value, path: &str, errors: &mut Vec<FieldError>) -> Option<Self> {
        T::from_value(value)
            .map_err(|message| errors.push(FieldError::new(path, message)))
            .ok()
    }
}

impl Scalar for bool {
    fn from_value(value: Value) -> Result<Self, String> {
        match value {
            Value::Bool(b) => Ok(b),
            _ => Err("must be true or false".into()),
        }
    }
}

fn string(value: Value) -> Result<String, String> {
    match value {
        Value::String(s) => Ok(s),
        _ => Err("must be a string".into()),
    }
}

/// The text inside a validated string value.
macro_rules! string_value {
    ($($name:ty),+) => {$(
        impl $name {
            pub fn as_str(&self) -> &str {
                &self.0
            }

            pub fn into_string(self) -> String {
                self.0
            }
        }
    )+};
}

string_value!(Email, IdempotencyKey);

/// A schema property as JSON Schema writes it: `["string", "null"]` when it
/// may be null.
fn typed(schema_type: Type, nullable: bool) -> ObjectBuilder {
    let builder = ObjectBuilder::new();
    if nullable {
        builder.schema_type(SchemaType::from_iter([schema_type, Type::Null]))
    } else {
        builder.schema_type(schema_type)
    }
}

/// An amount in the currency's minor unit, 1 to [`MAX_AMOUNT`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct MinorUnits(i64);

impl MinorUnits {
    pub const MIN: i64 = 1;
    pub const MAX: i64 = MAX_AMOUNT;

    pub fn new(amount: i64) -> Result<Self, String> {
        if (Self::MIN..=Self::MAX).contains(&amount) {
            Ok(MinorUnits(amount))
        } else {
            Err(format!("must be between {} and {}", Self::MIN, Self::MAX))
        }
    }

    pub fn get(self) -> i64 {
        self.0
    }

    fn builder(nullable: bool) -> ObjectBuilder {
        typed(Type::Integer, nullable)
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::Int64)))
            .minimum(Some(Self::MIN))
            .maximum(Some(Self::MAX))
    }

    pub fn schema() -> Schema {
        Self::builder(false).into()
    }

    pub fn nullable_schema() -> Schema {
        Self::builder(true).into()
    }
}

impl Scalar for MinorUnits {
    fn from_value(value: Value) -> Result<Self, String> {
        match value.as_i64() {
            Some(n) => MinorUnits::new(n),
            None if value.is_number() => Err(format!(
                "must be a whole number of minor units between {} and {}",
                Self::MIN,
                Self::MAX
            )),
            None => Err("must be an integer".into()),
        }
    }
}

/// Text of `MIN..=MAX` characters (Unicode scalar values).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct Text<const MIN: usize, const MAX: usize>(String);

/// A payer's name.
pub type PayerName = Text<1, 200>;
/// A campaign's name as payments carry it.
pub type CampaignName = Text<1, 100>;
/// A free-text description of a payment.
pub type Description = Text<0, 500>;
/// The processor's id of a payment.
pub type ExternalRef = Text<1, 255>;
/// What an API token is called (`payments token create --name`).
pub type TokenName = Text<1, 100>;

impl<const MIN: usize, const MAX: usize> Text<MIN, MAX> {
    pub const MIN_CHARS: usize = MIN;
    pub const MAX_CHARS: usize = MAX;

    pub fn parse(s: impl Into<String>) -> Result<Self, String> {
        let s = s.into();
        let chars = s.chars().count();
        if chars < MIN {
            Err(if MIN == 1 {
                "must not be empty".to_owned()
            } else {
                format!("must be at least {MIN} characters")
            })
        } else if chars > MAX {
            Err(format!("must be at most {MAX} characters"))
        } else {
            Ok(Text(s))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }

    fn builder(nullable: bool) -> ObjectBuilder {
        typed(Type::String, nullable)
            .min_length((MIN > 0).then_some(MIN))
            .max_length(Some(MAX))
    }

    pub fn schema() -> Schema {
        Self::builder(false).into()
    }

    pub fn nullable_schema() -> Schema {
        Self::builder(true).into()
    }
}

impl<const MIN: usize, const MAX: usize> Scalar for Text<MIN, MAX> {
    fn from_value(value: Value) -> Result<Self, String> {
        Self::parse(string(value)?)
    }
}

impl<const MIN: usize, const MAX: usize> Deref for Text<MIN, MAX> {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl<const MIN: usize, const MAX: usize> fmt::Display for Text<MIN, MAX> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A plain email address: no display name, comment or IP literal.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct Email(String);

impl Email {
    pub const MAX_LEN: usize = 254;

    pub fn parse(s: &str) -> Result<Self, String> {
        if s.chars().count() > Self::MAX_LEN {
            return Err(format!("must be at most {} characters", Self::MAX_LEN));
        }
        match email_address::EmailAddress::parse_with_options(
            s,
            email_address::Options::default()
                .without_display_text()
                .without_domain_literal(),
        ) {
            Ok(addr) if addr.domain().contains('.') => Ok(Email(addr.email().to_owned())),
            _ => Err("must be an email address such as reader@example.org".into()),
        }
    }

    pub fn schema() -> Schema {
        typed(Type::String, false)
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::Email)))
            .max_length(Some(Self::MAX_LEN))
            .into()
    }
}

impl Scalar for Email {
    fn from_value(value: Value) -> Result<Self, String> {
        Self::parse(&string(value)?)
    }
}

impl Scalar for Currency {
    fn from_value(value: Value) -> Result<Self, String> {
        Currency::parse(&string(value)?).map_err(str::to_owned)
    }
}

impl Currency {
    /// Every accepted code, sorted: the `enum` of each currency in the document.
    pub fn codes() -> Vec<&'static str> {
        let mut codes: Vec<&'static str> = Currency::all().map(Currency::code).collect();
        codes.sort_unstable();
        codes
    }

    fn builder(nullable: bool) -> ObjectBuilder {
        let mut values: Vec<Value> = Currency::codes().into_iter().map(Value::from).collect();
        if nullable {
            values.push(Value::Null);
        }
        typed(Type::String, nullable)
            .description(Some("ISO 4217 code in upper case."))
            .examples(["USD"])
            .enum_values(Some(values))
    }

    pub fn schema() -> Schema {
        Self::builder(false).into()
    }

    pub fn nullable_schema() -> Schema {
        Self::builder(true).into()
    }
}

/// A timestamp a client sends (RFC 3339): imports may backdate, but not into
/// the future (five minutes of clock skew allowed) and not before 1970.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PastTimestamp(pub Timestamp);

impl PastTimestamp {
    pub fn schema() -> Schema {
        typed(Type::String, true)
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::DateTime)))
            .description(Some(
                "RFC 3339, for imports; default now; not in the future.",
            ))
            .into()
    }
}

impl Scalar for PastTimestamp {
    fn from_value(value: Value) -> Result<Self, String> {
        let s = string(value)?;
        let dt = DateTime::parse_from_rfc3339(&s)
            .map_err(|_| "must be an RFC 3339 timestamp such as 2026-11-29T07:46:58Z".to_owned())?
            .with_timezone(&Utc);
        let ts = Timestamp::from_datetime(dt);
        if ts.0 > Timestamp::now().0 + 300_000_000 {
            return Err("must not be in the future".into());
        }
        if ts.0 < 0 {
            return Err("must not be before 1970-01-01".into());
        }
        Ok(PastTimestamp(ts))
    }
}

/// Free-form string pairs attached to a payment.
pub type Metadata = BTreeMap<String, String>;

/// The limits of [`Metadata`].
pub struct MetadataLimits;

impl MetadataLimits {
    pub const MAX_KEYS: usize = 20;
    pub const MAX_KEY_CHARS: usize = 40;
    pub const MAX_VALUE_CHARS: usize = 500;

    fn builder(nullable: bool) -> ObjectBuilder {
        typed(Type::Object, nullable)
            .description(Some(format!(
                "At most {} keys of 1 to {} characters; string values of at most {}.",
                Self::MAX_KEYS,
                Self::MAX_KEY_CHARS,
                Self::MAX_VALUE_CHARS
            )))
            .max_properties(Some(Self::MAX_KEYS))
            .property_names(Some(
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .min_length(Some(1))
                    .max_length(Some(Self::MAX_KEY_CHARS)),
            ))
            .additional_properties(Some(AdditionalProperties::RefOr(RefOr::T(
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .max_length(Some(Self::MAX_VALUE_CHARS))
                    .into(),
            ))))
    }

    /// On a new payment: may be null (no metadata).
    pub fn nullable_schema() -> Schema {
        Self::builder(true).into()
    }

    /// On a change: replaces the map; null is not a map.
    pub fn schema() -> Schema {
        Self::builder(false).into()
    }
}

impl FromField for Metadata {
    fn from_field(value: Value, path: &str, errors: &mut Vec<FieldError>) -> Option<Self> {
        let Value::Object(map) = value else {
            errors.push(FieldError::new(
                path,
                "must be an object of string keys to string values",
            ));
            return None;
        };
        let before = errors.len();
        if map.len() > MetadataLimits::MAX_KEYS {
            errors.push(FieldError::new(
                path,
                format!("must have at most {} keys", MetadataLimits::MAX_KEYS),
            ));
        }
        let mut out = Metadata::new();
        for (key, value) in map {
            let name = format!("{path}.{key}");
            if key.is_empty() || key.chars().count() > MetadataLimits::MAX_KEY_CHARS {
                errors.push(FieldError::new(
                    name,
                    format!(
                        "keys must be 1 to {} characters",
                        MetadataLimits::MAX_KEY_CHARS
                    ),
                ));
                continue;
            }
            match value {
                Value::String(s) if s.chars().count() <= MetadataLimits::MAX_VALUE_CHARS => {
                    out.insert(key, s);
                }
                Value::String(_) => errors.push(FieldError::new(
                    name,
                    format!(
                        "must be at most {} characters",
                        MetadataLimits::MAX_VALUE_CHARS
                    ),
                )),
                _ => errors.push(FieldError::new(name, "must be a string")),
            }
        }
        (errors.len() == before).then_some(out)
    }
}

/// A payment's id as a client names it: `pay_` and 1 to 64 lower-case
/// letters or digits. Anything else cannot name a payment (404).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PaymentId(String);

impl PaymentId {
    pub const PREFIX: &'static str = "pay_";
    const MAX_SUFFIX: usize = 64;

    pub fn parse(s: &str) -> Option<Self> {
        let suffix = s.strip_prefix(Self::PREFIX)?;
        let ok = !suffix.is_empty()
            && suffix.len() <= Self::MAX_SUFFIX
            && suffix
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
        ok.then(|| PaymentId(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The `Idempotency-Key` a client sends: 1 to 255 visible ASCII characters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IdempotencyKey(String);

impl IdempotencyKey {
    pub const MAX_LEN: usize = 255;
    /// The same rule as a pattern, for the document.
    pub const PATTERN: &'static str = "^[!-~]{1,255}$";

    pub fn parse(bytes: &[u8]) -> Result<Self, String> {
        if bytes.is_empty()
            || bytes.len() > Self::MAX_LEN
            || !bytes.iter().all(|b| (0x21..=0x7e).contains(b))
        {
            return Err(format!(
                "the Idempotency-Key header must be 1 to {} visible ASCII characters",
                Self::MAX_LEN
            ));
        }
        Ok(IdempotencyKey(String::from_utf8_lossy(bytes).into_owned()))
    }

    pub fn schema() -> Schema {
        typed(Type::String, false)
            .min_length(Some(1))
            .max_length(Some(Self::MAX_LEN))
            .pattern(Some(Self::PATTERN))
            .into()
    }
}

#[cfg(test)]
mod tests;
