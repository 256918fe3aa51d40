//! The public pages: the donation form (`/donate`), the page Checkout
//! returns to (`/donate/thanks`), and their stylesheet and script. No
//! login; no third-party resources; everything works without JavaScript.

mod campaign;
mod donate;
pub mod limit;
mod thanks;

use askama::Template;
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};

use super::routes::Routes;
pub use limit::RateLimiter;

/// The private cookie holding the donation form's CSRF token.
pub const DONATE_COOKIE: &str = "payments_donate";

/// Adds the public routes.
pub fn routes(r: Routes) -> Routes {
    r.get("/donate", donate::form)
        .post("/donate", donate::submit)
        .get("/donate/thanks", thanks::thanks)
        .get("/static/donate.css", stylesheet)
        .get("/static/donate.js", script)
}

/// The public pages' Content-Security-Policy: nothing from elsewhere, the
/// page's own script only, and the form may go to Checkout (Chrome applies
/// `form-action` to the redirect that follows the submission too).
fn content_security_policy(checkout_origin: &str) -> HeaderValue {
    let policy = format!(
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
         form-action 'self' {checkout_origin}; frame-ancestors 'none'; base-uri 'none'"
    );
    HeaderValue::from_str(&policy).unwrap_or_else(|_| {
        HeaderValue::from_static(
            "default-src 'none'; script-src 'self'; style-src 'self'; form-action 'self'; \
             frame-ancestors 'none'; base-uri 'none'",
        )
    })
}

/// A rendered public page with its status and headers: its own CSP, and
/// never cached (it carries a CSRF token or a reader's details).
fn page<T: Template>(status: StatusCode, template: &T, checkout_origin: &str) -> Response {
    let html = match template.render() {
        Ok(html) => html,
        Err(e) => {
            tracing::error!(error = %e, "template failed");
            return (
                StatusCode::INTERNAL_SERVER_ERROR,
                "the page could not be rendered",
            )
                .into_response();
        }
    };
    let headers: [(HeaderName, HeaderValue); 2] = [
        (
            header::CONTENT_SECURITY_POLICY,
            content_security_policy(checkout_origin),
        ),
        (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
    ];
    (status, headers, Html(html)).into_response()
}

const STYLESHEET: &str = include_str!("../../../static/donate.css");
const SCRIPT: &str = include_str!("../../../static/donate.js");

fn asset(content_type: &'static str, body: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
            // The URL carries the version, so the file may be cached for a year.
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=31536000, immutable"),
            ),
        ],
        body,
    )
        .into_response()
}

async fn stylesheet() -> Response {
    asset("text/css; charset=utf-8", STYLESHEET)
}

async fn script() -> Response {
    asset("text/javascript; charset=utf-8", SCRIPT)
}
