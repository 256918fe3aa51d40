//! `/memberships`, and the overview's members and recurring revenue.

use chrono::{Datelike, Utc};
use payments::domain::{Method as PayMethod, Status};
use payments::storage::processor::ProcessorPayment;
use serde_json::json;

use super::*;

#[tokio::test]
async fn memberships_filter_by_status_and_page() {
    use MembershipStatus::*;
    for app in TestApp::all().await {
        let db = app.db.name;
        let cookie = staff(&app, Role::Viewer).await;
        let store = &app.db.store;
        let special = [
            ("sub_pd", PastDue),
            ("sub_c1", Canceled),
            ("sub_c2", Canceled),
            ("sub_in", Incomplete),
        ];
        for (id, status) in special {
            let email = format!("{id}@example.org");
            let mut s = subscription(id, 1_500, "USD", Interval::Month, status, &email);
            // The member asked to stop: it ends with the paid period.
            s.cancel_at_period_end = status == PastDue;
            member(store, s).await;
        }
        for i in 0..52 {
            let mut s = subscription(
                &format!("sub_a{i}"),
                500,
                "USD",
                Interval::Year,
                Active,
                &format!("a{i}@example.org"),
            );
            // Distinct start times, a day apart, so the order is known.
            s.started_at = Timestamp(Timestamp::now().0 - (i + 1) * DAY);
            member(store, s).await;
        }
        let past_due = get(&app, "/memberships?status=past_due", &cookie).await;
        assert_eq!(rows(&past_due.text), 1, "{db}");
        assert!(
            past_due.text.contains("Member sub_pd") && past_due.text.contains("15.00 USD / month")
        );
        assert!(past_due.text.contains("badge past_due\">cancels"), "{db}");
        // The donors table words each donor's membership.
        for (q, badge) in [
            ("sub_pd", "past_due\">past due"),
            ("sub_c1", "canceled\">canceled"),
        ] {
            let donors = get(&app, &format!("/donors?q={q}"), &cookie).await;
            assert!(donors.text.contains(&format!("badge {badge}")), "{db}: {q}");
        }
        let canceled = get(&app, "/memberships?status=canceled", &cookie).await;
        assert!(!canceled.text.contains("\">cancels") && canceled.text.contains(">renews<"));
        let donor = store
            .donor_by_email("sub_pd@example.org")
            .await
            .unwrap()
            .unwrap();
        assert!(
            past_due
                .text
                .contains(&format!("href=\"/donors/{}\"", donor.id)),
            "{db}"
        );
        assert_eq!(
            rows(
                &get(&app, "/memberships?status=canceled", &cookie)
                    .await
                    .text
            ),
            2,
            "{db}"
        );
        assert_eq!(
            rows(
                &get(&app, "/memberships?status=incomplete", &cookie)
                    .await
                    .text
            ),
            1,
            "{db}"
        );
        let active = get(&app, "/memberships?status=active", &cookie).await;
        assert_eq!(rows(&active.text), 50, "{db}");
        assert!(active.text.contains("5.00 USD / year") && !active.text.contains("Member sub_pd"));
        let next = rel(&active.text, "next").unwrap();
        assert!(
            next.contains("status=active"),
            "{db}: the filter is kept: {next}"
        );
        let older = get(&app, &next, &cookie).await;
        assert_eq!(rows(&older.text), 2, "{db}");
        assert!(
            older.text.contains("Member sub_a51"),
            "{db}: the oldest last"
        );
        let back = get(&app, &rel(&older.text, "prev").unwrap(), &cookie).await;
        assert_eq!(rows(&back.text), 50, "{db}");
        assert!(back.text.contains("Member sub_a0") && rel(&back.text, "prev").is_none());
        let all = get(&app, "/memberships", &cookie).await;
        assert_eq!(rows(&all.text), 50, "{db}");
        let rest = get(&app, &rel(&all.text, "next").unwrap(), &cookie).await;
        assert_eq!(rows(&rest.text), 6, "{db}: 56 in all");
        let bad = get(&app, "/memberships?status=lapsed", &cookie).await;
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY, "{db}");
        assert!(bad.text.contains("Status must be one of: active, past_due"));
    }
}

#[tokio::test]
async fn the_overview_shows_members_recurring_revenue_and_this_months_changes() {
    use Interval::{Month, Year};
    use MembershipStatus::*;
    for app in TestApp::all().await {
        let db = app.db.name;
        let cookie = staff(&app, Role::Viewer).await;
        let store = &app.db.store;
        let subs = [
            subscription("sub_1", 1_000, "USD", Month, Active, "a@example.org"),
            subscription("sub_2", 12_000, "USD", Year, Active, "b@example.org"),
            subscription("sub_3", 500, "USD", Month, PastDue, "c@example.org"),
            subscription("sub_4", 700, "USD", Month, Canceled, "d@example.org"),
            subscription("sub_5", 900, "USD", Month, Incomplete, "e@example.org"),
            subscription("sub_6", 2_000, "EUR", Month, Active, "f@example.org"),
        ];
        for s in subs {
            member(store, s).await;
        }
        // A member since last year: not new this month.
        let mut old = subscription("sub_7", 300, "USD", Month, Active, "g@example.org");
        old.started_at = Timestamp(Timestamp::now().0 - 400 * DAY);
        member(store, old.clone()).await;
        // Its renewal: a payment by a membership, this month.
        let renewal = ProcessorPayment {
            external_ref: "pi_renewal".into(),
            amount: 300,
            currency: "USD".into(),
            status: Status::Succeeded,
            method: PayMethod::Card,
            payer_name: "Member sub_7".into(),
            payer_email: "g@example.org".into(),
            campaign: None,
            fee: None,
            subscription: Some("sub_7".into()),
            membership: Some(old),
            created_at: Timestamp::now(),
        };
        apply(store, Effect::Payment(renewal), "pi_renewal").await;
        gift(&app, "One-time", "h@example.org", 5_000, json!({})).await;

        let r = get(&app, "/", &cookie).await;
        assert_eq!(r.status, StatusCode::OK, "{db}");
        let card =
            |title: &str, figure: &str| format!("<h3>{title}</h3><p class=\"figure\">{figure}</p>");
        // Members: sub_1, 2, 3, 6 and 7. USD: 10 + 120/12 + 5 + 3; EUR: 20.
        assert!(
            r.text.contains(&card("Active members", "5")),
            "{db}: {}",
            r.text
        );
        assert!(
            r.text
                .contains("<p class=\"figure\">20.00 EUR</p><p class=\"figure\">28.00 USD</p>"),
            "{db}"
        );
        let month = Utc::now()
            .date_naive()
            .with_day(1)
            .unwrap()
            .format("%B %Y")
            .to_string();
        assert!(
            r.text.contains(&card(&format!("New in {month}"), "6")),
            "{db}"
        );
        assert!(
            r.text.contains(&card(&format!("Canceled in {month}"), "1")),
            "{db}"
        );
        assert!(
            r.text
                .contains("Recurring revenue per month, net of refunds (USD)"),
            "{db}"
        );
        assert!(
            r.text
                .contains(": 1 payment by memberships; gross 3.00 USD"),
            "{db}"
        );
        assert!(
            r.text.contains("53.00 USD"),
            "{db}: this month's gross, both gifts"
        );
    }
}
