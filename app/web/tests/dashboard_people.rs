//! The donor, membership and campaign pages and the overview's membership
//! figures, on every backend. Expected numbers are worked out here from what
//! each test records, not read back from the code under test.

mod common;
mod dashboard_support;

use chrono::{Datelike, Utc};
use dashboard_support::*;
use payments::domain::{Interval, MembershipStatus, Method as PayMethod, Status, Timestamp};
use payments::storage::Store;
use payments::storage::memberships::SubscriptionState;
use payments::storage::processor::{Effect, EventRecord, ProcessorPayment, Source};
use serde_json::json;

const DAY: i64 = 86_400_000_000;

/// A logged-in staff member's cookie on `app`.
async fn staff(app: &TestApp, role: Role) -> String {
    let email = format!("{}@example.org", role.as_str());
    add_user(app, &email, role).await;
    login(app, &email).await
}

async fn get(app: &TestApp, path: &str, cookie: &str) -> common::Response {
    page(app, Method::GET, path, cookie, None).await
}

/// Rows of the page's table body (the header row is the first `<tr>`).
fn rows(html: &str) -> usize {
    html.matches("<tr>").count().saturating_sub(1)
}

/// A `rel` link's target, unescaped.
fn rel(html: &str, rel: &str) -> Option<String> {
    let marker = format!("rel=\"{rel}\" href=\"");
    let rest = html.split(&marker).nth(1)?;
    Some(rest.split('"').next()?.replace("&#38;", "&"))
}

/// The donor ids a donors page links to, in order.
fn donor_links(html: &str) -> Vec<String> {
    html.split("href=\"/donors/")
        .skip(1)
        .map(|s| s.split('"').next().unwrap().to_owned())
        .collect()
}

async fn gift(
    app: &TestApp,
    name: &str,
    email: &str,
    amount: i64,
    extra: serde_json::Value,
) -> String {
    let mut body = json!({"amount": amount, "currency": "USD", "method": "card",
                          "payer": {"name": name, "email": email}});
    for (k, v) in extra.as_object().unwrap() {
        body[k] = v.clone();
    }
    app.create(body).await["id"].as_str().unwrap().to_owned()
}

async fn refund(app: &TestApp, payment: &str, amount: i64) {
    let r = app
        .post(
            &format!("/api/v1/payments/{payment}/refunds"),
            json!({"amount": amount}),
            &uuid::Uuid::now_v7().to_string(),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
}

fn subscription(
    id: &str,
    amount: i64,
    currency: &str,
    interval: Interval,
    status: MembershipStatus,
    email: &str,
) -> SubscriptionState {
    SubscriptionState {
        external_ref: id.to_owned(),
        amount,
        currency: currency.to_owned(),
        interval,
        status,
        campaign: Some("members-2026".to_owned()),
        cancel_at_period_end: false,
        started_at: Timestamp::now(),
        canceled_at: (status == MembershipStatus::Canceled).then(Timestamp::now),
        current_period_end: Some(Timestamp(Timestamp::now().0 + 30 * DAY)),
        member: Some((email.to_owned(), format!("Member {id}"))),
    }
}

async fn apply(store: &Store, effect: Effect, object: &str) {
    let id = format!("evt_{}", uuid::Uuid::now_v7().simple());
    let record = EventRecord {
        id: &id,
        kind: "customer.subscription.updated",
        object_id: Some(object),
        created: 1,
        source: Source::Webhook,
    };
    store.apply_event(&record, &effect).await.unwrap();
}

async fn member(store: &Store, s: SubscriptionState) {
    let object = s.external_ref.clone();
    apply(store, Effect::Membership(s), &object).await;
}

#[tokio::test]
async fn donors_are_listed_searched_and_paged() {
    for app in TestApp::all().await {
        let db = app.db.name;
        let cookie = staff(&app, Role::Viewer).await;
        let empty = get(&app, "/donors", &cookie).await;
        assert!(empty.text.contains("No donors yet"), "{db}");
        gift(
            &app,
            "Ada Lovelace",
            "Ada.Lovelace@Example.org",
            2_500,
            json!({}),
        )
        .await;
        for i in 0..55 {
            let (name, email) = (format!("Reader {i}"), format!("reader{i}@example.org"));
            gift(&app, &name, &email, 1_000 + i, json!({})).await;
        }
        let first = get(&app, "/donors", &cookie).await;
        assert_eq!(first.status, StatusCode::OK, "{db}");
        assert_eq!(rows(&first.text), 50, "{db}: a full page");
        assert!(first.text.contains("56 donors in all"), "{db}");
        assert!(rel(&first.text, "prev").is_none(), "{db}: the first page");
        let next = rel(&first.text, "next").expect("an older page");
        assert!(next.contains("starting_after="), "{next}");
        let second = get(&app, &next, &cookie).await;
        assert_eq!(rows(&second.text), 6, "{db}: the rest");
        assert!(rel(&second.text, "next").is_none(), "{db}: the last page");
        let mut all = donor_links(&first.text);
        all.extend(donor_links(&second.text));
        all.sort();
        all.dedup();
        assert_eq!(all.len(), 56, "{db}: every donor once");
        // The oldest donor, Ada, is on the last page.
        assert!(second.text.contains("Ada Lovelace"), "{db}");
        let back = get(&app, &rel(&second.text, "prev").unwrap(), &cookie).await;
        assert_eq!(
            donor_links(&back.text),
            donor_links(&first.text),
            "{db}: back to the same page"
        );

        for q in ["lovelace", "ADA.LOVELACE@example", "ada lov"] {
            let found = get(&app, &format!("/donors?q={}", q.replace(' ', "+")), &cookie).await;
            assert_eq!(rows(&found.text), 1, "{db}: {q}");
            assert!(found.text.contains("Ada Lovelace") && found.text.contains("25.00 USD"));
        }
        let by_email = get(&app, "/donors?q=reader1%40EXAMPLE", &cookie).await;
        assert_eq!(rows(&by_email.text), 1, "{db}: reader1@ only");
        let by_name = get(&app, "/donors?q=reader+1", &cookie).await;
        // Reader 1 and Reader 10 to Reader 19.
        assert_eq!(rows(&by_name.text), 11, "{db}");
        let none = get(&app, "/donors?q=nobody", &cookie).await;
        assert!(
            none.text.contains("No donor's name or email contains"),
            "{db}"
        );
        let bad = get(&app, "/donors?starting_after=zz", &cookie).await;
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY, "{db}");
        assert!(bad.text.contains("page link is not valid"));
        let long = get(&app, &format!("/donors?q={}", "x".repeat(201)), &cookie).await;
        assert_eq!(long.status, StatusCode::UNPROCESSABLE_ENTITY, "{db}");
    }
}

