use super::*;

fn form(pairs: &[(&str, &str)]) -> DonationForm {
    let pairs: Vec<(String, String)> = pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    DonationForm::from_pairs(&pairs)
}

fn fields(errors: Vec<FieldError>) -> Vec<String> {
    errors.into_iter().map(|e| e.field).collect()
}

#[test]
fn frequencies_are_named_once_monthly_yearly() {
    assert_eq!(Frequency::parse("monthly"), Ok(Frequency::Monthly));
    assert_eq!(Frequency::Once.as_str(), "once");
    assert_eq!(Frequency::Yearly.interval(), Some("year"));
    assert_eq!(Frequency::Once.interval(), None);
    assert!(Frequency::parse("weekly").is_err());
    assert_eq!(Frequency::ALL.len(), 3);
}

#[test]
fn amounts_in_major_units() {
    let config = DonationConfig::default();
    let amount = |text: &str| {
        form(&[("amount", text)])
            .validate(&config)
            .map(|d| d.amount.get())
            .map_err(fields)
    };
    assert_eq!(amount("25"), Ok(2500));
    assert_eq!(amount("25.00"), Ok(2500));
    assert_eq!(amount("25.5"), Ok(2550));
    assert_eq!(amount(" 1,000 "), Ok(100_000));
    assert_eq!(amount("$10"), Ok(1000));
    for bad in ["25.001", "-5", "1e3", "", ",", "abc", "0x10", "25,00.1.2"] {
        assert_eq!(amount(bad), Err(vec!["amount".to_owned()]), "{bad:?}");
    }
    // Bounds: 1.00 to 100,000.00 by default.
    assert_eq!(amount("1"), Ok(100));
    assert_eq!(amount("100000"), Ok(10_000_000));
    assert!(amount("0.99").is_err());
    assert!(amount("100000.01").is_err());
    let message = form(&[("amount", "0.5")]).validate(&config).unwrap_err();
    assert_eq!(
        message[0].message,
        "Enter an amount from 1.00 USD to 100,000.00 USD."
    );
}

#[test]
fn a_typed_amount_wins_over_a_preset() {
    let config = DonationConfig::default();
    let d = form(&[("amount", "25"), ("custom_amount", "40")])
        .validate(&config)
        .unwrap();
    assert_eq!(d.amount.get(), 4000);
    let d = form(&[("amount", "25"), ("custom_amount", "")])
        .validate(&config)
        .unwrap();
    assert_eq!(d.amount.get(), 2500);
}

#[test]
fn currencies_with_zero_or_three_decimals() {
    let config = DonationConfig {
        currencies: parse_currencies("USD,JPY,KWD").unwrap(),
        ..DonationConfig::default()
    }
    .check()
    .unwrap();
    let amount = |text: &str, currency: &str| {
        form(&[("amount", text), ("currency", currency)])
            .validate(&config)
            .map(|d| d.amount.get())
            .map_err(fields)
    };
    assert_eq!(amount("2500", "JPY"), Ok(2500));
    assert!(amount("25.5", "JPY").is_err());
    assert_eq!(amount("25.125", "KWD"), Ok(25_125));
    assert_eq!(amount("25", "kwd"), Ok(25_000));
    assert_eq!(amount("25", "EUR"), Err(vec!["currency".to_owned()]));
    assert_eq!(config.bounds(Currency::parse("JPY").unwrap()), (1, 100_000));
}

#[test]
fn every_wrong_field_has_its_message() {
    let config = DonationConfig::default();
    let errors = form(&[
        ("amount", "lots"),
        ("frequency", "weekly"),
        ("currency", "EUR"),
    ])
    .validate(&config)
    .unwrap_err();
    // The amount cannot be read without a currency: two errors.
    assert_eq!(fields(errors), ["currency", "frequency"]);
    let errors = form(&[("amount", "lots"), ("frequency", "weekly")])
        .validate(&config)
        .unwrap_err();
    assert_eq!(fields(errors), ["frequency", "amount"]);
    let long = "c".repeat(101);
    let errors = form(&[("amount", "5"), ("campaign", &long)])
        .validate(&config)
        .unwrap_err();
    assert_eq!(fields(errors), ["campaign"]);
}

