//! Dummy memberships for the demo: monthly and yearly members who started
//! over the past year, each with a payment for every period paid, a few
//! canceled and past due. The same seed and anchor day give the same data.

use fake::Fake;
use fake::faker::name::en::{FirstName, LastName};
use fake::rand::rngs::StdRng;
use fake::rand::{RngExt, SeedableRng};

use super::{DAY_MICROS, clean, seeded_id, weighted};
use crate::domain::{Currency, Interval, MembershipStatus, Metadata, Method, Status, Timestamp};
use crate::storage::seed::{SeedMembership, SeedPayment};
use crate::storage::{Store, StoreError};

const MONTH_MICROS: i64 = 30 * DAY_MICROS;
const YEAR_MICROS: i64 = 365 * DAY_MICROS;

/// `count` memberships and their payments, before `anchor`.
pub fn generate(
    seed: u64,
    anchor: Timestamp,
    count: usize,
) -> (Vec<SeedMembership>, Vec<SeedPayment>) {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut memberships = Vec::with_capacity(count);
    let mut payments = Vec::new();
    for n in 0..count {
        let interval = weighted(&mut rng, &[(8, Interval::Month), (2, Interval::Year)]);
        let period = match interval {
            Interval::Month => MONTH_MICROS,
            Interval::Year => YEAR_MICROS,
        };
        let (code, scale) = weighted(
            &mut rng,
            &[(90, ("USD", 1.0)), (5, ("EUR", 1.0)), (5, ("GBP", 0.8))],
        );
        let base = match interval {
            Interval::Month => weighted(
                &mut rng,
                &[(3, 500), (5, 1000), (3, 1500), (2, 2500), (1, 5000)],
            ),
            Interval::Year => weighted(
                &mut rng,
                &[(2, 6000), (4, 10_000), (3, 12_000), (1, 25_000)],
            ),
        };
        let amount = ((base as f64) * scale).round() as i64;
        let started_at = Timestamp(anchor.0 - rng.random_range(DAY_MICROS..YEAR_MICROS));
        let status = weighted(
            &mut rng,
            &[
                (85, MembershipStatus::Active),
                (10, MembershipStatus::Canceled),
                (5, MembershipStatus::PastDue),
            ],
        );
        let canceled_at = (status == MembershipStatus::Canceled)
            .then(|| Timestamp(rng.random_range(started_at.0..anchor.0)));
        let first: String = FirstName().fake_with_rng(&mut rng);
        let last: String = LastName().fake_with_rng(&mut rng);
        let email = format!("{}.{}.member{n}@example.org", clean(&first), clean(&last));
        let name = format!("{first} {last}");
        let campaign = weighted(
            &mut rng,
            &[
                (6, None),
                (3, Some("general")),
                (1, Some("investigations-fund")),
            ],
        )
        .map(str::to_owned);
        let id = seeded_id(&mut rng, "mem", started_at);
        let currency = Currency::parse(code).unwrap_or(Currency::USD);
        // One payment per period begun: until the cancel, and a past-due
        // member's latest period is unpaid.
        let end = canceled_at.unwrap_or(anchor);
        let mut at = started_at;
        let mut paid_until = started_at;
        while at.0 < end.0 {
            let unpaid = status == MembershipStatus::PastDue && at.0 + period >= anchor.0;
            if !unpaid {
                let mut metadata = Metadata::new();
                metadata.insert("source".into(), "membership".into());
                payments.push(SeedPayment {
                    id: seeded_id(&mut rng, "pay", at),
                    amount,
                    currency,
                    payer_name: name.clone(),
                    payer_email: email.clone(),
                    method: Method::Card,
                    status: Status::Succeeded,
                    campaign: campaign.clone(),
                    description: Some(
                        match interval {
                            Interval::Month => "Monthly membership",
                            Interval::Year => "Yearly membership",
                        }
                        .to_owned(),
                    ),
                    external_ref: Some(seeded_id(&mut rng, "in", at)),
                    metadata,
                    created_at: at,
                    refunds: Vec::new(),
                    membership_id: Some(id.clone()),
                });
                paid_until = Timestamp(at.0 + period);
            }
            at = Timestamp(at.0 + period);
        }
        memberships.push(SeedMembership {
            external_ref: seeded_id(&mut rng, "sub", started_at),
            id,
            email,
            name,
            amount,
            currency,
            interval,
            status,
            campaign,
            started_at,
            canceled_at,
            current_period_end: (status != MembershipStatus::Canceled).then_some(paid_until),
        });
    }
    payments.sort_by_key(|p| p.created_at.0);
    (memberships, payments)
}

/// Inserts `count` generated memberships and their payments.
pub async fn seed_memberships(store: &Store, count: usize, seed: u64) -> Result<usize, StoreError> {
    let anchor = Timestamp(Timestamp::now().0.div_euclid(DAY_MICROS) * DAY_MICROS);
    let (memberships, payments) = generate(seed, anchor, count);
    store.insert_seed_memberships(&memberships).await?;
    for batch in payments.chunks(super::BATCH) {
        store.insert_seed_batch(batch).await?;
    }
    Ok(payments.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn members_pay_each_period_until_they_stop() {
        let anchor = Timestamp(1_800_000_000_000_000);
        let (memberships, payments) = generate(7, anchor, 200);
        assert_eq!(
            memberships,
            generate(7, anchor, 200).0,
            "same seed, same data"
        );
        assert_eq!(memberships.len(), 200);
        for m in &memberships {
            let paid: Vec<&SeedPayment> = payments
                .iter()
                .filter(|p| p.membership_id.as_deref() == Some(m.id.as_str()))
                .collect();
            assert!(
                paid.iter()
                    .all(|p| p.amount == m.amount && p.currency == m.currency)
            );
            assert!(
                paid.iter()
                    .all(|p| p.created_at.0 < anchor.0 && p.created_at.0 >= m.started_at.0)
            );
            match m.status {
                MembershipStatus::Active => assert!(!paid.is_empty(), "{m:?}"),
                MembershipStatus::Canceled => {
                    let end = m.canceled_at.unwrap();
                    assert!(paid.iter().all(|p| p.created_at.0 < end.0));
                }
                _ => {}
            }
        }
        let yearly = memberships
            .iter()
            .filter(|m| m.interval == Interval::Year)
            .count();
        assert!((20..=60).contains(&yearly), "{yearly} yearly of 200");
        assert!(
            memberships
                .iter()
                .any(|m| m.status == MembershipStatus::Canceled)
        );
    }
}
