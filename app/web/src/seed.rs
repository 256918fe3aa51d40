//! Dummy reader payments for development, demos and benchmarks:
//! realistic names, amounts, methods, campaigns, a few pending and failed
//! payments, about 3% refunded, some currencies other than USD. The same
//! seed and anchor day give the same data.

use std::io::IsTerminal;
use std::time::Instant;

use fake::Fake;
use fake::faker::name::en::{FirstName, LastName};
use fake::rand::rngs::StdRng;
use fake::rand::{RngExt, SeedableRng};

use crate::domain::{Currency, Metadata, Method, RefundReason, Status, Timestamp};

mod members;
use crate::storage::seed::SeedPayment;
use crate::storage::{Store, StoreError};
pub use members::seed_memberships;

const DAY_MICROS: i64 = 86_400_000_000;
/// Payments per transaction. Large transactions are what makes bulk loading
/// fast on InnoDB (fewer commits and rollup upserts, fewer lock waits between
/// the two batches in flight); each is split into statements that fit the
/// placeholder limit. 20,000 rows are about 8 MB.
const BATCH: usize = 20_000;

/// Picks from `(weight, value)` pairs.
fn weighted<T: Copy>(rng: &mut StdRng, items: &[(u32, T)]) -> T {
    let total: u32 = items.iter().map(|(w, _)| w).sum();
    let mut pick = rng.random_range(0..total);
    for (w, v) in items {
        if pick < *w {
            return *v;
        }
        pick -= w;
    }
    items[items.len() - 1].1
}

/// A deterministic, time-ordered id (UUID v7 layout) from the generator.
fn seeded_id(rng: &mut StdRng, prefix: &str, at: Timestamp) -> String {
    let millis = u64::try_from(at.0 / 1000).unwrap_or(0);
    let random: [u8; 10] = rng.random();
    let uuid = uuid::Builder::from_unix_timestamp_millis(millis, &random).into_uuid();
    format!("{prefix}_{}", uuid.simple())
}

fn clean(s: &str) -> String {
    s.chars()
        .filter(char::is_ascii_alphanumeric)
        .collect::<String>()
        .to_lowercase()
}

fn alnum(rng: &mut StdRng, len: usize) -> String {
    const CHARS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    (0..len)
        .map(|_| CHARS[rng.random_range(0..CHARS.len())] as char)
        .collect()
}

/// Generates payments one at a time.
pub struct Generator {
    rng: StdRng,
    anchor: Timestamp,
    days: i64,
    serial: u64,
    count: u64,
    /// Draw payers from this many donors (each always the same name and
    /// email) instead of a new payer for nearly every payment.
    donors: Option<u64>,
    seed: u64,
}

impl Generator {
    /// `count` payments spread over the `days` before `anchor`, in time
    /// order: ids (time-ordered) then append to the indexes instead of
    /// landing at random, and each batch touches the rollups of few days.
    pub fn new(seed: u64, anchor: Timestamp, days: u32, count: u64) -> Self {
        Generator {
            rng: StdRng::seed_from_u64(seed),
            anchor,
            days: i64::from(days.max(1)),
            serial: 0,
            count: count.max(1),
            donors: None,
            seed,
        }
    }

    /// Payers drawn from `donors` people (for benchmarks of donor pages).
    pub fn with_donors(mut self, donors: Option<u64>) -> Self {
        self.donors = donors.filter(|n| *n > 0);
        self
    }

    /// The name and email of donor `k` of this seed: always the same.
    fn donor(&self, k: u64) -> (String, String, String) {
        let mut rng = StdRng::seed_from_u64(self.seed ^ k.wrapping_mul(0x9E37_79B9_7F4A_7C15));
        let first: String = FirstName().fake_with_rng(&mut rng);
        let last: String = LastName().fake_with_rng(&mut rng);
        let domain = ["example.org", "example.com", "example.net"][(k % 3) as usize];
        let email = format!("{}.{}{k}@{domain}", clean(&first), clean(&last));
        (first, last, email)
    }

