//! The OpenAPI document, held to what the server does; health and readiness.

use super::*;

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
        "send_receipt": true,
    });
    // Instructions about the request, not fields of the payment it makes.
    let not_stored = ["send_receipt"];
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
        if not_stored.contains(&field.as_str()) {
            continue;
        }
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
            json!([{"type": "string", "format": "date-time"}, {"type": "string", "format": "date"}])
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
    // The list's documented bounds are the server's, at the bound and past it.
    let mut checked = Vec::new();
    for param in params {
        let name = param["name"].as_str().unwrap();
        let schema = &param["schema"];
        let (at, past) = if let Some(max) = schema["maximum"].as_i64() {
            (max.to_string(), (max + 1).to_string())
        } else if let Some(max) = schema["maxLength"].as_u64() {
            ("q".repeat(max as usize), "q".repeat(max as usize + 1))
        } else {
            continue;
        };
        let r = app.get(&format!("/api/v1/payments?{name}={at}")).await;
        assert_eq!(r.status, StatusCode::OK, "{name} at its bound: {}", r.text);
        let refused = app
            .get(&format!("/api/v1/payments?{name}={past}"))
            .await
            .problem(422);
        assert_eq!(refused, [name], "{name} past its bound");
        checked.push(name);
    }
    checked.sort();
    assert_eq!(
        checked,
        ["amount_gte", "amount_lte", "campaign", "limit", "q"]
    );
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
