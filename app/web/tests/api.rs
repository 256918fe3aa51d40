//! The JSON API driven in-process (`oneshot`), against every available backend.

mod common;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use common::{TestApp, payment_body};
use serde_json::{Value, json};

#[tokio::test]
async fn create_returns_the_payment_and_location() {
    for app in TestApp::all().await {
        let mut body = payment_body(2500);
        body["metadata"] = json!({"source": "form"});
        body["external_ref"] = json!("ch_ABC123");
        body["description"] = json!("Year-end gift");
        let r = app.post("/api/v1/payments", body, "create-1").await;
        assert_eq!(r.status, StatusCode::CREATED, "{}: {}", app.db.name, r.text);
        let p = &r.json;
        let id = p["id"].as_str().unwrap();
        assert!(id.starts_with("pay_"));
        assert_eq!(
            r.header("location"),
            Some(format!("/api/v1/payments/{id}").as_str())
        );
        assert_eq!(p["object"], "payment");
        assert_eq!(p["amount"], 2500);
        assert_eq!(p["amount_refunded"], 0);
        assert_eq!(p["currency"], "USD");
        assert_eq!(p["status"], "succeeded");
        assert_eq!(p["method"], "card");
        assert_eq!(
            p["payer"],
            json!({"name": "Ada Reader", "email": "ada@example.org"})
        );
        assert_eq!(p["campaign"], "2026-year-end");
        assert_eq!(p["external_ref"], "ch_ABC123");
        assert_eq!(p["metadata"], json!({"source": "form"}));
        let created = p["created_at"].as_str().unwrap();
        assert!(
            created.ends_with('Z') && created.len() == "2026-11-29T07:46:58.123456Z".len(),
            "{created}"
        );
        assert!(r.header("idempotent-replayed").is_none());

        let got = app.get(&format!("/api/v1/payments/{id}")).await;
        assert_eq!(got.status, StatusCode::OK);
        assert_eq!(got.json["refunds"], json!([]));
        assert_eq!(got.json["amount"], 2500);
        assert_eq!(got.json["payer"]["email"], "ada@example.org");
    }
}

#[tokio::test]
async fn imports_keep_their_created_at_and_status() {
    let app = TestApp::sqlite().await;
    let mut body = payment_body(1000);
    body["created_at"] = json!("2025-03-04T05:06:07.5Z");
    body["status"] = json!("pending");
    let p = app.create(body).await;
    assert_eq!(p["created_at"], "2025-03-04T05:06:07.500000Z");
    assert_eq!(p["status"], "pending");
}

