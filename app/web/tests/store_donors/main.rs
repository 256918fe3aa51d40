//! Donors, memberships and campaigns in storage, on every backend: the
//! backfill of donors from payments recorded before donors existed, one
//! donor per email under concurrent writes, recurring revenue, and campaign
//! progress from the rollups, and year-end statements (read back from the
//! PDF).

#[path = "../common/mod.rs"]
mod common;
mod statements;

use std::path::Path;

use payments::domain::{
    CampaignInput, Interval, MembershipStatus, NewPayment, NewRefund, PageFrom, Timestamp,
};
use payments::storage::memberships::SubscriptionState;
use payments::storage::processor::{Effect, EventRecord, Source};
use payments::storage::{ConnectOptions, Store};
use serde_json::json;

/// How many migrations of `dialect` are numbered `from` or later.
fn migrations_from(dialect: &str, from: u32) -> usize {
    let source = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("migrations")
        .join(dialect);
    std::fs::read_dir(source)
        .unwrap()
        .filter(|e| {
            let name = e.as_ref().unwrap().file_name();
            name.to_str().unwrap()[..4].parse::<u32>().unwrap() >= from
        })
        .count()
}

/// Copies the migrations of `dialect` numbered below `before` into a new
/// directory: the schema as an older release left it.
fn migrations_before(dialect: &str, before: u32) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let source = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("migrations")
        .join(dialect);
    for entry in std::fs::read_dir(source).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_str().unwrap().to_owned();
        let number: u32 = name[..4].parse().unwrap();
        if number < before {
            std::fs::copy(&path, dir.path().join(&name)).unwrap();
        }
    }
    dir
}

const OLD_PAYMENTS: [(&str, &str, &str, i64, i64, i64); 5] = [
    // id, name, email, amount, refunded, created (seconds)
    (
        "pay_old1",
        "Ada Reader",
        "Ada@Example.org",
        2500,
        0,
        1_700_000_000,
    ),
    (
        "pay_old2",
        "Ada R.",
        "ada@example.org",
        1000,
        1000,
        1_700_100_000,
    ),
    (
        "pay_old3",
        "ADA",
        "ADA@EXAMPLE.ORG",
        4000,
        500,
        1_700_200_000,
    ),
    (
        "pay_old4",
        "Bo Giver",
        "bo@example.org",
        700,
        0,
        1_700_300_000,
    ),
    (
        "pay_old5",
        "Bo Giver",
        "bo@example.org",
        300,
        0,
        1_700_400_000,
    ),
];

/// Payments inserted as a release before donors would have, through SQL.
async fn insert_old_payments<'e, E>(executor: E)
where
    E: sqlx::Executor<'e> + Copy,
    for<'q> <E::Database as sqlx::Database>::Arguments<'q>: sqlx::IntoArguments<'q, E::Database>,
    for<'q> &'q str: sqlx::Encode<'q, E::Database> + sqlx::Type<E::Database>,
    i64: for<'q> sqlx::Encode<'q, E::Database> + sqlx::Type<E::Database>,
{
    for (id, name, email, amount, refunded, created) in OLD_PAYMENTS {
        let status = match refunded {
            0 => "succeeded",
            r if r == amount => "refunded",
            _ => "partially_refunded",
        };
        sqlx::query(
            "INSERT INTO payments (id, amount, amount_refunded, currency, status, method, \
             payer_name, payer_email, metadata, created_at, updated_at) \
             VALUES (?, ?, ?, 'USD', ?, 'card', ?, ?, '{}', ?, ?)",
        )
        .bind(id)
        .bind(amount)
        .bind(refunded)
        .bind(status)
        .bind(name)
        .bind(email)
        .bind(created * 1_000_000)
        .bind(created * 1_000_000)
        .execute(executor)
        .await
        .unwrap();
    }
}

/// A store whose database holds [`OLD_PAYMENTS`] from before migration 8,
/// then migrated to now.
async fn backfilled() -> Vec<(&'static str, Store, Option<tempfile::TempDir>)> {
    let mut out = Vec::new();
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("old.db").display());
    {
        let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
        let old = migrations_before("sqlite", 8);
        sqlx::migrate::Migrator::new(old.path())
            .await
            .unwrap()
            .run(&pool)
            .await
            .unwrap();
        insert_old_payments(&pool).await;
        pool.close().await;
    }
    let store = Store::connect(&url, &ConnectOptions::default())
        .await
        .unwrap();
    assert_eq!(
        store.migrate().await.unwrap(),
        migrations_from("sqlite", 8),
        "0008 and later were left"
    );
    out.push(("sqlite", store, Some(dir)));
    if let Some(server) = common::mysql_server_url() {
        let db = common::empty_mysql_db(&server).await;
        let pool = sqlx::MySqlPool::connect(&db.url).await.unwrap();
        let old = migrations_before("mysql", 8);
        sqlx::migrate::Migrator::new(old.path())
            .await
            .unwrap()
            .run(&pool)
            .await
            .unwrap();
        insert_old_payments(&pool).await;
        pool.close().await;
        assert_eq!(
            db.store.migrate().await.unwrap(),
            migrations_from("mysql", 8),
            "0008 and later were left"
        );
        let store = db.store.clone();
        // The database is dropped with `db`: keep it alive in a leaked box
        // for the rest of this test process.
        Box::leak(Box::new(db));
        out.push(("mysql", store, None));
    }
    out
}

