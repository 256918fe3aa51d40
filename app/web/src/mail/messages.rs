//! The messages donors get, from compiled templates
//! (`templates/mail/<kind>.txt` and `.html`): a plain-text and an HTML part
//! of the same words. The HTML loads nothing: no remote images, fonts or
//! stylesheets.

use askama::Template;

use super::Letterhead;
use crate::domain::{Timestamp, format_amount};

/// The sentence a receipt for a tax-deductible gift carries.
pub const NO_GOODS: &str = "No goods or services were provided in exchange for this contribution.";

/// A message ready for the outbox.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Composed {
    pub kind: Kind,
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// What a message is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, strum::IntoStaticStr, strum::EnumString)]
#[strum(serialize_all = "snake_case")]
pub enum Kind {
    Receipt,
    Refund,
    MembershipCanceled,
    RenewalFailed,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    /// How the dashboard names it.
    pub fn label(self) -> &'static str {
        match self {
            Kind::Receipt => "Receipt",
            Kind::Refund => "Refund notice",
            Kind::MembershipCanceled => "Membership canceled",
            Kind::RenewalFailed => "Renewal failed",
        }
    }
}

/// A recurring gift, as a receipt or notice mentions it.
#[derive(Clone, Debug)]
pub struct Recurring {
    /// `month` or `year`.
    pub interval: &'static str,
    pub next_charge: Option<Timestamp>,
}

/// A succeeded gift, for its receipt.
#[derive(Clone, Debug)]
pub struct Gift {
    pub payment_id: String,
    pub name: String,
    pub amount: i64,
    pub currency: String,
    pub date: Timestamp,
    /// The campaign's name (or its value, when it names no campaign).
    pub campaign: Option<String>,
    pub membership: Option<Recurring>,
}

/// A refund of a gift.
#[derive(Clone, Debug)]
pub struct RefundMade {
    pub payment_id: String,
    pub name: String,
    pub amount: i64,
    pub payment_amount: i64,
    pub currency: String,
    pub gift_date: Timestamp,
    pub date: Timestamp,
}

/// A membership, for the canceled and failed-renewal notices.
#[derive(Clone, Debug)]
pub struct MembershipNote {
    pub name: String,
    pub amount: i64,
    pub currency: String,
    /// `month` or `year`.
    pub interval: &'static str,
    pub date: Timestamp,
}

/// What the templates print, formatted for people.
struct Fields<'a> {
    org: &'a Letterhead,
    name: String,
    amount: String,
    date: String,
    payment_id: String,
    campaign: Option<String>,
    interval: Option<&'static str>,
    next_charge: Option<String>,
    payment_amount: String,
    gift_date: String,
    manage_link: String,
    no_goods: &'static str,
}

impl<'a> Fields<'a> {
    fn new(org: &'a Letterhead, name: &str) -> Self {
        Fields {
            org,
            name: name.trim().to_owned(),
            amount: String::new(),
            date: String::new(),
            payment_id: String::new(),
            campaign: None,
            interval: None,
            next_charge: None,
            payment_amount: String::new(),
            gift_date: String::new(),
            manage_link: org.manage_link(),
            no_goods: NO_GOODS,
        }
    }
}

/// A day as the messages print it: "December 4, 2026".
fn day(t: Timestamp) -> String {
    t.to_datetime().format("%B %-d, %Y").to_string()
}

// One template of each part per message.
#[derive(Template)]
#[template(path = "mail/receipt.txt")]
struct ReceiptText<'a> {
    f: &'a Fields<'a>,
}

#[derive(Template)]
#[template(path = "mail/receipt.html")]
struct ReceiptHtml<'a> {
    f: &'a Fields<'a>,
}

#[derive(Template)]
#[template(path = "mail/refund.txt")]
struct RefundText<'a> {
    f: &'a Fields<'a>,
}

#[derive(Template)]
#[template(path = "mail/refund.html")]
struct RefundHtml<'a> {
    f: &'a Fields<'a>,
}

#[derive(Template)]
#[template(path = "mail/membership_canceled.txt")]
struct CanceledText<'a> {
    f: &'a Fields<'a>,
}

#[derive(Template)]
#[template(path = "mail/membership_canceled.html")]
struct CanceledHtml<'a> {
    f: &'a Fields<'a>,
}

#[derive(Template)]
#[template(path = "mail/renewal_failed.txt")]
struct FailedText<'a> {
    f: &'a Fields<'a>,
}

#[derive(Template)]
#[template(path = "mail/renewal_failed.html")]
struct FailedHtml<'a> {
    f: &'a Fields<'a>,
}

fn compose(
    kind: Kind,
    subject: String,
    text: Result<String, askama::Error>,
    html: Result<String, askama::Error>,
) -> Composed {
    // The templates are compiled and read only their own fields: rendering
    // fails only on a formatter error, which `String` never returns.
    Composed {
        kind,
        subject,
        text: text.unwrap_or_default(),
        html: html.unwrap_or_default(),
    }
}

/// The receipt of a succeeded gift.
pub fn receipt(org: &Letterhead, gift: &Gift) -> Composed {
    let mut f = Fields::new(org, &gift.name);
    f.amount = format_amount(gift.amount, &gift.currency);
    f.date = day(gift.date);
    f.payment_id = gift.payment_id.clone();
    f.campaign = gift.campaign.clone();
    if let Some(m) = &gift.membership {
        f.interval = Some(m.interval);
        f.next_charge = m.next_charge.map(day);
    }
    let subject = format!("Your receipt for your gift to {}", org.org_name);
    let f = &f;
    compose(
        Kind::Receipt,
        subject,
        ReceiptText { f }.render(),
        ReceiptHtml { f }.render(),
    )
}

