//! The fake Stripe API itself: its objects keep Stripe's shapes, and it
//! answers, pages, refunds, refuses and misbehaves the way the tests that
//! rely on it assume.

mod stripe_support;

use std::time::{Duration, Instant};

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::{HeaderMap, Request};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde_json::{Value, json};
use stripe_support::{Behaviour, FakeStripe, SECRET_KEY};

type HttpClient = Client<HttpConnector, Full<Bytes>>;

fn client() -> HttpClient {
    Client::builder(TokioExecutor::new()).build(HttpConnector::new())
}

struct Answer {
    status: u16,
    headers: HeaderMap,
    body: Value,
}

/// One request to the fake: `headers` are sent as given (no key added).
async fn send(
    http: &HttpClient,
    fake: &FakeStripe,
    method: &str,
    path: &str,
    form: &[(&str, &str)],
    headers: &[(&str, &str)],
) -> Answer {
    let mut request = Request::builder()
        .method(method)
        .uri(format!("{}{path}", fake.base_url()));
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let body = if form.is_empty() {
        Full::default()
    } else {
        request = request.header("content-type", "application/x-www-form-urlencoded");
        Full::new(Bytes::from(serde_urlencoded::to_string(form).unwrap()))
    };
    let response = http.request(request.body(body).unwrap()).await.unwrap();
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    let body = serde_json::from_slice(&bytes).expect("Stripe answers JSON");
    Answer {
        status,
        headers,
        body,
    }
}

const AUTH: (&str, &str) = ("authorization", "Bearer sk_test_fake_stripe_key");

async fn get(fake: &FakeStripe, path: &str) -> Answer {
    send(&client(), fake, "GET", path, &[], &[AUTH]).await
}

async fn post_refund(fake: &FakeStripe, form: &[(&str, &str)], key: Option<&str>) -> Answer {
    let mut headers = vec![AUTH];
    if let Some(key) = key {
        headers.push(("idempotency-key", key));
    }
    send(&client(), fake, "POST", "/v1/refunds", form, &headers).await
}

/// Every key of `fixture` (a file in tests/fixtures/stripe) is still in
/// `built`.
fn keeps_keys(built: &Value, fixture: &str) {
    let fixture: Value = serde_json::from_str(fixture).unwrap();
    for key in fixture.as_object().unwrap().keys() {
        assert!(built.get(key).is_some(), "{key} is missing from {built}");
    }
}

/// A succeeded PaymentIntent of `amount` USD cents with its charge and
/// balance transaction stored.
fn paid(fake: &FakeStripe, n: u32, amount: i64) -> (String, String) {
    let (pi, ch, txn) = (format!("pi_{n}"), format!("ch_{n}"), format!("txn_{n}"));
    fake.put(stripe_support::payment_intent(
        &pi,
        amount,
        "usd",
        "succeeded",
        Some(&ch),
    ));
    fake.put(stripe_support::charge(
        &ch,
        &pi,
        amount,
        "usd",
        "card",
        Some(&txn),
    ));
    fake.put(stripe_support::balance_transaction(
        &txn,
        &ch,
        "charge",
        amount,
        59,
        "usd",
        1_700_000_000,
    ));
    (pi, ch)
}

