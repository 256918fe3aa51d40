//! `/admin/tokens`: the API tokens, for admins: create (the secret is shown
//! once) and revoke.

use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::session::{Admin, CsrfForm, Staff};
use super::view::{Notice, NoticeQuery, when};
use super::{Chrome, DashError, render};
use crate::domain::TokenName;
use crate::http::AppState;
use crate::storage::accounts::Scope;

struct TokenView {
    id: String,
    name: String,
    scope: &'static str,
    created: String,
    last_used: String,
    revoked: String,
}

struct CreatedToken {
    name: String,
    scope: &'static str,
    secret: String,
}

#[derive(Template)]
#[template(path = "tokens.html")]
struct TokensPage {
    chrome: Chrome,
    tokens: Vec<TokenView>,
    created: Option<CreatedToken>,
    notice: Option<Notice>,
}

async fn tokens_page(
    state: &AppState,
    staff: &Staff,
    created: Option<CreatedToken>,
    notice: Option<Notice>,
) -> Result<TokensPage, DashError> {
    let tokens = state.store.list_tokens().await?;
    Ok(TokensPage {
        chrome: Chrome::new(staff, "tokens"),
        tokens: tokens
            .into_iter()
            .map(|t| TokenView {
                scope: t.scope.as_str(),
                created: when(t.created_at),
                last_used: t.last_used_at.map_or_else(|| "never".into(), when),
                revoked: t.revoked_at.map(when).unwrap_or_default(),
                id: t.id,
                name: t.name,
            })
            .collect(),
        created,
        notice,
    })
}

pub async fn tokens(
    State(state): State<AppState>,
    Admin(staff): Admin,
    Query(q): Query<NoticeQuery>,
) -> Result<Response, DashError> {
    Ok(render(
        &tokens_page(&state, &staff, None, q.notice()).await?,
    ))
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct CreateTokenForm {
    csrf: String,
    name: String,
    scope: String,
}

pub async fn create_token(
    State(state): State<AppState>,
    Admin(staff): Admin,
    Form(form): Form<CreateTokenForm>,
) -> Result<Response, DashError> {
    staff.check_csrf(&form.csrf)?;
    let scope = Scope::parse(&form.scope).ok();
    let (Some(scope), Ok(name)) = (scope, TokenName::parse(form.name.trim())) else {
        let notice = Notice::error(format!(
            "Give the token a name ({} to {} characters) and a scope.",
            TokenName::MIN_CHARS,
            TokenName::MAX_CHARS
        ));
        let page = tokens_page(&state, &staff, None, Some(notice)).await?;
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)).into_response());
    };
    let (token, secret) = state
        .store
        .create_token(&staff.actor(), name.as_str(), scope)
        .await?;
    let created = CreatedToken {
        name: token.name,
        scope: scope.as_str(),
        secret,
    };
    let page = tokens_page(&state, &staff, Some(created), None).await?;
    let mut response = (StatusCode::CREATED, render(&page)).into_response();
    // The secret is on this page only: never cache it.
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

pub async fn revoke_token(
    State(state): State<AppState>,
    Admin(staff): Admin,
    Path(id): Path<String>,
    Form(form): Form<CsrfForm>,
) -> Result<Response, DashError> {
    staff.check_csrf(&form.csrf)?;
    state.store.revoke_token(&staff.actor(), &id).await?;
    Ok(Redirect::to("/admin/tokens?notice=revoked").into_response())
}
