//! Year-end statements: the gifts of one year from the ledger, and the PDF
//! read back with pdftotext (poppler-utils).

use std::process::Command;

use payments::domain::{CampaignInput, NewPayment, NewRefund};
use payments::statements::{Issuer, render};
use serde_json::json;

use super::*;

fn gift(
    email: &str,
    amount: i64,
    currency: &str,
    created: &str,
    campaign: Option<&str>,
) -> NewPayment {
    let mut body = json!({
        "amount": amount, "currency": currency, "method": "card",
        "payer": {"name": "Zoë Reader", "email": email},
        "created_at": created,
    });
    if let Some(c) = campaign {
        body["campaign"] = c.into();
    }
    NewPayment::from_json(body).unwrap()
}

/// The text of a PDF, its layout kept (one table row per line).
fn pdf_text(pdf: &[u8]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("statement.pdf");
    std::fs::write(&path, pdf).unwrap();
    let out = Command::new("pdftotext")
        .args(["-layout", "-enc", "UTF-8"])
        .arg(&path)
        .arg("-")
        .output()
        .expect("pdftotext (poppler-utils) is installed");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[tokio::test]
async fn a_statement_lists_the_years_gifts_nets_refunds_and_reads_back_from_the_pdf() {
    for db in common::databases().await {
        let store = &db.store;
        let name = db.name;
        let spec = CampaignInput {
            name: "Year-end drive",
            goal: Some("1000"),
            ..Default::default()
        }
        .parse()
        .unwrap();
        store
            .create_campaign("test", "2026-year-end", &spec)
            .await
            .unwrap();
        let email = "zoe@example.org";
        let last_year = create(
            store,
            &gift(email, 9_900, "USD", "2025-12-31T23:59:59Z", None),
        )
        .await;
        let a = create(
            store,
            &gift(email, 5_000, "USD", "2026-01-01T00:00:00Z", None),
        )
        .await;
        let b = create(
            store,
            &gift(
                email,
                25_000,
                "USD",
                "2026-06-15T12:00:00Z",
                Some("2026-year-end"),
            ),
        )
        .await;
        let c = create(
            store,
            &gift(email, 1_200, "EUR", "2026-11-30T08:00:00Z", None),
        )
        .await;
        // Someone else's gift of the same year is not on it.
        create(
            store,
            &gift(
                "other@example.org",
                777,
                "USD",
                "2026-03-03T00:00:00Z",
                None,
            ),
        )
        .await;
        let refund = NewRefund::from_json(json!({"amount": 2_500})).unwrap();
        store
            .refund_payment("test", None, &b.id, &refund, |_| unreachable!())
            .await
            .unwrap();
        let donor = store.donor_by_email(email).await.unwrap().unwrap();

        let s = store.statement(&donor.id, 2026).await.unwrap();
        let ids: Vec<&str> = s.gifts.iter().map(|g| g.id.as_str()).collect();
        assert_eq!(
            ids,
            [a.id.as_str(), b.id.as_str(), c.id.as_str()],
            "{name}: 2026 only, oldest first"
        );
        assert_eq!(s.gifts[1].description, "Gift: Year-end drive", "{name}");
        assert_eq!((s.gifts[1].refunded, s.gifts[1].net()), (2_500, 22_500));
        let totals = s.totals();
        assert_eq!(
            (totals["USD"].count, totals["USD"].net),
            (2, 27_500),
            "{name}"
        );
        assert_eq!(totals["EUR"].net, 1_200, "{name}");
        assert_eq!(
            store.statement(&donor.id, 2025).await.unwrap().gifts.len(),
            1
        );
        assert!(store.statement(&donor.id, 2025).await.unwrap().gifts[0].id == last_year.id);

        let issuer = Issuer {
            name: "The Markup".into(),
            tax_id: Some("83-1234567".into()),
            address: Some("PO Box 1103; New York, NY 10159".into()),
        };
        let pdf = render(&issuer, &s);
        assert!(pdf.starts_with(b"%PDF-"), "{name}");
        let text = pdf_text(&pdf);
        for expected in [
            "The Markup",
            "Tax id: 83-1234567",
            "PO Box 1103",
            "New York, NY 10159",
            "Giving statement for 2026",
            "Zoë Reader",
            "zoe@example.org",
            "No goods or services were provided in exchange for these contributions.",
            "Page 1 of 1",
        ] {
            assert!(text.contains(expected), "{name}: {expected:?} in\n{text}");
        }
        let line_of = |date: &str| {
            text.lines()
                .find(|l| l.trim_start().starts_with(date))
                .unwrap_or_else(|| panic!("{name}: no row for {date} in\n{text}"))
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ")
        };
        assert_eq!(line_of("2026-01-01"), "2026-01-01 Gift 50.00 USD 50.00 USD");
        assert_eq!(
            line_of("2026-06-15"),
            "2026-06-15 Gift: Year-end drive 250.00 USD 25.00 USD 225.00 USD"
        );
        assert_eq!(line_of("2026-11-30"), "2026-11-30 Gift 12.00 EUR 12.00 EUR");
        let total_line = |currency: &str| {
            text.lines()
                .find(|l| l.contains(&format!("Total {currency}")))
                .unwrap_or_else(|| panic!("{name}: no {currency} total in\n{text}"))
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ")
        };
        assert_eq!(
            total_line("USD"),
            "Total USD (2 gifts) 300.00 USD 25.00 USD 275.00 USD"
        );
        assert_eq!(
            total_line("EUR"),
            "Total EUR (1 gift) 12.00 EUR 0.00 EUR 12.00 EUR"
        );
        assert!(
            !text.contains("99.00 USD"),
            "{name}: last year's gift is not on it"
        );
        assert!(!text.contains("7.77"), "{name}: nor another donor's");

        let givers = store.statement_donors(2026, "", 100).await.unwrap();
        assert_eq!(givers.len(), 2, "{name}");
        assert!(givers.contains(&donor.id));
        assert!(
            store
                .statement_donors(2024, "", 100)
                .await
                .unwrap()
                .is_empty()
        );
    }
}

#[test]
fn a_long_statement_runs_over_pages_and_keeps_every_gift() {
    use payments::domain::Timestamp;
    use payments::domain::statement::{Statement, StatementGift};
    let gifts: Vec<StatementGift> = (0..120)
        .map(|i| StatementGift {
            id: format!("pay_{i}"),
            created_at: Timestamp(1_767_225_600_000_000 + i * 86_400_000_000),
            description: format!("Gift number {i}"),
            currency: "USD".into(),
            amount: 1_000 + i,
            refunded: 0,
        })
        .collect();
    let s = Statement {
        year: 2026,
        donor_id: "don_1".into(),
        donor_name: "Ada".into(),
        donor_email: "ada@example.org".into(),
        gifts,
    };
    let text = pdf_text(&render(
        &Issuer {
            name: "The Markup".into(),
            ..Default::default()
        },
        &s,
    ));
    let pages = text.matches("Page ").count();
    assert!(pages >= 2, "{text}");
    assert!(text.contains(&format!("Page {pages} of {pages}")));
    for i in [0, 59, 119] {
        assert!(text.contains(&format!("Gift number {i} ")), "gift {i}");
    }
    assert_eq!(
        text.matches("Amount").count(),
        pages,
        "the table header on every page"
    );
    let total: i64 = (0..120).map(|i| 1_000 + i).sum();
    assert!(text.contains("Total USD (120 gifts)"));
    assert!(text.contains(&payments::domain::format_amount(total, "USD")));
}