#[tokio::test]
async fn every_invalid_field_is_reported() {
    let app = TestApp::sqlite().await;
    let cases: Vec<(Value, Vec<&str>)> = vec![
        (json!({}), vec!["amount", "currency", "payer", "method"]),
        (
            json!({"amount": 0, "currency": "USD", "method": "card", "payer": {"name": "A", "email": "a@example.org"}}),
            vec!["amount"],
        ),
        (
            json!({"amount": 1_000_000_000_001i64, "currency": "USD", "method": "card", "payer": {"name": "A", "email": "a@example.org"}}),
            vec!["amount"],
        ),
        (
            json!({"amount": 1.5, "currency": "USD", "method": "card", "payer": {"name": "A", "email": "a@example.org"}}),
            vec!["amount"],
        ),
        (
            json!({"amount": 100, "currency": "usd", "method": "card", "payer": {"name": "A", "email": "a@example.org"}}),
            vec!["currency"],
        ),
        (
            json!({"amount": 100, "currency": "ZZZ", "method": "card", "payer": {"name": "A", "email": "a@example.org"}}),
            vec!["currency"],
        ),
        (
            json!({"amount": 100, "currency": "USD", "method": "gold", "payer": {"name": "A", "email": "a@example.org"}}),
            vec!["method"],
        ),
        (
            json!({"amount": 100, "currency": "USD", "method": "card", "payer": {"name": "", "email": "nope"}}),
            vec!["payer.name", "payer.email"],
        ),
        (
            json!({"amount": 100, "currency": "USD", "method": "card", "payer": {"name": "x".repeat(201), "email": "a@example.org", "phone": "1"}}),
            vec!["payer.name", "payer.phone"],
        ),
        (
            json!({"amount": 100, "currency": "USD", "method": "card", "payer": "Ada"}),
            vec!["payer"],
        ),
        (
            json!({"amount": 100, "currency": "USD", "method": "card", "payer": {"name": "A", "email": "a@example.org"}, "status": "refunded"}),
            vec!["status"],
        ),
        (
            json!({"amount": 100, "currency": "USD", "method": "card", "payer": {"name": "A", "email": "a@example.org"}, "campaign": "c".repeat(101), "description": "d".repeat(501), "external_ref": "e".repeat(256)}),
            vec!["campaign", "description", "external_ref"],
        ),
        (
            json!({"amount": 100, "currency": "USD", "method": "card", "payer": {"name": "A", "email": "a@example.org"}, "metadata": {"k": 5}}),
            vec!["metadata.k"],
        ),
        (
            json!({"amount": 100, "currency": "USD", "method": "card", "payer": {"name": "A", "email": "a@example.org"}, "metadata": "x"}),
            vec!["metadata"],
        ),
        (
            json!({"amount": 100, "currency": "USD", "method": "card", "payer": {"name": "A", "email": "a@example.org"}, "created_at": "2999-01-01T00:00:00Z"}),
            vec!["created_at"],
        ),
        (
            json!({"amount": 100, "currency": "USD", "method": "card", "payer": {"name": "A", "email": "a@example.org"}, "surprise": true}),
            vec!["surprise"],
        ),
        (json!([1, 2]), vec!["body"]),
    ];
    for (i, (body, mut expected)) in cases.into_iter().enumerate() {
        let r = app
            .post("/api/v1/payments", body, &format!("invalid-{i}"))
            .await;
        let mut fields = r.problem(422);
        fields.sort();
        expected.sort();
        assert_eq!(fields, expected, "case {i}: {}", r.text);
    }
    let many: serde_json::Map<String, Value> =
        (0..21).map(|i| (format!("k{i}"), json!("v"))).collect();
    let mut body = payment_body(100);
    body["metadata"] = Value::Object(many);
    app.post("/api/v1/payments", body, "too-many-keys")
        .await
        .problem(422);
    // Nothing invalid was stored.
    let list = app.get("/api/v1/payments").await;
    assert_eq!(list.json["data"], json!([]));
}

#[tokio::test]
async fn malformed_requests() {
    let app = TestApp::sqlite().await;
    let token = app.write_token.clone();
    let raw = |body: &'static str, content_type: &'static str| {
        Request::builder()
            .method(Method::POST)
            .uri("/api/v1/payments")
            .header("authorization", format!("Bearer {token}"))
            .header("idempotency-key", "raw")
            .header("content-type", content_type)
            .body(Body::from(body))
            .unwrap()
    };
    app.send(raw("{\"amount\": 1", "application/json"))
        .await
        .problem(400);
    app.send(raw("amount=1", "application/x-www-form-urlencoded"))
        .await
        .problem(415);
    // Missing and invalid Idempotency-Key.
    app.call(
        Method::POST,
        "/api/v1/payments",
        Some(&app.write_token),
        Some(payment_body(100)),
        None,
    )
    .await
    .problem(400);
    app.call(
        Method::POST,
        "/api/v1/payments",
        Some(&app.write_token),
        Some(payment_body(100)),
        Some("has space"),
    )
    .await
    .problem(400);
    // Over 64 KiB.
    let mut body = payment_body(100);
    body["description"] = json!("x".repeat(70 * 1024));
    app.post("/api/v1/payments", body, "big").await.problem(413);
    // Unknown path and method.
    app.get("/api/v1/nothing-here").await.problem(404);
    app.call(
        Method::DELETE,
        "/api/v1/payments",
        Some(&app.write_token),
        None,
        None,
    )
    .await
    .problem(405);
}

