//! What each event of §12's table does to the ledger: once per event and
//! per Stripe object, whatever the order of delivery.

use axum::http::StatusCode;
use serde_json::{Value, json};

use super::Harness;
use super::stripe_support::*;

/// One reader's worth of Stripe activity, with ids tagged so that many
/// worlds can share a database: a card payment partly refunded, a card
/// payment lost to a dispute, an ACH payment that settles later, and a
/// subscription invoice.
pub(super) struct World {
    tag: String,
    pub(super) events: Vec<Value>,
}

impl World {
    fn id(tag: &str, base: &str) -> String {
        format!("{base}_{tag}")
    }

    /// Puts the objects' current state at the fake and returns the events
    /// that led there (each event carries the object as it was then).
    pub(super) fn new(fake: &FakeStripe, tag: &str) -> World {
        let id = |base: &str| World::id(tag, base);
        let t = now() - 600;
        let mut events = Vec::new();
        let mut ev = |kind: &str, object: Value| {
            let n = events.len();
            events.push(event(
                &id(&format!("evt_{n}")),
                kind,
                t + n as i64,
                false,
                object,
            ));
        };

        // A: card, 50.00, fee 1.75, campaign, then 10.00 refunded.
        fake.put(created_at(
            t,
            payment_intent(&id("pi_a"), 5000, "usd", "succeeded", Some(&id("ch_a"))),
        ));
        fake.put(charge(
            &id("ch_a"),
            &id("pi_a"),
            5000,
            "usd",
            "card",
            Some(&id("txn_a")),
        ));
        fake.put(balance_transaction(
            &id("txn_a"),
            &id("ch_a"),
            "charge",
            5000,
            175,
            "usd",
            t,
        ));
        let refund_a = created_at(
            t + 60,
            refund(&id("re_a"), &id("pi_a"), &id("ch_a"), 1000, "succeeded"),
        );
        fake.put(refund_a.clone());
        let session_a = checkout_session(
            &id("cs_a"),
            &id("pi_a"),
            5000,
            "usd",
            "paid",
            Some("Ada Reader"),
            "ada@example.org",
            Some("2026-year-end"),
        );
        ev("checkout.session.completed", session_a);
        ev(
            "payment_intent.succeeded",
            payment_intent(&id("pi_a"), 5000, "usd", "succeeded", Some(&id("ch_a"))),
        );
        ev(
            "refund.created",
            refund(&id("re_a"), &id("pi_a"), &id("ch_a"), 1000, "pending"),
        );
        ev("refund.updated", refund_a);
        let mut refunded_charge = charge(
            &id("ch_a"),
            &id("pi_a"),
            5000,
            "usd",
            "card",
            Some(&id("txn_a")),
        );
        refunded_charge["amount_refunded"] = json!(1000);
        ev("charge.refunded", refunded_charge);

        // B: card, 30.00, disputed and lost.
        fake.put(created_at(
            t,
            payment_intent(&id("pi_b"), 3000, "usd", "succeeded", Some(&id("ch_b"))),
        ));
        fake.put(charge(
            &id("ch_b"),
            &id("pi_b"),
            3000,
            "usd",
            "link",
            Some(&id("txn_b")),
        ));
        fake.put(balance_transaction(
            &id("txn_b"),
            &id("ch_b"),
            "charge",
            3000,
            117,
            "usd",
            t,
        ));
        ev(
            "checkout.session.completed",
            checkout_session(
                &id("cs_b"),
                &id("pi_b"),
                3000,
                "usd",
                "paid",
                None,
                "bo@example.org",
                None,
            ),
        );
        ev(
            "charge.dispute.created",
            dispute(
                &id("du_b"),
                &id("ch_b"),
                &id("pi_b"),
                3000,
                "needs_response",
                "fraudulent",
            ),
        );
        ev(
            "charge.dispute.closed",
            dispute(
                &id("du_b"),
                &id("ch_b"),
                &id("pi_b"),
                3000,
                "lost",
                "fraudulent",
            ),
        );

        // C: ACH, 20.00: pending at Checkout, settled days later.
        fake.put(created_at(
            t,
            payment_intent(&id("pi_c"), 2000, "usd", "succeeded", Some(&id("ch_c"))),
        ));
        fake.put(charge(
            &id("ch_c"),
            &id("pi_c"),
            2000,
            "usd",
            "us_bank_account",
            Some(&id("txn_c")),
        ));
        fake.put(balance_transaction(
            &id("txn_c"),
            &id("ch_c"),
            "charge",
            2000,
            16,
            "usd",
            t,
        ));
        ev(
            "checkout.session.completed",
            checkout_session(
                &id("cs_c"),
                &id("pi_c"),
                2000,
                "usd",
                "unpaid",
                Some("Cy Saver"),
                "cy@example.org",
                None,
            ),
        );
        ev(
            "checkout.session.async_payment_succeeded",
            checkout_session(
                &id("cs_c"),
                &id("pi_c"),
                2000,
                "usd",
                "paid",
                Some("Cy Saver"),
                "cy@example.org",
                None,
            ),
        );
        ev(
            "payment_intent.succeeded",
            payment_intent(&id("pi_c"), 2000, "usd", "succeeded", Some(&id("ch_c"))),
        );

        // E: card, 10.00, disputed and won (no money moves).
        fake.put(created_at(
            t,
            payment_intent(&id("pi_e"), 1000, "usd", "succeeded", Some(&id("ch_e"))),
        ));
        fake.put(charge(
            &id("ch_e"),
            &id("pi_e"),
            1000,
            "usd",
            "paypal",
            Some(&id("txn_e")),
        ));
        fake.put(balance_transaction(
            &id("txn_e"),
            &id("ch_e"),
            "charge",
            1000,
            59,
            "usd",
            t,
        ));
        ev(
            "checkout.session.completed",
            checkout_session(
                &id("cs_e"),
                &id("pi_e"),
                1000,
                "usd",
                "paid",
                Some("Ed"),
                "ed@example.org",
                None,
            ),
        );
        ev(
            "charge.dispute.created",
            dispute(
                &id("du_e"),
                &id("ch_e"),
                &id("pi_e"),
                1000,
                "needs_response",
                "duplicate",
            ),
        );
        ev(
            "charge.dispute.updated",
            dispute(
                &id("du_e"),
                &id("ch_e"),
                &id("pi_e"),
                1000,
                "under_review",
                "duplicate",
            ),
        );
        ev(
            "charge.dispute.closed",
            dispute(
                &id("du_e"),
                &id("ch_e"),
                &id("pi_e"),
                1000,
                "won",
                "duplicate",
            ),
        );

        // D: a monthly membership's invoice, 15.00.
        fake.put(created_at(
            t,
            payment_intent(&id("pi_d"), 1500, "usd", "succeeded", Some(&id("ch_d"))),
        ));
        fake.put(charge(
            &id("ch_d"),
            &id("pi_d"),
            1500,
            "usd",
            "card",
            Some(&id("txn_d")),
        ));
        fake.put(balance_transaction(
            &id("txn_d"),
            &id("ch_d"),
            "charge",
            1500,
            74,
            "usd",
            t,
        ));
        ev(
            "invoice.paid",
            created_at(
                t,
                invoice(
                    &id("in_d"),
                    &id("sub_d"),
                    Some(&id("pi_d")),
                    1500,
                    "usd",
                    "di@example.org",
                    "Di Monthly",
                ),
            ),
        );
        let sub = subscription(
            &id("sub_d"),
            &id("cus_d"),
            "active",
            1500,
            "usd",
            "month",
            t + 2_592_000,
        );
        fake.put(sub.clone());
        ev("customer.subscription.created", sub);
        World {
            tag: tag.to_owned(),
            events,
        }
    }

