//! The staff dashboard driven in-process: login, sessions, CSRF, roles,
//! escaping, CSV export, refunds and token admin.

mod common;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use common::{Response, TestApp, payment_body};
use payments::storage::accounts::Role;
use serde_json::json;

const PASSWORD: &str = "correct horse battery staple";

async fn add_user(app: &TestApp, email: &str, role: Role) {
    let hash = payments::passwords::hash_password(PASSWORD).unwrap();
    app.db
        .store
        .create_user("test", email, role, &hash)
        .await
        .unwrap();
}

fn cookie_pairs(r: &Response) -> Vec<String> {
    r.headers
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .map(|v| v.split(';').next().unwrap_or("").to_owned())
        .collect()
}

/// The `value` of the first input named `name`.
fn hidden(html: &str, name: &str) -> String {
    let at = html
        .find(&format!("name=\"{name}\""))
        .unwrap_or_else(|| panic!("no {name} in page"));
    let rest = &html[at..html[at..].find('>').map_or(html.len(), |e| at + e)];
    let start = rest
        .find("value=\"")
        .unwrap_or_else(|| panic!("{name} has no value"))
        + "value=\"".len();
    rest[start..].split('"').next().unwrap().to_owned()
}

async fn page(
    app: &TestApp,
    method: Method,
    path: &str,
    cookie: &str,
    form: Option<&[(&str, &str)]>,
) -> Response {
    let mut req = Request::builder().method(method).uri(path);
    if !cookie.is_empty() {
        req = req.header("cookie", cookie);
    }
    let body = match form {
        Some(fields) => {
            req = req.header("content-type", "application/x-www-form-urlencoded");
            Body::from(serde_urlencoded::to_string(fields).unwrap())
        }
        None => Body::empty(),
    };
    app.send(req.body(body).unwrap()).await
}

/// Logs in through the form; returns the login response and its cookie header.
async fn try_login(app: &TestApp, email: &str, password: &str) -> (Response, String) {
    let form = page(app, Method::GET, "/login", "", None).await;
    assert_eq!(form.status, StatusCode::OK);
    let login_cookie = cookie_pairs(&form).join("; ");
    let csrf = hidden(&form.text, "csrf");
    let r = page(
        app,
        Method::POST,
        "/login",
        &login_cookie,
        Some(&[("email", email), ("password", password), ("csrf", &csrf)]),
    )
    .await;
    let session = cookie_pairs(&r)
        .into_iter()
        .filter(|c| c.starts_with("payments_session="))
        .collect::<Vec<_>>()
        .join("; ");
    (r, session)
}

async fn login(app: &TestApp, email: &str) -> String {
    let (r, cookie) = try_login(app, email, PASSWORD).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text);
    assert!(!cookie.is_empty());
    cookie
}

async fn csrf_of(app: &TestApp, cookie: &str) -> String {
    hidden(
        &page(app, Method::GET, "/", cookie, None).await.text,
        "csrf",
    )
}

#[tokio::test]
async fn anonymous_requests_go_to_login() {
    let app = TestApp::sqlite().await;
    for path in [
        "/",
        "/payments",
        "/payments/pay_x",
        "/payments.csv",
        "/admin/tokens",
    ] {
        let r = page(&app, Method::GET, path, "", None).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "GET {path}");
        assert_eq!(r.header("location"), Some("/login"), "GET {path}");
    }
    for path in [
        "/logout",
        "/payments/pay_x/refund",
        "/admin/tokens",
        "/admin/tokens/tok_x/revoke",
    ] {
        let r = page(&app, Method::POST, path, "", Some(&[("csrf", "x")])).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "POST {path}");
        assert_eq!(r.header("location"), Some("/login"), "POST {path}");
    }
    // A forged or foreign cookie is no session.
    let r = page(&app, Method::GET, "/", "payments_session=forged", None).await;
    assert_eq!(r.header("location"), Some("/login"));
    let login = page(&app, Method::GET, "/login", "", None).await;
    assert_eq!(login.status, StatusCode::OK);
    assert!(login.text.contains("name=\"email\"") && login.text.contains("name=\"password\""));
}

