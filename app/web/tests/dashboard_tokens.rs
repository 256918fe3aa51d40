//! API token admin: create (the secret shown once) and revoke.

mod common;
mod dashboard_support;

use dashboard_support::*;

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