    pub(super) fn pi(&self, base: &str) -> String {
        World::id(&self.tag, base)
    }
}

/// `object` as created at `t` (Unix seconds): the ledger dates a payment
/// by its PaymentIntent.
pub(super) fn created_at(t: i64, mut object: Value) -> Value {
    object["created"] = json!(t);
    object
}

/// Delivers every event, each retried until it gets a 2xx (Stripe retries
/// anything else), in the order given.
async fn deliver_all(h: &Harness, events: &[&Value]) {
    let mut pending: Vec<&Value> = events.to_vec();
    for _round in 0..10 {
        let mut again = Vec::new();
        for e in pending {
            let r = h.deliver(e).await;
            match r.status {
                StatusCode::OK => {}
                StatusCode::SERVICE_UNAVAILABLE => again.push(e),
                other => panic!("{}: {} {other}: {}", h.name(), e["type"], r.text),
            }
        }
        if again.is_empty() {
            return;
        }
        pending = again;
    }
    panic!("{}: events still refused after 10 rounds", h.name());
}

/// The ledger a world must end in, written out by hand from §12's table.
pub(super) async fn assert_world_ledger(h: &Harness, w: &World) {
    let who = h.name();
    let a = h.payment_of(&w.pi("pi_a")).await.expect("payment A");
    assert_eq!(a["amount"], 5000, "{who}");
    assert_eq!(a["currency"], "USD");
    assert_eq!(a["status"], "partially_refunded", "{who}: {a}");
    assert_eq!(a["amount_refunded"], 1000);
    assert_eq!(a["method"], "card");
    assert_eq!(a["processor"], "stripe");
    assert_eq!(a["fee"], 175);
    assert_eq!(a["campaign"], "2026-year-end");
    assert_eq!(a["payer"]["name"], "Ada Reader");
    assert_eq!(a["payer"]["email"], "ada@example.org");
    assert_eq!(a["dispute"], Value::Null);
    let refunds = a["refunds"].as_array().unwrap();
    assert_eq!(refunds.len(), 1, "{who}: {refunds:?}");
    assert_eq!(refunds[0]["amount"], 1000);
    assert_eq!(refunds[0]["external_ref"], w.pi("re_a"));

    let b = h.payment_of(&w.pi("pi_b")).await.expect("payment B");
    assert_eq!(b["method"], "card", "link pays by card");
    assert_eq!(b["status"], "succeeded");
    assert_eq!(
        b["dispute"],
        json!({"status": "lost", "amount": 3000, "reason": "fraudulent"}),
        "{who}"
    );
    // No name at Checkout: the name on the charge's billing details (Stripe's
    // example charge says Jenny Rosen).
    assert_eq!(b["payer"]["name"], "Jenny Rosen");
    assert_eq!(b["payer"]["email"], "bo@example.org");

    let c = h.payment_of(&w.pi("pi_c")).await.expect("payment C");
    assert_eq!(c["method"], "ach");
    assert_eq!(c["status"], "succeeded", "{who}: {c}");
    assert_eq!(c["fee"], 16);

    let d = h.payment_of(&w.pi("pi_d")).await.expect("payment D");
    assert_eq!(
        (d["amount"].clone(), d["status"].clone()),
        (json!(1500), json!("succeeded"))
    );
    assert_eq!(d["fee"], 74);
    assert_eq!(d["payer"]["name"], "Di Monthly");
    // D is a membership's first invoice: one membership, whichever of the
    // invoice and the subscription came first, with D's donor.
    let members = h.app.get("/api/v1/memberships?limit=100").await.json;
    let mine: Vec<&Value> = members["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["external_ref"] == w.pi("sub_d"))
        .collect();
    assert_eq!(mine.len(), 1, "{who}: {members}");
    let m = mine[0];
    assert_eq!(
        (&m["amount"], &m["currency"], &m["interval"], &m["status"]),
        (
            &json!(1500),
            &json!("USD"),
            &json!("month"),
            &json!("active")
        ),
        "{who}: {m}"
    );
    assert_eq!(d["membership_id"], m["id"], "{who}");
    assert_eq!(m["donor_id"], d["donor_id"], "{who}");
    let donor = h
        .app
        .get(&format!(
            "/api/v1/donors/{}",
            d["donor_id"].as_str().unwrap()
        ))
        .await
        .json;
    assert_eq!(donor["email"], "di@example.org", "{who}: {donor}");
    assert_eq!(donor["memberships"][0]["id"], m["id"]);

    let e = h.payment_of(&w.pi("pi_e")).await.expect("payment E");
    assert_eq!(e["method"], "paypal");
    assert_eq!(e["status"], "succeeded");
    assert_eq!(
        e["dispute"],
        json!({"status": "won", "amount": 1000, "reason": "duplicate"}),
        "{who}"
    );
}

/// The first answer to each event of a world delivered in its own order.
pub(super) fn first_outcome(e: &Value) -> &'static str {
    let kind = e["type"].as_str().unwrap();
    let object = &e["data"]["object"];
    if kind.starts_with("refund.") && object["status"] != "succeeded" {
        "ignored"
    } else {
        "processed"
    }
}

