//! Money: integer minor units plus an ISO 4217 currency. Never floats.

use std::fmt;

/// The largest amount a single payment may carry, in minor units.
pub const MAX_AMOUNT: i64 = 1_000_000_000_000;

/// An ISO 4217 currency that has a minor unit (USD, EUR, JPY, …).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Currency(iso_currency::Currency);

impl Currency {
    pub const USD: Currency = Currency(iso_currency::Currency::USD);

    /// Parses an upper-case ISO 4217 code. Codes without a minor unit
    /// (gold, SDRs, test codes) are refused: they are not money we take.
    pub fn parse(code: &str) -> Result<Self, &'static str> {
        if code.len() != 3 || !code.bytes().all(|b| b.is_ascii_uppercase()) {
            return Err("must be a three-letter upper-case ISO 4217 code, such as USD");
        }
        let currency =
            iso_currency::Currency::from_code(code).ok_or("is not an ISO 4217 currency code")?;
        if currency.exponent().is_none() {
            return Err("is not a currency with a minor unit");
        }
        Ok(Currency(currency))
    }

    /// Every currency [`Currency::parse`] accepts.
    pub fn all() -> impl Iterator<Item = Currency> {
        use iso_currency::IntoEnumIterator;
        iso_currency::Currency::iter()
            .filter(|c| c.exponent().is_some())
            .map(Currency)
    }

    pub fn code(self) -> &'static str {
        self.0.code()
    }

    /// Number of decimal places of the minor unit (2 for USD, 0 for JPY).
    pub fn exponent(self) -> u32 {
        u32::from(self.0.exponent().unwrap_or(2))
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// Formats minor units as a plain decimal in major units: 123456 USD → "1234.56".
/// Unknown codes (which the API never stores) fall back to two decimals.
pub fn to_major_units(amount: i64, currency_code: &str) -> String {
    let mut out = String::new();
    write_major_units(&mut out, amount, exponent_of(currency_code));
    out
}

/// The number of decimals of a currency code; two for an unknown one.
pub fn exponent_of(currency_code: &str) -> u32 {
    Currency::parse(currency_code).map_or(2, Currency::exponent)
}

/// Appends minor units as a plain decimal with `exponent` decimals.
pub fn write_major_units(out: &mut String, amount: i64, exponent: u32) {
    use std::fmt::Write;
    let sign = if amount < 0 { "-" } else { "" };
    let abs = amount.unsigned_abs();
    // Writing to a String cannot fail.
    let _ = if exponent == 0 {
        write!(out, "{sign}{abs}")
    } else {
        let scale = 10u64.pow(exponent);
        write!(
            out,
            "{sign}{}.{:0width$}",
            abs / scale,
            abs % scale,
            width = exponent as usize
        )
    };
}

/// Parses an amount written in major units ("25", "25.5", "1,250.00") into
/// minor units for a currency with `exponent` decimals.
pub fn parse_major_units(text: &str, exponent: u32) -> Result<i64, String> {
    let err = || {
        format!(
            "must be an amount such as {}",
            if exponent == 0 { "2500" } else { "25.00" }
        )
    };
    let cleaned: String = text
        .trim()
        .chars()
        .filter(|c| *c != ',' && *c != ' ')
        .collect();
    let (whole, fraction) = cleaned.split_once('.').unwrap_or((&cleaned, ""));
    if whole.is_empty() && fraction.is_empty() {
        return Err(err());
    }
    if !whole.bytes().all(|b| b.is_ascii_digit()) || !fraction.bytes().all(|b| b.is_ascii_digit()) {
        return Err(err());
    }
    if fraction.len() > exponent as usize {
        return Err(format!("must have at most {exponent} decimal places"));
    }
    let scale = 10i64.pow(exponent);
    let whole: i64 = if whole.is_empty() {
        0
    } else {
        whole.parse().map_err(|_| err())?
    };
    let fraction: i64 = if fraction.is_empty() {
        0
    } else {
        format!("{fraction:0<width$}", width = exponent as usize)
            .parse()
            .map_err(|_| err())?
    };
    whole
        .checked_mul(scale)
        .and_then(|w| w.checked_add(fraction))
        .filter(|v| *v <= MAX_AMOUNT)
        .ok_or_else(|| "is too large".to_owned())
}

/// Formats minor units for people: 123456 USD → "1,234.56 USD".
pub fn format_amount(amount: i64, currency_code: &str) -> String {
    let plain = to_major_units(amount, currency_code);
    let (sign, digits) = plain
        .strip_prefix('-')
        .map_or(("", plain.as_str()), |rest| ("-", rest));
    let (whole, fraction) = digits.split_once('.').unwrap_or((digits, ""));
    let mut grouped = String::with_capacity(whole.len() + whole.len() / 3);
    for (i, ch) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(ch);
    }
    if fraction.is_empty() {
        format!("{sign}{grouped} {currency_code}")
    } else {
        format!("{sign}{grouped}.{fraction} {currency_code}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_codes_with_minor_units() {
        assert_eq!(Currency::parse("USD").unwrap().exponent(), 2);
        assert_eq!(Currency::parse("JPY").unwrap().exponent(), 0);
        assert_eq!(Currency::parse("KWD").unwrap().exponent(), 3);
        assert!(Currency::parse("usd").is_err());
        assert!(Currency::parse("XXX").is_err());
        assert!(Currency::parse("XAU").is_err());
        assert!(Currency::parse("ABC").is_err());
        assert!(Currency::parse("US").is_err());
    }

    #[test]
    fn every_listed_currency_parses_and_only_those() {
        let all: Vec<&str> = Currency::all().map(Currency::code).collect();
        assert!(all.contains(&"USD") && all.contains(&"JPY") && all.contains(&"KWD"));
        assert!(!all.contains(&"XAU") && !all.contains(&"XXX"));
        for code in &all {
            assert_eq!(Currency::parse(code).map(Currency::code), Ok(*code));
        }
        assert!(all.len() > 150, "{}", all.len());
    }

    #[test]
    fn parses_major_units() {
        assert_eq!(parse_major_units("25", 2), Ok(2500));
        assert_eq!(parse_major_units("25.5", 2), Ok(2550));
        assert_eq!(parse_major_units("1,250.05", 2), Ok(125005));
        assert_eq!(parse_major_units(".5", 2), Ok(50));
        assert_eq!(parse_major_units("1500", 0), Ok(1500));
        assert!(parse_major_units("1.5", 0).is_err());
        assert!(parse_major_units("2.555", 2).is_err());
        assert!(parse_major_units("-3", 2).is_err());
        assert!(parse_major_units("abc", 2).is_err());
        assert!(parse_major_units("", 2).is_err());
        assert!(parse_major_units("99999999999999999", 2).is_err());
    }

    #[test]
    fn formats_by_exponent() {
        assert_eq!(to_major_units(123456, "USD"), "1234.56");
        assert_eq!(to_major_units(5, "USD"), "0.05");
        assert_eq!(to_major_units(-250, "EUR"), "-2.50");
        assert_eq!(to_major_units(1500, "JPY"), "1500");
        assert_eq!(to_major_units(1234, "KWD"), "1.234");
        assert_eq!(format_amount(123456789, "USD"), "1,234,567.89 USD");
        assert_eq!(format_amount(1000, "JPY"), "1,000 JPY");
        assert_eq!(format_amount(99, "USD"), "0.99 USD");
        assert_eq!(format_amount(-100000, "USD"), "-1,000.00 USD");
    }
}
