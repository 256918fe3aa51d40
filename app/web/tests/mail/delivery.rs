//! Delivery: what a receipt carries, STARTTLS, retries of a deferred
//! message, a refused one, and `payments mail flush`.

use serde_json::json;

use super::mime::text_and_html;
use crate::stripe_support::payment_intent;
use crate::{FROM, Harness, mailer};
use payments::domain::Timestamp;
use payments::mail::messages::NO_GOODS;
use payments::storage::outbox::{OutboxFilter, OutboxOf};

#[tokio::test]
async fn a_stripe_gift_is_receipted_once_over_starttls() {
    for h in Harness::all().await {
        let who = h.name();
        let session = h.checkout("receipt", 5_000, "ada@example.org");
        assert_eq!(
            h.deliver("evt_r1", "checkout.session.completed", session.clone())
                .await,
            "processed"
        );
        // A redelivery and another event about the same PaymentIntent.
        assert_eq!(
            h.deliver("evt_r1", "checkout.session.completed", session)
                .await,
            "duplicate"
        );
        let pi = h.fake.get("pi_receipt").unwrap();
        assert_eq!(
            h.deliver("evt_r2", "payment_intent.succeeded", pi).await,
            "processed"
        );
        let outbox = h.outbox().await;
        assert_eq!(outbox.len(), 1, "{who}: {outbox:?}");
        let row = &outbox[0];
        assert_eq!((&*row.kind, &*row.status), ("receipt", "pending"), "{who}");
        assert!(
            row.cause.starts_with("receipt:pay_"),
            "{who}: {}",
            row.cause.0
        );

        let report = h.flush().await;
        assert_eq!(
            (report.sent, report.deferred, report.failed),
            (1, 0, 0),
            "{who}"
        );
        assert_eq!(h.flush().await.sent, 0, "{who}: sent once");
        let delivered = h.smtp.delivered();
        assert_eq!(delivered.len(), 1, "{who}");
        let m = &delivered[0];
        assert!(m.tls, "{who}: STARTTLS was offered, so it was used");
        assert_eq!(m.from, "news@example.org");
        assert_eq!(m.to, vec!["ada@example.org".to_owned()]);
        assert_eq!(
            m.header("From").as_deref(),
            Some("\"Example News\" <news@example.org>"),
            "{who}: {FROM}"
        );
        assert_eq!(m.header("To").as_deref(), Some("ada@example.org"));
        assert_eq!(
            m.header("Subject").as_deref(),
            Some("Your receipt for your gift to Example News Inc.")
        );
        let sent = h.outbox().await;
        assert_eq!(&*sent[0].status, "sent", "{who}");
        assert!(sent[0].sent_at.is_some());
        let message_id = m.header("Message-ID").expect("a Message-ID");
        assert!(message_id.ends_with("@give.example.org>"), "{message_id}");
        let (text, html) = text_and_html(m);
        for part in [&text, &html] {
            assert!(part.contains("50.00 USD"), "{who}: {part}");
            assert!(part.contains(NO_GOODS), "{who}: {part}");
            assert!(part.contains("Example News Inc.") && part.contains("12-3456789"));
            assert!(part.contains("1 Main St, Springfield"));
        }
        assert!(html.contains("<table"), "{html}");
        assert!(
            !html.contains("<img") && !html.contains("src="),
            "{who}: nothing remote"
        );
    }
}

#[tokio::test]
async fn api_payments_are_receipted_only_when_the_request_asks() {
    for h in Harness::all().await {
        let who = h.name();
        let asked = h
            .api_gift("asked@example.org", json!({"send_receipt": true}))
            .await;
        h.api_gift("import@example.org", json!({})).await;
        h.api_gift("no@example.org", json!({"send_receipt": false}))
            .await;
        h.api_gift(
            "pending@example.org",
            json!({"send_receipt": true, "status": "pending"}),
        )
        .await;
        // An import with a PaymentIntent's id, later settled by Stripe's
        // event: the import asked for no receipt, and the event adds none.
        h.api_gift(
            "imported@example.org",
            json!({"status": "pending", "external_ref": "pi_imported"}),
        )
        .await;
        h.fake.put(payment_intent(
            "pi_imported",
            2_500,
            "usd",
            "succeeded",
            None,
        ));
        let pi = h.fake.get("pi_imported").unwrap();
        assert_eq!(
            h.deliver("evt_imp", "payment_intent.succeeded", pi).await,
            "processed"
        );
        let imported = h
            .app
            .db
            .store
            .payment_by_external_ref("pi_imported")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            imported.status.as_str(),
            "succeeded",
            "{who}: settled by the event"
        );
        let outbox = h.outbox().await;
        assert_eq!(outbox.len(), 1, "{who}: {outbox:?}");
        assert_eq!(outbox[0].payment_id.as_deref(), Some(asked.as_str()));
        assert_eq!(&*outbox[0].recipient, "asked@example.org");
        let bad = h
            .app
            .post(
                "/api/v1/payments",
                json!({"send_receipt": "yes"}),
                "bad-key",
            )
            .await;
        assert!(
            bad.problem(422).contains(&"send_receipt".to_owned()),
            "{who}: {}",
            bad.text
        );
    }
    let h = Harness::sqlite().await;
    let doc = h.app.get("/api/v1/openapi.json").await.json;
    let field = &doc["components"]["schemas"]["CreatePayment"]["properties"]["send_receipt"];
    assert_eq!(field["type"], "boolean", "{doc}");
    assert_eq!(field["default"], false);
}

