//! The Checkout Session a donation asks Stripe for: the form fields of
//! `POST /v1/checkout/sessions`.

use crate::domain::donation::{Donation, DonationConfig, Frequency};
use crate::domain::to_major_units;

/// The success page's address; Stripe puts the session's id in place of
/// `{CHECKOUT_SESSION_ID}`.
pub fn success_url(public_url: &str) -> String {
    format!("{public_url}/donate/thanks?session_id={{CHECKOUT_SESSION_ID}}")
}

/// The donation page again, filled in as the reader left it.
pub fn cancel_url(public_url: &str, donation: &Donation) -> String {
    let amount = to_major_units(donation.amount.get(), donation.currency.code());
    let mut query = vec![
        ("amount", amount.as_str()),
        ("frequency", donation.frequency.as_str()),
        ("currency", donation.currency.code()),
    ];
    if let Some(campaign) = &donation.campaign {
        query.push(("campaign", campaign.as_str()));
    }
    if donation.cover_fees {
        query.push(("cover_fees", "on"));
    }
    let query = serde_urlencoded::to_string(&query).unwrap_or_default();
    format!("{public_url}/donate?{query}")
}

/// The line item's name on Checkout and on the receipt.
pub fn product_name(frequency: Frequency, org_name: &str) -> String {
    match frequency {
        Frequency::Once => format!("Donation to {org_name}"),
        Frequency::Monthly => format!("Monthly membership of {org_name}"),
        Frequency::Yearly => format!("Yearly membership of {org_name}"),
    }
}

/// Every field of the request: one line item of the total (fee included)
/// in minor units, recurring for a membership, and the campaign, frequency
/// and fee choice as metadata on the session and on the PaymentIntent or
/// subscription it makes, so that their later events carry them too.
pub fn session_params(
    donation: &Donation,
    config: &DonationConfig,
    public_url: &str,
) -> Vec<(String, String)> {
    let mut form: Vec<(String, String)> = Vec::with_capacity(20);
    let mut add = |name: &str, value: String| form.push((name.to_owned(), value));
    let recurring = donation.frequency.interval();
    match recurring {
        None => {
            add("mode", "payment".into());
            add("submit_type", "donate".into());
        }
        Some(_) => add("mode", "subscription".into()),
    }
    add("success_url", success_url(public_url));
    add("cancel_url", cancel_url(public_url, donation));
    add("line_items[0][quantity]", "1".into());
    add(
        "line_items[0][price_data][currency]",
        donation.currency.code().to_ascii_lowercase(),
    );
    add(
        "line_items[0][price_data][unit_amount]",
        donation.total(config).to_string(),
    );
    add(
        "line_items[0][price_data][product_data][name]",
        product_name(donation.frequency, &config.org_name),
    );
    if let Some(interval) = recurring {
        add(
            "line_items[0][price_data][recurring][interval]",
            interval.into(),
        );
    }
    let carried = if recurring.is_some() {
        "subscription_data[metadata]"
    } else {
        "payment_intent_data[metadata]"
    };
    for prefix in ["metadata", carried] {
        if let Some(campaign) = &donation.campaign {
            add(&format!("{prefix}[campaign]"), campaign.as_str().into());
        }
        add(
            &format!("{prefix}[frequency]"),
            donation.frequency.as_str().into(),
        );
        add(
            &format!("{prefix}[cover_fees]"),
            donation.cover_fees.to_string(),
        );
    }
    form
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::donation::DonationForm;

    fn donation(pairs: &[(&str, &str)]) -> Donation {
        let pairs: Vec<(String, String)> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        DonationForm::from_pairs(&pairs)
            .validate(&DonationConfig::default())
            .unwrap()
    }

    fn value<'a>(form: &'a [(String, String)], name: &str) -> Option<&'a str> {
        form.iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    #[test]
    fn a_one_time_gift_is_a_payment_with_its_metadata() {
        let d = donation(&[
            ("amount", "25"),
            ("campaign", "spring"),
            ("cover_fees", "on"),
        ]);
        let form = session_params(&d, &DonationConfig::default(), "https://give.example.org");
        assert_eq!(value(&form, "mode"), Some("payment"));
        assert_eq!(value(&form, "submit_type"), Some("donate"));
        assert_eq!(
            value(&form, "line_items[0][price_data][unit_amount]"),
            Some("2587")
        );
        assert_eq!(
            value(&form, "line_items[0][price_data][currency]"),
            Some("usd")
        );
        assert_eq!(
            value(&form, "line_items[0][price_data][product_data][name]"),
            Some("Donation to The Markup")
        );
        assert_eq!(
            value(&form, "line_items[0][price_data][recurring][interval]"),
            None
        );
        assert_eq!(
            value(&form, "payment_intent_data[metadata][campaign]"),
            Some("spring")
        );
        assert_eq!(value(&form, "metadata[cover_fees]"), Some("true"));
        assert_eq!(value(&form, "subscription_data[metadata][frequency]"), None);
        assert_eq!(
            value(&form, "success_url"),
            Some("https://give.example.org/donate/thanks?session_id={CHECKOUT_SESSION_ID}")
        );
        assert_eq!(
            value(&form, "cancel_url"),
            Some(
                "https://give.example.org/donate?amount=25.00&frequency=once&currency=USD\
                 &campaign=spring&cover_fees=on"
            )
        );
    }

    #[test]
    fn a_membership_is_a_subscription() {
        let d = donation(&[("amount", "10"), ("frequency", "yearly")]);
        let form = session_params(&d, &DonationConfig::default(), "http://127.0.0.1:8080");
        assert_eq!(value(&form, "mode"), Some("subscription"));
        assert_eq!(value(&form, "submit_type"), None);
        assert_eq!(
            value(&form, "line_items[0][price_data][recurring][interval]"),
            Some("year")
        );
        assert_eq!(
            value(&form, "line_items[0][price_data][unit_amount]"),
            Some("1000")
        );
        assert_eq!(
            value(&form, "subscription_data[metadata][frequency]"),
            Some("yearly")
        );
        assert_eq!(
            value(&form, "metadata[campaign]"),
            None,
            "no campaign, no key"
        );
        assert_eq!(
            value(&form, "payment_intent_data[metadata][frequency]"),
            None
        );
    }
}
