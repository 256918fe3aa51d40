//! `payments stripe sync` and `payments stripe reconcile` (DESIGN §12).

use std::collections::{BTreeMap, HashSet};
use std::io::IsTerminal;

use chrono::{Duration as Days, NaiveDate, Utc};
use serde_json::json;

use super::CliError;
use crate::domain::{Timestamp, format_amount};
use crate::storage::Store;
use crate::storage::processor::{Outcome, Source};
use crate::stripe::StripeClient;
use crate::stripe::events::{self, HandleError};
use crate::stripe::objects::{BalanceTransaction, Event};

/// Who the audit log names for runs from the command line.
const ACTOR: &str = "cli";

/// How far back Stripe keeps events.
const EVENT_RETENTION_DAYS: i64 = 30;

fn progress(len: Option<u64>, what: &'static str) -> indicatif::ProgressBar {
    if !std::io::stderr().is_terminal() {
        return indicatif::ProgressBar::hidden();
    }
    let bar = match len {
        Some(n) => indicatif::ProgressBar::new(n),
        None => indicatif::ProgressBar::new_spinner(),
    };
    let template = if len.is_some() {
        format!("{{spinner}} {{wide_bar}} {{human_pos}}/{{human_len}} {what} ({{eta}} left)")
    } else {
        format!("{{spinner}} {{human_pos}} {what} read")
    };
    bar.set_style(
        indicatif::ProgressStyle::with_template(&template)
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    bar
}

fn unreachable(e: impl std::fmt::Display) -> CliError {
    CliError::failed(format!("cannot read from Stripe: {e}"))
}

/// The start of `day` (UTC) in Unix seconds.
fn start_of(day: NaiveDate) -> i64 {
    day.and_hms_opt(0, 0, 0)
        .map(|t| t.and_utc().timestamp())
        .unwrap_or_default()
}

/// Feeds every event Stripe still has since `since` (default: all it keeps)
/// to the webhook's handler, oldest first.
pub(super) async fn sync(
    store: &Store,
    client: &StripeClient,
    since: Option<NaiveDate>,
) -> Result<(), CliError> {
    let since =
        since.unwrap_or_else(|| (Utc::now() - Days::days(EVENT_RETENTION_DAYS)).date_naive());
    let reading = progress(None, "events");
    let mut events: Vec<Event> = client
        .events_since(start_of(since), |n| reading.inc(n as u64))
        .await
        .map_err(unreachable)?;
    reading.finish_and_clear();
    // Stripe lists newest first; the ledger converges in any order, but
    // oldest first needs the fewest fetches and no retries.
    events.reverse();
    let bar = progress(Some(events.len() as u64), "events");
    let mut counts: BTreeMap<&'static str, u64> = BTreeMap::new();
    let mut failures = Vec::new();
    for event in &events {
        match events::handle(store, client, event, Source::Sync).await {
            Ok(outcome) => *counts.entry(outcome.as_str()).or_default() += 1,
            Err(e) => {
                *counts.entry("failed").or_default() += 1;
                failures.push(format!("{} ({}): {}", event.id, event.kind, describe(&e)));
            }
        }
        bar.inc(1);
    }
    bar.finish_and_clear();
    let count = |k: &str| counts.get(k).copied().unwrap_or(0);
    let summary = format!(
        "stripe sync since {since}: {} events, {} processed, {} duplicate, {} ignored, {} failed",
        events.len(),
        count(Outcome::Processed.as_str()),
        count(Outcome::Duplicate.as_str()),
        count(Outcome::Ignored.as_str()),
        count("failed"),
    );
    store
        .record_processor_run(
            ACTOR,
            "stripe.sync",
            json!({"since": since.to_string(), "events": events.len(), "processed": count("processed"),
                   "duplicate": count("duplicate"), "ignored": count("ignored"), "failed": count("failed")}),
        )
        .await?;
    for failure in &failures {
        println!("failed: {failure}");
    }
    println!("{summary}");
    if failures.is_empty() {
        Ok(())
    } else {
        Err(CliError::failed(format!(
            "{} events could not be applied; run the sync again once the cause is fixed",
            failures.len()
        )))
    }
}

fn describe(e: &HandleError) -> String {
    e.to_string()
}

/// What reconciliation found.
#[derive(Debug, Default)]
struct Findings {
    matched: u64,
    missing_in_ledger: Vec<String>,
    missing_at_stripe: Vec<String>,
    mismatches: Vec<String>,
    fees: BTreeMap<String, i64>,
}

/// Matches every balance transaction of `[from, to]` to the ledger, and
/// every Stripe payment of the ledger in that range to Stripe.
pub(super) async fn reconcile(
    store: &Store,
    client: &StripeClient,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<(), CliError> {
    if to < from {
        return Err(CliError::usage("--to must not be before --from"));
    }
    let (start, end) = (start_of(from), start_of(to + Days::days(1)));
    let reading = progress(None, "balance transactions");
    let transactions: Vec<BalanceTransaction> = client
        .balance_transactions_between(start, end, |n| reading.inc(n as u64))
        .await
        .map_err(unreachable)?;
    reading.finish_and_clear();
    let bar = progress(Some(transactions.len() as u64), "balance transactions");
    let mut found = Findings::default();
    let mut seen_payments: HashSet<String> = HashSet::new();
    for txn in &transactions {
        *found
            .fees
            .entry(txn.currency.to_ascii_uppercase())
            .or_default() += txn.fee;
        check(store, client, txn, &mut found, &mut seen_payments).await?;
        bar.inc(1);
    }
    bar.finish_and_clear();
    let ledger = store
        .processor_payments_between(
            Timestamp(start.saturating_mul(1_000_000)),
            Timestamp(end.saturating_mul(1_000_000)),
        )
        .await?;
    for row in ledger {
        if !seen_payments.contains(row.external_ref.0.as_str()) {
            found.missing_at_stripe.push(format!(
                "{} ({}, {}): no charge at Stripe in the range",
                row.id.0, row.external_ref.0, row.amount
            ));
        }
    }
    let fees: Vec<String> = found
        .fees
        .iter()
        .map(|(cur, fee)| format_amount(*fee, cur))
        .collect();
    for line in &found.missing_in_ledger {
        println!("missing in the ledger: {line}");
    }
    for line in &found.missing_at_stripe {
        println!("missing at Stripe: {line}");
    }
    for line in &found.mismatches {
        println!("amount mismatch: {line}");
    }
    let problems =
        found.missing_in_ledger.len() + found.missing_at_stripe.len() + found.mismatches.len();
    println!(
        "stripe reconcile {from} to {to}: {} matched, {} missing in the ledger, {} missing at Stripe, {} amount mismatches; fees {}",
        found.matched,
        found.missing_in_ledger.len(),
        found.missing_at_stripe.len(),
        found.mismatches.len(),
        if fees.is_empty() {
            "0".to_owned()
        } else {
            fees.join(", ")
        }
    );
    store
        .record_processor_run(
            ACTOR,
            "stripe.reconcile",
            json!({"from": from.to_string(), "to": to.to_string(), "matched": found.matched,
                   "missing_in_ledger": found.missing_in_ledger.len(),
                   "missing_at_stripe": found.missing_at_stripe.len(),
                   "mismatches": found.mismatches.len(), "fees": found.fees}),
        )
        .await?;
    if problems == 0 {
        Ok(())
    } else {
        Err(CliError::failed(format!(
            "{problems} differences between Stripe and the ledger"
        )))
    }
}

/// Matches one balance transaction.
async fn check(
    store: &Store,
    client: &StripeClient,
    txn: &BalanceTransaction,
    found: &mut Findings,
    seen_payments: &mut HashSet<String>,
) -> Result<(), CliError> {
    let Some(source) = txn.source_id() else {
        return Ok(());
    };
    match txn.kind.as_str() {
        "charge" | "payment" => {
            let charge = client.charge(source).await.map_err(unreachable)?;
            let Some(pi) = charge.payment_intent.as_deref() else {
                found
                    .missing_in_ledger
                    .push(format!("{source}: a charge without a PaymentIntent"));
                return Ok(());
            };
            seen_payments.insert(pi.to_owned());
            match store.payment_by_external_ref(pi).await? {
                None => found.missing_in_ledger.push(format!(
                    "{source} ({pi}, {})",
                    format_amount(charge.amount, &charge.currency.to_ascii_uppercase()),
                )),
                Some(p) if p.amount != charge.amount => found.mismatches.push(format!(
                    "{} ({pi}): ledger {}, Stripe {}",
                    p.id, p.amount, charge.amount
                )),
                Some(_) => found.matched += 1,
            }
        }
        "refund" | "payment_refund" => match store.processor_refund(source).await? {
            None => found
                .missing_in_ledger
                .push(format!("refund {source} ({})", txn.amount.saturating_abs())),
            Some(r) if r.amount != txn.amount.saturating_abs() => found.mismatches.push(format!(
                "refund {} ({source}): ledger {}, Stripe {}",
                r.id.0,
                r.amount,
                txn.amount.saturating_abs()
            )),
            Some(_) => found.matched += 1,
        },
        // Dispute adjustments, payouts, Stripe's own fees: not payments or
        // refunds of the ledger (a lost dispute is on its payment).
        _ => {}
    }
    Ok(())
}