#[tokio::test]
async fn authentication_and_scopes() {
    let app = TestApp::sqlite().await;
    for path in [
        "/api/v1/payments",
        "/api/v1/summary",
        "/api/v1/payments/pay_x",
        "/metrics",
    ] {
        let r = app.call(Method::GET, path, None, None, None).await;
        r.problem(401);
        assert!(r.header("www-authenticate").unwrap().starts_with("Bearer"));
        app.call(Method::GET, path, Some("pmt_wrong"), None, None)
            .await
            .problem(401);
    }
    let r = app
        .call(
            Method::POST,
            "/api/v1/payments",
            Some(&app.read_token),
            Some(payment_body(100)),
            Some("k"),
        )
        .await;
    r.problem(403);
    let p = app.create(payment_body(100)).await;
    let id = p["id"].as_str().unwrap();
    app.call(
        Method::PATCH,
        &format!("/api/v1/payments/{id}"),
        Some(&app.read_token),
        Some(json!({"description": "x"})),
        None,
    )
    .await
    .problem(403);
    app.call(
        Method::POST,
        &format!("/api/v1/payments/{id}/refunds"),
        Some(&app.read_token),
        Some(json!({})),
        Some("r"),
    )
    .await
    .problem(403);
    // Read scope reads; metrics need any token.
    assert_eq!(app.get("/api/v1/payments").await.status, StatusCode::OK);
    let metrics = app.get("/metrics").await;
    assert_eq!(metrics.status, StatusCode::OK);
    assert!(
        metrics.text.contains("http_requests_total"),
        "{}",
        metrics.text
    );
    // A revoked token is refused.
    let (token, secret) = app
        .db
        .store
        .create_token(
            "test",
            "soon revoked",
            payments::storage::accounts::Scope::Write,
        )
        .await
        .unwrap();
    assert_eq!(
        app.call(Method::GET, "/api/v1/payments", Some(&secret), None, None)
            .await
            .status,
        StatusCode::OK
    );
    app.db.store.revoke_token("test", &token.id).await.unwrap();
    app.call(Method::GET, "/api/v1/payments", Some(&secret), None, None)
        .await
        .problem(401);
}

#[tokio::test]
async fn idempotent_replay_and_mismatch() {
    for app in TestApp::all().await {
        let first = app
            .post_raw(
                "/api/v1/payments",
                r#"{"amount": 700, "currency": "USD", "method": "card", "campaign": "2026-year-end", "payer": {"name": "Ada Reader", "email": "ada@example.org"}}"#,
                "same-key",
            )
            .await;
        assert_eq!(first.status, StatusCode::CREATED, "{}", first.text);
        // The same body sent with its keys in another order and without
        // spaces, as bytes: replayed, not a mismatch.
        let again = app
            .post_raw(
                "/api/v1/payments",
                r#"{"payer":{"email":"ada@example.org","name":"Ada Reader"},"campaign":"2026-year-end","method":"card","currency":"USD","amount":700}"#,
                "same-key",
            )
            .await;
        assert_eq!(again.status, StatusCode::CREATED, "{}", app.db.name);
        assert_eq!(again.header("idempotent-replayed"), Some("true"));
        assert_eq!(again.json, first.json);
        // Same key, other body.
        app.post("/api/v1/payments", payment_body(701), "same-key")
            .await
            .problem(422);
        // The same key from another token is another request.
        let (_, other) = app
            .db
            .store
            .create_token("test", "other", payments::storage::accounts::Scope::Write)
            .await
            .unwrap();
        let theirs = app
            .call(
                Method::POST,
                "/api/v1/payments",
                Some(&other),
                Some(payment_body(700)),
                Some("same-key"),
            )
            .await;
        assert_eq!(theirs.status, StatusCode::CREATED);
        assert_ne!(theirs.json["id"], first.json["id"]);
        let list = app.get("/api/v1/payments?limit=100").await;
        assert_eq!(
            list.json["data"].as_array().unwrap().len(),
            2,
            "{}",
            app.db.name
        );
    }
}

