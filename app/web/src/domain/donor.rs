//! Donors (one per email, compared without case) and memberships (recurring
//! gifts through the processor's subscriptions), and the rules about them
//! that need no database: the matching key of an email, what a membership
//! brings in each month.

use std::collections::BTreeMap;

use serde::Serialize;
use utoipa::ToSchema;

use super::listing::Cursor;
use super::names::string_enum;
use super::payment::Timestamp;

/// The key a payment's email is matched on: the email with ASCII letters
/// lower-cased (what SQLite's `lower()` does, so the backfill and new
/// payments agree on both backends).
pub fn email_key(email: &str) -> String {
    email.trim().to_ascii_lowercase()
}

/// One currency's totals of a donor's captured gifts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, ToSchema)]
pub struct GiftTotals {
    pub count: i64,
    /// In minor units.
    pub gross: i64,
    pub refunded: i64,
    /// Gross less refunded.
    pub net: i64,
}

/// A reader who has given, as the API shows them.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Donor {
    #[schema(example = "don_01938a4c7e5f7c0e9a3b2d1f0e4c5a6b")]
    pub id: String,
    /// Always `donor`.
    #[schema(value_type = String, example = "donor")]
    pub object: &'static str,
    pub name: String,
    pub email: String,
    /// The first and last payment of any status; null when none is left.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub first_gift_at: Option<Timestamp>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub last_gift_at: Option<Timestamp>,
    /// Captured gifts (succeeded, partially or fully refunded) per currency.
    #[schema(value_type = BTreeMap<String, GiftTotals>)]
    pub totals: BTreeMap<String, GiftTotals>,
    pub memberships: Vec<Membership>,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
}

impl Donor {
    /// Where this donor stands in the donor list's keyset order.
    pub fn cursor(&self) -> Cursor {
        Cursor {
            created_at: self.created_at.0,
            id: self.id.clone(),
        }
    }
}

string_enum!(
    /// How often a membership renews.
    Interval { Month, Year }
);

string_enum!(
    /// Where a membership stands (from its subscription's status).
    MembershipStatus {
        Active,
        PastDue,
        Canceled,
        Incomplete,
    }
);

impl MembershipStatus {
    /// The membership from a Stripe subscription status: `trialing` counts
    /// as active, `unpaid` as past due, `incomplete_expired` as canceled.
    pub fn from_subscription(status: &str) -> Option<MembershipStatus> {
        Some(match status {
            "active" | "trialing" => MembershipStatus::Active,
            "past_due" | "unpaid" | "paused" => MembershipStatus::PastDue,
            "canceled" | "incomplete_expired" => MembershipStatus::Canceled,
            "incomplete" => MembershipStatus::Incomplete,
            _ => return None,
        })
    }

    /// Still giving, or expected to: counts as a member.
    pub fn is_member(self) -> bool {
        matches!(self, MembershipStatus::Active | MembershipStatus::PastDue)
    }
}

/// A recurring gift, as the API shows it.
#[derive(Clone, Debug, PartialEq, Serialize, ToSchema)]
pub struct Membership {
    #[schema(example = "mem_01938a4c7e5f7c0e9a3b2d1f0e4c5a6b")]
    pub id: String,
    /// Always `membership`.
    #[schema(value_type = String, example = "membership")]
    pub object: &'static str,
    pub donor_id: Option<String>,
    /// Each period's gift, in minor units.
    pub amount: i64,
    #[schema(example = "USD")]
    pub currency: String,
    pub interval: Interval,
    pub status: MembershipStatus,
    /// The processor's subscription (`sub_…`).
    pub external_ref: String,
    pub campaign: Option<String>,
    /// Set when the member asked to stop at the end of the paid period.
    pub cancel_at_period_end: bool,
    #[schema(value_type = String, format = DateTime)]
    pub started_at: Timestamp,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub canceled_at: Option<Timestamp>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub current_period_end: Option<Timestamp>,
}

impl Membership {
    /// Where this membership stands in the list's keyset order (newest
    /// started first).
    pub fn cursor(&self) -> Cursor {
        Cursor {
            created_at: self.started_at.0,
            id: self.id.clone(),
        }
    }

    /// What this membership brings in a month, in minor units: a yearly
    /// one counts a twelfth (rounded down).
    pub fn monthly_amount(&self) -> i64 {
        monthly_amount(self.amount, self.interval)
    }
}

pub fn monthly_amount(amount: i64, interval: Interval) -> i64 {
    match interval {
        Interval::Month => amount,
        Interval::Year => amount / 12,
    }
}

/// Monthly recurring revenue per currency of the memberships that count as
/// members (active or past due).
pub fn monthly_recurring_revenue<'a>(
    memberships: impl IntoIterator<Item = (&'a str, i64, Interval, MembershipStatus)>,
) -> BTreeMap<String, i64> {
    let mut mrr = BTreeMap::new();
    for (currency, amount, interval, status) in memberships {
        if status.is_member() {
            *mrr.entry(currency.to_owned()).or_insert(0) += monthly_amount(amount, interval);
        }
    }
    mrr
}

/// Masks an email for a page a reader sees: `reader@example.org` →
/// `r•••@example.org`.
pub fn mask_email(email: &str) -> String {
    match email.split_once('@') {
        Some((local, domain)) if !local.is_empty() => {
            let first: String = local.chars().take(1).collect();
            format!("{first}•••@{domain}")
        }
        _ => "•••".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_match_without_ascii_case() {
        assert_eq!(email_key("Reader@Example.ORG"), "reader@example.org");
        assert_eq!(email_key(" a@b.c "), "a@b.c");
        assert_ne!(email_key("a@b.c"), email_key("b@b.c"));
    }

    #[test]
    fn subscription_statuses_map_to_memberships() {
        use MembershipStatus::*;
        for (stripe, ours) in [
            ("active", Active),
            ("trialing", Active),
            ("past_due", PastDue),
            ("unpaid", PastDue),
            ("canceled", Canceled),
            ("incomplete_expired", Canceled),
            ("incomplete", Incomplete),
        ] {
            assert_eq!(
                MembershipStatus::from_subscription(stripe),
                Some(ours),
                "{stripe}"
            );
        }
        assert_eq!(MembershipStatus::from_subscription("bogus"), None);
        assert!(Active.is_member() && PastDue.is_member());
        assert!(!Canceled.is_member() && !Incomplete.is_member());
    }

    #[test]
    fn recurring_revenue_counts_a_twelfth_of_yearly_and_only_members() {
        use Interval::*;
        use MembershipStatus::*;
        let mrr = monthly_recurring_revenue([
            ("USD", 1_000, Month, Active),
            ("USD", 12_000, Year, Active),
            ("USD", 500, Month, PastDue),
            ("USD", 9_999, Month, Canceled),
            ("USD", 9_999, Month, Incomplete),
            ("EUR", 2_500, Month, Active),
            ("EUR", 6_000, Year, Active),
            ("JPY", 1_300, Year, Active),
        ]);
        assert_eq!(mrr.get("USD"), Some(&2_500));
        assert_eq!(mrr.get("EUR"), Some(&3_000));
        // 1,300 / 12 = 108.33…: rounded down.
        assert_eq!(mrr.get("JPY"), Some(&108));
        assert_eq!(mrr.len(), 3);
    }

    #[test]
    fn masks_emails() {
        assert_eq!(mask_email("reader@example.org"), "r•••@example.org");
        assert_eq!(mask_email("@example.org"), "•••");
        assert_eq!(mask_email("nothing"), "•••");
    }
}
