//! Enums stored and sent as strings. Each name is written once, as the
//! variant: serde and strum both spell it in snake_case, so the JSON, the
//! database column and the validator's message cannot disagree.

/// Declares a string enum: `as_str`, `parse` (with a message listing the
/// accepted names), `ALL`, `Display`, serde and the OpenAPI schema.
macro_rules! string_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(
            Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord,
            serde::Serialize, serde::Deserialize, utoipa::ToSchema,
            strum::IntoStaticStr, strum::EnumString, strum::VariantArray,
        )]
        #[serde(rename_all = "snake_case")]
        #[strum(serialize_all = "snake_case")]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = <$name as strum::VariantArray>::VARIANTS;

            pub fn as_str(self) -> &'static str {
                self.into()
            }

            pub fn parse(s: &str) -> Result<Self, String> {
                s.parse().map_err(|_| {
                    let names: Vec<&str> = Self::ALL.iter().map(|v| v.as_str()).collect();
                    format!("must be one of: {}", names.join(", "))
                })
            }
        }

        impl $crate::domain::values::Scalar for $name {
            fn from_value(value: serde_json::Value) -> Result<Self, String> {
                match value {
                    serde_json::Value::String(s) => Self::parse(&s),
                    _ => Err("must be a string".into()),
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}
pub(crate) use string_enum;

#[cfg(test)]
mod tests {
    use crate::domain::{Method, RefundReason, Status};

    /// The stored and JSON spellings, written out here to catch a change of
    /// the casing rule.
    #[test]
    fn names_are_snake_case() {
        assert_eq!(Status::PartiallyRefunded.as_str(), "partially_refunded");
        assert_eq!(
            RefundReason::RequestedByCustomer.as_str(),
            "requested_by_customer"
        );
        assert_eq!(Method::Paypal.as_str(), "paypal");
        assert_eq!(
            serde_json::to_string(&Status::PartiallyRefunded).unwrap(),
            "\"partially_refunded\""
        );
        assert_eq!(Status::parse("refunded"), Ok(Status::Refunded));
        assert_eq!(
            Method::parse("bitcoin"),
            Err("must be one of: card, ach, paypal, check, wire, cash, other".into())
        );
        assert_eq!(Status::ALL.len(), 5);
    }
}
