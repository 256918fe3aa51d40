//! Staff sessions: an encrypted, authenticated cookie (one shared key, so any
//! replica can read it), CSRF tokens, and the failed-login limiter.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::extract::{ConnectInfo, FromRef, FromRequestParts, OptionalFromRequestParts};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::PrivateCookieJar;
use axum_extra::extract::cookie::{Cookie, Key, SameSite};
use serde::{Deserialize, Serialize};

use super::DashError;
use crate::http::AppState;
use crate::storage::accounts::{Role, User};

pub const SESSION_COOKIE: &str = "payments_session";
pub const LOGIN_COOKIE: &str = "payments_login";
/// Sessions end after this long, whatever the activity.
pub const SESSION_LIFETIME: Duration = Duration::from_secs(12 * 3600);

impl FromRef<AppState> for Key {
    fn from_ref(state: &AppState) -> Key {
        state.cookie_key.clone()
    }
}

/// Derives the cookie encryption key from the configured session key.
pub fn cookie_key(session_key: &[u8]) -> Key {
    Key::derive_from(session_key)
}

/// What the session cookie holds (encrypted and authenticated).
#[derive(Debug, Serialize, Deserialize)]
struct SessionData {
    uid: String,
    csrf: String,
    /// Issued at, seconds since the Unix epoch.
    iat: i64,
}

/// A random token for CSRF protection.
pub fn random_token() -> String {
    let mut bytes = [0u8; 24];
    getrandom::fill(&mut bytes).expect("the operating system has no random source");
    hex::encode(bytes)
}

/// Compares two strings in time independent of where they differ.
pub fn same_token(a: &str, b: &str) -> bool {
    use subtle::ConstantTimeEq;
    a.as_bytes().ct_eq(b.as_bytes()).into()
}

/// Whether the request reached us over TLS (known only behind a trusted proxy).
pub fn is_https(headers: &HeaderMap, trust_proxy: bool) -> bool {
    trust_proxy
        && headers
            .get("x-forwarded-proto")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| {
                v.split(',')
                    .next()
                    .is_some_and(|p| p.trim().eq_ignore_ascii_case("https"))
            })
}

/// The client's address: the last `X-Forwarded-For` hop (the one our load
/// balancer added) behind a trusted proxy, else the socket's peer.
pub fn client_ip(parts: &Parts, trust_proxy: bool) -> IpAddr {
    if trust_proxy
        && let Some(ip) = parts
            .headers
            .get("x-forwarded-for")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.rsplit(',').next())
            .and_then(|v| v.trim().parse().ok())
    {
        return ip;
    }
    parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map_or(IpAddr::from([0, 0, 0, 0]), |c| c.0.ip())
}

fn base_cookie(name: &'static str, value: String, secure: bool) -> Cookie<'static> {
    Cookie::build((name, value))
        .path("/")
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(secure)
        .build()
}

/// Starts a session for `user`.
pub fn login_cookie(jar: PrivateCookieJar, user: &User, secure: bool) -> PrivateCookieJar {
    let data = SessionData {
        uid: user.id.clone(),
        csrf: random_token(),
        iat: chrono::Utc::now().timestamp(),
    };
    let value = serde_json::to_string(&data).unwrap_or_default();
    jar.remove(Cookie::build(LOGIN_COOKIE).path("/"))
        .add(base_cookie(SESSION_COOKIE, value, secure))
}

pub fn logout_cookie(jar: PrivateCookieJar) -> PrivateCookieJar {
    jar.remove(Cookie::build(SESSION_COOKIE).path("/"))
}

/// The login form's CSRF token, kept in its own short-lived cookie.
pub fn login_form_cookie(jar: PrivateCookieJar, secure: bool) -> (PrivateCookieJar, String) {
    form_cookie(jar, LOGIN_COOKIE, time::Duration::hours(1), secure)
}

/// The CSRF token of a form shown without a session (logging in, giving),
/// kept in its own private cookie `name` for `max_age`; the browser's
/// current one is kept when it has one.
pub fn form_cookie(
    jar: PrivateCookieJar,
    name: &'static str,
    max_age: time::Duration,
    secure: bool,
) -> (PrivateCookieJar, String) {
    if let Some(existing) = jar.get(name) {
        let token = existing.value().to_owned();
        return (jar, token);
    }
    let token = random_token();
    let mut cookie = base_cookie(name, token.clone(), secure);
    cookie.set_max_age(max_age);
    (jar.add(cookie), token)
}

/// Whether `sent` (a form's field) is the token in the private cookie `name`.
pub fn form_token_matches(jar: &PrivateCookieJar, name: &str, sent: &str) -> bool {
    !sent.is_empty()
        && jar
            .get(name)
            .is_some_and(|cookie| same_token(cookie.value(), sent))
}

/// The logged-in staff member.
#[derive(Clone, Debug)]
pub struct Staff {
    pub id: String,
    pub email: String,
    pub role: Role,
    pub csrf: String,
}

impl Staff {
    pub fn actor(&self) -> String {
        format!("user:{}", self.id)
    }

    pub fn is_admin(&self) -> bool {
        self.role == Role::Admin
    }

    /// Checks a form's CSRF token against the session's.
    pub fn check_csrf(&self, token: &str) -> Result<(), DashError> {
        if same_token(&self.csrf, token) {
            Ok(())
        } else {
            Err(DashError::Csrf)
        }
    }
}

/// A form whose only field is the CSRF token (logging out, revoking).
#[derive(Deserialize)]
pub struct CsrfForm {
    #[serde(default)]
    pub csrf: String,
}

/// Anonymous requests are sent to the login page.
pub struct LoginRequired;

impl IntoResponse for LoginRequired {
    fn into_response(self) -> Response {
        Redirect::to("/login").into_response()
    }
}

async fn read_session(parts: &mut Parts, state: &AppState) -> Result<Option<Staff>, DashError> {
    let jar: PrivateCookieJar = PrivateCookieJar::from_request_parts(parts, state)
        .await
        .unwrap_or_else(|never| match never {});
    let Some(cookie) = jar.get(SESSION_COOKIE) else {
        return Ok(None);
    };
    let Ok(data) = serde_json::from_str::<SessionData>(cookie.value()) else {
        return Ok(None);
    };
    let age = chrono::Utc::now().timestamp() - data.iat;
    if !(0..=SESSION_LIFETIME.as_secs() as i64).contains(&age) {
        return Ok(None);
    }
    // The user is read on every request, so a removed user is logged out.
    let user = state
        .store
        .user_by_id(&data.uid)
        .await
        .map_err(DashError::from)?;
    Ok(user.map(|u| Staff {
        id: u.id,
        email: u.email,
        role: u.role,
        csrf: data.csrf,
    }))
}

impl FromRequestParts<AppState> for Staff {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        match read_session(parts, state).await {
            Ok(Some(staff)) => Ok(staff),
            Ok(None) => Err(LoginRequired.into_response()),
            Err(e) => Err(e.into_response()),
        }
    }
}

