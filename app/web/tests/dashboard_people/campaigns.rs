//! `/campaigns`: progress, and the create and edit forms.

use serde_json::json;

use super::*;

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
        // No such campaign: 404, with good values or bad.
        for goal in ["1", "lots"] {
            let form = owned(campaign_form(&csrf, "", "X", goal));
            let r = post("/campaigns/no-such-campaign", form).await;
            assert_eq!(r.status, StatusCode::NOT_FOUND, "{db}: {goal}");
        }

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