/// The notice of a refund.
pub fn refund(org: &Letterhead, r: &RefundMade) -> Composed {
    let mut f = Fields::new(org, &r.name);
    f.amount = format_amount(r.amount, &r.currency);
    f.payment_amount = format_amount(r.payment_amount, &r.currency);
    f.date = day(r.date);
    f.gift_date = day(r.gift_date);
    f.payment_id = r.payment_id.clone();
    let subject = format!("Your gift to {} was refunded", org.org_name);
    let f = &f;
    compose(
        Kind::Refund,
        subject,
        RefundText { f }.render(),
        RefundHtml { f }.render(),
    )
}

/// The notice that a membership ended.
pub fn membership_canceled(org: &Letterhead, m: &MembershipNote) -> Composed {
    let f = membership_fields(org, m);
    let subject = format!("Your {} membership has ended", org.org_name);
    let f = &f;
    compose(
        Kind::MembershipCanceled,
        subject,
        CanceledText { f }.render(),
        CanceledHtml { f }.render(),
    )
}

/// The notice that a renewal could not be charged, with the manage link.
pub fn renewal_failed(org: &Letterhead, m: &MembershipNote) -> Composed {
    let f = membership_fields(org, m);
    let subject = format!("We could not renew your {} membership", org.org_name);
    let f = &f;
    compose(
        Kind::RenewalFailed,
        subject,
        FailedText { f }.render(),
        FailedHtml { f }.render(),
    )
}

fn membership_fields<'a>(org: &'a Letterhead, m: &MembershipNote) -> Fields<'a> {
    let mut f = Fields::new(org, &m.name);
    f.amount = format_amount(m.amount, &m.currency);
    f.interval = Some(m.interval);
    f.date = day(m.date);
    f
}

#[cfg(test)]
mod tests {
    use super::*;

    fn org() -> Letterhead {
        Letterhead {
            org_name: "Example News Inc.".into(),
            tax_id: Some("12-3456789".into()),
            address: Some("1 Main St, Springfield".into()),
            public_url: "https://give.example.org".into(),
        }
    }

    #[test]
    fn a_receipt_has_what_the_tax_rules_ask_for() {
        let gift = Gift {
            payment_id: "pay_1".into(),
            name: "Ada <Lovelace>".into(),
            amount: 123_456,
            currency: "USD".into(),
            date: Timestamp(1_764_806_400_000_000),
            campaign: Some("Year-end drive".into()),
            membership: Some(Recurring {
                interval: "month",
                next_charge: Some(Timestamp(1_767_484_800_000_000)),
            }),
        };
        let m = receipt(&org(), &gift);
        assert_eq!(m.kind, Kind::Receipt);
        for part in [&m.text, &m.html] {
            assert!(part.contains("1,234.56 USD"), "{part}");
            assert!(part.contains("December 4, 2025"), "{part}");
            assert!(part.contains("Example News Inc."));
            assert!(part.contains("12-3456789"));
            assert!(part.contains("1 Main St, Springfield"));
            assert!(part.contains(NO_GOODS));
            assert!(part.contains("Year-end drive"));
            assert!(part.contains("January 4, 2026"), "{part}");
            assert!(part.contains("https://give.example.org/account"));
        }
        assert!(m.text.contains("Ada <Lovelace>"));
        assert!(
            m.html.contains("Ada &#60;Lovelace&#62;") || m.html.contains("Ada &lt;Lovelace&gt;")
        );
        assert!(
            !m.html.contains("<img") && !m.html.contains("http://") && !m.html.contains("<link")
        );
    }

    #[test]
    fn a_one_time_receipt_leaves_out_the_membership() {
        let gift = Gift {
            payment_id: "pay_2".into(),
            name: "B".into(),
            amount: 500,
            currency: "JPY".into(),
            date: Timestamp(0),
            campaign: None,
            membership: None,
        };
        let m = receipt(&org(), &gift);
        assert!(m.text.contains("500 JPY"));
        assert!(!m.text.contains("next"), "{}", m.text);
        assert!(!m.text.contains("Campaign"));
    }

    #[test]
    fn notices_name_the_amounts_and_the_manage_link() {
        let note = MembershipNote {
            name: "C".into(),
            amount: 1500,
            currency: "USD".into(),
            interval: "month",
            date: Timestamp(0),
        };
        let failed = renewal_failed(&org(), &note);
        assert!(failed.text.contains("15.00 USD"));
        assert!(failed.text.contains("https://give.example.org/account"));
        assert!(failed.html.contains("https://give.example.org/account"));
        let canceled = membership_canceled(&org(), &note);
        assert!(canceled.text.contains("15.00 USD") && canceled.html.contains("15.00 USD"));
        let r = refund(
            &org(),
            &RefundMade {
                payment_id: "pay_3".into(),
                name: "D".into(),
                amount: 700,
                payment_amount: 2500,
                currency: "USD".into(),
                gift_date: Timestamp(0),
                date: Timestamp(0),
            },
        );
        assert!(r.text.contains("7.00 USD") && r.text.contains("25.00 USD"));
        assert!(r.html.contains("7.00 USD"));
    }
}
