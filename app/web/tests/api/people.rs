//! Donors and memberships through the API: lists with search and cursors,
//! one donor per email, the donor_id payment filter.

use super::*;

fn paid_by(name: &str, email: &str, amount: i64, currency: &str) -> Value {
    json!({"amount": amount, "currency": currency, "method": "card",
           "payer": {"name": name, "email": email}})
}

#[tokio::test]
async fn donors_are_one_per_email_with_totals_and_their_payments() {
    for app in TestApp::all().await {
        let who = app.db.name;
        let a1 = app
            .create(paid_by("Ada Reader", "Ada@Example.org", 2500, "USD"))
            .await;
        let a2 = app
            .create(paid_by("Ada", "ada@example.org", 1000, "USD"))
            .await;
        let a3 = app
            .create(paid_by("Ada", "ADA@example.org", 700, "EUR"))
            .await;
        let bo = app
            .create(paid_by("Bo Giver", "bo@example.org", 300, "USD"))
            .await;
        let donor = a1["donor_id"].as_str().unwrap().to_owned();
        assert!(donor.starts_with("don_"), "{who}: {a1}");
        assert_eq!(a2["donor_id"], a1["donor_id"], "{who}");
        assert_eq!(a3["donor_id"], a1["donor_id"], "{who}");
        assert_ne!(bo["donor_id"], a1["donor_id"], "{who}");
        assert_eq!(a1["membership_id"], Value::Null);

        // Refund part of one of Ada's: her totals net it.
        let r = app
            .post(
                &format!("/api/v1/payments/{}/refunds", a1["id"].as_str().unwrap()),
                json!({"amount": 500}),
                "refund-1",
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{who}: {}", r.text);

        let d = app.get(&format!("/api/v1/donors/{donor}")).await;
        assert_eq!(d.status, StatusCode::OK, "{who}: {}", d.text);
        let d = d.json;
        assert_eq!(d["object"], "donor");
        assert_eq!(d["name"], "Ada Reader", "the first payment names the donor");
        assert_eq!(d["email"], "Ada@Example.org");
        assert_eq!(
            d["totals"],
            json!({"USD": {"count": 2, "gross": 3500, "refunded": 500, "net": 3000},
                   "EUR": {"count": 1, "gross": 700, "refunded": 0, "net": 700}}),
            "{who}"
        );
        assert_eq!(d["memberships"], json!([]));
        assert_eq!(d["first_gift_at"], a1["created_at"], "{who}");
        assert_eq!(d["last_gift_at"], a3["created_at"], "{who}");

        let mine = app.get(&format!("/api/v1/payments?donor_id={donor}")).await;
        let ids: Vec<&str> = mine.json["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["id"].as_str().unwrap())
            .collect();
        assert_eq!(
            ids,
            [&a3["id"], &a2["id"], &a1["id"]].map(|v| v.as_str().unwrap()),
            "{who}"
        );
        assert_eq!(
            app.get("/api/v1/payments?donor_id=pay_123")
                .await
                .problem(422),
            ["donor_id"]
        );
        for missing in ["don_0000000000000000", "nope", "don_", "pay_123"] {
            let r = app.get(&format!("/api/v1/donors/{missing}")).await;
            assert_eq!(r.status, StatusCode::NOT_FOUND, "{who}: {missing}");
        }
    }
}

#[tokio::test]
async fn the_donor_list_searches_and_pages() {
    for app in TestApp::all().await {
        let who = app.db.name;
        for i in 0..5 {
            app.create(paid_by(
                &format!("Reader {i}"),
                &format!("reader{i}@example.org"),
                100,
                "USD",
            ))
            .await;
        }
        app.create(paid_by("Zelda Quill", "zq@example.net", 100, "USD"))
            .await;
        // Search by part of the name, and by the email in another case.
        for q in ["elda", "ZQ@EXAMPLE", "zq@example.net"] {
            let found = app.get(&format!("/api/v1/donors?q={q}")).await.json;
            let names: Vec<&str> = found["data"]
                .as_array()
                .unwrap()
                .iter()
                .map(|d| d["name"].as_str().unwrap())
                .collect();
            assert_eq!(names, ["Zelda Quill"], "{who}: q={q}");
        }
        // Pages of two, newest first, and nothing twice.
        let mut seen = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let path = match &cursor {
                Some(c) => format!("/api/v1/donors?limit=2&starting_after={c}"),
                None => "/api/v1/donors?limit=2".to_owned(),
            };
            let page = app.get(&path).await.json;
            for d in page["data"].as_array().unwrap() {
                seen.push(d["name"].as_str().unwrap().to_owned());
            }
            match page["next_cursor"].as_str() {
                Some(c) => {
                    assert_eq!(page["has_more"], true);
                    cursor = Some(c.to_owned());
                }
                None => break,
            }
        }
        assert_eq!(
            seen,
            [
                "Zelda Quill",
                "Reader 4",
                "Reader 3",
                "Reader 2",
                "Reader 1",
                "Reader 0"
            ],
            "{who}"
        );
        let bad = app.get("/api/v1/donors?limit=0&starting_after=zz").await;
        assert_eq!(bad.problem(422), ["limit", "starting_after"]);
        let anonymous = app
            .send(
                Request::builder()
                    .uri("/api/v1/donors")
                    .body(Body::empty())
                    .unwrap(),
            )
            .await;
        assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
    }
}

#[tokio::test]
async fn memberships_list_filters_by_status() {
    use payments::domain::{Interval, MembershipStatus, Timestamp};
    use payments::storage::memberships::SubscriptionState;
    use payments::storage::processor::{Effect, EventRecord, Source};
    for app in TestApp::all().await {
        let who = app.db.name;
        for (n, (sub, status)) in [
            ("sub_a", MembershipStatus::Active),
            ("sub_b", MembershipStatus::PastDue),
            ("sub_c", MembershipStatus::Active),
        ]
        .into_iter()
        .enumerate()
        {
            let state = SubscriptionState {
                external_ref: sub.to_owned(),
                amount: 1500,
                currency: "USD".into(),
                interval: Interval::Month,
                status,
                campaign: Some("general".into()),
                cancel_at_period_end: false,
                started_at: Timestamp(1_764_000_000_000_000 + n as i64),
                canceled_at: None,
                current_period_end: Some(Timestamp(1_766_000_000_000_000)),
                member: Some((format!("{sub}@example.org"), "A Member".into())),
            };
            let id = format!("evt_{n}");
            let record = EventRecord {
                id: &id,
                kind: "customer.subscription.created",
                object_id: Some(sub),
                created: 1,
                source: Source::Webhook,
            };
            app.db
                .store
                .apply_event(&record, &Effect::Membership(state))
                .await
                .unwrap();
        }
        let all = app.get("/api/v1/memberships").await.json;
        let subs: Vec<&str> = all["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["external_ref"].as_str().unwrap())
            .collect();
        assert_eq!(subs, ["sub_c", "sub_b", "sub_a"], "{who}");
        let m = &all["data"][0];
        assert_eq!(m["object"], "membership");
        assert_eq!(
            (&m["amount"], &m["currency"], &m["interval"], &m["status"]),
            (
                &json!(1500),
                &json!("USD"),
                &json!("month"),
                &json!("active")
            )
        );
        assert_eq!(m["current_period_end"], "2025-12-17T19:33:20.000000Z");
        let past_due = app.get("/api/v1/memberships?status=past_due").await.json;
        assert_eq!(past_due["data"].as_array().unwrap().len(), 1, "{who}");
        assert_eq!(past_due["data"][0]["external_ref"], "sub_b");
        let one = app
            .get(&format!(
                "/api/v1/memberships/{}",
                m["id"].as_str().unwrap()
            ))
            .await;
        assert_eq!(one.json, *m, "{who}");
        let donor = app
            .get(&format!(
                "/api/v1/donors/{}",
                m["donor_id"].as_str().unwrap()
            ))
            .await
            .json;
        assert_eq!(donor["memberships"], json!([m]), "{who}");
        assert_eq!(
            app.get("/api/v1/memberships?status=gone")
                .await
                .problem(422),
            ["status"]
        );
        assert_eq!(
            app.get("/api/v1/memberships/mem_0000").await.status,
            StatusCode::NOT_FOUND
        );
    }
}
