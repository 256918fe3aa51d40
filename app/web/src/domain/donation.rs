//! Donations from the public page: how often a reader gives, the amounts
//! the page offers and accepts, the processing fee a reader may cover, and
//! the donation form read field by field. No HTTP, no SQL.

use std::fmt::Write as _;

use sha2::{Digest, Sha256};

use super::money::{Currency, format_amount, parse_major_units};
use super::names::string_enum;
use super::validate::FieldError;
use super::values::{CampaignName, MinorUnits};

string_enum!(
    /// How often a gift is made: once, or every month or year (a membership).
    Frequency { Once, Monthly, Yearly }
);

impl Frequency {
    /// Stripe's `recurring[interval]`; none for a one-time gift.
    pub fn interval(self) -> Option<&'static str> {
        match self {
            Frequency::Once => None,
            Frequency::Monthly => Some("month"),
            Frequency::Yearly => Some("year"),
        }
    }

    /// As the page words it: "one-time", "monthly", "yearly".
    pub fn label(self) -> &'static str {
        match self {
            Frequency::Once => "one-time",
            Frequency::Monthly => "monthly",
            Frequency::Yearly => "yearly",
        }
    }

    /// What follows an amount: "" for once, " a month", " a year".
    pub fn per(self) -> &'static str {
        match self {
            Frequency::Once => "",
            Frequency::Monthly => " a month",
            Frequency::Yearly => " a year",
        }
    }
}

/// Decimal places [`MajorAmount`] keeps: the most any currency has.
const MAJOR_DECIMALS: u32 = 3;

/// An amount in major units as the configuration writes it ("25", "0.30"),
/// whatever the currency: kept in thousandths, exact for currencies with 0
/// to 3 decimals.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct MajorAmount(i64);

impl MajorAmount {
    pub fn parse(text: &str) -> Result<Self, String> {
        parse_major_units(text, MAJOR_DECIMALS)
            .map(MajorAmount)
            .map_err(|e| format!("{text:?} {e}"))
    }

    fn scale(currency: Currency) -> i64 {
        10i64.pow(MAJOR_DECIMALS - currency.exponent().min(MAJOR_DECIMALS))
    }

    /// In the currency's minor units, when exact (0.5 is no amount in JPY).
    pub fn in_minor(self, currency: Currency) -> Option<i64> {
        let scale = Self::scale(currency);
        (self.0 % scale == 0).then_some(self.0 / scale)
    }

    /// In the currency's minor units, rounded up.
    pub fn in_minor_ceil(self, currency: Currency) -> i64 {
        let scale = Self::scale(currency);
        (self.0 + scale - 1) / scale
    }
}

/// The processor's fee: a percentage of the total plus a fixed amount.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FeeRate {
    /// Thousandths of a percent: 2.2% is 2,200.
    percent_milli: i64,
    fixed: MajorAmount,
}

/// 100% in thousandths of a percent.
const WHOLE: i64 = 100_000;

impl FeeRate {
    /// `percent` such as "2.2" (below 50), `fixed` in major units ("0.30").
    pub fn new(percent: &str, fixed: &str) -> Result<Self, String> {
        let percent_milli = parse_major_units(percent, 3)
            .map_err(|e| format!("the fee percentage {percent:?} {e}"))?;
        if percent_milli >= WHOLE / 2 {
            return Err(format!("the fee percentage {percent:?} must be below 50"));
        }
        let fixed = MajorAmount::parse(fixed).map_err(|e| format!("the fixed fee {e}"))?;
        Ok(FeeRate {
            percent_milli,
            fixed,
        })
    }

    /// The fee to add to `amount` (minor units) so that what is left after
    /// the processor's fee on the total is `amount`: total =
    /// ceil((amount + fixed) / (1 − rate)), rounded up to the minor unit.
    pub fn cover(&self, amount: i64, currency: Currency) -> i64 {
        let fixed = i128::from(self.fixed.in_minor_ceil(currency));
        let kept = i128::from(WHOLE - self.percent_milli);
        let numerator = (i128::from(amount) + fixed) * i128::from(WHOLE);
        let total = (numerator + kept - 1) / kept;
        i64::try_from(total).unwrap_or(i64::MAX) - amount
    }