#[tokio::test]
async fn login_sets_a_protected_cookie_and_logout_ends_it() {
    let app = TestApp::sqlite().await;
    add_user(&app, "staff@example.org", Role::Viewer).await;
    let (r, _) = try_login(&app, "staff@example.org", "wrong password!").await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert!(r.text.contains("Wrong email or password"));
    assert!(
        cookie_pairs(&r)
            .iter()
            .all(|c| !c.starts_with("payments_session="))
    );
    let (r, _) = try_login(&app, "nobody@example.org", PASSWORD).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);

    // Without the login form's CSRF token.
    let r = page(
        &app,
        Method::POST,
        "/login",
        "",
        Some(&[
            ("email", "staff@example.org"),
            ("password", PASSWORD),
            ("csrf", "x"),
        ]),
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);

    let (r, cookie) = try_login(&app, "STAFF@example.org", PASSWORD).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(r.header("location"), Some("/"));
    let set = r
        .headers
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .find(|c| c.starts_with("payments_session="))
        .unwrap();
    assert!(
        set.contains("HttpOnly") && set.contains("SameSite=Lax") && set.contains("Path=/"),
        "{set}"
    );
    assert!(
        !set.contains("Secure"),
        "plain HTTP without a trusted proxy: {set}"
    );
    assert!(
        !set.contains("staff@example.org") && !set.contains("usr_"),
        "the cookie is encrypted: {set}"
    );
    let home = page(&app, Method::GET, "/", &cookie, None).await;
    assert_eq!(home.status, StatusCode::OK);
    assert!(home.text.contains("staff@example.org"));

    let r = page(
        &app,
        Method::POST,
        "/logout",
        &cookie,
        Some(&[("csrf", "wrong")]),
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let csrf = csrf_of(&app, &cookie).await;
    let r = page(
        &app,
        Method::POST,
        "/logout",
        &cookie,
        Some(&[("csrf", &csrf)]),
    )
    .await;
    assert_eq!(r.header("location"), Some("/login"));
    let removed = r
        .headers
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .find(|c| c.starts_with("payments_session="))
        .unwrap();
    assert!(
        removed.contains("Max-Age=0") || removed.contains("Expires"),
        "{removed}"
    );
}