#[tokio::test]
async fn duplicate_external_ref_conflicts() {
    for app in TestApp::all().await {
        let mut body = payment_body(100);
        body["external_ref"] = json!("ch_same");
        app.create(body.clone()).await;
        body["amount"] = json!(200);
        app.post("/api/v1/payments", body.clone(), "dup")
            .await
            .problem(409);
        // References differ by case only: distinct processor ids.
        body["external_ref"] = json!("CH_SAME");
        assert_eq!(
            app.post("/api/v1/payments", body, "dup-case").await.status,
            StatusCode::CREATED,
            "{}",
            app.db.name
        );
    }
}

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
async fn patch_follows_the_allowed_transitions() {
    for app in TestApp::all().await {
        let mut body = payment_body(1000);
        body["status"] = json!("pending");
        let p = app.create(body).await;
        let path = format!("/api/v1/payments/{}", p["id"].as_str().unwrap());
        let r = app.patch(&path, json!({"status": "succeeded", "description": "Paid by check", "metadata": {"batch": "7"}})).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        assert_eq!(r.json["status"], "succeeded");
        assert_eq!(r.json["description"], "Paid by check");
        assert_eq!(r.json["metadata"], json!({"batch": "7"}));
        assert_ne!(r.json["updated_at"], p["updated_at"]);
        for to in ["pending", "failed", "refunded", "partially_refunded"] {
            app.patch(&path, json!({"status": to})).await.problem(409);
        }
        let r = app.patch(&path, json!({"description": null})).await;
        assert_eq!(r.json["description"], Value::Null);
        app.patch(&path, json!({})).await.problem(422);
        app.patch(&path, json!({"amount": 5})).await.problem(422);
        app.patch(&path, json!({"status": "lost"}))
            .await
            .problem(422);
        app.patch("/api/v1/payments/pay_missing", json!({"description": "x"}))
            .await
            .problem(404);

        let mut body = payment_body(1000);
        body["status"] = json!("pending");
        let q = app.create(body).await;
        let path = format!("/api/v1/payments/{}", q["id"].as_str().unwrap());
        assert_eq!(
            app.patch(&path, json!({"status": "failed"})).await.json["status"],
            "failed"
        );
        app.patch(&path, json!({"status": "succeeded"}))
            .await
            .problem(409);
    }
}