    /// "2.2% + 0.30 USD".
    pub fn describe(&self, currency: Currency) -> String {
        let mut percent = String::new();
        super::money::write_major_units(&mut percent, self.percent_milli, 3);
        let percent = percent.trim_end_matches('0').trim_end_matches('.');
        let fixed = self.fixed.in_minor_ceil(currency);
        if fixed == 0 {
            format!("{percent}%")
        } else {
            format!("{percent}% + {}", format_amount(fixed, currency.code()))
        }
    }

    /// Thousandths of a percent (for the page's script).
    pub fn percent_milli(&self) -> i64 {
        self.percent_milli
    }

    /// The fixed part in `currency`'s minor units, rounded up.
    pub fn fixed_minor(&self, currency: Currency) -> i64 {
        self.fixed.in_minor_ceil(currency)
    }
}

/// The preset amounts of each frequency.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Presets {
    pub once: Vec<MajorAmount>,
    pub monthly: Vec<MajorAmount>,
    pub yearly: Vec<MajorAmount>,
}

impl Presets {
    pub fn of(&self, frequency: Frequency) -> &[MajorAmount] {
        match frequency {
            Frequency::Once => &self.once,
            Frequency::Monthly => &self.monthly,
            Frequency::Yearly => &self.yearly,
        }
    }
}

/// A comma-separated list of amounts in major units ("5,10,25.50").
pub fn parse_presets(text: &str) -> Result<Vec<MajorAmount>, String> {
    let amounts = text
        .split(',')
        .map(|part| MajorAmount::parse(part.trim()))
        .collect::<Result<Vec<_>, _>>()?;
    if amounts.is_empty() || amounts.len() > 8 {
        return Err("give 1 to 8 preset amounts".into());
    }
    Ok(amounts)
}

/// A comma-separated list of ISO 4217 codes ("USD,EUR").
pub fn parse_currencies(text: &str) -> Result<Vec<Currency>, String> {
    let mut currencies = Vec::new();
    for code in text.split(',').map(str::trim) {
        let currency = Currency::parse(code).map_err(|e| format!("{code:?} {e}"))?;
        if !currencies.contains(&currency) {
            currencies.push(currency);
        }
    }
    Ok(currencies)
}

/// How the donation page works: what it offers and what it accepts.
#[derive(Clone, Debug)]
pub struct DonationConfig {
    /// Named in titles and on Checkout ("Donation to …").
    pub org_name: String,
    pub presets: Presets,
    pub fee: FeeRate,
    /// The smallest and largest gift, in major units of its currency.
    pub min: MajorAmount,
    pub max: MajorAmount,
    /// Accepted currencies; the first is the default.
    pub currencies: Vec<Currency>,
    /// Where Checkout's pages are (`https://checkout.stripe.com`): the
    /// page's Content-Security-Policy lets the form go there.
    pub checkout_origin: String,
    /// Donation forms one client address may send a minute.
    pub forms_per_minute: u32,
}

impl Default for DonationConfig {
    fn default() -> Self {
        let amounts = |list: &[i64]| list.iter().map(|a| MajorAmount(a * 1000)).collect();
        DonationConfig {
            org_name: "The Markup".into(),
            presets: Presets {
                once: amounts(&[10, 25, 50, 100, 250]),
                monthly: amounts(&[5, 10, 15, 25, 50]),
                yearly: amounts(&[50, 100, 250, 500, 1000]),
            },
            fee: FeeRate {
                percent_milli: 2_200,
                fixed: MajorAmount(300),
            },
            min: MajorAmount(1_000),
            max: MajorAmount(100_000_000),
            currencies: vec![Currency::USD],
            checkout_origin: "https://checkout.stripe.com".into(),
            forms_per_minute: 10,
        }
    }
}

