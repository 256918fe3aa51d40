//! The values' parsers and schemas, against hand-written expectations.

use super::*;
use serde_json::json;

fn read<T: FromField>(value: Value) -> Result<T, Vec<FieldError>> {
    let mut errors = Vec::new();
    T::from_field(value, "f", &mut errors).ok_or(errors)
}

fn message<T: FromField + fmt::Debug>(value: Value) -> String {
    let errors = read::<T>(value).unwrap_err();
    assert_eq!(errors.len(), 1, "{errors:?}");
    errors[0].message.clone()
}

#[test]
fn amounts() {
    assert_eq!(read::<MinorUnits>(json!(1)).unwrap().get(), 1);
    assert_eq!(
        read::<MinorUnits>(json!(1_000_000_000_000_i64))
            .unwrap()
            .get(),
        1_000_000_000_000
    );
    assert_eq!(
        message::<MinorUnits>(json!(0)),
        "must be between 1 and 1000000000000"
    );
    assert_eq!(
        message::<MinorUnits>(json!(1_000_000_000_001_i64)),
        "must be between 1 and 1000000000000"
    );
    assert_eq!(
        message::<MinorUnits>(json!(12.5)),
        "must be a whole number of minor units between 1 and 1000000000000"
    );
    assert_eq!(message::<MinorUnits>(json!("12")), "must be an integer");
}

#[test]
fn text_counts_characters_not_bytes() {
    assert!(Description::parse("é".repeat(500)).is_ok());
    assert_eq!(
        Description::parse("é".repeat(501)).unwrap_err(),
        "must be at most 500 characters"
    );
    assert!(Description::parse("").is_ok());
    assert_eq!(PayerName::parse("").unwrap_err(), "must not be empty");
    assert_eq!(
        Text::<3, 5>::parse("ab").unwrap_err(),
        "must be at least 3 characters"
    );
    assert_eq!(message::<PayerName>(json!(7)), "must be a string");
}

#[test]
fn emails() {
    assert_eq!(
        Email::parse("ada@example.org").unwrap().as_str(),
        "ada@example.org"
    );
    for bad in [
        "ada",
        "Ada <ada@example.org>",
        "ada@[127.0.0.1]",
        "ada@localhost",
    ] {
        assert_eq!(
            Email::parse(bad).unwrap_err(),
            "must be an email address such as reader@example.org",
            "{bad}"
        );
    }
    let long = format!("{}@example.org", "a".repeat(243));
    assert_eq!(long.len(), 255);
    assert_eq!(
        Email::parse(&long).unwrap_err(),
        "must be at most 254 characters"
    );
}

#[test]
fn metadata_reports_each_bad_entry() {
    let errors = read::<Metadata>(
        json!({"": "x", "ok": "y", "n": 1, "long": "v".repeat(501), "k".repeat(41): "z"}),
    )
    .unwrap_err();
    let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
    assert_eq!(
        fields,
        ["f.", &format!("f.{}", "k".repeat(41)), "f.long", "f.n"]
    );
    assert!(read::<Metadata>(json!({"k": "v".repeat(500)})).is_ok());
    let many: serde_json::Map<String, Value> =
        (0..21).map(|i| (format!("k{i}"), json!("v"))).collect();
    assert_eq!(
        message::<Metadata>(Value::Object(many)),
        "must have at most 20 keys"
    );
    assert_eq!(
        read::<Metadata>(json!({"batch": "7"})).unwrap(),
        Metadata::from([("batch".to_owned(), "7".to_owned())])
    );
}

#[test]
fn timestamps_are_past_rfc3339() {
    assert!(read::<PastTimestamp>(json!("2026-01-02T03:04:05Z")).is_ok());
    assert_eq!(
        message::<PastTimestamp>(json!("2026-01-02")),
        "must be an RFC 3339 timestamp such as 2026-11-29T07:46:58Z"
    );
    assert_eq!(
        message::<PastTimestamp>(json!("2999-01-01T00:00:00Z")),
        "must not be in the future"
    );
    assert_eq!(
        message::<PastTimestamp>(json!("1969-12-31T23:59:59Z")),
        "must not be before 1970-01-01"
    );
}

#[test]
fn payment_ids_and_keys() {
    assert!(PaymentId::parse("pay_01938a4c7e5f7c0e9a3b2d1f0e4c5a6b").is_some());
    for bad in ["pay_", "re_abc", "pay_ABC", "pay_' OR '1'='1", "pay_a b"] {
        assert!(PaymentId::parse(bad).is_none(), "{bad}");
    }
    assert!(PaymentId::parse(&format!("pay_{}", "a".repeat(65))).is_none());
    assert_eq!(
        IdempotencyKey::parse(b"abc-123").unwrap().as_str(),
        "abc-123"
    );
    assert!(IdempotencyKey::parse(&[b'~'; 255]).is_ok());
    for bad in [&b""[..], b"has space", &[b'k'; 256], "é".as_bytes()] {
        assert!(IdempotencyKey::parse(bad).is_err());
    }
}

/// The document's limits are the parser's: the same constants, checked
/// from the generated schema.
#[test]
fn schemas_carry_the_limits() {
    let description = serde_json::to_value(Description::nullable_schema()).unwrap();
    assert_eq!(description["maxLength"], json!(500));
    assert_eq!(description["type"], json!(["string", "null"]));
    assert!(description.get("minLength").is_none());
    let amount = serde_json::to_value(MinorUnits::schema()).unwrap();
    assert_eq!(
        (amount["minimum"].clone(), amount["maximum"].clone()),
        (json!(1), json!(1_000_000_000_000_i64))
    );
    let metadata = serde_json::to_value(MetadataLimits::schema()).unwrap();
    assert_eq!(metadata["type"], json!("object"));
    assert_eq!(metadata["maxProperties"], json!(20));
    assert_eq!(metadata["propertyNames"]["maxLength"], json!(40));
    assert_eq!(metadata["additionalProperties"]["maxLength"], json!(500));
    let currency = serde_json::to_value(Currency::schema()).unwrap();
    let codes = currency["enum"].as_array().unwrap();
    assert!(codes.contains(&json!("USD")) && codes.contains(&json!("JPY")));
    assert!(!codes.contains(&json!("XAU")));
}
