//! Rollups that agree with the rows they summarise, on every available
//! backend: after bulk seeding (also over many days at once) and after
//! writes through the normal paths.

mod common;

use std::collections::BTreeMap;

use chrono::Datelike;
use chrono::NaiveDate;
use common::databases;
use payments::domain::{
    Currency, Filter, ListRequest, MinorUnits, NewRefund, PageFrom, PaymentPatch, RefundReason,
    Status, SummaryRequest,
};
use payments::storage::Store;
use payments::storage::payments::RecordedResponse;

/// Totals recomputed from the rows themselves, as an oracle for the rollups.
#[derive(Debug, Default, PartialEq)]
struct Expected {
    count: i64,
    gross: i64,
    refunded: i64,
    by_status: BTreeMap<String, (i64, i64)>,
    by_method: BTreeMap<String, (i64, i64, i64)>,
    by_campaign: BTreeMap<String, (i64, i64, i64)>,
    daily_gross: BTreeMap<NaiveDate, i64>,
    daily_refunded: BTreeMap<NaiveDate, i64>,
}

async fn recompute(store: &Store, currency: &str) -> Expected {
    let mut e = Expected::default();
    let mut from = PageFrom::Start;
    loop {
        let req = ListRequest {
            filter: Filter {
                currency: Some(Currency::parse(currency).unwrap()),
                ..Filter::default()
            },
            limit: 100,
            from,
        };
        let page = store.list_payments(&req).await.unwrap();
        for p in &page.items {
            let day = p.created_at.to_datetime().date_naive();
            let campaign = p.campaign.clone().unwrap_or_else(|| "(none)".into());
            let s = e.by_status.entry(p.status.as_str().into()).or_default();
            s.0 += 1;
            s.1 += p.amount;
            if p.status.is_captured() {
                e.count += 1;
                e.gross += p.amount;
                *e.daily_gross.entry(day).or_default() += p.amount;
                let m = e.by_method.entry(p.method.as_str().into()).or_default();
                m.0 += 1;
                m.1 += p.amount;
                let c = e.by_campaign.entry(campaign.clone()).or_default();
                c.0 += 1;
                c.1 += p.amount;
            }
            if p.amount_refunded > 0 {
                for r in store.refunds(&p.id).await.unwrap() {
                    e.refunded += r.amount;
                    *e.daily_refunded
                        .entry(r.created_at.to_datetime().date_naive())
                        .or_default() += r.amount;
                    e.by_method.entry(p.method.as_str().into()).or_default().2 += r.amount;
                    e.by_campaign.entry(campaign.clone()).or_default().2 += r.amount;
                }
            }
        }
        match (page.has_more, page.items.last()) {
            (true, Some(last)) => {
                from = PageFrom::After(payments::domain::Cursor {
                    created_at: last.created_at.0,
                    id: last.id.clone(),
                })
            }
            _ => break,
        }
    }
    e
}

/// One batch spread over years touches more rollup rows than one statement
/// may carry placeholders for (SQLite 32,766, MySQL 65,535): it must still
/// load, and the rollups must still add up.
#[tokio::test]
async fn a_batch_over_many_days_loads_and_adds_up() {
    for db in databases().await {
        let store = &db.store;
        let report = payments::seed::seed_in_batches(store, 8000, 5, 3000, 8000, None)
            .await
            .unwrap_or_else(|e| panic!("{}: {e}", db.name));
        assert_eq!(report.payments, 8000);
        let expected = recompute(store, "USD").await;
        let today = chrono::Utc::now().date_naive();
        let s = store
            .summary(&SummaryRequest {
                currency: Currency::USD,
                from: today - chrono::Days::new(3000),
                to: today,
            })
            .await
            .unwrap();
        assert_eq!(
            (s.count, s.gross, s.refunded),
            (expected.count, expected.gross, expected.refunded),
            "{}",
            db.name
        );
    }
}

