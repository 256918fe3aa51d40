//! A reader's export and erasure, and retention, on every backend: after an
//! erasure no text column of any table holds the reader's name or email,
//! the money (summaries, every rollup row) is byte for byte what it was,
//! and later processor events about them record money only.

mod common;
mod privacy_support;
mod stripe_support;

use payments::domain::{NewPayment, NewRefund};
use payments::storage::StoreError;
use payments::storage::payments::{IdempotencyClaim, Idempotent, RecordedResponse};
use payments::storage::privacy::{ERASED_NAME, pseudonym};
use payments::stripe::erasure::{ErasureError, erase_donor};
use privacy_support::{Raw, Setup, summaries};
use serde_json::json;

const NAME: &str = "Ada Lovelace-Reader";
const EMAIL: &str = "Ada.Reader@Example.org";
/// What must be nowhere after the erasure (compared without case).
const TRACES: [&str; 3] = [NAME, EMAIL, "ada.reader"];

fn gift(name: &str, email: &str, amount: i64, created_at: Option<&str>) -> serde_json::Value {
    let mut body = json!({
        "amount": amount, "currency": "USD", "method": "card",
        "payer": {"name": name, "email": email},
        "campaign": "2026-year-end",
    });
    if let Some(at) = created_at {
        body["created_at"] = at.into();
    }
    body
}