#[test]
fn builders_keep_the_fixtures_shape_and_set_only_what_they_are_given() {
    let pi = stripe_support::payment_intent("pi_a", 2500, "eur", "succeeded", Some("ch_a"));
    keeps_keys(&pi, include_str!("fixtures/stripe/payment_intent.json"));
    assert_eq!(pi["object"], "payment_intent");
    assert_eq!(
        (&pi["id"], &pi["amount"], &pi["currency"], &pi["status"]),
        (
            &json!("pi_a"),
            &json!(2500),
            &json!("eur"),
            &json!("succeeded")
        )
    );
    assert_eq!(pi["latest_charge"], "ch_a");
    assert_eq!(pi["amount_received"], 2500);
    assert_eq!(pi["capture_method"], "automatic", "a field not set stays");

    let bank = stripe_support::charge("ch_b", "pi_b", 900, "usd", "us_bank_account", None);
    keeps_keys(&bank, include_str!("fixtures/stripe/charge.json"));
    assert_eq!(bank["object"], "charge");
    assert_eq!(bank["payment_method_details"]["type"], "us_bank_account");
    assert!(bank["payment_method_details"]["us_bank_account"].is_object());
    assert!(bank["payment_method_details"].get("card").is_none());
    assert_eq!(bank["balance_transaction"], Value::Null);
    assert_eq!(bank["billing_details"]["name"], "Jenny Rosen");
    let card = stripe_support::charge("ch_c", "pi_c", 900, "usd", "card", Some("txn_c"));
    assert_eq!(card["payment_method_details"]["card"]["brand"], "visa");
    assert_eq!(card["balance_transaction"], "txn_c");

    let txn =
        stripe_support::balance_transaction("txn_d", "du_d", "adjustment", -900, 1500, "usd", 7);
    keeps_keys(
        &txn,
        include_str!("fixtures/stripe/balance_transaction.json"),
    );
    assert_eq!(
        (&txn["net"], &txn["type"]),
        (&json!(-2400), &json!("adjustment"))
    );
    assert_eq!(txn["reporting_category"], "dispute");
    assert_eq!(txn["fee_details"][0]["amount"], 1500);

    let cs = stripe_support::checkout_session(
        "cs_test_e",
        "pi_e",
        5000,
        "usd",
        "paid",
        Some("Ida Tarbell"),
        "ida@example.org",
        Some("spring"),
    );
    keeps_keys(&cs, include_str!("fixtures/stripe/checkout_session.json"));
    assert_eq!(
        (&cs["object"], &cs["mode"]),
        (&json!("checkout.session"), &json!("payment"))
    );
    assert_eq!(cs["customer_details"]["email"], "ida@example.org");
    assert_eq!(cs["customer_details"]["name"], "Ida Tarbell");
    assert_eq!(cs["metadata"]["campaign"], "spring");
    assert_eq!(cs["success_url"], "https://example.com/success");
    let anonymous = stripe_support::checkout_session(
        "cs_test_f",
        "pi_f",
        100,
        "usd",
        "unpaid",
        None,
        "a@b.c",
        None,
    );
    assert_eq!(anonymous["metadata"], json!({}));
    assert_eq!(anonymous["customer_details"]["name"], Value::Null);

    let inv = stripe_support::invoice("in_g", "sub_g", Some("pi_g"), 1000, "usd", "m@x.org", "M");
    keeps_keys(&inv, include_str!("fixtures/stripe/invoice.json"));
    assert_eq!(
        inv["parent"]["subscription_details"]["subscription"],
        "sub_g"
    );
    assert_eq!(inv["subscription"], "sub_g");
    assert_eq!(
        inv["payments"]["data"][0]["payment"]["payment_intent"],
        "pi_g"
    );
    assert_eq!(inv["payments"]["data"][0]["object"], "invoice_payment");
    assert_eq!(inv["payment_intent"], "pi_g");
    assert_eq!(
        (&inv["amount_paid"], &inv["customer_email"]),
        (&json!(1000), &json!("m@x.org"))
    );
    let no_pi = stripe_support::invoice("in_h", "sub_h", None, 1000, "usd", "m@x.org", "M");
    assert_eq!(no_pi["payments"]["data"], json!([]));
    assert_eq!(no_pi["payment_intent"], Value::Null);

    let sub = stripe_support::subscription("sub_i", "cus_i", "active", 1500, "usd", "year", 99);
    keeps_keys(&sub, include_str!("fixtures/stripe/subscription.json"));
    let item = &sub["items"]["data"][0];
    assert_eq!(item["price"]["unit_amount"], 1500);
    assert_eq!(item["price"]["recurring"]["interval"], "year");
    assert_eq!(item["current_period_end"], 99);
    assert_eq!(sub["cancel_at_period_end"], false);

    let re = stripe_support::refund("re_j", "pi_j", "ch_j", 300, "pending");
    keeps_keys(&re, include_str!("fixtures/stripe/refund.json"));
    assert_eq!(
        (&re["status"], &re["charge"]),
        (&json!("pending"), &json!("ch_j"))
    );
    let du = stripe_support::dispute("du_k", "ch_k", "pi_k", 300, "lost", "fraudulent");
    keeps_keys(&du, include_str!("fixtures/stripe/dispute.json"));
    assert_eq!(
        (&du["status"], &du["reason"]),
        (&json!("lost"), &json!("fraudulent"))
    );

    let evt = stripe_support::event("evt_l", "refund.created", 42, true, re.clone());
    keeps_keys(&evt, include_str!("fixtures/stripe/event.json"));
    assert_eq!(evt["object"], "event");
    assert_eq!(evt["data"]["object"], re);
    assert_eq!(
        (&evt["created"], &evt["livemode"]),
        (&json!(42), &json!(true))
    );
    assert_eq!(evt["pending_webhooks"], 0);
}

