//! What each event writes to the outbox: a receipt per succeeded gift (with
//! a membership's next charge and manage link), a refund notice, the
//! failed-renewal and canceled notices; each once however often its events
//! come; and nothing left, or written again, for an erased donor.

use serde_json::json;

use super::mime::text_and_html;
use crate::Harness;
use crate::stripe_support::*;
use payments::storage::outbox::OutboxOf;

const MANAGE: &str = "https://give.example.org/account";

#[tokio::test]
async fn membership_and_refund_events_write_each_notice_once() {
    for h in Harness::all().await {
        let who = h.name();
        let sub = "sub_mail";
        let period_end = now() + 30 * 86_400;
        let active = subscription(sub, "cus_m", "active", 1500, "usd", "month", period_end);
        h.fake.put(active.clone());
        h.paid_by_card("pi_ren0", 1500);
        let paid = invoice(
            "in_ren0",
            sub,
            Some("pi_ren0"),
            1500,
            "usd",
            "member@example.org",
            "Mo Member",
        );
        h.fake.put(paid.clone());
        assert_eq!(
            h.deliver("evt_inv0", "invoice.paid", paid.clone()).await,
            "processed"
        );
        assert_eq!(
            h.deliver("evt_inv0b", "invoice.paid", paid).await,
            "processed"
        );

        // The next renewal fails (twice told), then the subscription ends.
        let mut past_due = active.clone();
        past_due["status"] = json!("past_due");
        h.fake.put(past_due);
        let mut failed = invoice(
            "in_ren1",
            sub,
            None,
            1500,
            "usd",
            "member@example.org",
            "Mo Member",
        );
        failed["status"] = json!("open");
        for id in ["evt_fail1", "evt_fail1b"] {
            assert_eq!(
                h.deliver(id, "invoice.payment_failed", failed.clone())
                    .await,
                "processed"
            );
        }
        let mut canceled = active.clone();
        canceled["status"] = json!("canceled");
        canceled["canceled_at"] = json!(now());
        canceled["ended_at"] = json!(now());
        h.fake.put(canceled.clone());
        for id in ["evt_del", "evt_upd"] {
            h.deliver(id, "customer.subscription.deleted", canceled.clone())
                .await;
        }

        // A one-time gift, refunded in part (three events about one refund).
        let session = h.checkout("refunded", 4_000, "ada@example.org");
        h.deliver("evt_cs", "checkout.session.completed", session)
            .await;
        let re = refund("re_mail", "pi_refunded", "ch_refunded", 1_000, "succeeded");
        h.fake.put(re.clone());
        h.deliver("evt_re1", "refund.created", re.clone()).await;
        h.deliver("evt_re2", "refund.updated", re).await;

        let mut kinds: Vec<String> = h.outbox().await.iter().map(|m| m.kind.0.clone()).collect();
        kinds.sort();
        assert_eq!(
            kinds,
            [
                "membership_canceled",
                "receipt",
                "receipt",
                "refund",
                "renewal_failed"
            ],
            "{who}"
        );
        let failed_row = h
            .outbox()
            .await
            .into_iter()
            .find(|m| &*m.kind == "renewal_failed")
            .unwrap();
        assert_eq!(&*failed_row.cause, "renewal_failed:in_ren1", "{who}");
        assert_eq!(&*failed_row.recipient, "member@example.org");
        let donor_id = failed_row.donor_id.clone().unwrap();
        let to_member = h
            .app
            .db
            .store
            .outbox_of(OutboxOf::Donor, &donor_id)
            .await
            .unwrap();
        assert_eq!(
            to_member.len(),
            3,
            "{who}: receipt, failed renewal, canceled"
        );

        assert_eq!(h.flush().await.sent, 5, "{who}");
        let delivered = h.smtp.delivered();
        let by_subject = |s: &str| {
            delivered
                .iter()
                .find(|m| m.header("Subject").is_some_and(|x| x.contains(s)))
                .unwrap_or_else(|| panic!("{who}: no message about {s}"))
        };
        let (text, html) = text_and_html(by_subject("could not renew"));
        assert!(
            text.contains(MANAGE) && html.contains(&format!("href=\"{MANAGE}\"")),
            "{text}"
        );
        assert!(text.contains("15.00 USD"), "{text}");
        let member_receipt = delivered
            .iter()
            .find(|m| {
                m.to == ["member@example.org"] && m.header("Subject").unwrap().contains("receipt")
            })
            .unwrap();
        let (text, _) = text_and_html(member_receipt);
        assert!(
            text.contains("every month") && text.contains("next charge"),
            "{text}"
        );
        assert!(text.contains(MANAGE), "{text}");
        let (text, _) = text_and_html(by_subject("was refunded"));
        assert!(
            text.contains("10.00 USD") && text.contains("40.00 USD"),
            "{text}"
        );
        let (text, _) = text_and_html(by_subject("has ended"));
        assert!(text.contains("15.00 USD"), "{text}");
    }
}

#[tokio::test]
async fn erasing_a_donor_deletes_their_messages_and_writes_none_again() {
    for h in Harness::all().await {
        let who = h.name();
        h.api_gift("gone@example.org", json!({"send_receipt": true}))
            .await;
        h.api_gift("kept@example.org", json!({"send_receipt": true}))
            .await;
        assert_eq!(h.flush().await.sent, 2, "{who}");
        h.api_gift("gone@example.org", json!({"send_receipt": true}))
            .await;
        let store = &h.app.db.store;
        let donor = store
            .donor_by_email("gone@example.org")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            store
                .outbox_of(OutboxOf::Donor, &donor.id)
                .await
                .unwrap()
                .len(),
            2
        );
        let report = store.erase_donor("test", &donor.id, false).await.unwrap();
        assert_eq!(report.outbox_messages, 2, "{who}: sent and pending");
        let left = h.outbox().await;
        assert_eq!(left.len(), 1, "{who}");
        assert_eq!(&*left[0].recipient, "kept@example.org");
        // A later Stripe gift from the erased address: recorded, not mailed.
        let session = h.checkout("after", 1_000, "gone@example.org");
        assert_eq!(
            h.deliver("evt_after", "checkout.session.completed", session)
                .await,
            "processed"
        );
        assert_eq!(
            h.outbox().await.len(),
            1,
            "{who}: no message to an erased donor"
        );
    }
}
