//! What holds on every dashboard page: what each role may see and do,
//! stored markup escaped, and the security headers.

mod common;
mod dashboard_support;

use dashboard_support::*;
use serde_json::json;

#[tokio::test]
async fn viewers_see_everything_but_only_admins_refund_and_manage_tokens() {
    let app = TestApp::sqlite().await;
    add_user(&app, "viewer@example.org", Role::Viewer).await;
    add_user(&app, "admin@example.org", Role::Admin).await;
    let p = app.create(payment_body(5000)).await;
    let id = p["id"].as_str().unwrap();
    let viewer = login(&app, "viewer@example.org").await;
    let admin = login(&app, "admin@example.org").await;

    for path in [
        "/",
        "/payments",
        &format!("/payments/{id}"),
        "/payments.csv",
    ] {
        assert_eq!(
            page(&app, Method::GET, path, &viewer, None).await.status,
            StatusCode::OK,
            "{path}"
        );
    }
    let detail = page(&app, Method::GET, &format!("/payments/{id}"), &viewer, None).await;
    assert!(
        !detail.text.contains("action=\"/payments/"),
        "no refund form for viewers"
    );
    assert!(
        !page(&app, Method::GET, "/", &viewer, None)
            .await
            .text
            .contains("/admin/tokens")
    );
    assert_eq!(
        page(&app, Method::GET, "/admin/tokens", &viewer, None)
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    let csrf = csrf_of(&app, &viewer).await;
    let r = page(
        &app,
        Method::POST,
        &format!("/payments/{id}/refund"),
        &viewer,
        Some(&[
            ("csrf", &csrf),
            ("idempotency_key", "k"),
            ("amount", "1.00"),
            ("reason", "other"),
        ]),
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = page(
        &app,
        Method::POST,
        "/admin/tokens",
        &viewer,
        Some(&[("csrf", &csrf), ("name", "x"), ("scope", "write")]),
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(
        app.db.store.list_tokens().await.unwrap().len(),
        2,
        "no token created"
    );

    let detail = page(&app, Method::GET, &format!("/payments/{id}"), &admin, None).await;
    assert!(
        detail
            .text
            .contains(&format!("action=\"/payments/{id}/refund\""))
    );
    assert_eq!(
        hidden(&detail.text, "amount"),
        "50.00",
        "defaults to the remainder"
    );
}

#[tokio::test]
async fn stored_markup_is_escaped_everywhere() {
    let app = TestApp::sqlite().await;
    add_user(&app, "viewer@example.org", Role::Viewer).await;
    let cookie = login(&app, "viewer@example.org").await;
    let mut body = payment_body(1234);
    body["payer"]["name"] = json!("<script>alert('x')</script>");
    body["campaign"] = json!("<img src=x onerror=alert(1)>");
    body["metadata"] = json!({"<b>k</b>": "<i>v</i>"});
    let p = app.create(body).await;
    let id = p["id"].as_str().unwrap();
    for path in [
        "/payments".to_owned(),
        format!("/payments/{id}"),
        "/".to_owned(),
    ] {
        let r = page(&app, Method::GET, &path, &cookie, None).await;
        assert_eq!(r.status, StatusCode::OK);
        assert!(!r.text.contains("<script>alert"), "{path}");
        assert!(!r.text.contains("<img src=x"), "{path}");
        assert!(
            !r.text.contains("<b>k</b>") && !r.text.contains("<i>v</i>"),
            "{path}"
        );
    }
    let table = page(&app, Method::GET, "/payments", &cookie, None).await;
    assert!(
        table
            .text
            .contains("&#60;script&#62;alert(&#39;x&#39;)&#60;/script&#62;"),
        "escaped name in the table"
    );
    let detail = page(&app, Method::GET, &format!("/payments/{id}"), &cookie, None).await;
    assert!(
        detail.text.contains("&#60;script&#62;alert(&#39;x&#39;)"),
        "escaped on the detail page"
    );
}

#[tokio::test]
async fn every_page_carries_the_security_headers() {
    let app = TestApp::sqlite().await;
    add_user(&app, "viewer@example.org", Role::Viewer).await;
    let cookie = login(&app, "viewer@example.org").await;
    for (path, cookie) in [
        ("/login", ""),
        ("/", cookie.as_str()),
        ("/payments", cookie.as_str()),
        ("/static/app.css", ""),
    ] {
        let r = page(&app, Method::GET, path, cookie, None).await;
        let csp = r
            .header("content-security-policy")
            .unwrap_or_else(|| panic!("no CSP on {path}"));
        assert!(
            !csp.contains("unsafe-inline") && !csp.contains("unsafe-eval"),
            "{csp}"
        );
        assert!(csp.contains("frame-ancestors 'none'"));
        assert_eq!(r.header("x-content-type-options"), Some("nosniff"));
        assert!(r.header("referrer-policy").is_some());
        assert!(
            r.header("strict-transport-security").is_none(),
            "no HSTS over plain HTTP"
        );
        // No inline scripts or styles, which the policy would block.
        assert!(!r.text.contains("<script"), "{path}");
        assert!(!r.text.contains(" style=\""), "{path}");
    }
    let css = page(&app, Method::GET, "/static/app.css", "", None).await;
    assert!(css.header("content-type").unwrap().starts_with("text/css"));
    assert!(css.header("cache-control").unwrap().contains("max-age"));
}