#[tokio::test]
async fn a_deferred_message_is_retried_later_and_sent_once() {
    let h = Harness::sqlite().await;
    h.api_gift("ada@example.org", json!({"send_receipt": true}))
        .await;
    h.smtp.answer_next(&[451]);
    let t = Timestamp::now();
    let first = h.flush_at(t).await;
    assert_eq!((first.sent, first.deferred), (0, 1));
    let row = &h.outbox().await[0];
    assert_eq!((&*row.status, row.attempts), ("pending", 1));
    let error = row.last_error.as_deref().unwrap();
    assert!(error.contains("451"), "{error}");
    assert!(!error.contains('@'), "no address in the error: {error}");
    assert!(
        row.next_attempt_at >= t.0 + 60_000_000,
        "backed off a minute"
    );
    assert_eq!(
        h.flush_at(t).await.sent,
        0,
        "not due before its next attempt"
    );
    let later = h.flush_at(Timestamp(t.0 + 61_000_000)).await;
    assert_eq!((later.sent, later.deferred), (1, 0));
    assert_eq!(h.smtp.attempts(), 2);
    assert_eq!(h.smtp.delivered().len(), 1, "delivered once");
    let row = &h.outbox().await[0];
    assert_eq!((&*row.status, row.attempts), ("sent", 2));
    assert_eq!(row.last_error, None);
}

#[tokio::test]
async fn a_refused_message_fails_at_once() {
    let h = Harness::sqlite().await;
    let id = h
        .api_gift("ada@example.org", json!({"send_receipt": true}))
        .await;
    h.smtp.answer_next(&[550]);
    let report = h.flush().await;
    assert_eq!((report.sent, report.failed), (0, 1));
    let store = &h.app.db.store;
    let failed = store
        .outbox_entries(OutboxFilter::Failed, 10)
        .await
        .unwrap();
    assert_eq!(failed.len(), 1);
    assert!(failed[0].last_error.as_deref().unwrap().contains("550"));
    assert_eq!(h.flush().await, Default::default(), "never tried again");
    assert_eq!(h.smtp.attempts(), 1);
    let of_payment = store.outbox_of(OutboxOf::Payment, &id).await.unwrap();
    assert_eq!(&*of_payment[0].status, "failed");
}

#[tokio::test]
async fn a_message_too_old_to_retry_fails() {
    let h = Harness::sqlite().await;
    h.api_gift("ada@example.org", json!({"send_receipt": true}))
        .await;
    h.smtp.answer_next(&[421]);
    let report = h
        .flush_at(Timestamp(Timestamp::now().0 + 25 * 3_600_000_000))
        .await;
    assert_eq!((report.deferred, report.failed), (0, 1));
}

#[tokio::test]
async fn tls_required_is_sent_over_starttls_and_an_untrusted_server_is_retried() {
    let h = Harness::sqlite().await;
    h.api_gift("ada@example.org", json!({"send_receipt": true}))
        .await;
    // Without the private CA (--smtp-ca-file) the server is not trusted.
    let untrusted = payments::mail::Mailer::new(&payments::mail::SmtpSettings {
        url: secrecy::SecretString::from(h.smtp.url("?tls=required")),
        ca_pem: None,
        from: FROM.into(),
    })
    .unwrap();
    let flush = |m: &payments::mail::Mailer, now: Timestamp| {
        let (store, m) = (h.app.db.store.clone(), m.clone());
        async move {
            payments::mail::worker::flush(&store, &m, &crate::config(), now)
                .await
                .unwrap()
        }
    };
    let t = Timestamp::now();
    let report = flush(&untrusted, t).await;
    assert_eq!((report.sent, report.deferred), (0, 1));
    let error = h.outbox().await[0].last_error.clone().unwrap();
    assert!(error.contains("TLS"), "{}", error.0);
    assert!(!error.contains("s3cret"), "never the password");
    assert!(h.smtp.delivered().is_empty());
    let report = flush(
        &mailer(&h.smtp, "?tls=required"),
        Timestamp(t.0 + 61_000_000),
    )
    .await;
    assert_eq!(report.sent, 1);
    assert!(h.smtp.delivered()[0].tls);
}