#[tokio::test]
async fn retrieval_answers_the_stored_object_and_expands_along_dotted_paths() {
    let fake = FakeStripe::start().await;
    let (pi, ch) = paid(&fake, 1, 2000);

    let plain = get(&fake, &format!("/v1/payment_intents/{pi}")).await;
    assert_eq!(plain.status, 200);
    assert_eq!(plain.body["latest_charge"], ch.as_str());

    let path = format!("/v1/payment_intents/{pi}?expand[]=latest_charge.balance_transaction");
    let expanded = get(&fake, &path).await;
    assert_eq!(expanded.status, 200);
    let charge = &expanded.body["latest_charge"];
    assert_eq!(
        (&charge["object"], &charge["id"]),
        (&json!("charge"), &json!(ch))
    );
    assert_eq!(
        charge["balance_transaction"]["object"],
        "balance_transaction"
    );
    assert_eq!(charge["balance_transaction"]["fee"], 59);

    let on_charge = get(
        &fake,
        &format!("/v1/charges/{ch}?expand[]=balance_transaction&expand[]=payment_intent"),
    )
    .await;
    assert_eq!(on_charge.body["balance_transaction"]["net"], 2000 - 59);
    assert_eq!(on_charge.body["payment_intent"]["amount"], 2000);

    let missing = get(&fake, "/v1/payment_intents/pi_x").await;
    assert_eq!(missing.status, 404);
    assert_eq!(
        missing.body,
        json!({"error": {"type": "invalid_request_error", "code": "resource_missing",
                          "message": "No such payment_intent: 'pi_x'", "param": "id"}})
    );
    let wrong_kind = get(&fake, &format!("/v1/charges/{pi}")).await;
    assert_eq!(wrong_kind.status, 404);

    let not_expandable = get(
        &fake,
        &format!("/v1/payment_intents/{pi}?expand[]=currency"),
    )
    .await;
    assert_eq!(not_expandable.status, 400);
    assert_eq!(not_expandable.body["error"]["param"], "expand");
}