#[tokio::test]
async fn secure_cookie_and_hsts_behind_a_tls_proxy() {
    let db = common::sqlite_db().await;
    let mut state = common::state(db.store.clone());
    state.trust_proxy = true;
    let hash = payments::passwords::hash_password(PASSWORD).unwrap();
    db.store
        .create_user("test", "a@example.org", Role::Admin, &hash)
        .await
        .unwrap();
    let router = payments::http::router(state);
    let send = |req: Request<Body>| {
        let router = router.clone();
        async move { tower::ServiceExt::oneshot(router, req).await.unwrap() }
    };
    let form = send(
        Request::get("/login")
            .header("x-forwarded-proto", "https")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert!(form.headers().get("strict-transport-security").is_some());
    let login_cookie = form
        .headers()
        .get("set-cookie")
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    assert!(login_cookie.contains("Secure"), "{login_cookie}");
    let html = String::from_utf8(
        http_body_util::BodyExt::collect(form.into_body())
            .await
            .unwrap()
            .to_bytes()
            .to_vec(),
    )
    .unwrap();
    let body = serde_urlencoded::to_string([
        ("email", "a@example.org"),
        ("password", PASSWORD),
        ("csrf", &hidden(&html, "csrf")),
    ])
    .unwrap();
    let r = send(
        Request::post("/login")
            .header("x-forwarded-proto", "https")
            .header("cookie", login_cookie.split(';').next().unwrap())
            .header("content-type", "application/x-www-form-urlencoded")
            .body(Body::from(body))
            .unwrap(),
    )
    .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let session = r
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .find(|c| c.starts_with("payments_session="))
        .unwrap();
    assert!(session.contains("Secure"), "{session}");
}

#[tokio::test]
async fn failed_logins_are_rate_limited() {
    let app = TestApp::sqlite().await;
    add_user(&app, "target@example.org", Role::Admin).await;
    for _ in 0..5 {
        let (r, _) = try_login(&app, "target@example.org", "guess guess guess").await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    }
    // Now even the right password is refused for a while.
    let (r, cookie) = try_login(&app, "target@example.org", PASSWORD).await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(r.text.contains("Too many failed attempts"));
    assert!(cookie.is_empty());
}

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
async fn refund_form_checks_csrf_and_a_double_submission_refunds_once() {
    let app = TestApp::sqlite().await;
    add_user(&app, "admin@example.org", Role::Admin).await;
    let admin = login(&app, "admin@example.org").await;
    let p = app.create(payment_body(5000)).await;
    let id = p["id"].as_str().unwrap();
    let path = format!("/payments/{id}");
    let detail = page(&app, Method::GET, &path, &admin, None).await;
    let csrf = hidden(&detail.text, "csrf");
    let key = hidden(&detail.text, "idempotency_key");
    let refund_path = format!("/payments/{id}/refund");

    let r = page(
        &app,
        Method::POST,
        &refund_path,
        &admin,
        Some(&[
            ("csrf", "forged"),
            ("idempotency_key", &key),
            ("amount", "10.00"),
            ("reason", "duplicate"),
        ]),
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let form = [
        ("csrf", csrf.as_str()),
        ("idempotency_key", key.as_str()),
        ("amount", "10.00"),
        ("reason", "duplicate"),
    ];
    let first = page(&app, Method::POST, &refund_path, &admin, Some(&form)).await;
    assert_eq!(first.status, StatusCode::SEE_OTHER);
    assert_eq!(
        first.header("location"),
        Some(format!("{path}?notice=refunded").as_str())
    );
    let second = page(&app, Method::POST, &refund_path, &admin, Some(&form)).await;
    assert_eq!(
        second.header("location"),
        Some(format!("{path}?notice=already").as_str())
    );
    let stored = app.db.store.payment_with_refunds(id).await.unwrap();
    assert_eq!(stored.amount_refunded, 1000);
    assert_eq!(stored.refunds.unwrap().len(), 1);
    let after = page(
        &app,
        Method::GET,
        &format!("{path}?notice=refunded"),
        &admin,
        None,
    )
    .await;
    assert!(after.text.contains("Refund recorded."));
    assert!(after.text.contains("partially refunded"));
    assert!(
        after.text.contains("refund.created"),
        "audit trail shows the refund"
    );
    assert_eq!(hidden(&after.text, "amount"), "40.00");

    // More than remains, and nonsense amounts, are refused with the reason.
    let key2 = hidden(&after.text, "idempotency_key");
    for (amount, status, says) in [
        ("40.01", StatusCode::CONFLICT, "exceeds"),
        (
            "ten",
            StatusCode::UNPROCESSABLE_ENTITY,
            "must be an amount such as 25.00",
        ),
    ] {
        let r = page(
            &app,
            Method::POST,
            &refund_path,
            &admin,
            Some(&[
                ("csrf", &csrf),
                ("idempotency_key", &key2),
                ("amount", amount),
                ("reason", "other"),
            ]),
        )
        .await;
        assert_eq!(r.status, status, "{amount}: {}", r.text);
        assert!(r.text.contains(says), "{amount}: {}", r.text);
    }
    assert_eq!(
        app.db.store.payment(id).await.unwrap().amount_refunded,
        1000
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

#[tokio::test]
async fn overview_shows_totals_charts_and_breakdowns() {
    let app = TestApp::sqlite().await;
    add_user(&app, "viewer@example.org", Role::Viewer).await;
    let cookie = login(&app, "viewer@example.org").await;
    let empty = page(&app, Method::GET, "/", &cookie, None).await;
    assert!(empty.text.contains("No payments yet"));
    let mut a = payment_body(12_345);
    a["method"] = json!("paypal");
    app.create(a).await;
    app.create(payment_body(10_000)).await;
    let r = page(&app, Method::GET, "/", &cookie, None).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.text.contains("223.45 USD"), "this month's gross");
    assert!(r.text.matches("<svg").count() >= 2, "two charts");
    assert!(r.text.contains("Daily gross and refunds"));
    assert!(r.text.contains("paypal") && r.text.contains("2026-year-end"));
    assert!(r.text.contains("<th scope=\"col\""), "table headers");
}

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

#[tokio::test]
async fn admins_create_and_revoke_tokens() {
    let app = TestApp::sqlite().await;
    add_user(&app, "admin@example.org", Role::Admin).await;
    let admin = login(&app, "admin@example.org").await;
    let csrf = csrf_of(&app, &admin).await;
    let r = page(
        &app,
        Method::POST,
        "/admin/tokens",
        &admin,
        Some(&[("csrf", "nope"), ("name", "relay"), ("scope", "write")]),
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = page(
        &app,
        Method::POST,
        "/admin/tokens",
        &admin,
        Some(&[("csrf", &csrf), ("name", "relay"), ("scope", "write")]),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED);
    assert_eq!(r.header("cache-control"), Some("no-store"));
    let secret = r
        .text
        .split("<code class=\"secret\" aria-label=\"Token secret\">")
        .nth(1)
        .unwrap()
        .split('<')
        .next()
        .unwrap()
        .to_owned();
    assert!(secret.starts_with("pmt_"));
    let list = page(&app, Method::GET, "/admin/tokens", &admin, None).await;
    assert!(
        list.text.contains("relay") && !list.text.contains(&secret),
        "the secret is shown once"
    );
    // The new token works on the API.
    assert_eq!(
        app.call(Method::GET, "/api/v1/payments", Some(&secret), None, None)
            .await
            .status,
        StatusCode::OK
    );
    let token = app
        .db
        .store
        .list_tokens()
        .await
        .unwrap()
        .into_iter()
        .find(|t| t.name == "relay")
        .unwrap();
    let r = page(
        &app,
        Method::POST,
        &format!("/admin/tokens/{}/revoke", token.id),
        &admin,
        Some(&[("csrf", &csrf)]),
    )
    .await;
    assert_eq!(r.header("location"), Some("/admin/tokens?notice=revoked"));
    assert_eq!(
        app.call(Method::GET, "/api/v1/payments", Some(&secret), None, None)
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    let list = page(
        &app,
        Method::GET,
        "/admin/tokens?notice=revoked",
        &admin,
        None,
    )
    .await;
    assert!(list.text.contains("Token revoked.") && list.text.contains("revoked 20"));
    let r = page(
        &app,
        Method::POST,
        "/admin/tokens",
        &admin,
        Some(&[("csrf", &csrf), ("name", ""), ("scope", "write")]),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
}
