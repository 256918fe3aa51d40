//! Listing, filtering and summarising payments.

use super::*;

#[tokio::test]
async fn pagination_walks_every_payment_once_in_order() {
    for app in TestApp::all().await {
        let mut ids = Vec::new();
        for i in 0..23 {
            let mut body = payment_body(100 + i);
            // Several payments share a timestamp: the id breaks the tie.
            body["created_at"] = json!(format!("2026-01-01T00:00:{:02}Z", i / 3));
            ids.push(app.create(body).await["id"].as_str().unwrap().to_owned());
        }
        let mut seen: Vec<(String, String)> = Vec::new();
        let mut cursor: Option<String> = None;
        let mut pages = 0;
        loop {
            let path = match &cursor {
                Some(c) => format!("/api/v1/payments?limit=5&starting_after={c}"),
                None => "/api/v1/payments?limit=5".to_owned(),
            };
            let r = app.get(&path).await;
            assert_eq!(r.status, StatusCode::OK, "{}", r.text);
            pages += 1;
            for p in r.json["data"].as_array().unwrap() {
                seen.push((
                    p["created_at"].as_str().unwrap().to_owned(),
                    p["id"].as_str().unwrap().to_owned(),
                ));
            }
            assert_eq!(r.json["object"], "list");
            if r.json["has_more"] == json!(true) {
                cursor = Some(r.json["next_cursor"].as_str().unwrap().to_owned());
            } else {
                assert_eq!(r.json["next_cursor"], Value::Null);
                break;
            }
        }
        assert_eq!(pages, 5, "{}", app.db.name);
        assert_eq!(seen.len(), 23);
        let mut sorted = seen.clone();
        sorted.sort_by(|a, b| b.cmp(a));
        assert_eq!(seen, sorted, "newest first, id descending on ties");
        let mut unique: Vec<_> = seen.iter().map(|s| s.1.clone()).collect();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), 23);

        // ending_before walks back to the newer page.
        let first = app.get("/api/v1/payments?limit=5").await;
        let second = app
            .get(&format!(
                "/api/v1/payments?limit=5&starting_after={}",
                first.json["next_cursor"].as_str().unwrap()
            ))
            .await;
        let oldest_of_second = second.json["data"][0].clone();
        let cursor = payments::domain::Cursor {
            created_at: payments::domain::listing::parse_instant(
                oldest_of_second["created_at"].as_str().unwrap(),
            )
            .unwrap()
            .0,
            id: oldest_of_second["id"].as_str().unwrap().to_owned(),
        }
        .encode();
        let back = app
            .get(&format!("/api/v1/payments?limit=5&ending_before={cursor}"))
            .await;
        assert_eq!(back.json["data"], first.json["data"], "{}", app.db.name);
    }
}

#[tokio::test]
async fn filters_narrow_the_list() {
    for app in TestApp::all().await {
        let mk = |amount: i64,
                  currency: &str,
                  method: &str,
                  campaign: Option<&str>,
                  name: &str,
                  email: &str,
                  at: &str| {
            let mut b = json!({"amount": amount, "currency": currency, "method": method,
                "payer": {"name": name, "email": email}, "created_at": at, "description": "Gift"});
            if let Some(c) = campaign {
                b["campaign"] = json!(c);
            }
            b
        };
        let a = app
            .create(mk(
                500,
                "USD",
                "card",
                Some("spring"),
                "Grace Hopper",
                "grace@example.org",
                "2026-03-01T10:00:00Z",
            ))
            .await;
        let b = app
            .create(mk(
                2500,
                "EUR",
                "paypal",
                Some("fall"),
                "Alan Turing",
                "alan@example.com",
                "2026-09-01T10:00:00Z",
            ))
            .await;
        let mut pending = mk(
            10_000,
            "USD",
            "check",
            None,
            "Ada Lovelace",
            "ada@example.net",
            "2026-10-01T10:00:00Z",
        );
        pending["status"] = json!("pending");
        pending["external_ref"] = json!("chk_1001");
        let c = app.create(pending).await;
        let ids = |r: &common::Response| -> Vec<String> {
            r.json["data"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| p["id"].as_str().unwrap().to_owned())
                .collect()
        };
        let id = |p: &Value| p["id"].as_str().unwrap().to_owned();
        let by_id = format!("q={}", id(&b));
        let cases: Vec<(&str, Vec<String>)> = vec![
            ("status=pending", vec![id(&c)]),
            ("status=succeeded&method=paypal", vec![id(&b)]),
            ("currency=EUR", vec![id(&b)]),
            ("campaign=spring", vec![id(&a)]),
            ("q=grace", vec![id(&a)]),
            ("q=GRACE", vec![id(&a)]),
            ("q=example.com", vec![id(&b)]),
            ("q=chk_1001", vec![id(&c)]),
            (by_id.as_str(), vec![id(&b)]),
            ("q=%25", vec![]),
            ("q=nobody", vec![]),
            ("amount_gte=2500", vec![id(&c), id(&b)]),
            ("amount_lte=2500", vec![id(&b), id(&a)]),
            ("amount_gte=600&amount_lte=9000", vec![id(&b)]),
            ("created_gte=2026-09-01&created_lt=2026-10-01", vec![id(&b)]),
            ("created_gte=2026-09-01T10:00:00.000001Z", vec![id(&c)]),
            ("created_lt=2026-03-01T10:00:00Z", vec![]),
        ];
        for (query, expected) in cases {
            let r = app.get(&format!("/api/v1/payments?{query}")).await;
            assert_eq!(r.status, StatusCode::OK, "{query}: {}", r.text);
            assert_eq!(ids(&r), expected, "{} {query}", app.db.name);
        }
    }
}