#[tokio::test]
async fn events_are_listed_newest_first_in_pages() {
    let fake = FakeStripe::start().await;
    for n in 1..=5 {
        let kind = if n % 2 == 0 {
            "refund.created"
        } else {
            "charge.refunded"
        };
        fake.add_event(stripe_support::event(
            &format!("evt_{n}"),
            kind,
            1000 + n,
            false,
            json!({}),
        ));
    }
    let ids = |answer: &Answer| -> Vec<String> {
        let data = answer.body["data"].as_array().unwrap();
        data.iter()
            .map(|e| e["id"].as_str().unwrap().to_owned())
            .collect()
    };

    let first = get(&fake, "/v1/events?limit=2").await;
    assert_eq!(first.status, 200);
    assert_eq!(
        (&first.body["object"], &first.body["url"]),
        (&json!("list"), &json!("/v1/events"))
    );
    assert_eq!(ids(&first), ["evt_5", "evt_4"]);
    assert_eq!(first.body["has_more"], true);

    let second = get(&fake, "/v1/events?limit=2&starting_after=evt_4").await;
    assert_eq!(ids(&second), ["evt_3", "evt_2"]);
    assert_eq!(second.body["has_more"], true);
    let last = get(&fake, "/v1/events?limit=2&starting_after=evt_2").await;
    assert_eq!(ids(&last), ["evt_1"]);
    assert_eq!(last.body["has_more"], false);

    let all = get(&fake, "/v1/events").await;
    assert_eq!(ids(&all).len(), 5);
    assert_eq!(all.body["has_more"], false);

    let window = get(
        &fake,
        "/v1/events?created[gte]=1002&created[lt]=1005&type=refund.created",
    )
    .await;
    assert_eq!(ids(&window), ["evt_4", "evt_2"]);

    let too_many = get(&fake, "/v1/events?limit=101").await;
    assert_eq!(too_many.status, 400);
    let unknown_cursor = get(&fake, "/v1/events?starting_after=evt_nope").await;
    assert_eq!(unknown_cursor.status, 400);
    assert_eq!(unknown_cursor.body["error"]["code"], "resource_missing");
}

#[tokio::test]
async fn balance_transactions_and_refunds_are_listed_with_their_filters() {
    let fake = FakeStripe::start().await;
    for n in 1..=3 {
        let txn = stripe_support::balance_transaction(
            &format!("txn_{n}"),
            "ch_1",
            "charge",
            100,
            3,
            "usd",
            10 * n,
        );
        fake.put(txn);
    }
    fake.put(stripe_support::refund(
        "re_1",
        "pi_1",
        "ch_1",
        10,
        "succeeded",
    ));
    fake.put(stripe_support::refund(
        "re_2",
        "pi_2",
        "ch_2",
        10,
        "succeeded",
    ));

    let txns = get(
        &fake,
        "/v1/balance_transactions?created[gte]=20&created[lt]=31",
    )
    .await;
    assert_eq!(txns.body["url"], "/v1/balance_transactions");
    let data = txns.body["data"].as_array().unwrap();
    assert_eq!(
        data.iter().map(|t| &t["id"]).collect::<Vec<_>>(),
        [&json!("txn_3"), &json!("txn_2")]
    );
    let paged = get(
        &fake,
        "/v1/balance_transactions?limit=1&starting_after=txn_3",
    )
    .await;
    assert_eq!(paged.body["data"][0]["id"], "txn_2");
    assert_eq!(paged.body["has_more"], true);

    let refunds = get(&fake, "/v1/refunds?payment_intent=pi_2").await;
    assert_eq!(refunds.body["data"].as_array().unwrap().len(), 1);
    assert_eq!(refunds.body["data"][0]["id"], "re_2");
    let by_charge = get(&fake, "/v1/refunds?charge=ch_1").await;
    assert_eq!(by_charge.body["data"][0]["id"], "re_1");
    let unknown_filter = get(&fake, "/v1/refunds?status=succeeded").await;
    assert_eq!(unknown_filter.status, 400);
}