#[tokio::test]
async fn a_donor_page_shows_totals_memberships_history_and_payments() {
    for app in TestApp::all().await {
        let db = app.db.name;
        let cookie = staff(&app, Role::Viewer).await;
        let a = gift(&app, "Ada Reader", "ada@example.org", 10_000, json!({})).await;
        let b = gift(
            &app,
            "Ada Reader",
            "ADA@example.org",
            2_500,
            json!({"campaign": "spring"}),
        )
        .await;
        let c = gift(
            &app,
            "Ada",
            "ada@example.org",
            3_000,
            json!({"currency": "EUR"}),
        )
        .await;
        refund(&app, &b, 500).await;
        gift(&app, "Bo Other", "bo@example.org", 99_900, json!({})).await;
        let mut s = subscription(
            "sub_ada",
            1_000,
            "USD",
            Interval::Month,
            MembershipStatus::Active,
            "ada@example.org",
        );
        s.cancel_at_period_end = true;
        member(&app.db.store, s).await;
        let donor = app
            .db
            .store
            .donor_by_email("ada@example.org")
            .await
            .unwrap()
            .unwrap();

        let r = get(&app, &format!("/donors/{}", donor.id), &cookie).await;
        assert_eq!(r.status, StatusCode::OK, "{db}: {}", r.text);
        assert!(
            r.text.contains("<h1>Ada Reader"),
            "{db}: the first name given"
        );
        // USD: 2 gifts, 125.00 gross, 5.00 refunded, 120.00 net; EUR: 30.00.
        for figure in ["125.00 USD", "5.00 USD", "120.00 USD", "30.00 EUR"] {
            assert!(r.text.contains(figure), "{db}: {figure}");
        }
        assert!(!r.text.contains("999.00 USD"), "{db}: not Bo's gift");
        assert!(r.text.contains("10.00 USD / month") && r.text.contains("members-2026"));
        assert!(r.text.contains("ends at period end") && r.text.contains("active member"));
        for p in [&a, &b, &c] {
            assert!(
                r.text.contains(&format!("href=\"/payments/{p}\"")),
                "{db}: {p}"
            );
        }
        assert_eq!(
            r.text.matches("<tr>").count(),
            3 + 2 + 1 + 3,
            "{db}: three headers, two totals, one membership, three payments"
        );
        assert!(
            r.text
                .contains(&format!("href=\"/payments?donor_id={}\"", donor.id))
        );
        assert!(
            r.text.contains("<svg") && r.text.contains("Given per month"),
            "{db}"
        );
        let table = get(&app, &format!("/payments?donor_id={}", donor.id), &cookie).await;
        assert_eq!(
            rows(&table.text),
            3,
            "{db}: the payments table filtered to Ada"
        );

        for path in [
            "/donors/don_0193nothere",
            "/donors/not-an-id",
            "/donors/don_%3Cb%3E",
        ] {
            let r = get(&app, path, &cookie).await;
            assert_eq!(r.status, StatusCode::NOT_FOUND, "{db}: {path}");
            assert!(r.text.contains("Not found"), "{db}: {path}");
        }
    }
}

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
            member(
                store,
                subscription(
                    id,
                    1_500,
                    "USD",
                    Interval::Month,
                    status,
                    &format!("{id}@example.org"),
                ),
            )
            .await;
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