#[tokio::test]
async fn every_event_delivered_twice_counts_once() {
    for h in Harness::all().await {
        let w = World::new(&h.fake, "twice");
        for e in &w.events {
            h.expect(e, first_outcome(e)).await;
            h.expect(e, "duplicate").await;
        }
        assert_world_ledger(&h, &w).await;
        // The same PaymentIntent came through two events (the session and
        // payment_intent.succeeded): one payment.
        let all = h.app.get("/api/v1/payments?limit=100").await;
        assert_eq!(
            all.json["data"].as_array().unwrap().len(),
            5,
            "{}",
            h.name()
        );
        // The lost dispute is out of net; the fees are the four payments'.
        let today = chrono::Utc::now().date_naive();
        let s = h
            .app
            .get(&format!(
                "/api/v1/summary?from={}&to={today}",
                today - chrono::Days::new(1)
            ))
            .await
            .json;
        assert_eq!(s["gross"], 5000 + 3000 + 2000 + 1500 + 1000, "{}", h.name());
        assert_eq!(s["refunded"], 1000);
        assert_eq!(s["disputed"], 3000, "the won dispute changes no money");
        assert_eq!(s["net"], 12500 - 1000 - 3000);
        assert_eq!(s["fees"], 175 + 117 + 16 + 74 + 59);
    }
}