#[tokio::test]
async fn the_backfill_makes_one_donor_per_email_whatever_its_case() {
    for (name, store, _dir) in backfilled().await {
        let page = store
            .list_donors(None, 100, &PageFrom::Start)
            .await
            .unwrap();
        assert_eq!(page.items.len(), 2, "{name}: {:?}", page.items);
        for id in ["pay_old1", "pay_old2", "pay_old3"] {
            let p = store.payment(id).await.unwrap();
            let ada = store.donor(p.donor_id.as_deref().unwrap()).await.unwrap();
            assert_eq!(ada.email.to_lowercase(), "ada@example.org", "{name}");
            let usd = ada.totals["USD"];
            assert_eq!(
                (usd.count, usd.gross, usd.refunded, usd.net),
                (3, 7500, 1500, 6000),
                "{name}"
            );
            assert_eq!(ada.first_gift_at, Some(Timestamp(1_700_000_000_000_000)));
            assert_eq!(ada.last_gift_at, Some(Timestamp(1_700_200_000_000_000)));
        }
        let bo = store
            .donor_by_email("BO@example.org")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(bo.name, "Bo Giver");
        assert_eq!(bo.totals["USD"].gross, 1000, "{name}");
        // A payment recorded now with yet another casing joins Ada.
        let new = new_payment("aDa@example.ORG", 500, None);
        let made = create(&store, &new).await;
        let ada = store
            .donor_by_email("ada@example.org")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(made.donor_id.as_deref(), Some(ada.id.as_str()), "{name}");
        assert_eq!(ada.totals["USD"].count, 4, "{name}");
        assert_eq!(store.donor_count().await.unwrap(), 2, "{name}");
    }
}

pub fn new_payment(email: &str, amount: i64, campaign: Option<&str>) -> NewPayment {
    let mut body = json!({
        "amount": amount, "currency": "USD", "method": "card",
        "payer": {"name": "A Reader", "email": email}
    });
    if let Some(c) = campaign {
        body["campaign"] = c.into();
    }
    NewPayment::from_json(body).unwrap()
}

pub async fn create(store: &Store, new: &NewPayment) -> payments::domain::Payment {
    match store
        .create_payment("test", None, new, |_| unreachable!("no idempotency"))
        .await
        .unwrap()
    {
        payments::storage::payments::Idempotent::Done(p) => p,
        _ => panic!("not made"),
    }
}

#[tokio::test]
async fn payments_racing_for_a_new_email_make_one_donor() {
    for db in common::databases().await {
        let store = &db.store;
        let emails = ["Race@Example.org", "race@example.org", "RACE@example.org"];
        let made = futures_util::future::join_all((0..12).map(|i| async move {
            create(store, &new_payment(emails[i % 3], 100 + i as i64, None)).await
        }))
        .await;
        let first = made[0].donor_id.clone().unwrap();
        assert!(
            made.iter()
                .all(|p| p.donor_id.as_deref() == Some(first.as_str())),
            "{}: {:?}",
            db.name,
            made.iter().map(|p| &p.donor_id).collect::<Vec<_>>()
        );
        assert_eq!(store.donor_count().await.unwrap(), 1, "{}", db.name);
        let donor = store.donor(&first).await.unwrap();
        assert_eq!(donor.totals["USD"].count, 12);
    }
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
        campaign: None,
        cancel_at_period_end: false,
        started_at: Timestamp::now(),
        canceled_at: (status == MembershipStatus::Canceled).then(Timestamp::now),
        current_period_end: None,
        member: Some((email.to_owned(), "A Member".to_owned())),
    }
}

async fn apply(store: &Store, n: usize, state: SubscriptionState) {
    let id = format!("evt_mrr_{n}");
    let record = EventRecord {
        id: &id,
        kind: "customer.subscription.updated",
        object_id: Some(&state.external_ref),
        created: 1,
        source: Source::Webhook,
    };
    store
        .apply_event(&record, &Effect::Membership(state.clone()))
        .await
        .unwrap();
}

