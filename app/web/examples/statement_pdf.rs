//! How long one year-end statement PDF takes to make: renders a typical
//! statement (a monthly member with a few one-off gifts and a refund)
//! `STATEMENT_RUNS` times (default 2000) and prints the mean, p50 and p99
//! per statement in microseconds and the PDF's size. Run by
//! `bench/statements`.

use std::time::Instant;

use payments::domain::Timestamp;
use payments::domain::statement::{Statement, StatementGift};
use payments::statements::{Issuer, render};

fn statement() -> Statement {
    let day = 86_400_000_000;
    let start = 1_767_225_600_000_000; // 2026-01-01
    let mut gifts: Vec<StatementGift> = (0..12)
        .map(|month| StatementGift {
            id: format!("pay_m{month}"),
            created_at: Timestamp(start + month * 30 * day),
            description: "Membership".into(),
            currency: "USD".into(),
            amount: 1_500,
            refunded: 0,
        })
        .collect();
    for (i, amount) in [5_000, 25_000, 10_000].into_iter().enumerate() {
        gifts.push(StatementGift {
            id: format!("pay_g{i}"),
            created_at: Timestamp(start + (100 + 80 * i as i64) * day),
            description: "Gift: Year-end drive".into(),
            currency: "USD".into(),
            amount,
            refunded: if i == 1 { 2_500 } else { 0 },
        });
    }
    gifts.sort_by_key(|g| g.created_at.0);
    Statement {
        year: 2026,
        donor_id: "don_bench".into(),
        donor_name: "Ada Lovelace".into(),
        donor_email: "ada@example.org".into(),
        gifts,
    }
}

fn main() {
    let runs: usize = std::env::var("STATEMENT_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2000);
    let issuer = Issuer {
        name: "The Markup".into(),
        tax_id: Some("83-1234567".into()),
        address: Some("PO Box 1103; New York, NY 10159".into()),
    };
    let s = statement();
    let mut micros = Vec::with_capacity(runs);
    let mut bytes = 0;
    for _ in 0..runs {
        let started = Instant::now();
        let pdf = render(&issuer, &s);
        micros.push(started.elapsed().as_secs_f64() * 1e6);
        bytes = pdf.len();
    }
    micros.sort_by(f64::total_cmp);
    let mean = micros.iter().sum::<f64>() / runs as f64;
    let at = |q: f64| micros[((runs as f64 * q) as usize).min(runs - 1)];
    println!(
        "statement_pdf runs={runs} gifts={} bytes={bytes} mean_us={mean:.1} p50_us={:.1} p99_us={:.1}",
        s.gifts.len(),
        at(0.50),
        at(0.99)
    );
}
