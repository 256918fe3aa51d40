//! The tests' fake Stripe API (`tests/stripe_support/`) as a standalone
//! server, for benchmarking `POST /webhooks/stripe` (`bench/webhooks`).
//!
//! ```sh
//! cargo run --release -p payments --example fake_stripe -- --count 60000
//! ```
//!
//! It stores `--count` succeeded card PaymentIntents `pi_bench_<n>` (n from
//! 1), each with its charge `ch_bench_<n>` and that charge's balance
//! transaction `txn_bench_<n>`, all built with the tests' builders from
//! Stripe's example objects, so `GET /v1/payment_intents/pi_bench_<n>
//! ?expand[]=latest_charge.balance_transaction` answers as Stripe would.
//! The amount of `pi_bench_<n>` is [`amount_of`]`(n)` in USD; the fee is
//! 2.9% + 30 cents. Once everything is stored it prints its base URL
//! (`http://127.0.0.1:PORT`, a free port) on a line of its own and serves until killed.
//!
//! The fake records every request it receives (the tests read them back);
//! here nothing reads them, so they are cleared every second to keep its
//! memory flat under load.

#[path = "../tests/stripe_support/mod.rs"]
mod stripe_support;

use std::io::Write;
use std::time::Duration;

use stripe_support::{FakeStripe, balance_transaction, charge, now, payment_intent};

/// The amount of `pi_bench_<n>`, in cents: $5.00 to $254.99, varying.
fn amount_of(n: u64) -> i64 {
    500 + ((n * 7919) % 25_000) as i64
}

/// `--count N`, the one argument.
fn count() -> u64 {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.as_slice() {
        [flag, n] if flag == "--count" => n.parse().ok().filter(|n| *n > 0),
        _ => None,
    }
    .unwrap_or_else(|| {
        eprintln!("usage: fake_stripe --count N");
        std::process::exit(2);
    })
}

#[tokio::main]
async fn main() {
    let count = count();
    let fake = FakeStripe::start().await;
    let created = now();
    for n in 1..=count {
        let (pi, ch, txn) = (
            format!("pi_bench_{n}"),
            format!("ch_bench_{n}"),
            format!("txn_bench_{n}"),
        );
        let amount = amount_of(n);
        let fee = 30 + amount * 29 / 1000;
        let mut intent = payment_intent(&pi, amount, "usd", "succeeded", Some(&ch));
        intent["created"] = created.into();
        fake.put(intent);
        let mut paid = charge(&ch, &pi, amount, "usd", "card", Some(&txn));
        paid["created"] = created.into();
        fake.put(paid);
        fake.put(balance_transaction(
            &txn, &ch, "charge", amount, fee, "usd", created,
        ));
    }
    println!("{}", fake.base_url());
    std::io::stdout().flush().expect("stdout");
    loop {
        tokio::time::sleep(Duration::from_secs(1)).await;
        fake.clear_requests();
    }
}
