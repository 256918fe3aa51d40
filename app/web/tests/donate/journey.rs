//! The reader's whole path against the fake Stripe: the form, Checkout, the
//! events Stripe sends for that session, and what staff then see in the API
//! and the dashboard: the payment, the donor, the membership with its
//! renewals and cancellation, and the campaign's progress and match.

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};

use super::{Harness, load_page};
use crate::dashboard_support::{self, Role};
use crate::stripe_support::*;

/// Delivers `object` in an event of `kind`, signed as Stripe signs, and
/// expects it processed.
async fn deliver(h: &Harness, id: &str, kind: &str, object: Value) {
    let r = h.deliver(&event(id, kind, now(), false, object)).await;
    assert_eq!(r.status, StatusCode::OK, "{}: {kind}: {}", h.name(), r.text);
    assert_eq!(
        r.json["outcome"],
        "processed",
        "{}: {kind}: {}",
        h.name(),
        r.text
    );
}

/// Submits the form as a reader would and returns the Checkout Session the
/// fake made, completed by the reader paying.
async fn give(h: &Harness, query: &str, fields: &[(&str, &str)], email: &str) -> Value {
    let page = load_page(&h.app, &format!("/donate?{query}")).await;
    let r = h.post(&page.body(fields), Some(&page.cookie)).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}: {}", h.name(), r.text);
    let location = r.header("location").unwrap().to_owned();
    let id = location.rsplit('/').next().unwrap().to_owned();
    assert!(id.starts_with("cs_"), "{location}");
    h.fake.complete_checkout_session(&id, email)
}

/// The PaymentIntent `pi` paid by card, its charge and balance transaction.
fn paid_by_card(h: &Harness, pi: &str, amount: i64, fee: i64) {
    let ch = format!("ch_{}", &pi[3..]);
    let txn = format!("txn_{}", &pi[3..]);
    h.fake
        .put(payment_intent(pi, amount, "usd", "succeeded", Some(&ch)));
    h.fake
        .put(charge(&ch, pi, amount, "usd", "card", Some(&txn)));
    h.fake.put(balance_transaction(
        &txn,
        &ch,
        "charge",
        amount,
        fee,
        "usd",
        now(),
    ));
}

async fn staff_page(h: &Harness, cookie: &str, path: &str) -> String {
    let r = dashboard_support::page(&h.app, Method::GET, path, cookie, None).await;
    assert_eq!(r.status, StatusCode::OK, "{}: {path}: {}", h.name(), r.text);
    r.text
}