/// A small deterministic generator (xorshift), so a failing order can be
/// replayed from its number.
fn shuffled<T: Clone>(items: &[T], seed: u64) -> Vec<T> {
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let mut out = items.to_vec();
    for i in (1..out.len()).rev() {
        let j = (next() % (i as u64 + 1)) as usize;
        out.swap(i, j);
    }
    out
}

#[tokio::test]
async fn any_order_of_delivery_ends_in_the_same_ledger() {
    for h in Harness::all().await {
        for n in 0..50u64 {
            let w = World::new(&h.fake, &format!("s{n}"));
            let order = shuffled(&w.events.iter().collect::<Vec<_>>(), n);
            // Some deliveries twice, as Stripe does.
            let mut deliveries = order.clone();
            deliveries.extend(order.iter().take(3));
            deliver_all(&h, &deliveries).await;
            assert_world_ledger(&h, &w).await;
        }
    }
}

#[tokio::test]
async fn a_refund_before_its_payment_waits_for_it() {
    for h in Harness::all().await {
        let w = World::new(&h.fake, "early");
        let refund = w
            .events
            .iter()
            .find(|e| e["type"] == "refund.updated")
            .unwrap();
        let r = h.deliver(refund).await;
        assert_eq!(
            r.status,
            StatusCode::SERVICE_UNAVAILABLE,
            "{}: {}",
            h.name(),
            r.text
        );
        assert!(h.payment_of(&w.pi("pi_a")).await.is_none());
        h.expect(&w.events[0], "processed").await;
        h.expect(refund, "processed").await;
        let a = h.payment_of(&w.pi("pi_a")).await.unwrap();
        assert_eq!(a["amount_refunded"], 1000, "{}", h.name());
    }
}

#[tokio::test]
async fn other_modes_and_unknown_types_are_ignored() {
    for h in Harness::all().await {
        let w = World::new(&h.fake, "modes");
        let mut live = w.events[0].clone();
        live["id"] = json!("evt_live_modes");
        live["livemode"] = json!(true);
        h.expect(&live, "ignored").await;
        assert!(h.payment_of(&w.pi("pi_a")).await.is_none(), "{}", h.name());
        let unknown = event(
            "evt_unknown_modes",
            "customer.created",
            now(),
            false,
            json!({"id": "cus_1"}),
        );
        h.expect(&unknown, "ignored").await;
        h.expect(&unknown, "duplicate").await;
        let events = h.app.db.store.recent_events(10).await.unwrap();
        let outcomes: Vec<(&str, &str)> = events
            .iter()
            .map(|e| (e.id.0.as_str(), e.outcome.0.as_str()))
            .collect();
        assert!(
            outcomes.contains(&("evt_live_modes", "ignored")),
            "{outcomes:?}"
        );
        assert!(
            outcomes.contains(&("evt_unknown_modes", "ignored")),
            "{outcomes:?}"
        );
    }
}

#[tokio::test]
async fn stripe_unreachable_while_handling_is_503_and_the_redelivery_counts_once() {
    for h in Harness::all().await {
        let w = World::new(&h.fake, "down");
        h.fake.set_behaviour(Behaviour::Status(503));
        let r = h.deliver(&w.events[0]).await;
        assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE, "{}", r.text);
        assert!(!r.text.contains(SECRET_KEY));
        h.fake.set_behaviour(Behaviour::Normal);
        h.expect(&w.events[0], "processed").await;
        h.expect(&w.events[0], "duplicate").await;
        assert_eq!(h.payment_of(&w.pi("pi_a")).await.unwrap()["amount"], 5000);
    }
}

