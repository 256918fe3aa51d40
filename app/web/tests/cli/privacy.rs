//! `payments donor export|erase` and `payments retention apply` as operators
//! run them: JSON out, one-sentence refusals that never repeat the email,
//! and a dry run that lists ids and changes nothing.

use payments::domain::{Interval, MembershipStatus, NewPayment, Timestamp};
use payments::storage::memberships::SubscriptionState;
use payments::storage::processor::{Effect, EventRecord, Source};
use payments::storage::{ConnectOptions, Store};

use super::*;

/// A migrated SQLite file in `dir` with Ada (a gift now), Bo (a gift nine
/// years ago) and Cy (an active membership); its URL.
fn seeded(dir: &std::path::Path) -> String {
    let url = format!("sqlite://{}", dir.join("p.db").display());
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let store = Store::connect(&url, &ConnectOptions::default())
            .await
            .unwrap();
        store.migrate().await.unwrap();
        let long_ago = (chrono::Utc::now() - chrono::Days::new(9 * 366)).to_rfc3339();
        for (name, email, at) in [
            ("Ada Reader", "Ada@Example.org", None),
            ("Bo Giver", "bo@example.org", Some(long_ago)),
        ] {
            let mut body = serde_json::json!({"amount": 2500, "currency": "USD",
                "method": "card", "payer": {"name": name, "email": email}});
            if let Some(at) = at {
                body["created_at"] = at.into();
            }
            let new = NewPayment::from_json(body).unwrap();
            store
                .create_payment("test", None, &new, |_| unreachable!())
                .await
                .unwrap();
        }
        let member = SubscriptionState {
            external_ref: "sub_cy".into(),
            amount: 1000,
            currency: "USD".into(),
            interval: Interval::Month,
            status: MembershipStatus::Active,
            campaign: None,
            cancel_at_period_end: false,
            started_at: Timestamp::now(),
            canceled_at: None,
            current_period_end: None,
            member: Some(("cy@example.org".into(), "Cy Member".into())),
        };
        let event = EventRecord {
            id: "evt_cy",
            kind: "customer.subscription.created",
            object_id: Some("sub_cy"),
            created: 1,
            source: Source::Webhook,
        };
        store
            .apply_event(&event, &Effect::Membership(member))
            .await
            .unwrap();
        store.close().await;
    });
    url
}

fn on(url: &str, args: &[&str], dir: &std::path::Path) -> Output {
    payments(args, dir)
        .env("PAYMENTS_DATABASE_URL", url)
        .output()
        .unwrap()
}

#[test]
fn donor_export_and_erase() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let url = seeded(d);
    let o = on(&url, &["donor", "export", "--email", "ADA@example.org"], d);
    assert!(o.status.success(), "{}", stderr(&o));
    let export: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(export["donor"]["email"], "Ada@Example.org");
    assert_eq!(export["donor"]["name"], "Ada Reader");
    assert_eq!(export["payments"][0]["amount"], 2500);
    assert!(
        export["audit_log"]
            .as_array()
            .is_some_and(|a| !a.is_empty())
    );

    let err = assert_fails(
        &on(
            &url,
            &["donor", "erase", "--email", "nobody@example.org"],
            d,
        ),
        1,
        "there is no donor with that email address",
    );
    assert!(!err.contains("nobody"), "the email is repeated: {err}");
    assert_fails(
        &on(
            &url,
            &["donor", "export", "--email", "nobody@example.org"],
            d,
        ),
        1,
        "no donor",
    );
    assert_fails(
        &on(&url, &["donor", "erase", "--email", "x"], d),
        2,
        "--email",
    );
    assert_fails(
        &on(&url, &["donor", "erase", "--email", "cy@example.org"], d),
        1,
        "--cancel-membership",
    );
    assert_fails(
        &on(
            &url,
            &[
                "donor",
                "erase",
                "--email",
                "cy@example.org",
                "--cancel-membership",
            ],
            d,
        ),
        2,
        "--cancel-membership needs Stripe",
    );

    let o = on(&url, &["donor", "erase", "--email", "ada@example.org"], d);
    assert!(o.status.success(), "{}", stderr(&o));
    let said = format!("{}{}", stdout(&o), stderr(&o)).to_lowercase();
    assert!(said.contains("erased donor don_"), "{said}");
    assert!(
        !said.contains("ada@") && !said.contains("ada reader"),
        "{said}"
    );
    assert_fails(
        &on(&url, &["donor", "export", "--email", "ada@example.org"], d),
        1,
        "no donor",
    );
}

#[test]
fn retention_dry_run_lists_ids_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let url = seeded(d);
    let o = on(&url, &["retention", "apply", "--years", "-1"], d);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("--years"), "{}", stderr(&o));

    let dry = |d: &std::path::Path| {
        let o = on(
            &url,
            &["retention", "apply", "--years", "5", "--dry-run"],
            d,
        );
        assert!(o.status.success(), "{}", stderr(&o));
        stdout(&o)
    };
    let first = dry(d);
    let lines: Vec<&str> = first.lines().collect();
    assert_eq!(lines.len(), 2, "{first}");
    assert!(lines[0].starts_with("don_"), "{first}");
    assert!(lines[1].starts_with("1 donor with no gift in 5 years would be erased"));
    assert!(!first.contains('@'), "{first}");
    assert_eq!(dry(d), first, "the dry run changed nothing");
    let o = on(&url, &["donor", "export", "--email", "bo@example.org"], d);
    assert!(o.status.success(), "{}", stderr(&o));

    // The default is 7 years: Bo's gift is 9 years old.
    let o = on(&url, &["retention", "apply"], d);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    assert_eq!(out.lines().next(), Some(lines[0]), "{out}");
    assert!(
        out.contains("erased 1 donor with no gift in 7 years"),
        "{out}"
    );
    assert!(!out.contains('@'), "{out}");
    assert_fails(
        &on(&url, &["donor", "export", "--email", "bo@example.org"], d),
        1,
        "no donor",
    );
    let o = on(&url, &["donor", "export", "--email", "ada@example.org"], d);
    assert!(o.status.success(), "Ada gave this year: {}", stderr(&o));
}