    pub fn next_payment(&mut self) -> SeedPayment {
        self.serial += 1;
        let rng = &mut self.rng;
        let span = self.days * DAY_MICROS;
        let step = (span / self.count as i64).max(1);
        let slot = (self.serial as i64 - 1).min(self.count as i64 - 1);
        let created_at = Timestamp(self.anchor.0 - span + slot * step + rng.random_range(0..step));
        let date = created_at.to_datetime();
        let (first, last, email) = match self.donors {
            Some(n) => {
                let k = self.rng.random_range(0..n);
                self.donor(k)
            }
            None => {
                let rng = &mut self.rng;
                let first: String = FirstName().fake_with_rng(rng);
                let last: String = LastName().fake_with_rng(rng);
                let domain = weighted(
                    rng,
                    &[(5, "example.org"), (3, "example.com"), (2, "example.net")],
                );
                let email = format!(
                    "{}.{}{}@{domain}",
                    clean(&first),
                    clean(&last),
                    self.serial % 1000
                );
                (first, last, email)
            }
        };
        let rng = &mut self.rng;

        let method = weighted(
            rng,
            &[
                (70, Method::Card),
                (12, Method::Paypal),
                (7, Method::Ach),
                (4, Method::Check),
                (1, Method::Wire),
                (1, Method::Cash),
                (5, Method::Other),
            ],
        );
        let (code, scale) = weighted(
            rng,
            &[
                (92, ("USD", 1.0)),
                (3, ("EUR", 1.0)),
                (2, ("GBP", 0.8)),
                (2, ("CAD", 1.4)),
                (1, ("JPY", 1.5)),
            ],
        );
        let currency = Currency::parse(code).unwrap_or(Currency::USD);
        let usd_cents: i64 = if rng.random_bool(0.1) {
            rng.random_range(100..=200_000)
        } else {
            weighted(
                rng,
                &[
                    (8, 500),
                    (14, 1000),
                    (6, 1500),
                    (10, 2000),
                    (16, 2500),
                    (6, 3500),
                    (14, 5000),
                    (4, 7500),
                    (12, 10_000),
                    (3, 15_000),
                    (4, 25_000),
                    (2, 50_000),
                    (1, 100_000),
                ],
            )
        };
        // JPY has no minor unit: 1.5 yen per US cent keeps amounts plausible.
        let amount = ((usd_cents as f64) * scale).round().max(1.0) as i64;

        let year = date.format("%Y").to_string();
        let month: u32 = date.format("%m").to_string().parse().unwrap_or(1);
        let campaign = match month {
            11 | 12 if rng.random_bool(0.6) => Some(format!("{year}-year-end")),
            3..=5 if rng.random_bool(0.4) => Some(format!("{year}-spring-drive")),
            _ => weighted(
                rng,
                &[
                    (30, Some("general")),
                    (15, Some("newsletter")),
                    (10, Some("investigations-fund")),
                    (5, Some("events")),
                    (40, None),
                ],
            )
            .map(str::to_owned),
        };
        let recurring = rng.random_bool(0.35);
        let description = Some(
            if recurring {
                "Monthly membership"
            } else {
                "One-time donation"
            }
            .to_owned(),
        );
        let external_ref = match method {
            Method::Card => Some(format!("ch_{}", alnum(rng, 24))),
            Method::Paypal => Some(format!("PAYID-{}", alnum(rng, 20).to_uppercase())),
            Method::Ach => Some(format!("py_{}", alnum(rng, 24))),
            _ => None,
        };
        let mut metadata = Metadata::new();
        metadata.insert(
            "source".into(),
            weighted(rng, &[(80, "donation-form"), (12, "import"), (8, "event")]).into(),
        );
        if recurring {
            metadata.insert("recurring".into(), "monthly".into());
        }
        let status = weighted(
            rng,
            &[
                (950, Status::Succeeded),
                (15, Status::Pending),
                (35, Status::Failed),
            ],
        );

        let mut refunds = Vec::new();
        if status == Status::Succeeded && rng.random_bool(0.03) {
            let when =
                Timestamp((created_at.0 + rng.random_range(0..30 * DAY_MICROS)).min(self.anchor.0));
            let reason = weighted(
                rng,
                &[
                    (70, RefundReason::RequestedByCustomer),
                    (20, RefundReason::Duplicate),
                    (5, RefundReason::Fraudulent),
                    (5, RefundReason::Other),
                ],
            );
            let refunded = if rng.random_bool(0.7) || amount < 2 {
                amount
            } else {
                amount / 2
            };
            refunds.push((seeded_id(rng, "re", when), refunded, when, reason));
        }
        let id = seeded_id(rng, "pay", created_at);
        SeedPayment {
            id,
            amount,
            currency,
            payer_name: format!("{first} {last}"),
            payer_email: email,
            method,
            status,
            campaign,
            description,
            external_ref,
            metadata,
            created_at,
            refunds,
            membership_id: None,
        }
    }
}

impl Generator {
    /// The next `n` payments.
    pub fn take(&mut self, n: usize) -> Vec<SeedPayment> {
        (0..n).map(|_| self.next_payment()).collect()
    }
}

