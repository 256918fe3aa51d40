//! The payments table (filters, pages) and its CSV export.

mod common;
mod dashboard_support;

use dashboard_support::*;
use serde_json::json;

#[tokio::test]
async fn table_pages_keep_their_filters() {
    let app = TestApp::sqlite().await;
    add_user(&app, "viewer@example.org", Role::Viewer).await;
    let cookie = login(&app, "viewer@example.org").await;
    for i in 0..60 {
        let mut b = payment_body(1000 + i);
        b["method"] = json!(if i % 2 == 0 { "card" } else { "check" });
        app.create(b).await;
    }
    let first = page(
        &app,
        Method::GET,
        "/payments?method=card&amount_min=10.00",
        &cookie,
        None,
    )
    .await;
    assert_eq!(first.status, StatusCode::OK);
    assert_eq!(
        first.text.matches("<tr>").count(),
        30 + 1,
        "header row plus 30 card payments"
    );
    assert!(!first.text.contains("rel=\"next\""), "one page");
    let all = page(&app, Method::GET, "/payments", &cookie, None).await;
    let next = all
        .text
        .split("rel=\"next\" href=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .replace("&#38;", "&");
    assert!(next.contains("after="));
    let second = page(&app, Method::GET, &next, &cookie, None).await;
    assert_eq!(second.text.matches("<tr>").count(), 10 + 1);
    let prev = second
        .text
        .split("rel=\"prev\" href=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .replace("&#38;", "&");
    let back = page(&app, Method::GET, &prev, &cookie, None).await;
    assert_eq!(back.text.matches("<tr>").count(), 50 + 1);
    let bad = page(
        &app,
        Method::GET,
        "/payments?amount_min=lots&status=lost",
        &cookie,
        None,
    )
    .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.text.contains("Min amount"));
    let filtered_next = page(
        &app,
        Method::GET,
        "/payments?method=check&q=ada",
        &cookie,
        None,
    )
    .await;
    assert!(
        filtered_next
            .text
            .contains("href=\"/payments.csv?q=ada&#38;method=check\""),
        "export keeps the filters"
    );
}

#[tokio::test]
async fn csv_export_quotes_neutralises_and_matches_the_api_count() {
    let app = TestApp::sqlite().await;
    add_user(&app, "viewer@example.org", Role::Viewer).await;
    let cookie = login(&app, "viewer@example.org").await;
    let mut tricky = payment_body(2500);
    tricky["payer"]["name"] = json!("Doe, \"Jo\"");
    tricky["description"] = json!("=HYPERLINK(\"http://evil\")");
    tricky["campaign"] = json!("@spring");
    app.create(tricky).await;
    for i in 0..2105 {
        if i % 500 == 0 {
            // Bulk rows through the seeder keep the test fast.
            app.db
                .store
                .insert_seed_batch(
                    &payments::seed::Generator::new(i, payments::domain::Timestamp::now(), 30, 500)
                        .take(500),
                )
                .await
                .unwrap();
        }
    }
    let r = page(&app, Method::GET, "/payments.csv", &cookie, None).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(
        r.header("content-disposition")
            .unwrap()
            .starts_with("attachment")
    );
    let mut reader = csv::Reader::from_reader(r.text.as_bytes());
    let header: Vec<String> = reader
        .headers()
        .unwrap()
        .iter()
        .map(str::to_owned)
        .collect();
    assert_eq!(header[0], "id");
    assert_eq!(header[2], "amount");
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    let mine = rows
        .iter()
        .find(|r| &r[7] == "Doe, \"Jo\"")
        .expect("quoted name round-trips");
    assert_eq!(&mine[2], "25.00");
    assert_eq!(&mine[3], "USD");
    assert_eq!(&mine[10], "'=HYPERLINK(\"http://evil\")");
    assert_eq!(&mine[9], "'@spring");
    assert!(r.text.contains("\"Doe, \"\"Jo\"\"\""), "RFC 4180 quoting");
    // The same filter through the API gives the same number of rows.
    for (query, csv_query) in [
        ("", ""),
        (
            "?status=succeeded&method=card",
            "?status=succeeded&method=card",
        ),
    ] {
        let mut count = 0;
        let mut cursor: Option<String> = None;
        loop {
            let sep = if query.is_empty() { "?" } else { "&" };
            let path = match &cursor {
                Some(c) => format!("/api/v1/payments{query}{sep}limit=100&starting_after={c}"),
                None => format!("/api/v1/payments{query}{sep}limit=100"),
            };
            let page = app.get(&path).await.json;
            count += page["data"].as_array().unwrap().len();
            match page["next_cursor"].as_str() {
                Some(c) => cursor = Some(c.to_owned()),
                None => break,
            }
        }
        let export = page(
            &app,
            Method::GET,
            &format!("/payments.csv{csv_query}"),
            &cookie,
            None,
        )
        .await;
        let lines = csv::Reader::from_reader(export.text.as_bytes())
            .records()
            .count();
        assert_eq!(lines, count, "filter {query:?}");
        assert!(count > 100);
    }
}