fn campaign_form<'a>(
    csrf: &'a str,
    slug: &'a str,
    name: &'a str,
    goal: &'a str,
) -> Vec<(&'static str, &'a str)> {
    vec![
        ("csrf", csrf),
        ("slug", slug),
        ("name", name),
        ("goal", goal),
        ("currency", "USD"),
        ("match_ratio", "1"),
        ("match_cap", "300"),
        ("ends", "2099-01-01"),
    ]
}

#[tokio::test]
async fn admins_create_and_edit_campaigns_and_see_their_progress() {
    for app in TestApp::all().await {
        let db = app.db.name;
        let admin = staff(&app, Role::Admin).await;
        let csrf = csrf_of(&app, &admin).await;
        let post = |path: &'static str, form: Vec<(&'static str, String)>| {
            let admin = admin.clone();
            let app = &app;
            async move {
                let fields: Vec<(&str, &str)> =
                    form.iter().map(|(k, v)| (*k, v.as_str())).collect();
                page(app, Method::POST, path, &admin, Some(&fields)).await
            }
        };
        let owned = |f: Vec<(&'static str, &str)>| {
            f.into_iter()
                .map(|(k, v)| (k, v.to_owned()))
                .collect::<Vec<_>>()
        };
        let created = post(
            "/campaigns",
            owned(campaign_form(
                &csrf,
                "2026-year-end",
                "Year-end drive",
                "1,000",
            )),
        )
        .await;
        assert_eq!(
            created.status,
            StatusCode::SEE_OTHER,
            "{db}: {}",
            created.text
        );
        assert_eq!(
            created.header("location"),
            Some("/campaigns?notice=campaign-created")
        );
        let taken = post(
            "/campaigns",
            owned(campaign_form(&csrf, "2026-year-end", "Again", "5")),
        )
        .await;
        assert_eq!(taken.status, StatusCode::CONFLICT, "{db}");
        assert!(
            taken.text.contains("id=\"new-slug-error\">Slug is taken"),
            "{db}"
        );
        assert!(
            taken.text.contains("value=\"Again\""),
            "{db}: what was typed is kept"
        );

        // Gifts: 100 + 250 + 50 USD to the campaign, 20 of the 250 refunded;
        // a EUR gift, another campaign's and one without don't count.
        let mut ids = Vec::new();
        for amount in [10_000, 25_000, 5_000] {
            ids.push(
                gift(
                    &app,
                    "Ada",
                    "ada@example.org",
                    amount,
                    json!({"campaign": "2026-year-end"}),
                )
                .await,
            );
        }
        refund(&app, &ids[1], 2_000).await;
        gift(
            &app,
            "Ada",
            "ada@example.org",
            7_000,
            json!({"campaign": "2026-year-end", "currency": "EUR"}),
        )
        .await;
        gift(
            &app,
            "Ada",
            "ada@example.org",
            7_000,
            json!({"campaign": "other"}),
        )
        .await;
        gift(&app, "Ada", "ada@example.org", 7_000, json!({})).await;
        let (raised, cap, goal) = (10_000 + 25_000 + 5_000 - 2_000, 30_000, 100_000);
        let matched = raised.min(cap);
        let percent = ((raised + matched) * 100 / goal).min(100);
        let list = get(&app, "/campaigns?notice=campaign-created", &admin).await;
        assert!(list.text.contains("Campaign created."), "{db}");
        assert!(
            list.text
                .contains("<strong>380.00 USD</strong> raised of 1,000.00 USD"),
            "{db}: {}",
            list.text
        );
        assert!(
            list.text.contains("300.00 USD of 300.00 USD matched (1×)"),
            "{db}"
        );
        assert_eq!(percent, 68);
        assert!(
            list.text.contains("value=\"68\"") && list.text.contains("68%"),
            "{db}"
        );
        assert!(
            list.text.contains(">3 gifts</a>") && list.text.contains("badge succeeded\">open"),
            "{db}"
        );

        // Every bad field gets its own message beside it.
        let bad = vec![
            ("csrf", csrf.clone()),
            ("slug", "year end".into()),
            ("name", "".into()),
            ("goal", "-5".into()),
            ("currency", "XYZ".into()),
            ("match_ratio", "abc".into()),
            ("match_cap", "0".into()),
            ("ends", "next week".into()),
        ];
        let r = post("/campaigns", bad).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{db}");
        for field in [
            "slug",
            "name",
            "goal",
            "currency",
            "match_ratio",
            "match_cap",
            "ends",
        ] {
            assert!(
                r.text.contains(&format!("id=\"new-{field}-error\"")),
                "{db}: {field}"
            );
        }
        assert!(
            r.text.contains("7 fields need attention") && r.text.contains("value=\"next week\"")
        );
        assert_eq!(
            app.db.store.campaigns().await.unwrap().len(),
            1,
            "{db}: nothing made"
        );

        // Edit: new name and goal, the match removed, ended in the past.
        let edit = vec![
            ("csrf", csrf.clone()),
            ("name", "Year-end 2026".into()),
            ("goal", "2000".into()),
            ("currency", "USD".into()),
            ("ends", "2020-01-01".into()),
        ];
        let r = post("/campaigns/2026-year-end", edit).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{db}: {}", r.text);
        assert!(
            r.header("location")
                .unwrap()
                .starts_with("/campaigns?notice=campaign-saved")
        );
        let list = get(&app, "/campaigns?notice=campaign-saved", &admin).await;
        assert!(
            list.text.contains("Campaign saved.") && list.text.contains("Year-end 2026"),
            "{db}"
        );
        // 380 of 2,000 without a match: 19%.
        assert!(
            list.text.contains("raised of 2,000.00 USD") && list.text.contains("value=\"19\""),
            "{db}"
        );
        assert!(list.text.contains("badge ended\">ended"), "{db}");
        let wrong = vec![
            ("csrf", csrf.clone()),
            ("name", "Year-end".into()),
            ("goal", "lots".into()),
        ];
        let r = post("/campaigns/2026-year-end", wrong).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{db}");
        assert!(
            r.text
                .contains("id=\"edit-2026-year-end-goal-error\">Goal must be an amount"),
            "{db}"
        );
        assert!(
            r.text.contains("<details open>"),
            "{db}: the failed form is open"
        );
        let c = app
            .db
            .store
            .campaign("2026-year-end")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            (c.name.as_str(), c.goal),
            ("Year-end 2026", Some(200_000)),
            "{db}: unchanged"
        );
        let r = post(
            "/campaigns/no-such-campaign",
            owned(campaign_form(&csrf, "", "X", "1")),
        )
        .await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{db}");

        // A form without the session's token is refused.
        let r = post(
            "/campaigns",
            owned(campaign_form("nope", "forged", "Forged", "1")),
        )
        .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{db}");
        assert!(r.text.contains("Form expired"));
        let r = post(
            "/campaigns/2026-year-end",
            owned(campaign_form("", "", "Forged", "1")),
        )
        .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{db}");
        assert!(app.db.store.campaign("forged").await.unwrap().is_none());
        let c = app
            .db
            .store
            .campaign("2026-year-end")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(c.name, "Year-end 2026", "{db}: not edited");
    }
}

