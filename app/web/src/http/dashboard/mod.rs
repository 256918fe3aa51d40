//! The staff dashboard: server-rendered HTML that works without JavaScript.

mod campaigns;
pub mod charts;
mod donor;
mod donors;
mod export;
mod login;
mod memberships;
mod outbox;
mod overview;
mod payment;
mod payments;
pub mod session;
mod stripe;
mod tokens;
mod view;

use askama::Template;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};

use super::routes::Routes;
use crate::storage::StoreError;

/// Bumped with the crate version so browsers refetch assets after a release.
pub const ASSET_VERSION: &str = env!("CARGO_PKG_VERSION");

/// The parts of every page around the content.
pub struct Chrome {
    pub email: String,
    pub role: &'static str,
    pub is_admin: bool,
    pub csrf: String,
    pub page: &'static str,
    pub asset_version: &'static str,
}

impl Chrome {
    pub fn new(staff: &session::Staff, page: &'static str) -> Chrome {
        Chrome {
            email: staff.email.clone(),
            role: staff.role.as_str(),
            is_admin: staff.is_admin(),
            csrf: staff.csrf.clone(),
            page,
            asset_version: ASSET_VERSION,
        }
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    title: &'a str,
    message: &'a str,
    asset_version: &'static str,
}

/// Dashboard errors, rendered as HTML pages.
#[derive(Debug, thiserror::Error)]
pub enum DashError {
    #[error("only admins may do this")]
    Forbidden,
    #[error("the form has expired or did not come from this site; reload the page and try again")]
    Csrf,
    #[error("there is no such page")]
    NotFound,
    #[error("the database is unavailable; try again in a moment")]
    Unavailable,
    #[error("something went wrong on our side; it has been logged")]
    Internal(String),
}

impl From<StoreError> for DashError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => DashError::NotFound,
            StoreError::Unavailable(_) => DashError::Unavailable,
            e @ StoreError::NotMigrated => {
                tracing::error!(error = %e, "the database is not migrated");
                DashError::Unavailable
            }
            other => DashError::Internal(other.to_string()),
        }
    }
}

impl DashError {
    fn status(&self) -> (StatusCode, &'static str) {
        match self {
            DashError::Forbidden => (StatusCode::FORBIDDEN, "Not allowed"),
            DashError::Csrf => (StatusCode::FORBIDDEN, "Form expired"),
            DashError::NotFound => (StatusCode::NOT_FOUND, "Not found"),
            DashError::Unavailable => (StatusCode::SERVICE_UNAVAILABLE, "Unavailable"),
            DashError::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "Error"),
        }
    }
}

impl IntoResponse for DashError {
    fn into_response(self) -> Response {
        if let DashError::Internal(cause) = &self {
            tracing::error!(error = %cause, "page failed");
        }
        let (status, title) = self.status();
        let message = self.to_string();
        let page = ErrorPage {
            title,
            message: &message,
            asset_version: ASSET_VERSION,
        };
        (status, render(&page)).into_response()
    }
}

/// Renders a template, or a plain error if the template itself fails.
pub fn render<T: Template>(template: &T) -> Response {
    match template.render() {
        Ok(html) => Html(html).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "template failed");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                "the page could not be rendered",
            )
                .into_response()
        }
    }
}

const STYLESHEET: &str = include_str!("../../../static/app.css");

async fn stylesheet() -> Response {
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/css; charset=utf-8"),
            ),
            // The URL carries the version, so the file may be cached for a year.
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=31536000, immutable"),
            ),
        ],
        STYLESHEET,
    )
        .into_response()
}

/// Adds the dashboard's routes.
pub fn routes(r: Routes) -> Routes {
    r.get("/", overview::overview)
        .get("/login", login::login_form)
        .post("/login", login::login)
        .post("/logout", login::logout)
        .get("/payments", payments::payments)
        .get("/payments.csv", export::payments_csv)
        .get("/payments/{id}", payment::payment)
        .post("/payments/{id}/refund", payment::refund)
        .get("/donors", donors::donors)
        .get("/donors/{id}", donor::donor)
        .get("/memberships", memberships::memberships)
        .get("/campaigns", campaigns::campaigns)
        .post("/campaigns", campaigns::create_campaign)
        .post("/campaigns/{slug}", campaigns::update_campaign)
        .get("/admin/stripe", stripe::stripe)
        .get("/outbox", outbox::outbox)
        .get("/admin/tokens", tokens::tokens)
        .post("/admin/tokens", tokens::create_token)
        .post("/admin/tokens/{id}/revoke", tokens::revoke_token)
        .get("/static/app.css", stylesheet)
}
