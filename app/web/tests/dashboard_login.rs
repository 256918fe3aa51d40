//! Logging in and out of the dashboard: where anonymous requests go, the
//! session cookie, CSRF on the forms, and the failed-login limit.

mod common;
mod dashboard_support;

use axum::body::Body;
use axum::http::Request;
use dashboard_support::*;

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