#[tokio::test]
async fn a_refund_is_created_from_the_payment_intent_and_stored() {
    let fake = FakeStripe::start().await;
    let (pi, ch) = paid(&fake, 1, 5000);
    let form = [
        ("payment_intent", pi.as_str()),
        ("amount", "1200"),
        ("reason", "requested_by_customer"),
        ("metadata[ledger_refund]", "ref_1"),
    ];
    let created = post_refund(&fake, &form, Some("key-1")).await;
    assert_eq!(created.status, 200, "{}", created.body);
    let refund = &created.body;
    assert!(refund["id"].as_str().unwrap().starts_with("re_"));
    assert_eq!(refund["object"], "refund");
    assert_eq!(
        (&refund["amount"], &refund["currency"]),
        (&json!(1200), &json!("usd"))
    );
    assert_eq!(
        (&refund["charge"], &refund["payment_intent"]),
        (&json!(ch), &json!(pi))
    );
    assert_eq!(refund["status"], "succeeded");
    assert_eq!(refund["reason"], "requested_by_customer");
    assert_eq!(refund["metadata"], json!({"ledger_refund": "ref_1"}));
    assert!((refund["created"].as_i64().unwrap() - stripe_support::now()).abs() < 60);
    assert_eq!(
        fake.get(refund["id"].as_str().unwrap()).as_ref(),
        Some(refund)
    );
    assert_eq!(fake.get(&ch).unwrap()["amount_refunded"], 1200);

    let retrieved = get(
        &fake,
        &format!("/v1/refunds/{}", refund["id"].as_str().unwrap()),
    )
    .await;
    assert_eq!(&retrieved.body, refund);
}

#[tokio::test]
async fn an_idempotency_key_replays_its_refund_and_refuses_other_parameters() {
    let fake = FakeStripe::start().await;
    let (pi, _) = paid(&fake, 1, 5000);
    let form = [("payment_intent", pi.as_str()), ("amount", "1000")];

    let first = post_refund(&fake, &form, Some("key-1")).await;
    let again = post_refund(&fake, &form, Some("key-1")).await;
    assert_eq!((first.status, again.status), (200, 200));
    assert_eq!(again.body["id"], first.body["id"]);
    assert_eq!(again.headers["idempotent-replayed"], "true");
    assert_eq!(fake.objects("refund").len(), 1);

    let other = [("payment_intent", pi.as_str()), ("amount", "2000")];
    let conflict = post_refund(&fake, &other, Some("key-1")).await;
    assert_eq!(conflict.status, 400);
    assert_eq!(conflict.body["error"]["type"], "idempotency_error");
    assert_eq!(fake.objects("refund").len(), 1);

    // Concurrent repeats of one key still make one refund.
    let http = client();
    let mut tasks = Vec::new();
    for _ in 0..5 {
        let (http, url) = (http.clone(), format!("{}/v1/refunds", fake.base_url()));
        let body = format!("payment_intent={pi}&amount=700");
        tasks.push(tokio::spawn(async move {
            let request = Request::post(url)
                .header("authorization", format!("Bearer {SECRET_KEY}"))
                .header("idempotency-key", "key-2")
                .header("content-type", "application/x-www-form-urlencoded")
                .body(Full::new(Bytes::from(body)))
                .unwrap();
            let response = http.request(request).await.unwrap();
            let bytes = response.into_body().collect().await.unwrap().to_bytes();
            serde_json::from_slice::<Value>(&bytes).unwrap()["id"].clone()
        }));
    }
    let mut ids = Vec::new();
    for task in tasks {
        ids.push(task.await.unwrap());
    }
    assert!(ids.iter().all(|id| *id == ids[0]), "{ids:?}");
    assert_eq!(fake.objects("refund").len(), 2);

    let without_key = post_refund(
        &fake,
        &[("payment_intent", pi.as_str()), ("amount", "1")],
        None,
    )
    .await;
    assert_eq!(without_key.status, 200);
    assert_ne!(without_key.body["id"], first.body["id"]);
}