#[tokio::test]
async fn a_gift_and_a_membership_reach_the_ledger_donor_campaign_and_dashboard() {
    for h in Harness::all().await {
        let who = h.name();
        let spec = payments::domain::CampaignInput {
            name: "Year-end drive",
            goal: Some("1000"),
            currency: Some("USD"),
            match_ratio: Some("1"),
            match_cap: Some("60"),
            ends: Some("2099-01-01"),
        }
        .parse()
        .unwrap();
        h.app
            .db
            .store
            .create_campaign("test", "2026-year-end", &spec)
            .await
            .unwrap();

        // One time: 50.00 from an article's link, the fee covered.
        let session = give(
            &h,
            "campaign=2026-year-end&amount=50&frequency=once",
            &[
                ("frequency", "once"),
                ("amount", "50"),
                ("currency", "USD"),
                ("campaign", "2026-year-end"),
                ("cover_fees", "on"),
            ],
            "reader@example.org",
        )
        .await;
        // 50.00 with 2.2% + 0.30 covered: ceil((5000 + 30) / 0.978) = 5144.
        assert_eq!(session["amount_total"], 5144, "{who}: {session}");
        let pi = session["payment_intent"].as_str().unwrap().to_owned();
        paid_by_card(&h, &pi, 5144, 143);
        deliver(
            &h,
            "evt_once",
            "checkout.session.completed",
            session.clone(),
        )
        .await;

        let thanks = h
            .get(
                &format!(
                    "/donate/thanks?session_id={}",
                    session["id"].as_str().unwrap()
                ),
                None,
            )
            .await;
        assert_eq!(thanks.status, StatusCode::OK, "{who}");
        assert!(thanks.text.contains("51.44"), "{who}: {}", thanks.text);
        assert!(thanks.text.contains("r•••@example.org"), "{who}");

        let list = h.app.get(&format!("/api/v1/payments?q={pi}")).await.json;
        let gift = &list["data"][0];
        assert_eq!(
            (
                &gift["amount"],
                &gift["status"],
                &gift["campaign"],
                &gift["fee"]
            ),
            (
                &json!(5144),
                &json!("succeeded"),
                &json!("2026-year-end"),
                &json!(143)
            ),
            "{who}: {list}"
        );
        assert_eq!(gift["payer"]["email"], "reader@example.org");
        assert_eq!(gift["membership_id"], Value::Null);

        // Monthly: 15.00, then two renewals, then the member cancels.
        let session = give(
            &h,
            "frequency=monthly",
            &[
                ("frequency", "monthly"),
                ("amount", "15"),
                ("currency", "USD"),
                ("campaign", "2026-year-end"),
            ],
            "Member@Example.org",
        )
        .await;
        assert_eq!(session["mode"], "subscription", "{who}");
        let sub = session["subscription"].as_str().unwrap().to_owned();
        let period = 30 * 86_400;
        let start = now();
        let mut subscription_now = subscription(
            &sub,
            "cus_member",
            "active",
            1500,
            "usd",
            "month",
            start + period,
        );
        subscription_now["start_date"] = json!(start);
        h.fake.put(subscription_now.clone());
        deliver(
            &h,
            "evt_sub_session",
            "checkout.session.completed",
            session.clone(),
        )
        .await;
        deliver(
            &h,
            "evt_sub_created",
            "customer.subscription.created",
            subscription_now.clone(),
        )
        .await;
        for n in 0..3 {
            let pi = format!("pi_renewal{n}");
            paid_by_card(&h, &pi, 1500, 74);
            let inv = invoice(
                &format!("in_renewal{n}"),
                &sub,
                Some(&pi),
                1500,
                "usd",
                "member@example.org",
                "Mo Member",
            );
            deliver(&h, &format!("evt_invoice{n}"), "invoice.paid", inv).await;
        }
        let mut canceled = subscription_now.clone();
        canceled["status"] = json!("canceled");
        canceled["canceled_at"] = json!(start + 2 * period);
        canceled["ended_at"] = json!(start + 2 * period);
        h.fake.put(canceled.clone());
        deliver(
            &h,
            "evt_sub_deleted",
            "customer.subscription.deleted",
            canceled,
        )
        .await;

        let members = h.app.get("/api/v1/memberships").await.json;
        assert_eq!(
            members["data"].as_array().unwrap().len(),
            1,
            "{who}: {members}"
        );
        let m = &members["data"][0];
        assert_eq!(
            (
                &m["status"],
                &m["amount"],
                &m["interval"],
                &m["external_ref"]
            ),
            (
                &json!("canceled"),
                &json!(1500),
                &json!("month"),
                &json!(sub)
            ),
            "{who}: {m}"
        );
        assert_eq!(m["campaign"], "2026-year-end", "{who}");
        assert!(m["canceled_at"].is_string(), "{who}: {m}");
        let donor_id = m["donor_id"].as_str().unwrap().to_owned();
        let donor = h.app.get(&format!("/api/v1/donors/{donor_id}")).await.json;
        assert_eq!(
            donor["email"], "Member@Example.org",
            "the session's email names the donor"
        );
        assert_eq!(
            donor["totals"]["USD"],
            json!({"count": 3, "gross": 4500, "refunded": 0, "net": 4500}),
            "{who}: {donor}"
        );
        let renewals = h
            .app
            .get(&format!("/api/v1/payments?donor_id={donor_id}"))
            .await
            .json;
        let renewals = renewals["data"].as_array().unwrap();
        assert_eq!(renewals.len(), 3, "{who}");
        assert!(
            renewals.iter().all(|p| p["membership_id"] == m["id"]),
            "{who}"
        );

        // Campaign progress counts captured gifts with the campaign: the
        // one-time gift (the invoices carry no campaign of their own).
        let progress = h
            .app
            .db
            .store
            .campaign_progress(
                &h.app
                    .db
                    .store
                    .campaign("2026-year-end")
                    .await
                    .unwrap()
                    .unwrap(),
            )
            .await
            .unwrap();
        assert_eq!(
            (progress.count, progress.raised, progress.matched),
            (1, 5144, 5144),
            "{who}"
        );
        let page = load_page(&h.app, "/donate?campaign=2026-year-end").await;
        assert!(page.html.contains("Year-end drive"), "{who}");
        assert!(page.html.contains("matched 1×"), "{who}: {}", page.html);

        // Staff see it all in the dashboard.
        dashboard_support::add_user(&h.app, "staff@example.org", Role::Viewer).await;
        let cookie = dashboard_support::login(&h.app, "staff@example.org").await;
        let gift_page = staff_page(
            &h,
            &cookie,
            &format!("/payments/{}", gift["id"].as_str().unwrap()),
        )
        .await;
        assert!(gift_page.contains("51.44"), "{who}");
        assert!(gift_page.contains(&pi), "{who}: the PaymentIntent is shown");
        let donor_page = staff_page(&h, &cookie, &format!("/donors/{donor_id}")).await;
        assert!(donor_page.contains("Member@Example.org"), "{who}");
        assert!(donor_page.contains("45.00 USD"), "{who}: the donor's net");
        assert!(
            donor_page.contains(&sub),
            "{who}: the membership's subscription"
        );
        let memberships = staff_page(&h, &cookie, "/memberships?status=canceled").await;
        assert!(memberships.contains("15.00 USD"), "{who}");
        let campaigns = staff_page(&h, &cookie, "/campaigns").await;
        assert!(campaigns.contains("51.44 USD"), "{who}: raised");
    }
}
