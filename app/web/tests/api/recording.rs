//! Recording, changing and refunding payments; authentication and idempotency.

use super::*;

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