impl OptionalFromRequestParts<AppState> for Staff {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Option<Self>, Self::Rejection> {
        read_session(parts, state)
            .await
            .map_err(IntoResponse::into_response)
    }
}

/// A staff member with the admin role (403 for viewers).
pub struct Admin(pub Staff);

impl FromRequestParts<AppState> for Admin {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let staff = <Staff as FromRequestParts<AppState>>::from_request_parts(parts, state).await?;
        if staff.is_admin() {
            Ok(Admin(staff))
        } else {
            Err(DashError::Forbidden.into_response())
        }
    }
}

/// Where a request came from: the caller's address (what failed logins are
/// counted by) and whether it came over HTTPS (whether cookies are `Secure`).
pub struct RequestSource {
    pub ip: IpAddr,
    pub over_https: bool,
}

impl FromRequestParts<AppState> for RequestSource {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        Ok(RequestSource {
            ip: client_ip(parts, state.trust_proxy),
            over_https: is_https(&parts.headers, state.trust_proxy),
        })
    }
}

/// Failed logins per client address and per email, in a sliding window.
/// Kept in memory: each replica limits on its own, which bounds guessing at
/// (replicas × limit) per window.
#[derive(Debug)]
pub struct LoginLimiter {
    window: Duration,
    per_ip: usize,
    per_email: usize,
    failures: Mutex<HashMap<String, Vec<Instant>>>,
}

impl Default for LoginLimiter {
    fn default() -> Self {
        LoginLimiter::new(Duration::from_secs(15 * 60), 20, 5)
    }
}

impl LoginLimiter {
    pub fn new(window: Duration, per_ip: usize, per_email: usize) -> Self {
        LoginLimiter {
            window,
            per_ip,
            per_email,
            failures: Mutex::new(HashMap::new()),
        }
    }

    fn keys(ip: IpAddr, email: &str) -> [String; 2] {
        [
            format!("ip:{ip}"),
            format!("email:{}", email.trim().to_lowercase()),
        ]
    }

    /// Whether this address or email has failed too often recently.
    pub fn is_limited(&self, ip: IpAddr, email: &str) -> bool {
        let now = Instant::now();
        let mut failures = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        let [ip_key, email_key] = Self::keys(ip, email);
        let mut recent = |key: &str| {
            failures.get_mut(key).map_or(0, |times| {
                times.retain(|t| now.duration_since(*t) < self.window);
                times.len()
            })
        };
        recent(&ip_key) >= self.per_ip || recent(&email_key) >= self.per_email
    }

    pub fn record_failure(&self, ip: IpAddr, email: &str) {
        let now = Instant::now();
        let mut failures = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        // Bound memory under a flood of distinct keys.
        if failures.len() > 100_000 {
            failures.retain(|_, times| {
                times
                    .last()
                    .is_some_and(|t| now.duration_since(*t) < self.window)
            });
        }
        for key in Self::keys(ip, email) {
            failures.entry(key).or_default().push(now);
        }
    }

    pub fn clear_email(&self, email: &str) {
        let mut failures = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        failures.remove(&format!("email:{}", email.trim().to_lowercase()));
    }
}

pub const TOO_MANY_ATTEMPTS: StatusCode = StatusCode::TOO_MANY_REQUESTS;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limiter_counts_per_ip_and_per_email() {
        let l = LoginLimiter::new(Duration::from_secs(60), 3, 2);
        let ip: IpAddr = "10.0.0.1".parse().unwrap();
        assert!(!l.is_limited(ip, "a@example.org"));
        l.record_failure(ip, "a@example.org");
        l.record_failure(ip, "A@example.org ");
        assert!(l.is_limited(ip, "a@example.org"), "per email");
        assert!(!l.is_limited(ip, "b@example.org"));
        l.record_failure(ip, "b@example.org");
        assert!(l.is_limited(ip, "c@example.org"), "per ip");
        assert!(!l.is_limited("10.0.0.2".parse().unwrap(), "c@example.org"));
        let short = LoginLimiter::new(Duration::from_millis(0), 1, 1);
        short.record_failure(ip, "a@example.org");
        assert!(!short.is_limited(ip, "a@example.org"), "window passed");
    }

    #[test]
    fn tokens_compare_exactly() {
        assert!(same_token("abc", "abc"));
        assert!(!same_token("abc", "abd"));
        assert!(!same_token("abc", "abcd"));
        assert_ne!(random_token(), random_token());
    }
}