#[tokio::test]
async fn recurring_revenue_counts_monthly_and_a_twelfth_of_yearly_per_currency() {
    use Interval::{Month, Year};
    use MembershipStatus::{Active, Canceled, Incomplete, PastDue};
    for db in common::databases().await {
        let store = &db.store;
        let subs = [
            subscription("sub_1", 1_000, "USD", Month, Active, "a@example.org"),
            subscription("sub_2", 12_000, "USD", Year, Active, "b@example.org"),
            subscription("sub_3", 500, "USD", Month, PastDue, "c@example.org"),
            subscription("sub_4", 9_999, "USD", Month, Canceled, "d@example.org"),
            subscription("sub_5", 9_999, "USD", Month, Incomplete, "e@example.org"),
            subscription("sub_6", 2_500, "EUR", Month, Active, "f@example.org"),
            subscription("sub_7", 6_000, "EUR", Year, Active, "g@example.org"),
            subscription("sub_8", 2_400, "GBP", Year, Active, "h@example.org"),
        ];
        for (n, s) in subs.into_iter().enumerate() {
            apply(store, n, s).await;
        }
        // The same subscription again, changed: one membership, updated.
        apply(
            store,
            100,
            subscription("sub_1", 1_500, "USD", Month, Active, "a@example.org"),
        )
        .await;
        let month_start = Timestamp(Timestamp::now().0 - 86_400_000_000);
        let stats = store.membership_stats(month_start).await.unwrap();
        assert_eq!(stats.members, 6, "{}", db.name);
        assert_eq!(
            stats.mrr.get("USD"),
            Some(&(1_500 + 1_000 + 500)),
            "{}",
            db.name
        );
        assert_eq!(stats.mrr.get("EUR"), Some(&(2_500 + 500)), "{}", db.name);
        assert_eq!(stats.mrr.get("GBP"), Some(&200), "{}", db.name);
        assert_eq!(stats.started_since, 8, "{}", db.name);
        assert_eq!(stats.canceled_since, 1, "{}", db.name);
        let past_due = store
            .list_memberships(Some(PastDue), 10, &PageFrom::Start)
            .await
            .unwrap();
        assert_eq!(past_due.items.len(), 1);
        assert_eq!(past_due.items[0].external_ref, "sub_3");
        // A canceled membership stays canceled when a late event says active.
        apply(
            store,
            101,
            subscription("sub_4", 9_999, "USD", Month, Active, "d@example.org"),
        )
        .await;
        let canceled = store
            .list_memberships(Some(Canceled), 10, &PageFrom::Start)
            .await
            .unwrap();
        assert_eq!(canceled.items.len(), 1, "{}", db.name);
        let donor = store
            .donor_by_email("g@example.org")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(donor.memberships.len(), 1);
        assert_eq!(donor.memberships[0].interval, Year);
    }
}

#[tokio::test]
async fn campaign_progress_and_match_come_from_the_rollups() {
    for db in common::databases().await {
        let store = &db.store;
        let spec = CampaignInput {
            name: "Year-end drive",
            goal: Some("1000"),
            currency: Some("USD"),
            match_ratio: Some("1"),
            match_cap: Some("300"),
            ends: Some("2099-01-01"),
        }
        .parse()
        .unwrap();
        let campaign = store
            .create_campaign("test", "2026-year-end", &spec)
            .await
            .unwrap();
        assert!(matches!(
            store.create_campaign("test", "2026-year-end", &spec).await,
            Err(payments::storage::StoreError::Conflict(_))
        ));
        let gifts = [10_000, 25_000, 5_000];
        let mut ids = Vec::new();
        for amount in gifts {
            ids.push(
                create(
                    store,
                    &new_payment("g@example.org", amount, Some("2026-year-end")),
                )
                .await
                .id,
            );
        }
        // Another campaign and a payment without one do not count.
        create(store, &new_payment("g@example.org", 99_900, Some("other"))).await;
        create(store, &new_payment("g@example.org", 99_900, None)).await;
        let refund = NewRefund::from_json(json!({"amount": 2_000})).unwrap();
        store
            .refund_payment("test", None, &ids[1], &refund, |_| unreachable!())
            .await
            .unwrap();
        let p = store.campaign_progress(&campaign).await.unwrap();
        assert_eq!((p.count, p.raised), (3, 38_000), "{}", db.name);
        assert_eq!(p.matched, 30_000, "capped at 300.00");
        assert_eq!(p.match_remaining, Some(0));
        assert_eq!(p.percent_of_goal(&campaign), Some(68));
        // The donation page's read is cached for a second; an edit made
        // through this process shows at once.
        let (cached, _) = store
            .campaign_for_page("2026-year-end")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(cached.name, "Year-end drive");
        let edited = CampaignInput {
            name: "Year-end",
            goal: Some("2000"),
            ..Default::default()
        }
        .parse()
        .unwrap();
        let c = store
            .update_campaign("test", "2026-year-end", &edited)
            .await
            .unwrap();
        let (shown, _) = store
            .campaign_for_page("2026-year-end")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            shown.name, "Year-end",
            "{}: the edit is on the page at once",
            db.name
        );
        assert_eq!(
            (c.name.as_str(), c.goal, c.match_ratio),
            ("Year-end", Some(200_000), None)
        );
        assert_eq!(store.campaign_progress(&c).await.unwrap().matched, 0);
        assert!(matches!(
            store.update_campaign("test", "nope", &edited).await,
            Err(payments::storage::StoreError::NotFound)
        ));
        let trail = store.audit_trail("2026-year-end").await.unwrap();
        let actions: Vec<&str> = trail.iter().map(|e| e.action.0.as_str()).collect();
        assert_eq!(actions, ["campaign.created", "campaign.updated"]);
    }
}