/// ACH through Checkout: pending until the bank settles (days later), then
/// succeeded with its fee; or failed.
#[tokio::test]
async fn ach_is_pending_until_it_settles_or_fails() {
    for h in Harness::all().await {
        for (tag, settles) in [("ach_ok", true), ("ach_ko", false)] {
            let (pi, ch) = (format!("pi_{tag}"), format!("ch_{tag}"));
            h.fake.put(created_at(
                now(),
                payment_intent(&pi, 2000, "usd", "processing", Some(&ch)),
            ));
            h.fake
                .put(charge(&ch, &pi, 2000, "usd", "us_bank_account", None));
            let session = |status: &str| {
                checkout_session(
                    &format!("cs_{tag}"),
                    &pi,
                    2000,
                    "usd",
                    status,
                    Some("Al"),
                    "al@example.org",
                    None,
                )
            };
            h.expect(
                &event(
                    &format!("evt_{tag}_1"),
                    "checkout.session.completed",
                    now(),
                    false,
                    session("unpaid"),
                ),
                "processed",
            )
            .await;
            let p = h.payment_of(&pi).await.unwrap();
            assert_eq!(
                (p["status"].as_str(), p["method"].as_str()),
                (Some("pending"), Some("ach")),
                "{}",
                h.name()
            );
            assert_eq!(p["fee"], Value::Null, "no balance transaction yet");

            let (final_status, kind, expected) = if settles {
                h.fake.put(charge(
                    &ch,
                    &pi,
                    2000,
                    "usd",
                    "us_bank_account",
                    Some(&format!("txn_{tag}")),
                ));
                h.fake.put(balance_transaction(
                    &format!("txn_{tag}"),
                    &ch,
                    "charge",
                    2000,
                    8,
                    "usd",
                    now(),
                ));
                (
                    "succeeded",
                    "checkout.session.async_payment_succeeded",
                    "succeeded",
                )
            } else {
                (
                    "requires_payment_method",
                    "checkout.session.async_payment_failed",
                    "failed",
                )
            };
            h.fake.put(created_at(
                now(),
                payment_intent(&pi, 2000, "usd", final_status, Some(&ch)),
            ));
            h.expect(
                &event(&format!("evt_{tag}_2"), kind, now(), false, session("paid")),
                "processed",
            )
            .await;
            let p = h.payment_of(&pi).await.unwrap();
            assert_eq!(p["status"], expected, "{}: {p}", h.name());
            assert_eq!(p["fee"], if settles { json!(8) } else { Value::Null });
        }
    }
}

/// Two events that each record the same PaymentIntent, delivered at the
/// same moment (Stripe sends in parallel): one payment, both answered 2xx
/// once redelivered.
#[tokio::test]
async fn two_events_recording_one_payment_at_once_make_one() {
    for h in Harness::all().await {
        for n in 0..10 {
            let tag = format!("race{n}");
            let (pi, ch) = (format!("pi_{tag}"), format!("ch_{tag}"));
            h.fake.put(created_at(
                now(),
                payment_intent(&pi, 900, "usd", "succeeded", Some(&ch)),
            ));
            h.fake.put(charge(&ch, &pi, 900, "usd", "card", None));
            let session = checkout_session(
                &format!("cs_{tag}"),
                &pi,
                900,
                "usd",
                "paid",
                None,
                "r@example.org",
                None,
            );
            let first = event(
                &format!("evt_{tag}_a"),
                "checkout.session.completed",
                now(),
                false,
                session.clone(),
            );
            let second = event(
                &format!("evt_{tag}_b"),
                "checkout.session.async_payment_succeeded",
                now(),
                false,
                session,
            );
            let (a, b) = tokio::join!(h.deliver(&first), h.deliver(&second));
            for (r, e) in [(a, &first), (b, &second)] {
                assert!(
                    [StatusCode::OK, StatusCode::SERVICE_UNAVAILABLE].contains(&r.status),
                    "{}: {}",
                    h.name(),
                    r.text
                );
                if r.status != StatusCode::OK {
                    deliver_all(&h, &[e]).await;
                }
            }
            let p = h.payment_of(&pi).await.unwrap();
            assert_eq!(p["amount"], 900, "{}", h.name());
        }
    }
}

/// A refund or dispute that names only its charge: the PaymentIntent is
/// the charge's, fetched from Stripe.
#[tokio::test]
async fn a_refund_naming_only_its_charge_finds_its_payment() {
    for h in Harness::all().await {
        let w = World::new(&h.fake, "bycharge");
        h.expect(&w.events[0], "processed").await;
        let mut refund = refund(
            &w.pi("re_x"),
            &w.pi("pi_a"),
            &w.pi("ch_a"),
            700,
            "succeeded",
        );
        refund["payment_intent"] = Value::Null;
        h.expect(
            &event(&w.pi("evt_x"), "refund.created", now(), false, refund),
            "processed",
        )
        .await;
        let a = h.payment_of(&w.pi("pi_a")).await.unwrap();
        assert_eq!(a["amount_refunded"], 700, "{}", h.name());
        assert_eq!(a["refunds"][0]["external_ref"], w.pi("re_x"));
    }
}
