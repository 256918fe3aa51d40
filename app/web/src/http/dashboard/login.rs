//! `/login` and `/logout`.

use askama::Template;
use axum::Form;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::PrivateCookieJar;
use serde::Deserialize;

use super::session::{self, CsrfForm, RequestSource, Staff, TOO_MANY_ATTEMPTS};
use super::{ASSET_VERSION, DashError, render};
use crate::http::AppState;
use crate::passwords;

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    csrf: String,
    email: String,
    error: Option<String>,
    asset_version: &'static str,
}

/// The login form, with its CSRF cookie (kept if the browser has one).
fn form_page(
    jar: PrivateCookieJar,
    source: &RequestSource,
    email: String,
    error: Option<String>,
) -> (PrivateCookieJar, Response) {
    let (jar, csrf) = session::login_form_cookie(jar, source.over_https);
    let page = LoginPage {
        csrf,
        email,
        error,
        asset_version: ASSET_VERSION,
    };
    (jar, render(&page))
}

#[derive(Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    csrf: String,
}

pub async fn login_form(
    staff: Option<Staff>,
    jar: PrivateCookieJar,
    source: RequestSource,
) -> Response {
    if staff.is_some() {
        return Redirect::to("/").into_response();
    }
    form_page(jar, &source, String::new(), None).into_response()
}

pub async fn login(
    State(state): State<AppState>,
    jar: PrivateCookieJar,
    source: RequestSource,
    Form(form): Form<LoginForm>,
) -> Response {
    let expected = jar.get(session::LOGIN_COOKIE).map(|c| c.value().to_owned());
    if !expected.is_some_and(|t| session::same_token(&t, &form.csrf)) {
        return DashError::Csrf.into_response();
    }
    let again = |jar: PrivateCookieJar, status: StatusCode, error: &str| {
        let (jar, page) = form_page(jar, &source, form.email.clone(), Some(error.to_owned()));
        (status, jar, page).into_response()
    };
    let email = form.email.trim().to_owned();
    if state.login_limiter.is_limited(source.ip, &email) {
        return again(
            jar,
            TOO_MANY_ATTEMPTS,
            "Too many failed attempts. Wait 15 minutes and try again.",
        );
    }
    let user = match state.store.user_by_email(&email).await {
        Ok(u) => u,
        Err(e) => return DashError::from(e).into_response(),
    };
    // Verify even for unknown emails, so timing does not tell which exist.
    let hash = user
        .as_ref()
        .map_or_else(|| DUMMY_HASH.clone(), |u| u.password_hash.clone());
    let password = form.password.clone();
    let ok = tokio::task::spawn_blocking(move || passwords::verify_password(&password, &hash))
        .await
        .unwrap_or(false);
    match user {
        Some(user) if ok => {
            state.login_limiter.clear_email(&email);
            tracing::info!(user = %user.id, "logged in");
            let jar = session::login_cookie(jar, &user, source.over_https);
            (jar, Redirect::to("/")).into_response()
        }
        _ => {
            state.login_limiter.record_failure(source.ip, &email);
            tracing::info!("failed login");
            again(jar, StatusCode::UNAUTHORIZED, "Wrong email or password.")
        }
    }
}

static DUMMY_HASH: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    passwords::hash_password("not a real password").unwrap_or_default()
});

pub async fn logout(staff: Staff, jar: PrivateCookieJar, Form(form): Form<CsrfForm>) -> Response {
    if let Err(e) = staff.check_csrf(&form.csrf) {
        return e.into_response();
    }
    (session::logout_cookie(jar), Redirect::to("/login")).into_response()
}
