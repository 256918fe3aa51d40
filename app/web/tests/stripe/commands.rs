//! `payments stripe sync` and `payments stripe reconcile`, run as operators
//! run them, against the fake Stripe.

use std::process::Output;

use serde_json::json;

use super::Harness;
use super::effects::{World, assert_world_ledger, created_at};
use super::process;
use super::stripe_support::*;

/// Runs `payments stripe …` against the harness's database and fake.
async fn stripe_command(h: &Harness, args: &[&str]) -> Output {
    let mut all = vec!["stripe"];
    all.extend_from_slice(args);
    let all: Vec<String> = all.iter().map(|s| s.to_string()).collect();
    let (url, base) = (h.app.db.url.clone(), h.fake.base_url());
    // The fake answers on this test's runtime: run the process beside it.
    tokio::task::spawn_blocking(move || {
        let dir = tempfile::tempdir().unwrap();
        let args: Vec<&str> = all.iter().map(String::as_str).collect();
        process::payments(&args, dir.path())
            .env("PAYMENTS_DATABASE_URL", url)
            .env("PAYMENTS_STRIPE_SECRET_KEY", SECRET_KEY)
            .env("PAYMENTS_STRIPE_API_BASE", base)
            .output()
            .unwrap()
    })
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sync_recovers_every_missed_event_and_running_it_again_changes_nothing() {
    for h in Harness::all().await {
        let w = World::new(&h.fake, "sync");
        // The webhook was down: Stripe has the events, the ledger nothing.
        for e in &w.events {
            h.fake.add_event(e.clone());
        }
        let first = stripe_command(&h, &["sync"]).await;
        let out = process::stdout(&first);
        assert!(
            first.status.success(),
            "{}: {out}{}",
            h.name(),
            process::stderr(&first)
        );
        let n = w.events.len();
        let ignored = w
            .events
            .iter()
            .filter(|e| e["data"]["object"]["status"] == "pending")
            .count();
        let expected = format!(
            "{n} events, {} processed, 0 duplicate, {ignored} ignored, 0 failed",
            n - ignored
        );
        assert!(
            out.contains(&expected),
            "{}: {out} (expected {expected})",
            h.name()
        );
        assert_world_ledger(&h, &w).await;
        let payments = h.app.get("/api/v1/payments?limit=100").await.json;

        let second = stripe_command(&h, &["sync"]).await;
        let out = process::stdout(&second);
        assert!(second.status.success(), "{out}");
        assert!(
            out.contains(&format!(
                "{n} events, 0 processed, {n} duplicate, 0 ignored, 0 failed"
            )),
            "{out}"
        );
        let again = h.app.get("/api/v1/payments?limit=100").await.json;
        assert_eq!(payments["data"], again["data"], "{}", h.name());
        // The dashboard's Stripe page learns of the run from the audit log.
        let runs = h.app.db.store.last_processor_runs().await.unwrap();
        assert!(runs.iter().any(|r| r.action.0 == "stripe.sync"), "{runs:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reconcile_reports_a_missing_charge_and_a_mismatch_and_passes_a_clean_ledger() {
    for h in Harness::all().await {
        let w = World::new(&h.fake, "rec");
        for e in &w.events {
            h.expect(e, super::effects::first_outcome(e)).await;
        }
        // Stripe's balance also moved for the refund.
        let t = now() - 600;
        h.fake.put(balance_transaction(
            &w.pi("txn_re_a"),
            &w.pi("re_a"),
            "refund",
            -1000,
            0,
            "usd",
            t,
        ));
        let today = chrono::Utc::now().date_naive();
        let (from, to) = (
            (today - chrono::Days::new(1)).to_string(),
            today.to_string(),
        );
        let range = ["reconcile", "--from", &from, "--to", &to];
        let clean = stripe_command(&h, &range).await;
        let out = process::stdout(&clean);
        assert!(
            clean.status.success(),
            "{}: {out}{}",
            h.name(),
            process::stderr(&clean)
        );
        assert!(
            out.contains("6 matched, 0 missing in the ledger, 0 missing at Stripe, 0 amount mismatches; fees 4.41 USD"),
            "{}: {out}",
            h.name()
        );

        // Planted: a charge the ledger never heard of, and a charge whose
        // amount differs from the ledger's payment.
        h.fake.put(created_at(
            t,
            payment_intent("pi_unseen", 700, "usd", "succeeded", Some("ch_unseen")),
        ));
        h.fake.put(charge(
            "ch_unseen",
            "pi_unseen",
            700,
            "usd",
            "card",
            Some("txn_unseen"),
        ));
        h.fake.put(balance_transaction(
            "txn_unseen",
            "ch_unseen",
            "charge",
            700,
            30,
            "usd",
            t,
        ));
        let mut short = h.fake.get(&w.pi("ch_c")).unwrap();
        short["amount"] = json!(1900);
        h.fake.put(short);
        let dirty = stripe_command(&h, &range).await;
        let out = process::stdout(&dirty);
        assert_eq!(dirty.status.code(), Some(1), "{}: {out}", h.name());
        assert!(
            out.contains("missing in the ledger: ch_unseen (pi_unseen, 7.00 USD)"),
            "{out}"
        );
        assert!(
            out.contains("ledger 2000, Stripe 1900") && out.contains(&w.pi("pi_c")),
            "{out}"
        );
        assert!(
            out.contains("1 missing in the ledger, 0 missing at Stripe, 1 amount mismatches"),
            "{out}"
        );
    }
}