/// What `seed` did.
#[derive(Debug)]
pub struct SeedReport {
    pub payments: u64,
    pub refunds: u64,
    pub seconds: f64,
}

/// Inserts `count` generated payments in batches, one transaction each.
pub async fn seed(
    store: &Store,
    count: u64,
    seed: u64,
    days: u32,
) -> Result<SeedReport, StoreError> {
    seed_in_batches(store, count, seed, days, BATCH, None).await
}

/// [`seed`] with payers drawn from `donors` people.
pub async fn seed_with_donors(
    store: &Store,
    count: u64,
    seed: u64,
    days: u32,
    donors: Option<u64>,
) -> Result<SeedReport, StoreError> {
    seed_in_batches(store, count, seed, days, BATCH, donors).await
}

/// [`seed`] with another batch size (tests use small ones to run several).
pub async fn seed_in_batches(
    store: &Store,
    count: u64,
    seed: u64,
    days: u32,
    batch_size: usize,
    donors: Option<u64>,
) -> Result<SeedReport, StoreError> {
    let batch_size = batch_size.max(1);
    // Anchored to the start of today (UTC): the same seed gives the same rows all day.
    let anchor = Timestamp(Timestamp::now().0.div_euclid(DAY_MICROS) * DAY_MICROS);
    let mut generator = Generator::new(seed, anchor, days, count).with_donors(donors);
    let progress = if std::io::stderr().is_terminal() {
        let bar = indicatif::ProgressBar::new(count);
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                "{spinner} {wide_bar} {human_pos}/{human_len} payments ({per_sec}, {eta} left)",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        bar
    } else {
        indicatif::ProgressBar::hidden()
    };
    let start = Instant::now();
    let mut done = 0u64;
    let mut refunds = 0u64;
    let mut generated = 0u64;
    // Two batches in flight: the next one is generated while the database
    // writes the previous one.
    let mut in_flight: tokio::task::JoinSet<Result<u64, StoreError>> = tokio::task::JoinSet::new();
    while generated < count || !in_flight.is_empty() {
        if generated < count && in_flight.len() < 2 {
            let n = batch_size.min((count - generated) as usize);
            let batch = generator.take(n);
            refunds += batch.iter().map(|p| p.refunds.len() as u64).sum::<u64>();
            generated += n as u64;
            let store = store.clone();
            in_flight
                .spawn(async move { store.insert_seed_batch(&batch).await.map(|()| n as u64) });
            continue;
        }
        if let Some(result) = in_flight.join_next().await {
            done += result
                .map_err(|e| StoreError::Corrupt(format!("a seeding task failed: {e}")))??;
            progress.set_position(done);
        }
    }
    progress.finish_and_clear();
    Ok(SeedReport {
        payments: done,
        refunds,
        seconds: start.elapsed().as_secs_f64(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_data_and_plausible_mix() {
        let anchor = Timestamp(1_790_000_000_000_000);
        let mut a = Generator::new(7, anchor, 400, 2000);
        let mut b = Generator::new(7, anchor, 400, 2000);
        let mut c = Generator::new(8, anchor, 400, 2000);
        let xs: Vec<_> = (0..2000).map(|_| a.next_payment()).collect();
        let ys: Vec<_> = (0..2000).map(|_| b.next_payment()).collect();
        let zs: Vec<_> = (0..2000).map(|_| c.next_payment()).collect();
        for (x, y) in xs.iter().zip(&ys) {
            assert_eq!(x, y);
        }
        assert_ne!(xs[0].id, zs[0].id);
        let refunded = xs.iter().filter(|p| !p.refunds.is_empty()).count();
        assert!(
            (20..=110).contains(&refunded),
            "about 3% refunded, got {refunded}"
        );
        assert!(xs.iter().any(|p| p.status == Status::Pending));
        assert!(xs.iter().any(|p| p.status == Status::Failed));
        assert!(xs.iter().any(|p| p.currency.code() != "USD"));
        assert!(
            xs.windows(2).all(|w| w[0].created_at <= w[1].created_at),
            "time order"
        );
        assert!(
            xs[0].created_at.0 < anchor.0 - 399 * DAY_MICROS,
            "spread over all the days"
        );
        for p in &xs {
            assert!(p.amount >= 1);
            assert!(p.created_at < anchor && p.created_at.0 >= anchor.0 - 400 * DAY_MICROS - 1);
            assert!(p.payer_email.contains("@example."));
            for (_, amount, at, _) in &p.refunds {
                assert!(*amount <= p.amount && *at >= p.created_at && *at <= anchor);
            }
        }
    }
}