#[tokio::test]
async fn rollups_agree_with_the_rows_after_seeding_and_writes() {
    for db in databases().await {
        let store = &db.store;
        // Three batches, two of them in flight at once; SQLite splits each
        // into two statements (at most 32,766 placeholders per statement).
        let report = payments::seed::seed_in_batches(store, 6000, 11, 60, 2500, None)
            .await
            .unwrap();
        assert_eq!(report.payments, 6000);
        assert!(report.refunds > 0, "{}: some refunds", db.name);
        // Writes through the normal paths on top of the seeded data.
        let page = store
            .list_payments(&ListRequest {
                filter: Filter {
                    status: Some(Status::Pending),
                    ..Filter::default()
                },
                limit: 10,
                from: PageFrom::Start,
            })
            .await
            .unwrap();
        for (i, p) in page.items.iter().enumerate() {
            let to = if i % 2 == 0 {
                Status::Succeeded
            } else {
                Status::Failed
            };
            store
                .update_payment(
                    "test",
                    &p.id,
                    &PaymentPatch {
                        status: Some(to),
                        ..Default::default()
                    },
                )
                .await
                .unwrap();
        }
        let page = store
            .list_payments(&ListRequest {
                filter: Filter {
                    status: Some(Status::Succeeded),
                    ..Filter::default()
                },
                limit: 20,
                from: PageFrom::Start,
            })
            .await
            .unwrap();
        for (i, p) in page.items.iter().enumerate() {
            let amount = if i % 3 == 0 {
                None
            } else {
                Some(1.max(p.amount / 3))
            };
            store
                .refund_payment(
                    "test",
                    None,
                    &p.id,
                    &NewRefund {
                        amount: amount.map(|a| MinorUnits::new(a).unwrap()),
                        reason: Some(RefundReason::Other),
                    },
                    |_| RecordedResponse::default(),
                )
                .await
                .unwrap();
        }
        for currency in ["USD", "EUR"] {
            let expected = recompute(store, currency).await;
            let today = chrono::Utc::now().date_naive();
            let from = today - chrono::Days::new(70);
            let s = store
                .summary(&SummaryRequest {
                    currency: Currency::parse(currency).unwrap(),
                    from,
                    to: today,
                })
                .await
                .unwrap();
            assert_eq!(
                (s.count, s.gross, s.refunded),
                (expected.count, expected.gross, expected.refunded),
                "{} {currency}",
                db.name
            );
            assert_eq!(s.net, s.gross - s.refunded);
            // The per-currency totals (the dashboard's month cards) agree,
            // whether the range is whole months, part of one, or both.
            let codes = vec!["USD".to_owned(), "EUR".to_owned(), "JPY".to_owned()];
            let totals = store.totals_by_currency(&codes, from, today).await.unwrap();
            assert_eq!(
                totals.get(currency).copied().unwrap_or_default(),
                (s.count, s.gross, s.refunded),
                "{} {currency} totals_by_currency",
                db.name
            );
            let month_start = today.with_day(1).unwrap();
            let last_month_start = (month_start - chrono::Days::new(1)).with_day(1).unwrap();
            let whole = store
                .summary(&SummaryRequest {
                    currency: Currency::parse(currency).unwrap(),
                    from: last_month_start,
                    to: month_start - chrono::Days::new(1),
                })
                .await
                .unwrap();
            let totals = store
                .totals_by_currency(&codes, last_month_start, month_start - chrono::Days::new(1))
                .await
                .unwrap();
            assert_eq!(
                totals.get(currency).copied().unwrap_or_default(),
                (whole.count, whole.gross, whole.refunded),
                "{} {currency} last month",
                db.name
            );
            let by_status: BTreeMap<String, (i64, i64)> = s
                .by_status
                .iter()
                .map(|(k, b)| (k.clone(), (b.count, b.gross)))
                .collect();
            assert_eq!(
                by_status, expected.by_status,
                "{} {currency} by_status",
                db.name
            );
            let by_method: BTreeMap<String, (i64, i64, i64)> = s
                .by_method
                .iter()
                .map(|(k, b)| (k.clone(), (b.count, b.gross, b.refunded)))
                .collect();
            assert_eq!(
                by_method, expected.by_method,
                "{} {currency} by_method",
                db.name
            );
            let by_campaign: BTreeMap<String, (i64, i64, i64)> = s
                .by_campaign
                .iter()
                .map(|(k, b)| (k.clone(), (b.count, b.gross, b.refunded)))
                .collect();
            assert_eq!(
                by_campaign, expected.by_campaign,
                "{} {currency} by_campaign",
                db.name
            );
            assert_eq!(s.daily.len(), 71);
            for d in &s.daily {
                assert_eq!(
                    d.gross,
                    expected.daily_gross.get(&d.date).copied().unwrap_or(0),
                    "{} {}",
                    db.name,
                    d.date
                );
                assert_eq!(
                    d.refunded,
                    expected.daily_refunded.get(&d.date).copied().unwrap_or(0),
                    "{} {}",
                    db.name,
                    d.date
                );
            }
        }
    }
}