#[test]
fn defaults_once_in_the_first_currency_without_fees() {
    let d = form(&[("amount", "10")])
        .validate(&DonationConfig::default())
        .unwrap();
    assert_eq!(d.frequency, Frequency::Once);
    assert_eq!(d.currency, Currency::USD);
    assert!(!d.cover_fees);
    assert_eq!(d.campaign, None);
    assert_eq!(d.total(&DonationConfig::default()), 1000);
}

#[test]
fn the_covered_fee_leaves_the_gift_after_the_processors_fee() {
    let fee = FeeRate::new("2.2", "0.30").unwrap();
    // ceil((2500 + 30) / 0.978) = ceil(2586.9…) = 2587.
    assert_eq!(fee.cover(2500, Currency::USD), 87);
    assert_eq!(fee.cover(1000, Currency::USD), 54);
    for amount in [100, 999, 2500, 12_345, 10_000_000] {
        let total = amount + fee.cover(amount, Currency::USD);
        // What the processor keeps of the total, in exact fractions of a cent.
        let kept_milli = total * 2_200 + 30 * 100_000;
        assert!(total * 100_000 - kept_milli >= amount * 100_000, "{amount}");
        // And one cent less would not do.
        let less = total - 1;
        assert!(less * 100_000 - (less * 2_200 + 30 * 100_000) < amount * 100_000);
    }
    // The fixed part rounds up in a currency without decimals.
    let jpy = Currency::parse("JPY").unwrap();
    assert_eq!(fee.fixed_minor(jpy), 1);
    assert_eq!(fee.describe(Currency::USD), "2.2% + 0.30 USD");
    let d = form(&[("amount", "25"), ("cover_fees", "on")])
        .validate(&DonationConfig::default())
        .unwrap();
    assert_eq!(d.fee(&DonationConfig::default()), 87);
    assert_eq!(d.total(&DonationConfig::default()), 2587);
    assert!(FeeRate::new("50", "0").is_err());
    assert!(FeeRate::new("2.2", "-1").is_err());
}

#[test]
fn configuration_is_checked() {
    assert!(DonationConfig::default().check().is_ok());
    let bad_min = DonationConfig {
        min: MajorAmount::parse("0").unwrap(),
        ..DonationConfig::default()
    };
    assert!(bad_min.check().is_err());
    let preset_over_max = DonationConfig {
        max: MajorAmount::parse("100").unwrap(),
        ..DonationConfig::default()
    };
    assert!(preset_over_max.check().unwrap_err().contains("preset"));
    let cents_in_yen = DonationConfig {
        presets: Presets {
            once: parse_presets("2.50").unwrap(),
            ..DonationConfig::default().presets
        },
        currencies: parse_currencies("USD,JPY").unwrap(),
        ..DonationConfig::default()
    };
    assert!(cents_in_yen.check().unwrap_err().contains("JPY"));
    assert!(parse_presets("5,x").is_err());
    assert!(parse_presets("").is_err());
    assert!(parse_currencies("USD,usd").is_err());
    assert_eq!(parse_currencies("USD, EUR,USD").unwrap().len(), 2);
}

#[test]
fn one_key_per_submission_and_donation() {
    let config = DonationConfig::default();
    let d = form(&[("amount", "25"), ("frequency", "monthly")])
        .validate(&config)
        .unwrap();
    let key = d.idempotency_key("nonce-1");
    assert!(key.starts_with("donate-") && key.len() == "donate-".len() + 64);
    assert_eq!(key, d.idempotency_key("nonce-1"));
    assert_ne!(key, d.idempotency_key("nonce-2"));
    let other = form(&[("amount", "26"), ("frequency", "monthly")])
        .validate(&config)
        .unwrap();
    assert_ne!(key, other.idempotency_key("nonce-1"));
    let covered = Donation {
        cover_fees: true,
        ..d.clone()
    };
    assert_ne!(key, covered.idempotency_key("nonce-1"));
}

#[test]
fn emails_are_masked() {
    assert_eq!(
        mask_email("reader@example.org").as_deref(),
        Some("r•••@example.org")
    );
    assert_eq!(mask_email("é@x.fr").as_deref(), Some("é•••@x.fr"));
    assert_eq!(mask_email("nobody"), None);
    assert_eq!(mask_email("@example.org"), None);
}