async fn nothing_left(s: &Setup, raw: &Raw, when: &str) {
    for trace in TRACES {
        let found = raw.find(trace).await;
        assert!(
            found.is_empty(),
            "{} {when}: {trace:?} in {found:?}",
            s.name()
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_erased_donor_is_nowhere_and_the_money_is_unchanged() {
    for s in Setup::all().await {
        let (app, store) = (&s.app, &s.app.db.store);
        let raw = Raw::open(&app.db).await;
        // An API gift (with an idempotency key, free text naming the reader)
        // partly refunded; a Checkout gift; a canceled membership's invoice;
        // and another donor.
        let mut body = gift(NAME, EMAIL, 5_000, None);
        body["description"] = json!(format!("Cheque from {NAME}"));
        body["metadata"] = json!({"contact": "ada.reader@example.org"});
        body["send_receipt"] = json!(true);
        let first = app.post("/api/v1/payments", body.clone(), "key-ada").await;
        assert_eq!(first.status.as_u16(), 201, "{}", first.text);
        let paid = first.json["id"].as_str().unwrap().to_owned();
        let refund = app
            .post(
                &format!("/api/v1/payments/{paid}/refunds"),
                json!({"amount": 1_500}),
                "key-ada-refund",
            )
            .await;
        assert_eq!(refund.status.as_u16(), 201, "{}", refund.text);
        s.checkout_gift("ada", 2_500, NAME, "ADA.READER@example.org")
            .await;
        s.member_gift("sub_ada", "canceled", "ada_m1", 1_000, NAME, EMAIL)
            .await;
        app.create(gift("Bo Giver", "bo@example.org", 700, None))
            .await;
        let donor = store.donor_by_email(EMAIL).await.unwrap().unwrap();
        assert_eq!(donor.memberships.len(), 1, "{}", s.name());
        for trace in TRACES {
            assert!(!raw.find(trace).await.is_empty(), "seeded: {trace}");
        }

        let export = store.donor_export(EMAIL).await.unwrap().unwrap();
        let text = export.to_string().to_lowercase();
        assert!(text.contains(&NAME.to_lowercase()) && text.contains(&EMAIL.to_lowercase()));
        assert_eq!(export["payments"].as_array().unwrap().len(), 3, "{export}");
        let refunded = export["payments"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["id"] == paid.as_str());
        assert_eq!(refunded.unwrap()["refunds"][0]["amount"], 1_500);
        assert_eq!(export["memberships"][0]["external_ref"], "sub_ada");
        assert!(export["audit_log"].as_array().unwrap().len() >= 4);

        let rollups = raw.rollups().await;
        let before = summaries(app, &rollups).await;
        let report = erase_donor(store, None, "test", &donor.id, false)
            .await
            .unwrap();
        assert_eq!(
            (report.payments, report.memberships_canceled),
            (3, 0),
            "{}",
            s.name()
        );
        assert_eq!(report.idempotency_responses, 1, "the payment's response");
        assert_eq!(report.free_text, 1, "the description and metadata");
        assert_eq!(
            report.outbox_messages,
            3,
            "{}: the receipts of the API, Checkout and membership gifts",
            s.name()
        );
        nothing_left(&s, &raw, "after the erasure").await;
        assert_eq!(raw.rollups().await, rollups, "{}", s.name());
        assert_eq!(summaries(app, &rollups).await, before, "{}", s.name());

        // What stays: the donor (its id, totals), amounts, dates, campaigns.
        let kept = store.donor(&donor.id).await.unwrap();
        assert_eq!(
            (kept.name.as_str(), kept.email.clone()),
            (ERASED_NAME, pseudonym(&donor.id))
        );
        assert_eq!(kept.totals, donor.totals);
        assert_eq!(kept.created_at, donor.created_at);
        let p = store.payment(&paid).await.unwrap();
        assert_eq!(
            (p.payer.name.as_str(), p.amount_refunded),
            (ERASED_NAME, 1_500)
        );
        assert_eq!(p.campaign.as_deref(), Some("2026-year-end"));
        assert_eq!(p.description.as_deref(), Some("Cheque from Erased donor"));
        assert_eq!(
            store
                .donor_by_email("bo@example.org")
                .await
                .unwrap()
                .unwrap()
                .name,
            "Bo Giver"
        );
        // The audit log says it happened, with counts only.
        let audit = raw.audit_details("donor.erased").await;
        assert_eq!(audit.len(), 1);
        assert_eq!(audit[0].0, donor.id);
        assert_eq!(audit[0].1["payments"], 3);
        // A retry of the first request answers as the first did, pseudonymised.
        let replay = app.post("/api/v1/payments", body, "key-ada").await;
        assert_eq!(replay.header("idempotent-replayed"), Some("true"));
        assert_eq!(
            (replay.json["id"].as_str(), replay.json["amount"].as_i64()),
            (Some(paid.as_str()), Some(5_000))
        );
        assert_eq!(replay.json["payer"]["name"], ERASED_NAME);
        // The export: nothing under the email, the pseudonym's holds no trace.
        assert!(store.donor_export(EMAIL).await.unwrap().is_none());
        let after = store
            .donor_export(&pseudonym(&donor.id))
            .await
            .unwrap()
            .unwrap();
        assert!(after["donor"]["erased_at"].is_string(), "{after}");
        assert_eq!(after["payments"].as_array().unwrap().len(), 3);
        for trace in TRACES {
            assert!(
                !after
                    .to_string()
                    .to_lowercase()
                    .contains(&trace.to_lowercase())
            );
        }
        assert!(matches!(
            store.erase_donor("test", &donor.id, false).await,
            Err(StoreError::Conflict(_))
        ));

        // Later events: a new gift from the erased email, and a renewal of
        // the erased donor's subscription: money recorded, never the name.
        s.checkout_gift("ada_later", 4_000, NAME, "ada.reader@example.org")
            .await;
        s.member_gift(
            "sub_ada",
            "canceled",
            "ada_m2",
            1_000,
            "Ada L.",
            "ada.new@example.org",
        )
        .await;
        nothing_left(&s, &raw, "after later events").await;
        assert_eq!(raw.find("ada.new").await, vec![], "{}", s.name());
        let later = store
            .payment_by_external_ref("pi_ada_later")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            (later.amount, later.payer.name.as_str()),
            (4_000, ERASED_NAME)
        );
        let new_donor = later.donor_id.unwrap();
        assert_ne!(new_donor, donor.id, "nothing links it to the erased gifts");
        assert_eq!(later.payer.email, pseudonym(&new_donor));
        let renewal = store
            .payment_by_external_ref("pi_ada_m2")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(renewal.donor_id.as_deref(), Some(donor.id.as_str()));
        assert_eq!(renewal.payer.email, pseudonym(&donor.id));
        let rollups_now = raw.rollups().await;
        assert_ne!(rollups_now, rollups, "the later money is counted");
        if let Raw::Sqlite(_) = raw {
            no_copy_in_the_file(&app.db.url);
        }
        raw.close().await;
    }
}

/// With `secure_delete` and the log truncated, not even the SQLite file's
/// free space holds the erased email.
fn no_copy_in_the_file(url: &str) {
    let path = url.trim_start_matches("sqlite://");
    for file in [path.to_owned(), format!("{path}-wal")] {
        let Ok(bytes) = std::fs::read(&file) else {
            continue;
        };
        let lower = bytes.to_ascii_lowercase();
        for trace in TRACES {
            let needle = trace.to_ascii_lowercase();
            assert!(
                !lower.windows(needle.len()).any(|w| w == needle.as_bytes()),
                "{trace:?} in the bytes of {file}"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_active_membership_blocks_erasure_unless_it_is_canceled_at_stripe_first() {
    for s in Setup::all().await {
        let store = &s.app.db.store;
        s.member_gift(
            "sub_cy",
            "active",
            "cy_1",
            1_500,
            "Cy Member",
            "cy@example.org",
        )
        .await;
        let donor = store
            .donor_by_email("cy@example.org")
            .await
            .unwrap()
            .unwrap();
        let client = Some(&s.stripe.client);
        assert!(matches!(
            erase_donor(store, client, "test", &donor.id, false).await,
            Err(ErasureError::MembershipActive)
        ));
        assert!(matches!(
            store.erase_donor("test", &donor.id, false).await,
            Err(StoreError::Conflict(_))
        ));
        assert!(matches!(
            erase_donor(store, None, "test", &donor.id, true).await,
            Err(ErasureError::StripeNotConfigured)
        ));
        let unchanged = store.donor(&donor.id).await.unwrap();
        assert_eq!(unchanged.name, "Cy Member", "{}", s.name());
        assert!(s.fake.requests().iter().all(|r| r.method != "DELETE"));

        let report = erase_donor(store, client, "test", &donor.id, true)
            .await
            .unwrap();
        assert_eq!(report.memberships_canceled, 1);
        let deletes: Vec<_> = s
            .fake
            .requests()
            .into_iter()
            .filter(|r| r.method == "DELETE")
            .collect();
        assert_eq!(deletes.len(), 1);
        assert_eq!(deletes[0].path, "/v1/subscriptions/sub_cy");
        let at_stripe = s.fake.get("sub_cy").unwrap();
        assert_eq!(at_stripe["status"], "canceled");
        assert!(at_stripe["canceled_at"].is_i64());
        assert!(
            matches!(
                s.stripe.client.cancel_subscription("sub_cy").await,
                Err(payments::stripe::StripeError::Refused { status: 400, .. })
            ),
            "a canceled subscription is not canceled twice"
        );
        let erased = store.donor(&donor.id).await.unwrap();
        assert_eq!(erased.name, ERASED_NAME);
        assert_eq!(erased.memberships[0].status.as_str(), "canceled");
        assert!(erased.memberships[0].canceled_at.is_some());
    }
}

fn new_payment(name: &str, email: &str, created_at: Option<&str>) -> NewPayment {
    NewPayment::from_json(gift(name, email, 1_000, created_at)).unwrap()
}

async fn create(store: &payments::storage::Store, new: &NewPayment) -> String {
    match store
        .create_payment("test", None, new, |_| unreachable!())
        .await
        .unwrap()
    {
        Idempotent::Done(p) => p.id,
        _ => panic!("not made"),
    }
}

#[tokio::test]
async fn retention_erases_donors_with_no_gift_in_n_years_only() {
    for db in common::databases().await {
        let store = &db.store;
        let long_ago = (chrono::Utc::now() - chrono::Days::new(8 * 366)).to_rfc3339();
        let lately = (chrono::Utc::now() - chrono::Days::new(30)).to_rfc3339();
        create(
            store,
            &new_payment("Old Reader", "old@example.org", Some(&long_ago)),
        )
        .await;
        create(
            store,
            &new_payment("Back Reader", "back@example.org", Some(&long_ago)),
        )
        .await;
        create(
            store,
            &new_payment("Back Reader", "back@example.org", Some(&lately)),
        )
        .await;
        create(store, &new_payment("New Reader", "new@example.org", None)).await;
        let old = store
            .donor_by_email("old@example.org")
            .await
            .unwrap()
            .unwrap();
        let raw = Raw::open(&db).await;
        let rollups = raw.rollups().await;

        assert_eq!(
            store.retention_candidates(7).await.unwrap(),
            vec![old.id.clone()],
            "{}",
            db.name
        );
        assert_eq!(
            store.retention_candidates(10).await.unwrap(),
            Vec::<String>::new()
        );
        assert_eq!(store.retention_candidates(0).await.unwrap().len(), 3);
        assert_eq!(
            raw.find("old@example.org").await.len(),
            3,
            "listing changes nothing"
        );

        let erased = store.apply_retention("retention", 7).await.unwrap();
        assert_eq!(erased.len(), 1);
        assert_eq!(erased[0].donor_id, old.id);
        assert!(raw.find("old@example.org").await.is_empty(), "{}", db.name);
        assert!(raw.find("Old Reader").await.is_empty());
        for kept in ["back@example.org", "new@example.org"] {
            assert!(
                store.donor_by_email(kept).await.unwrap().is_some(),
                "{kept}"
            );
        }
        assert_eq!(raw.rollups().await, rollups, "{}", db.name);
        let audit = raw.audit_details("donor.erased").await;
        assert_eq!(audit.len(), 1);
        assert_eq!(audit[0].1["retention"], true);
        assert!(
            store
                .apply_retention("retention", 7)
                .await
                .unwrap()
                .is_empty(),
            "again: nothing"
        );
        raw.close().await;
    }
}

#[tokio::test]
async fn a_recorded_response_still_replays_after_the_erasure_with_the_pseudonym() {
    for db in common::databases().await {
        let store = &db.store;
        let claim = IdempotencyClaim {
            principal: "tok_test".into(),
            key: "k1".into(),
            request_hash: "h".repeat(64),
        };
        let new = new_payment(NAME, EMAIL, None);
        let made = store
            .create_payment("test", Some(&claim), &new, |p| {
                RecordedResponse::new(serde_json::to_string(p).unwrap())
            })
            .await
            .unwrap();
        let Idempotent::Done(p) = made else { panic!() };
        let refund = NewRefund::from_json(json!({})).unwrap();
        store
            .refund_payment("test", None, &p.id, &refund, |_| unreachable!())
            .await
            .unwrap();
        let donor = p.donor_id.unwrap();
        store.erase_donor("test", &donor, false).await.unwrap();
        let Some(Idempotent::Replay(r)) = store.idempotency_prior::<()>(&claim).await.unwrap()
        else {
            panic!("the key still answers")
        };
        let replay: serde_json::Value = serde_json::from_str(r.as_str()).unwrap();
        assert_eq!(replay["id"], p.id.as_str());
        assert_eq!(replay["payer"]["email"], pseudonym(&donor), "{}", db.name);
        assert_eq!(
            store.payment(&p.id).await.unwrap().status.as_str(),
            "refunded"
        );
        assert!(store.donor(&donor).await.unwrap().totals["USD"].refunded == 1_000);
    }
}

#[tokio::test]
async fn sqlite_connections_zero_what_they_delete() {
    for db in common::databases().await {
        let store = &db.store;
        let (a, b, c) = tokio::join!(
            store.secure_delete(),
            store.secure_delete(),
            store.secure_delete()
        );
        let expected = (db.name == "sqlite").then_some(true);
        for on in [a, b, c] {
            assert_eq!(on.unwrap(), expected, "{}", db.name);
        }
    }
}