#[tokio::test]
async fn refunds_partial_full_and_refused() {
    for app in TestApp::all().await {
        let p = app.create(payment_body(1000)).await;
        let id = p["id"].as_str().unwrap();
        let path = format!("/api/v1/payments/{id}/refunds");
        let r = app
            .post(&path, json!({"amount": 300, "reason": "duplicate"}), "re-1")
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
        assert!(r.json["id"].as_str().unwrap().starts_with("re_"));
        assert_eq!(r.json["object"], "refund");
        assert_eq!(r.json["payment_id"], id);
        assert_eq!(r.json["amount"], 300);
        assert_eq!(r.json["reason"], "duplicate");
        let got = app.get(&format!("/api/v1/payments/{id}")).await.json;
        assert_eq!(got["status"], "partially_refunded");
        assert_eq!(got["amount_refunded"], 300);
        // Replay of the same refund does not refund twice.
        let again = app
            .post(&path, json!({"amount": 300, "reason": "duplicate"}), "re-1")
            .await;
        assert_eq!(again.header("idempotent-replayed"), Some("true"));
        assert_eq!(again.json, r.json);
        // More than remains.
        app.post(&path, json!({"amount": 701}), "re-2")
            .await
            .problem(409);
        // Default: all that remains.
        let rest = app.post(&path, json!({}), "re-3").await;
        assert_eq!(rest.json["amount"], 700);
        assert_eq!(rest.json["reason"], "requested_by_customer");
        let got = app.get(&format!("/api/v1/payments/{id}")).await.json;
        assert_eq!(got["status"], "refunded");
        assert_eq!(got["amount_refunded"], 1000);
        assert_eq!(got["refunds"].as_array().unwrap().len(), 2);
        app.post(&path, json!({}), "re-4").await.problem(409);
        // Invalid bodies and unknown payments.
        let fields = app
            .post(
                &path,
                json!({"amount": 0, "reason": "because", "note": 1}),
                "re-5",
            )
            .await
            .problem(422);
        assert_eq!(fields.len(), 3);
        app.post("/api/v1/payments/pay_missing/refunds", json!({}), "re-6")
            .await
            .problem(404);
        // Pending and failed payments cannot be refunded.
        let mut body = payment_body(500);
        body["status"] = json!("pending");
        let pending = app.create(body).await;
        app.post(
            &format!(
                "/api/v1/payments/{}/refunds",
                pending["id"].as_str().unwrap()
            ),
            json!({}),
            "re-7",
        )
        .await
        .problem(409);
    }
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

#[tokio::test]
async fn openapi_is_public_and_complete() {
    let app = TestApp::sqlite().await;
    let r = app
        .call(Method::GET, "/api/v1/openapi.json", None, None, None)
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let doc = r.json;
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
    let paths = doc["paths"].as_object().unwrap();
    for (path, methods) in [
        ("/api/v1/payments", vec!["get", "post"]),
        ("/api/v1/payments/{id}", vec!["get", "patch"]),
        ("/api/v1/payments/{id}/refunds", vec!["post"]),
        ("/api/v1/summary", vec!["get"]),
    ] {
        for m in methods {
            assert!(paths[path].get(m).is_some(), "{m} {path} missing");
        }
    }
    let create = &doc["components"]["schemas"]["CreatePayment"];
    assert_eq!(create["additionalProperties"], json!(false));
    let required: Vec<&str> = create["required"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    for field in ["amount", "currency", "payer", "method"] {
        assert!(required.contains(&field), "{field} not required");
    }
    // The schema names exactly the fields the server accepts: each one, sent
    // with a valid value, is taken (201), and a field it does not name is
    // refused by name (422).
    let samples = json!({
        "amount": 1200, "currency": "EUR", "payer": {"name": "A Reader", "email": "a@example.org"},
        "method": "check", "status": "pending", "campaign": "spring", "description": "by post",
        "external_ref": "chk_1001", "metadata": {"batch": "7"}, "created_at": "2026-01-02T03:04:05.000000Z",
    });
    let mut props: Vec<&String> = create["properties"].as_object().unwrap().keys().collect();
    props.sort();
    let mut sampled: Vec<&String> = samples.as_object().unwrap().keys().collect();
    sampled.sort();
    assert_eq!(props, sampled, "every documented field needs a sample here");
    for (i, field) in props.iter().enumerate() {
        let mut body = payment_body(100);
        body[field.as_str()] = samples[field.as_str()].clone();
        let r = app
            .post("/api/v1/payments", body, &format!("field-{i}"))
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{field}: {}", r.text);
        assert_eq!(
            r.json[field.as_str()],
            samples[field.as_str()],
            "{field}: {}",
            r.text
        );
    }
    let mut unknown = payment_body(100);
    unknown["colour"] = json!("green");
    let fields = app
        .post("/api/v1/payments", unknown, "unknown-field")
        .await
        .problem(422);
    assert_eq!(fields, ["colour"]);
    assert!(doc["components"]["securitySchemes"]["bearer"].is_object());
}

/// What the document promises about inputs is what the server enforces, so
/// that clients (and generated tests) built from it send requests that pass.
#[tokio::test]
async fn openapi_constraints_match_the_server() {
    let app = TestApp::sqlite().await;
    let doc = app.get("/api/v1/openapi.json").await.json;
    let body_codes =
        doc["components"]["schemas"]["CreatePayment"]["properties"]["currency"]["enum"]
            .as_array()
            .unwrap()
            .clone();
    assert!(body_codes.contains(&json!("USD")) && body_codes.contains(&json!("JPY")));
    assert!(!body_codes.contains(&json!("XYZ")));
    // Every currency filter lists the same codes, and the server takes each one.
    for (path, operation) in [("/api/v1/payments", "get"), ("/api/v1/summary", "get")] {
        let params = doc["paths"][path][operation]["parameters"]
            .as_array()
            .unwrap();
        let currency = params.iter().find(|p| p["name"] == "currency").unwrap();
        assert_eq!(currency["schema"]["enum"].as_array().unwrap(), &body_codes);
        for code in &body_codes {
            let code = code.as_str().unwrap();
            let r = app.get(&format!("{path}?currency={code}")).await;
            assert_eq!(r.status, StatusCode::OK, "{path} {code}: {}", r.text);
        }
        app.get(&format!("{path}?currency=XYZ")).await.problem(422);
    }
    let params = doc["paths"]["/api/v1/payments"]["get"]["parameters"]
        .as_array()
        .unwrap();
    for name in ["created_gte", "created_lt"] {
        let param = params.iter().find(|p| p["name"] == name).unwrap();
        assert_eq!(
            param["schema"]["anyOf"],
            json!([{"format": "date-time"}, {"format": "date"}])
        );
        for value in [
            "2026-01-31",
            "2026-01-31T10:00:00Z",
            "2026-01-31T10:00:00.5%2B02:00",
        ] {
            let r = app.get(&format!("/api/v1/payments?{name}={value}")).await;
            assert_eq!(r.status, StatusCode::OK, "{name}={value}: {}", r.text);
        }
    }
    // No operation gained a null parameter list; each documents the problems
    // any request of its kind can meet.
    for (path, operations) in doc["paths"].as_object().unwrap() {
        for (name, op) in operations.as_object().unwrap() {
            if let Some(params) = op.get("parameters") {
                assert!(params.is_array(), "{name} {path}: {params}");
            }
            let mut expected = vec!["401", "503"];
            if op.get("requestBody").is_some() {
                expected.extend(["400", "403", "413", "415", "422"]);
            }
            for status in expected {
                let response = &op["responses"][status];
                assert_eq!(
                    response["content"]["application/problem+json"]["schema"]["$ref"],
                    json!("#/components/schemas/Problem"),
                    "{name} {path} {status}"
                );
            }
        }
    }
    // The Idempotency-Key header is bounded as the server bounds it.
    let key_param = doc["paths"]["/api/v1/payments"]["post"]["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "Idempotency-Key")
        .unwrap()
        .clone();
    assert_eq!(key_param["required"], json!(true));
    assert_eq!(key_param["schema"]["pattern"], json!("^[!-~]{1,255}$"));
    let body = json!({"amount": 500, "currency": "USD", "method": "card",
        "payer": {"name": "Ada", "email": "ada@example.org"}});
    let longest = "~".repeat(255);
    assert_eq!(
        app.post("/api/v1/payments", body.clone(), &longest)
            .await
            .status,
        StatusCode::CREATED
    );
    for bad in ["~".repeat(256), "a b".to_owned()] {
        app.post("/api/v1/payments", body.clone(), &bad)
            .await
            .problem(400);
    }
    // Each documented bound is the server's: the value at the bound is taken,
    // one past it is refused, naming the field.
    let create = &doc["components"]["schemas"]["CreatePayment"];
    let payer = &doc["components"]["schemas"]["PayerInput"];
    let mut bounded = Vec::new();
    for (prefix, schema) in [("", create), ("payer.", payer)] {
        for (name, prop) in schema["properties"].as_object().unwrap() {
            if let Some(max) = prop["maxLength"].as_u64() {
                bounded.push((format!("{prefix}{name}"), max as usize));
            }
        }
    }
    bounded.sort();
    let names: Vec<&str> = bounded.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "campaign",
            "description",
            "external_ref",
            "payer.email",
            "payer.name"
        ]
    );
    for (i, (field, max)) in bounded.iter().enumerate() {
        let value = |len: usize| {
            if field == "payer.email" {
                // a@ + labels of 50 letters (a local part has at most 64, a
                // label 63) + .org
                let labels = len - 6;
                let full = (labels - 1) / 51;
                let last = labels - 51 * full;
                let label = format!("{}.", "x".repeat(50));
                format!("a@{}{}.org", label.repeat(full), "x".repeat(last))
            } else {
                "é".repeat(len)
            }
        };
        let with = |v: String| {
            let mut body = payment_body(100);
            match field.split_once('.') {
                Some((outer, inner)) => body[outer][inner] = json!(v),
                None => body[field.as_str()] = json!(v),
            }
            body
        };
        let r = app
            .post("/api/v1/payments", with(value(*max)), &format!("at-{i}"))
            .await;
        assert_eq!(
            r.status,
            StatusCode::CREATED,
            "{field} at {max}: {}",
            r.text
        );
        let refused = app
            .post(
                "/api/v1/payments",
                with(value(max + 1)),
                &format!("past-{i}"),
            )
            .await
            .problem(422);
        assert_eq!(refused, [field.as_str()], "{field} past {max}");
    }
    let amount = &create["properties"]["amount"];
    let (min, max) = (
        amount["minimum"].as_i64().unwrap(),
        amount["maximum"].as_i64().unwrap(),
    );
    for (amount, ok) in [(min, true), (max, true), (min - 1, false), (max + 1, false)] {
        let r = app
            .post(
                "/api/v1/payments",
                payment_body(amount),
                &format!("amount-{amount}"),
            )
            .await;
        assert_eq!(r.status == StatusCode::CREATED, ok, "{amount}: {}", r.text);
    }
    // A change names at least one field, and neither status nor metadata is null.
    let update = &doc["components"]["schemas"]["UpdatePayment"];
    assert_eq!(update["minProperties"], json!(1));
    assert_eq!(update["properties"]["metadata"]["type"], json!("object"));
    assert!(update["properties"]["status"].get("oneOf").is_none());
    let id = app.create(body).await["id"].as_str().unwrap().to_owned();
    app.patch(&format!("/api/v1/payments/{id}"), json!({}))
        .await
        .problem(422);
}

#[tokio::test]
async fn health_and_readiness() {
    let app = TestApp::sqlite().await;
    let h = app.call(Method::GET, "/healthz", None, None, None).await;
    assert_eq!((h.status, h.text.as_str()), (StatusCode::OK, "ok"));
    let r = app.call(Method::GET, "/readyz", None, None, None).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.header("x-request-id").is_some_and(|v| !v.is_empty()));
    // While draining, readiness fails at once.
    let state = common::state(app.db.store.clone());
    state
        .draining
        .store(true, std::sync::atomic::Ordering::SeqCst);
    let draining = payments::http::router(state);
    let response = tower::ServiceExt::oneshot(
        draining,
        Request::get("/readyz").body(Body::empty()).unwrap(),
    )
    .await
    .unwrap();
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    // With the database gone, readiness fails and the API answers 503 at
    // once: within the pool's acquire timeout, far inside the 30 s request
    // timeout that would otherwise answer a hung request.
    app.db.store.close().await;
    let started = std::time::Instant::now();
    let r = app.call(Method::GET, "/readyz", None, None, None).await;
    assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE);
    app.get("/api/v1/payments").await.problem(503);
    let waited = started.elapsed();
    assert!(
        waited < payments::storage::ACQUIRE_TIMEOUT * 2,
        "answering with the database gone took {waited:?}"
    );
}