impl DonationConfig {
    /// Checks that the parts agree: a non-empty name and currency list,
    /// 0 < min ≤ max, and every preset within them and exact in every
    /// accepted currency.
    pub fn check(self) -> Result<Self, String> {
        if self.org_name.trim().is_empty() || self.org_name.chars().count() > 100 {
            return Err("--org-name must be 1 to 100 characters".into());
        }
        if self.currencies.is_empty() {
            return Err("--donation-currencies must name at least one currency".into());
        }
        let first = self.currencies[0];
        if self.min.in_minor(first).is_none_or(|m| m < 1) || self.min > self.max {
            return Err("--donation-min must be above zero and at most --donation-max".into());
        }
        let max_minor = self.max.in_minor_ceil(first);
        if MinorUnits::new(max_minor).is_err() {
            return Err("--donation-max is too large".into());
        }
        for frequency in Frequency::ALL {
            for preset in self.presets.of(*frequency) {
                if *preset < self.min || *preset > self.max {
                    return Err(format!(
                        "the {} preset amounts must be between --donation-min and --donation-max",
                        frequency.label()
                    ));
                }
                for currency in &self.currencies {
                    if preset.in_minor(*currency).is_none() {
                        return Err(format!(
                            "a {} preset amount has more decimals than {currency} has",
                            frequency.label()
                        ));
                    }
                }
            }
        }
        Ok(self)
    }

    pub fn default_currency(&self) -> Currency {
        self.currencies.first().copied().unwrap_or(Currency::USD)
    }

    /// The accepted range in `currency`'s minor units.
    pub fn bounds(&self, currency: Currency) -> (i64, i64) {
        (
            self.min.in_minor_ceil(currency).max(1),
            self.max.in_minor_ceil(currency),
        )
    }

    /// The currency named (any case), if it is accepted.
    pub fn currency(&self, code: &str) -> Option<Currency> {
        let code = code.trim().to_ascii_uppercase();
        self.currencies.iter().copied().find(|c| c.code() == code)
    }
}

/// The donation form as sent: every field as text, none required.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DonationForm {
    /// A preset amount, in major units.
    pub amount: String,
    /// The amount typed in "another amount"; when given it wins over a preset.
    pub custom_amount: String,
    pub frequency: String,
    pub currency: String,
    pub campaign: String,
    pub cover_fees: bool,
}