#[tokio::test]
async fn refunds_beyond_what_remains_are_refused_and_nothing_is_stored() {
    let fake = FakeStripe::start().await;
    let (pi, ch) = paid(&fake, 1, 5000);
    fake.put(stripe_support::refund(
        "re_old",
        &pi,
        &ch,
        4000,
        "succeeded",
    ));
    fake.put(stripe_support::refund(
        "re_failed",
        &pi,
        &ch,
        3000,
        "failed",
    ));

    let too_much = post_refund(
        &fake,
        &[("payment_intent", pi.as_str()), ("amount", "1001")],
        Some("a"),
    )
    .await;
    assert_eq!(too_much.status, 400);
    assert_eq!(too_much.body["error"]["type"], "invalid_request_error");
    assert_eq!(too_much.body["error"]["code"], "amount_too_large");
    assert!(
        !too_much.body["error"]["message"]
            .as_str()
            .unwrap()
            .is_empty()
    );
    assert_eq!(fake.objects("refund").len(), 2);

    let rest = post_refund(&fake, &[("payment_intent", pi.as_str())], Some("b")).await;
    assert_eq!(rest.status, 200);
    assert_eq!(rest.body["amount"], 1000, "no amount refunds what remains");

    let done = post_refund(
        &fake,
        &[("payment_intent", pi.as_str()), ("amount", "1")],
        Some("c"),
    )
    .await;
    assert_eq!(done.status, 400);
    assert_eq!(done.body["error"]["code"], "charge_already_refunded");
    assert_eq!(fake.objects("refund").len(), 3);

    let unknown = post_refund(&fake, &[("payment_intent", "pi_nope")], Some("d")).await;
    assert_eq!(unknown.status, 400);
    assert_eq!(unknown.body["error"]["code"], "resource_missing");
    assert_eq!(fake.objects("refund").len(), 3);
}

#[tokio::test]
async fn misbehaviour_answers_errors_until_told_otherwise_and_still_records() {
    let fake = FakeStripe::start().await;
    let (pi, _) = paid(&fake, 1, 5000);
    let path = format!("/v1/payment_intents/{pi}");

    fake.set_behaviour(Behaviour::Status(500));
    for _ in 0..2 {
        let failed = get(&fake, &path).await;
        assert_eq!(failed.status, 500);
        assert_eq!(failed.body["error"]["type"], "api_error");
        assert_eq!(failed.headers["stripe-should-retry"], "true");
    }
    assert_eq!(fake.requests().len(), 2);

    fake.set_behaviour(Behaviour::Status(402));
    let declined = get(&fake, &path).await;
    assert_eq!(declined.status, 402);
    assert!(declined.headers.get("stripe-should-retry").is_none());

    fake.set_behaviour(Behaviour::Refuse {
        status: 400,
        code: "charge_disputed",
        message: "This charge is disputed.",
    });
    let refused = post_refund(&fake, &[("payment_intent", pi.as_str())], Some("k")).await;
    assert_eq!(refused.status, 400);
    assert_eq!(refused.body["error"]["code"], "charge_disputed");
    assert_eq!(refused.body["error"]["message"], "This charge is disputed.");
    assert!(fake.objects("refund").is_empty());

    fake.set_behaviour(Behaviour::Normal);
    fake.set_post_behaviour(Behaviour::Status(503));
    assert_eq!(get(&fake, &path).await.status, 200);
    let unavailable = post_refund(&fake, &[("payment_intent", pi.as_str())], Some("k")).await;
    assert_eq!(unavailable.status, 503);
    assert!(fake.objects("refund").is_empty());

    fake.set_behaviour(Behaviour::Normal);
    let after = post_refund(&fake, &[("payment_intent", pi.as_str())], Some("k")).await;
    assert_eq!(
        after.status, 200,
        "a failed attempt saves nothing under its key"
    );
    assert_eq!(fake.requests().len(), 7);
}

#[tokio::test]
async fn a_delay_outlasts_a_shorter_client_timeout() {
    let fake = FakeStripe::start().await;
    let (pi, _) = paid(&fake, 1, 5000);
    let path = format!("/v1/payment_intents/{pi}");

    fake.set_behaviour(Behaviour::Delay(Duration::from_millis(1500)));
    let started = Instant::now();
    let timed_out = tokio::time::timeout(Duration::from_millis(300), get(&fake, &path)).await;
    assert!(
        timed_out.is_err(),
        "the answer came before the client's timeout"
    );
    assert!(started.elapsed() < Duration::from_millis(1200));

    fake.set_behaviour(Behaviour::Delay(Duration::from_millis(400)));
    let started = Instant::now();
    let answer = tokio::time::timeout(Duration::from_secs(5), get(&fake, &path))
        .await
        .expect("the delayed answer arrives");
    assert!(started.elapsed() >= Duration::from_millis(400));
    assert_eq!(answer.status, 200);
    assert_eq!(answer.body["id"], pi.as_str());
}

