//! What the dashboard tests share: staff users, form requests with cookies,
//! logging in, and reading hidden form fields.
#![allow(dead_code)]

use axum::body::Body;
use axum::http::Request;

use crate::common::Response;
// What the dashboard tests use besides the helpers below (not each file
// uses every one).
#[allow(unused_imports)]
pub use crate::common::{TestApp, payment_body};
#[allow(unused_imports)]
pub use axum::http::{Method, StatusCode};
#[allow(unused_imports)]
pub use payments::storage::accounts::Role;

pub const PASSWORD: &str = "correct horse battery staple";

pub async fn add_user(app: &TestApp, email: &str, role: Role) {
    let hash = payments::passwords::hash_password(PASSWORD).unwrap();
    app.db
        .store
        .create_user("test", email, role, &hash)
        .await
        .unwrap();
}

pub fn cookie_pairs(r: &Response) -> Vec<String> {
    r.headers
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .map(|v| v.split(';').next().unwrap_or("").to_owned())
        .collect()
}

/// The `value` of the first input named `name`.
pub fn hidden(html: &str, name: &str) -> String {
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

pub async fn page(
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
pub async fn try_login(app: &TestApp, email: &str, password: &str) -> (Response, String) {
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

pub async fn login(app: &TestApp, email: &str) -> String {
    let (r, cookie) = try_login(app, email, PASSWORD).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text);
    assert!(!cookie.is_empty());
    cookie
}

pub async fn csrf_of(app: &TestApp, cookie: &str) -> String {
    hidden(
        &page(app, Method::GET, "/", cookie, None).await.text,
        "csrf",
    )
}