impl DonationForm {
    /// From the decoded form (or query) pairs; the first value of each name
    /// counts, unknown names are ignored.
    pub fn from_pairs(pairs: &[(String, String)]) -> DonationForm {
        let value = |name: &str| {
            pairs
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.trim().to_owned())
                .unwrap_or_default()
        };
        DonationForm {
            amount: value("amount"),
            custom_amount: value("custom_amount"),
            frequency: value("frequency"),
            currency: value("currency"),
            campaign: value("campaign"),
            cover_fees: matches!(value("cover_fees").as_str(), "on" | "true" | "1"),
        }
    }

    /// The amount the reader chose: the typed one when there is one.
    pub fn chosen_amount(&self) -> &str {
        if self.custom_amount.is_empty() {
            &self.amount
        } else {
            &self.custom_amount
        }
    }

    /// Reads every field, with one message per wrong field (worded for the
    /// reader). Whether the campaign exists is for the caller to check.
    pub fn validate(&self, config: &DonationConfig) -> Result<Donation, Vec<FieldError>> {
        let mut errors = Vec::new();
        let currency = if self.currency.is_empty() {
            Some(config.default_currency())
        } else {
            let found = config.currency(&self.currency);
            if found.is_none() {
                let codes: Vec<&str> = config.currencies.iter().map(|c| c.code()).collect();
                errors.push(FieldError::new(
                    "currency",
                    format!("We accept gifts in {} only.", codes.join(", ")),
                ));
            }
            found
        };
        let frequency = if self.frequency.is_empty() {
            Some(Frequency::Once)
        } else {
            let found = Frequency::parse(&self.frequency).ok();
            if found.is_none() {
                errors.push(FieldError::new(
                    "frequency",
                    "Choose one-time, monthly or yearly.",
                ));
            }
            found
        };
        let amount = currency.and_then(|currency| match self.amount_in(currency, config) {
            Ok(amount) => Some(amount),
            Err(message) => {
                errors.push(FieldError::new("amount", message));
                None
            }
        });
        let campaign = match self.campaign.as_str() {
            "" => None,
            slug => match CampaignName::parse(slug) {
                Ok(name) => Some(name),
                Err(_) => {
                    errors.push(FieldError::new("campaign", NO_SUCH_CAMPAIGN));
                    None
                }
            },
        };
        match (amount, frequency, currency) {
            (Some(amount), Some(frequency), Some(currency)) if errors.is_empty() => Ok(Donation {
                amount,
                frequency,
                currency,
                campaign,
                cover_fees: self.cover_fees,
            }),
            _ => Err(errors),
        }
    }

    fn amount_in(&self, currency: Currency, config: &DonationConfig) -> Result<MinorUnits, String> {
        let text = self.chosen_amount();
        if text.is_empty() {
            return Err("Choose or enter an amount.".into());
        }
        let example = if currency.exponent() == 0 {
            "25"
        } else {
            "25.00"
        };
        let text = text.strip_prefix('$').unwrap_or(text);
        let minor = parse_major_units(text, currency.exponent())
            .map_err(|_| format!("Enter an amount such as {example}."))?;
        let (min, max) = config.bounds(currency);
        if !(min..=max).contains(&minor) {
            return Err(format!(
                "Enter an amount from {} to {}.",
                format_amount(min, currency.code()),
                format_amount(max, currency.code())
            ));
        }
        MinorUnits::new(minor).map_err(|_| format!("Enter an amount such as {example}."))
    }
}

/// The message for a campaign that does not exist or has ended.
pub const NO_SUCH_CAMPAIGN: &str =
    "This campaign has ended or does not exist. Your gift can still support our work.";

/// A valid donation, ready to be sent to Checkout.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Donation {
    /// The gift, before any fee the reader covers.
    pub amount: MinorUnits,
    pub frequency: Frequency,
    pub currency: Currency,
    /// The campaign's slug.
    pub campaign: Option<CampaignName>,
    pub cover_fees: bool,
}

impl Donation {
    /// The fee added on top (0 unless the reader covers it).
    pub fn fee(&self, config: &DonationConfig) -> i64 {
        if self.cover_fees {
            config.fee.cover(self.amount.get(), self.currency)
        } else {
            0
        }
    }

    /// What the reader pays each time, fee included.
    pub fn total(&self, config: &DonationConfig) -> i64 {
        self.amount.get() + self.fee(config)
    }

    /// The Checkout Session's idempotency key: one per form (`nonce`, a
    /// random value the page carries) and donation, so the same submission
    /// sent twice gets the same session, and a changed one a new session.
    pub fn idempotency_key(&self, nonce: &str) -> String {
        let mut hash = Sha256::new();
        let text = format!(
            "{nonce}\n{}\n{}\n{}\n{}\n{}",
            self.amount.get(),
            self.currency,
            self.frequency,
            self.campaign.as_ref().map_or("", |c| c.as_str()),
            self.cover_fees
        );
        hash.update(text.as_bytes());
        let mut key = String::from("donate-");
        for byte in hash.finalize() {
            let _ = write!(key, "{byte:02x}");
        }
        key
    }
}

/// An email as a receipt line shows it: the first character of the local
/// part, then dots ("r•••@example.org").
pub fn mask_email(email: &str) -> Option<String> {
    let (local, domain) = email.trim().rsplit_once('@')?;
    let first = local.chars().next()?;
    if domain.is_empty() {
        return None;
    }
    Some(format!("{first}•••@{domain}"))
}

#[cfg(test)]
mod tests;