#[tokio::test]
async fn viewers_see_campaigns_but_cannot_create_or_edit() {
    for app in TestApp::all().await {
        let db = app.db.name;
        let viewer = staff(&app, Role::Viewer).await;
        let csrf = csrf_of(&app, &viewer).await;
        let spec = payments::domain::CampaignInput {
            name: "Spring drive",
            goal: Some("500"),
            ..Default::default()
        }
        .parse()
        .unwrap();
        app.db
            .store
            .create_campaign("test", "spring", &spec)
            .await
            .unwrap();
        let list = get(&app, "/campaigns", &viewer).await;
        assert_eq!(list.status, StatusCode::OK, "{db}");
        assert!(list.text.contains("Spring drive") && list.text.contains("raised of 500.00 USD"));
        assert!(!list.text.contains("action=\"/campaigns"), "{db}: no forms");
        for path in ["/campaigns", "/campaigns/spring"] {
            let form = campaign_form(&csrf, "viewers", "By a viewer", "1");
            let r = page(&app, Method::POST, path, &viewer, Some(&form)).await;
            assert_eq!(r.status, StatusCode::FORBIDDEN, "{db}: {path}");
            assert!(r.text.contains("Not allowed"), "{db}");
        }
        assert_eq!(app.db.store.campaigns().await.unwrap().len(), 1, "{db}");
        let c = app.db.store.campaign("spring").await.unwrap().unwrap();
        assert_eq!(c.name, "Spring drive", "{db}");
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