#[tokio::test]
async fn requests_are_recorded_with_their_headers_query_and_form() {
    let fake = FakeStripe::start().await;
    let (pi, _) = paid(&fake, 1, 5000);
    let http = client();
    let headers = [
        AUTH,
        ("stripe-version", "2025-03-31.basil"),
        ("idempotency-key", "refund-7"),
    ];
    let form = [
        ("payment_intent", pi.as_str()),
        ("amount", "250"),
        ("metadata[ledger_refund]", "ref 7/β"),
    ];
    send(&http, &fake, "POST", "/v1/refunds", &form, &headers).await;
    send(
        &http,
        &fake,
        "GET",
        "/v1/events?limit=3&created%5Bgte%5D=5",
        &[],
        &[AUTH],
    )
    .await;

    let recorded = fake.requests();
    assert_eq!(recorded.len(), 2);
    let post = &recorded[0];
    assert_eq!(
        (post.method.as_str(), post.path.as_str()),
        ("POST", "/v1/refunds")
    );
    assert_eq!(
        post.authorization.as_deref(),
        Some("Bearer sk_test_fake_stripe_key")
    );
    assert_eq!(post.stripe_version.as_deref(), Some("2025-03-31.basil"));
    assert_eq!(post.idempotency_key.as_deref(), Some("refund-7"));
    assert_eq!(post.form_value("metadata[ledger_refund]"), Some("ref 7/β"));
    assert_eq!(post.form.len(), 3);
    let list = &recorded[1];
    assert_eq!(list.path, "/v1/events");
    assert_eq!(
        list.query,
        [
            ("limit".to_owned(), "3".to_owned()),
            ("created[gte]".to_owned(), "5".to_owned())
        ]
    );
    assert_eq!(list.idempotency_key, None);

    fake.clear_requests();
    assert!(fake.requests().is_empty());
}

#[tokio::test]
async fn requests_without_a_secret_key_are_unauthorized() {
    let fake = FakeStripe::start().await;
    let (pi, _) = paid(&fake, 1, 5000);
    let http = client();
    let path = format!("/v1/payment_intents/{pi}");
    for headers in [
        &[][..],
        &[("authorization", "Bearer pk_test_publishable")][..],
        &[("authorization", "Bearer sk_test_")][..],
        &[("authorization", "sk_test_no_bearer")][..],
    ] {
        let refused = send(&http, &fake, "GET", &path, &[], headers).await;
        assert_eq!(refused.status, 401, "{headers:?}");
        assert_eq!(refused.body["error"]["type"], "invalid_request_error");
    }
    let live = send(
        &http,
        &fake,
        "GET",
        &path,
        &[],
        &[("authorization", "Bearer sk_live_x")],
    )
    .await;
    assert_eq!(live.status, 200);
    assert_eq!(fake.requests().len(), 5);
}

#[test]
fn the_signature_is_stripes_hmac_over_timestamp_and_body() {
    // Computed independently with Python 3:
    //   hmac.new(b'whsec_test_vector_secret',
    //            b'1700000000.{"id":"evt_test_vector","object":"event"}',
    //            hashlib.sha256).hexdigest()
    const EXPECTED: &str = "5bb0e5fa7bf8bda1aaeed3effe020f3f3379e7427bc9dbcebc54dfee54b96d16";
    let body = br#"{"id":"evt_test_vector","object":"event"}"#;
    assert_eq!(
        stripe_support::sign("whsec_test_vector_secret", 1_700_000_000, body),
        format!("t=1700000000,v1={EXPECTED}")
    );
    let other = stripe_support::sign("whsec_test_vector_secret", 1_700_000_001, body);
    assert!(!other.ends_with(EXPECTED), "the timestamp is signed too");
}