#[tokio::test]
async fn invalid_list_parameters_are_422() {
    let app = TestApp::sqlite().await;
    for (query, field) in [
        ("limit=0", "limit"),
        ("limit=101", "limit"),
        ("limit=ten", "limit"),
        ("status=lost", "status"),
        ("method=gold", "method"),
        ("currency=usd", "currency"),
        ("created_gte=yesterday", "created_gte"),
        ("created_lt=2026-13-01", "created_lt"),
        ("amount_gte=-1", "amount_gte"),
        ("amount_lte=1e3", "amount_lte"),
        ("starting_after=not-a-cursor", "starting_after"),
    ] {
        let fields = app
            .get(&format!("/api/v1/payments?{query}"))
            .await
            .problem(422);
        assert_eq!(fields, vec![field], "{query}");
    }
    assert_eq!(
        app.get("/api/v1/payments?limit=100").await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn summary_matches_the_payments() {
    for app in TestApp::all().await {
        let day = |d: &str| format!("2026-05-{d}T12:00:00Z");
        let mk = |amount: i64, method: &str, campaign: Option<&str>, status: &str, at: String| {
            let mut b = json!({"amount": amount, "currency": "USD", "method": method, "status": status,
                "payer": {"name": "N", "email": "n@example.org"}, "created_at": at});
            if let Some(c) = campaign {
                b["campaign"] = json!(c);
            }
            b
        };
        let a = app
            .create(mk(1000, "card", Some("spring"), "succeeded", day("01")))
            .await;
        app.create(mk(2000, "paypal", None, "succeeded", day("02")))
            .await;
        let pending = app
            .create(mk(4000, "check", Some("spring"), "pending", day("02")))
            .await;
        app.create(mk(8000, "card", Some("spring"), "failed", day("03")))
            .await;
        let mut eur = mk(99_999, "card", None, "succeeded", day("01"));
        eur["currency"] = json!("EUR");
        app.create(eur).await;
        // The pending check clears; part of the first payment is refunded today.
        app.patch(
            &format!("/api/v1/payments/{}", pending["id"].as_str().unwrap()),
            json!({"status": "succeeded"}),
        )
        .await;
        app.post(
            &format!("/api/v1/payments/{}/refunds", a["id"].as_str().unwrap()),
            json!({"amount": 250}),
            "s-re",
        )
        .await;

        let s = app
            .get("/api/v1/summary?from=2026-05-01&to=2026-05-03&currency=USD")
            .await;
        assert_eq!(s.status, StatusCode::OK, "{}", s.text);
        let s = s.json;
        assert_eq!(s["currency"], "USD");
        assert_eq!(s["from"], "2026-05-01");
        assert_eq!(s["to"], "2026-05-03");
        assert_eq!(s["count"], 3, "{} {s}", app.db.name);
        assert_eq!(s["gross"], 7000);
        // The refund happened today, outside this range.
        assert_eq!(s["refunded"], 0);
        assert_eq!(s["net"], 7000);
        assert_eq!(s["by_status"]["partially_refunded"]["count"], 1);
        assert_eq!(s["by_status"]["succeeded"]["count"], 2);
        assert_eq!(s["by_status"]["failed"]["count"], 1);
        assert!(s["by_status"].get("pending").is_none());
        // Refunds are reported by the day they happen, never under a status,
        // so a status breakdown has no refund figures to get wrong.
        for (status, totals) in s["by_status"].as_object().unwrap() {
            let keys: Vec<&String> = totals.as_object().unwrap().keys().collect();
            assert_eq!(keys, ["count", "gross"], "{status}: {totals}");
        }
        assert_eq!(s["by_status"]["partially_refunded"]["gross"], 1000, "{s}");
        assert_eq!(s["by_method"]["card"]["gross"], 1000);
        assert_eq!(s["by_method"]["check"]["gross"], 4000);
        assert_eq!(s["by_campaign"]["spring"]["gross"], 5000);
        assert_eq!(s["by_campaign"]["(none)"]["gross"], 2000);
        let daily = s["daily"].as_array().unwrap();
        assert_eq!(daily.len(), 3);
        assert_eq!(
            daily[0],
            json!({"date": "2026-05-01", "count": 1, "gross": 1000, "refunded": 0})
        );
        assert_eq!(
            daily[1],
            json!({"date": "2026-05-02", "count": 2, "gross": 6000, "refunded": 0})
        );
        assert_eq!(daily[2]["count"], 0);

        let today = chrono::Utc::now().date_naive();
        let s = app
            .get(&format!("/api/v1/summary?from=2026-05-01&to={today}"))
            .await
            .json;
        assert_eq!(s["refunded"], 250);
        assert_eq!(s["net"], 6750);
        assert_eq!(s["by_method"]["card"]["refunded"], 250);
        let eur = app
            .get(&format!(
                "/api/v1/summary?from=2026-05-01&to={today}&currency=EUR"
            ))
            .await
            .json;
        assert_eq!(eur["gross"], 99_999);

        for query in [
            "from=2026-13-01",
            "from=2026-05-03&to=2026-05-01",
            "currency=EURO",
            "from=1990-01-01&to=2026-01-01",
        ] {
            app.get(&format!("/api/v1/summary?{query}"))
                .await
                .problem(422);
        }
    }
}
