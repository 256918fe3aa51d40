//! Dashboard pages and forms.

use std::collections::BTreeMap;

use askama::Template;
use axum::Form;
use axum::body::{Body, Bytes};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::PrivateCookieJar;
use chrono::{Datelike, Days, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::session::{self, Admin, Client, Staff, TOO_MANY_ATTEMPTS};
use super::{ASSET_VERSION, Chrome, DashError, charts, render};
use crate::domain::{
    Breakdown, Currency, Cursor, Filter, ListRequest, Method, NewRefund, PageFrom, Payment,
    RawListParams, RefundReason, Status, SummaryRequest, Timestamp, exponent_of, format_amount,
    parse_major_units, to_major_units, write_major_units,
};
use crate::http::AppState;
use crate::http::extract::request_hash;
use crate::passwords;
use crate::storage::StoreError;
use crate::storage::accounts::Scope;
use crate::storage::payments::{ExportRow, IdempotencyClaim, Idempotent, RecordedResponse};

const PAGE_SIZE: i64 = 50;

fn when(ts: Timestamp) -> String {
    ts.to_datetime().format("%Y-%m-%d %H:%M:%S").to_string()
}

// ---------------------------------------------------------------- login

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    csrf: String,
    email: String,
    error: Option<String>,
    asset_version: &'static str,
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

pub async fn login_form(staff: Option<Staff>, jar: PrivateCookieJar, client: Client) -> Response {
    if staff.is_some() {
        return Redirect::to("/").into_response();
    }
    let (jar, csrf) = session::login_form_cookie(jar, client.https);
    let page = LoginPage {
        csrf,
        email: String::new(),
        error: None,
        asset_version: ASSET_VERSION,
    };
    (jar, render(&page)).into_response()
}

pub async fn login(
    State(state): State<AppState>,
    jar: PrivateCookieJar,
    client: Client,
    Form(form): Form<LoginForm>,
) -> Response {
    let expected = jar.get(session::LOGIN_COOKIE).map(|c| c.value().to_owned());
    if !expected.is_some_and(|t| session::same_token(&t, &form.csrf)) {
        return DashError::Csrf.into_response();
    }
    let again = |jar: PrivateCookieJar, status: StatusCode, error: &str| {
        let (jar, csrf) = session::login_form_cookie(jar, client.https);
        let page = LoginPage {
            csrf,
            email: form.email.clone(),
            error: Some(error.to_owned()),
            asset_version: ASSET_VERSION,
        };
        (status, jar, render(&page)).into_response()
    };
    let email = form.email.trim().to_owned();
    if state.login_limiter.is_limited(client.ip, &email) {
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
            let jar = session::login_cookie(jar, &user, client.https);
            (jar, Redirect::to("/")).into_response()
        }
        _ => {
            state.login_limiter.record_failure(client.ip, &email);
            tracing::info!("failed login");
            again(jar, StatusCode::UNAUTHORIZED, "Wrong email or password.")
        }
    }
}

static DUMMY_HASH: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    passwords::hash_password("not a real password").unwrap_or_default()
});

#[derive(Deserialize)]
pub struct CsrfForm {
    #[serde(default)]
    csrf: String,
}

pub async fn logout(staff: Staff, jar: PrivateCookieJar, Form(form): Form<CsrfForm>) -> Response {
    if let Err(e) = staff.check_csrf(&form.csrf) {
        return e.into_response();
    }
    (session::logout_cookie(jar), Redirect::to("/login")).into_response()
}

// ---------------------------------------------------------------- overview

struct MonthView {
    label: String,
    gross: String,
    refunded: String,
    net: String,
    count: i64,
}

struct CurrencyView {
    code: String,
    months: Vec<MonthView>,
}

struct BreakdownRow {
    key: String,
    count: i64,
    gross: String,
    refunded: String,
    net: String,
}

#[derive(Template)]
#[template(path = "overview.html")]
struct OverviewPage {
    chrome: Chrome,
    currencies: Vec<CurrencyView>,
    primary: String,
    daily_chart: String,
    daily_caption: String,
    method_chart: String,
    by_method: Vec<BreakdownRow>,
    by_campaign: Vec<BreakdownRow>,
}

fn rows(map: &BTreeMap<String, Breakdown>, code: &str) -> Vec<(String, Breakdown)> {
    let mut rows: Vec<(String, Breakdown)> = map.iter().map(|(k, b)| (k.clone(), *b)).collect();
    rows.sort_by(|a, b| b.1.gross.cmp(&a.1.gross).then(a.0.cmp(&b.0)));
    let _ = code;
    rows
}

fn breakdown_rows(rows: &[(String, Breakdown)], code: &str) -> Vec<BreakdownRow> {
    rows.iter()
        .map(|(k, b)| BreakdownRow {
            key: k.clone(),
            count: b.count,
            gross: format_amount(b.gross, code),
            refunded: format_amount(b.refunded, code),
            net: format_amount(b.net, code),
        })
        .collect()
}

/// `/`: this and last month per currency, 90 days of daily totals, and
/// breakdowns, all from the daily rollups.
pub async fn overview(State(state): State<AppState>, staff: Staff) -> Result<Response, DashError> {
    let today = Utc::now().date_naive();
    let month_start = today.with_day(1).unwrap_or(today);
    let last_month_end = month_start - Days::new(1);
    let last_month_start = last_month_end.with_day(1).unwrap_or(last_month_end);
    // The cards: up to six currencies, most used first, two reads for all.
    let codes = state.store.currencies().await?;
    let shown: Vec<String> = codes
        .iter()
        .filter(|c| Currency::parse(c).is_ok())
        .take(6)
        .cloned()
        .collect();
    let this_month = state
        .store
        .totals_by_currency(&shown, month_start, today)
        .await?;
    let last_month = state
        .store
        .totals_by_currency(&shown, last_month_start, last_month_end)
        .await?;
    let currencies = shown
        .iter()
        .map(|code| CurrencyView {
            code: code.clone(),
            months: [
                (month_start.format("%B %Y").to_string(), &this_month),
                (last_month_start.format("%B %Y").to_string(), &last_month),
            ]
            .into_iter()
            .map(|(label, totals)| {
                let (count, gross, refunded) = totals.get(code).copied().unwrap_or_default();
                MonthView {
                    label,
                    gross: format_amount(gross, code),
                    refunded: format_amount(refunded, code),
                    net: format_amount(gross - refunded, code),
                    count,
                }
            })
            .collect(),
        })
        .collect();
    let primary = codes.first().cloned().unwrap_or_else(|| "USD".to_owned());
    let currency = Currency::parse(&primary).unwrap_or(Currency::USD);
    let s = state
        .store
        .summary(&SummaryRequest {
            currency,
            from: today - Days::new(89),
            to: today,
        })
        .await?;
    let exponent = currency.exponent();
    let methods = rows(&s.by_method, &primary);
    let campaigns = rows(&s.by_campaign, &primary);
    let page = OverviewPage {
        chrome: Chrome::new(&staff, "overview"),
        daily_chart: charts::daily(&s.daily, &primary, exponent),
        daily_caption: format!(
            "{} payments, gross {}, refunded {}, net {} from {} to {}.",
            s.count,
            format_amount(s.gross, &primary),
            format_amount(s.refunded, &primary),
            format_amount(s.net, &primary),
            s.from,
            s.to
        ),
        method_chart: charts::breakdown(
            &methods,
            &format!("Gross by method ({primary})"),
            &primary,
            exponent,
        ),
        by_method: breakdown_rows(&methods, &primary),
        by_campaign: breakdown_rows(&campaigns, &primary),
        currencies,
        primary,
    };
    Ok(render(&page))
}

// ---------------------------------------------------------------- payments

/// The table's filters as the form sends them (all text, all optional).
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(default)]
pub struct PaymentsForm {
    #[serde(skip_serializing_if = "String::is_empty")]
    q: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    status: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    method: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    currency: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    campaign: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    created_gte: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    created_lt: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    amount_min: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    amount_max: String,
    #[serde(skip_serializing)]
    after: String,
    #[serde(skip_serializing)]
    before: String,
}

fn opt(s: &str) -> Option<String> {
    let s = s.trim();
    (!s.is_empty()).then(|| s.to_owned())
}

impl PaymentsForm {
    /// The filter, or the messages to show above the table.
    fn filter(&self) -> Result<Filter, Vec<String>> {
        let mut errors = Vec::new();
        let exponent = exponent_of(&self.currency.trim().to_uppercase());
        let mut amount = |label: &str, text: &str| -> Option<String> {
            let text = opt(text)?;
            match parse_major_units(&text, exponent) {
                Ok(v) => Some(v.to_string()),
                Err(m) => {
                    errors.push(format!("{label} {m}"));
                    None
                }
            }
        };
        let raw = RawListParams {
            amount_gte: amount("Min amount", &self.amount_min),
            amount_lte: amount("Max amount", &self.amount_max),
            q: opt(&self.q),
            status: opt(&self.status),
            method: opt(&self.method),
            currency: opt(&self.currency).map(|c| c.to_uppercase()),
            campaign: opt(&self.campaign),
            created_gte: opt(&self.created_gte),
            created_lt: opt(&self.created_lt),
            ..RawListParams::default()
        };
        match raw.filter() {
            Ok(filter) if errors.is_empty() => Ok(filter),
            Ok(_) => Err(errors),
            Err(fields) => {
                errors.extend(
                    fields
                        .into_iter()
                        .map(|e| format!("{} {}", e.field.replace('_', " "), e.message)),
                );
                Err(errors)
            }
        }
    }

    fn query(&self, extra: Option<(&str, String)>) -> String {
        let mut q = serde_urlencoded::to_string(self).unwrap_or_default();
        if let Some((k, v)) = extra {
            if !q.is_empty() {
                q.push('&');
            }
            q.push_str(&serde_urlencoded::to_string([(k, v)]).unwrap_or_default());
        }
        if q.is_empty() {
            String::new()
        } else {
            format!("?{q}")
        }
    }
}

struct PaymentRowView {
    id: String,
    created: String,
    name: String,
    email: String,
    amount: String,
    refunded: String,
    status: &'static str,
    status_label: String,
    method: &'static str,
    campaign: String,
}

impl PaymentRowView {
    fn new(p: &Payment) -> Self {
        PaymentRowView {
            id: p.id.clone(),
            created: when(p.created_at),
            name: p.payer.name.clone(),
            email: p.payer.email.clone(),
            amount: format_amount(p.amount, &p.currency),
            refunded: if p.amount_refunded > 0 {
                format_amount(p.amount_refunded, &p.currency)
            } else {
                String::new()
            },
            status: p.status.as_str(),
            status_label: p.status.as_str().replace('_', " "),
            method: p.method.as_str(),
            campaign: p.campaign.clone().unwrap_or_default(),
        }
    }
}

/// One `<option>` of a select.
struct Choice {
    value: &'static str,
    selected: bool,
}

impl Choice {
    fn list(values: impl Iterator<Item = &'static str>, current: &str) -> Vec<Choice> {
        values
            .map(|value| Choice {
                value,
                selected: value == current.trim(),
            })
            .collect()
    }
}

#[derive(Template)]
#[template(path = "payments.html")]
struct PaymentsPage {
    chrome: Chrome,
    form: PaymentsForm,
    statuses: Vec<Choice>,
    methods: Vec<Choice>,
    errors: Vec<String>,
    rows: Vec<PaymentRowView>,
    prev_link: Option<String>,
    next_link: Option<String>,
    export_query: String,
}

/// `/payments`: the filtered table with keyset "newer/older" links.
pub async fn payments(
    State(state): State<AppState>,
    staff: Staff,
    Query(form): Query<PaymentsForm>,
) -> Result<Response, DashError> {
    let mut page = PaymentsPage {
        chrome: Chrome::new(&staff, "payments"),
        statuses: Choice::list(Status::ALL.iter().map(|s| s.as_str()), &form.status),
        methods: Choice::list(Method::ALL.iter().map(|m| m.as_str()), &form.method),
        errors: Vec::new(),
        rows: Vec::new(),
        prev_link: None,
        next_link: None,
        export_query: form.query(None),
        form: form.clone(),
    };
    let filter = match form.filter() {
        Ok(f) => f,
        Err(errors) => {
            page.errors = errors;
            return Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)).into_response());
        }
    };
    let from = match (
        Cursor::decode(form.after.trim()),
        Cursor::decode(form.before.trim()),
    ) {
        (Some(c), _) => PageFrom::After(c),
        (None, Some(c)) => PageFrom::Before(c),
        _ => PageFrom::Start,
    };
    let result = state
        .store
        .list_payments(&ListRequest {
            filter,
            limit: PAGE_SIZE,
            from: from.clone(),
        })
        .await?;
    let cursor = |p: &Payment| {
        Cursor {
            created_at: p.created_at.0,
            id: p.id.clone(),
        }
        .encode()
    };
    let (newer_exist, older_exist) = match from {
        PageFrom::Start => (false, result.has_more),
        PageFrom::After(_) => (true, result.has_more),
        PageFrom::Before(_) => (result.has_more, true),
    };
    if let (true, Some(first)) = (newer_exist, result.items.first()) {
        page.prev_link = Some(format!(
            "/payments{}",
            form.query(Some(("before", cursor(first))))
        ));
    }
    if let (true, Some(last)) = (older_exist, result.items.last()) {
        page.next_link = Some(format!(
            "/payments{}",
            form.query(Some(("after", cursor(last))))
        ));
    }
    page.rows = result.items.iter().map(PaymentRowView::new).collect();
    Ok(render(&page))
}

/// Prefixes text cells that a spreadsheet would run as a formula.
pub fn neutralise(cell: &str) -> std::borrow::Cow<'_, str> {
    match cell.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{cell}").into(),
        _ => cell.into(),
    }
}

const CSV_HEADER: [&str; 13] = [
    "id",
    "created_at",
    "amount",
    "currency",
    "amount_refunded",
    "status",
    "method",
    "payer_name",
    "payer_email",
    "campaign",
    "description",
    "external_ref",
    "metadata",
];
const CSV_BATCH: i64 = 5000;

fn csv_rows(rows: &[ExportRow], header: bool) -> Result<Bytes, csv::Error> {
    let mut w = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(Vec::with_capacity(rows.len() * 320));
    if header {
        w.write_record(CSV_HEADER)?;
    }
    // Rows come in runs of a few currencies: remember the last exponent
    // rather than look the code up twice a row.
    let mut last: Option<(&str, u32)> = None;
    let (mut amount, mut refunded) = (String::new(), String::new());
    for r in rows {
        let exponent = match last {
            Some((code, exponent)) if code == r.currency() => exponent,
            _ => {
                let exponent = exponent_of(r.currency());
                last = Some((r.currency(), exponent));
                exponent
            }
        };
        amount.clear();
        write_major_units(&mut amount, r.amount(), exponent);
        refunded.clear();
        write_major_units(&mut refunded, r.amount_refunded(), exponent);
        w.write_record([
            r.id(),
            &r.created_at().to_rfc3339(),
            &amount,
            r.currency(),
            &refunded,
            r.status(),
            r.method(),
            &neutralise(r.payer_name()),
            &neutralise(r.payer_email()),
            &neutralise(r.campaign()),
            &neutralise(r.description()),
            &neutralise(r.external_ref()),
            &neutralise(r.metadata_json()),
        ])?;
    }
    w.into_inner()
        .map(Bytes::from)
        .map_err(|e| csv::Error::from(e.into_error()))
}

/// `/payments.csv`: the filtered set, streamed in keyset batches so memory
/// stays constant whatever the size.
pub async fn payments_csv(
    State(state): State<AppState>,
    _staff: Staff,
    Query(form): Query<PaymentsForm>,
) -> Result<Response, DashError> {
    let filter = match form.filter() {
        Ok(f) => f,
        Err(errors) => {
            return Ok((StatusCode::UNPROCESSABLE_ENTITY, errors.join("\n")).into_response());
        }
    };
    // Two stages, so the next batch is read while this one is written out:
    // the database reader feeds batches to the CSV writer, which feeds the body.
    let (batches_tx, mut batches_rx) = tokio::sync::mpsc::channel::<Vec<ExportRow>>(2);
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Bytes, std::io::Error>>(4);
    let store = state.store.clone();
    let reader_tx = tx.clone();
    tokio::spawn(async move {
        let mut after: Option<Cursor> = None;
        loop {
            // One more row than a batch: it tells whether another batch follows.
            let mut rows = match store.export_rows(&filter, after, CSV_BATCH + 1).await {
                Ok(rows) => rows,
                Err(e) => {
                    tracing::error!(error = %e, "CSV export failed");
                    let _ = reader_tx
                        .send(Err(std::io::Error::other("export failed")))
                        .await;
                    return;
                }
            };
            let more = rows.len() as i64 > CSV_BATCH;
            rows.truncate(CSV_BATCH as usize);
            after = rows.last().filter(|_| more).map(|last| Cursor {
                created_at: last.created_at().0,
                id: last.id().to_owned(),
            });
            if batches_tx.send(rows).await.is_err() {
                return; // the writer stopped: the client went away
            }
            if after.is_none() {
                return;
            }
        }
    });
    tokio::spawn(async move {
        let mut first = true;
        while let Some(batch) = batches_rx.recv().await {
            let chunk = csv_rows(&batch, first).map_err(|e| std::io::Error::other(e.to_string()));
            first = false;
            let failed = chunk.is_err();
            if tx.send(chunk).await.is_err() || failed {
                return;
            }
        }
    });
    let filename = format!(
        "attachment; filename=\"payments-{}.csv\"",
        Utc::now().format("%Y%m%d-%H%M%S")
    );
    let mut response =
        Body::from_stream(tokio_stream::wrappers::ReceiverStream::new(rx)).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if let Ok(v) = HeaderValue::from_str(&filename) {
        headers.insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(response)
}

// ---------------------------------------------------------------- detail and refunds

struct Notice {
    kind: &'static str,
    text: String,
}

struct DetailView {
    id: String,
    amount: String,
    refunded: String,
    remaining: String,
    currency: String,
    status: &'static str,
    status_label: String,
    method: &'static str,
    name: String,
    email: String,
    campaign: String,
    description: String,
    external_ref: String,
    created: String,
    updated: String,
    metadata: Vec<(String, String)>,
}

struct RefundView {
    id: String,
    created: String,
    amount: String,
    reason: &'static str,
}

struct AuditView {
    when: String,
    actor: String,
    action: String,
    details: String,
}

struct RefundFormView {
    remaining: String,
    idempotency_key: String,
}

#[derive(Template)]
#[template(path = "payment.html")]
struct PaymentPage {
    chrome: Chrome,
    p: DetailView,
    refunds: Vec<RefundView>,
    audit: Vec<AuditView>,
    refund_form: Option<RefundFormView>,
    reasons: Vec<&'static str>,
    notice: Option<Notice>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct NoticeQuery {
    notice: String,
}

fn fixed_notice(code: &str) -> Option<Notice> {
    let (kind, text) = match code {
        "refunded" => ("ok", "Refund recorded."),
        "already" => (
            "info",
            "This refund was already recorded (the form was sent twice).",
        ),
        "revoked" => ("ok", "Token revoked."),
        _ => return None,
    };
    Some(Notice {
        kind,
        text: text.to_owned(),
    })
}

async fn payment_page(
    state: &AppState,
    staff: &Staff,
    id: &str,
    notice: Option<Notice>,
) -> Result<PaymentPage, DashError> {
    let p = state.store.payment_with_refunds(id).await?;
    let audit = state.store.audit_trail(id).await?;
    let code = p.currency.clone();
    let remaining = p.amount - p.amount_refunded;
    let refundable =
        matches!(p.status, Status::Succeeded | Status::PartiallyRefunded) && remaining > 0;
    Ok(PaymentPage {
        chrome: Chrome::new(staff, "payments"),
        refund_form: (staff.is_admin() && refundable).then(|| RefundFormView {
            remaining: to_major_units(remaining, &code),
            idempotency_key: uuid::Uuid::now_v7().to_string(),
        }),
        reasons: RefundReason::ALL.iter().map(|r| r.as_str()).collect(),
        refunds: p
            .refunds
            .clone()
            .unwrap_or_default()
            .iter()
            .map(|r| RefundView {
                id: r.id.clone(),
                created: when(r.created_at),
                amount: format_amount(r.amount, &code),
                reason: r.reason.as_str(),
            })
            .collect(),
        audit: audit
            .into_iter()
            .map(|a| AuditView {
                when: when(Timestamp(a.occurred_at)),
                actor: a.actor.0,
                action: a.action.0,
                details: a.details.0,
            })
            .collect(),
        p: DetailView {
            amount: format_amount(p.amount, &code),
            refunded: format_amount(p.amount_refunded, &code),
            remaining: format_amount(remaining, &code),
            status: p.status.as_str(),
            status_label: p.status.as_str().replace('_', " "),
            method: p.method.as_str(),
            name: p.payer.name.clone(),
            email: p.payer.email.clone(),
            campaign: p.campaign.clone().unwrap_or_else(|| "—".into()),
            description: p.description.clone().unwrap_or_else(|| "—".into()),
            external_ref: p.external_ref.clone().unwrap_or_else(|| "—".into()),
            created: when(p.created_at),
            updated: when(p.updated_at),
            metadata: p.metadata.clone().into_iter().collect(),
            currency: code,
            id: p.id,
        },
        notice,
    })
}

/// `/payments/{id}`: every field, refunds, the audit trail, and (for admins) the refund form.
pub async fn payment(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
    Query(q): Query<NoticeQuery>,
) -> Result<Response, DashError> {
    let page = payment_page(&state, &staff, &id, fixed_notice(&q.notice)).await?;
    Ok(render(&page))
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct RefundForm {
    csrf: String,
    idempotency_key: String,
    amount: String,
    reason: String,
}

/// The detail page again, with why the refund was not made.
async fn refused(
    state: &AppState,
    staff: &Staff,
    id: &str,
    status: StatusCode,
    text: String,
) -> Result<Response, DashError> {
    let page = payment_page(
        state,
        staff,
        id,
        Some(Notice {
            kind: "error",
            text,
        }),
    )
    .await?;
    Ok((status, render(&page)).into_response())
}

/// Refunds through the same rules and idempotency as the API: a form sent
/// twice (same hidden key) refunds once.
pub async fn refund(
    State(state): State<AppState>,
    Admin(staff): Admin,
    Path(id): Path<String>,
    Form(form): Form<RefundForm>,
) -> Result<Response, DashError> {
    staff.check_csrf(&form.csrf)?;
    let payment = state.store.payment(&id).await?;
    let amount = match parse_major_units(&form.amount, exponent_of(&payment.currency)) {
        Ok(a) => a,
        Err(m) => {
            return refused(
                &state,
                &staff,
                &id,
                StatusCode::UNPROCESSABLE_ENTITY,
                format!("The amount {m}."),
            )
            .await;
        }
    };
    let key = form.idempotency_key.trim();
    if key.is_empty() || key.len() > 255 || !key.bytes().all(|b| (0x21..=0x7e).contains(&b)) {
        return refused(
            &state,
            &staff,
            &id,
            StatusCode::UNPROCESSABLE_ENTITY,
            "The form is incomplete; reload the page.".into(),
        )
        .await;
    }
    let body = json!({"amount": amount, "reason": form.reason});
    let new = match NewRefund::from_json(body.clone()) {
        Ok(r) => r,
        Err(errors) => {
            let text = errors
                .iter()
                .map(|e| format!("{} {}", e.field, e.message))
                .collect::<Vec<_>>()
                .join("; ");
            return refused(&state, &staff, &id, StatusCode::UNPROCESSABLE_ENTITY, text).await;
        }
    };
    let idem = IdempotencyClaim {
        principal: staff.actor(),
        key: key.to_owned(),
        request_hash: request_hash("POST", &format!("/payments/{id}/refund"), &body),
    };
    let outcome = state
        .store
        // A repeat is answered with a notice of its own: nothing to record.
        .refund_payment(&staff.actor(), Some(&idem), &id, &new, |_| {
            RecordedResponse::default()
        })
        .await;
    match outcome {
        Ok(Idempotent::Done(_)) => {
            Ok(Redirect::to(&format!("/payments/{id}?notice=refunded")).into_response())
        }
        Ok(Idempotent::Replay(_)) => {
            Ok(Redirect::to(&format!("/payments/{id}?notice=already")).into_response())
        }
        Ok(Idempotent::Mismatch) => {
            refused(
                &state,
                &staff,
                &id,
                StatusCode::UNPROCESSABLE_ENTITY,
                "This form was already used for another refund; reload the page.".into(),
            )
            .await
        }
        Err(StoreError::Conflict(m)) => {
            refused(
                &state,
                &staff,
                &id,
                StatusCode::CONFLICT,
                format!("Not refunded: {m}."),
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

// ---------------------------------------------------------------- tokens

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
        &tokens_page(&state, &staff, None, fixed_notice(&q.notice)).await?,
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
    let name = form.name.trim();
    let scope = Scope::parse(&form.scope).ok();
    let (Some(scope), true) = (scope, (1..=100).contains(&name.chars().count())) else {
        let notice = Notice {
            kind: "error",
            text: "Give the token a name (1 to 100 characters) and a scope.".into(),
        };
        let page = tokens_page(&state, &staff, None, Some(notice)).await?;
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)).into_response());
    };
    let (token, secret) = state
        .store
        .create_token(&staff.actor(), name, scope)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formula_cells_are_neutralised() {
        for (input, out) in [
            ("=SUM(A1)", "'=SUM(A1)"),
            ("+1", "'+1"),
            ("-2", "'-2"),
            ("@x", "'@x"),
            ("ok", "ok"),
            ("", ""),
        ] {
            assert_eq!(neutralise(input), out);
        }
    }

    #[test]
    fn filter_form_converts_major_units_and_keeps_its_query() {
        let form = PaymentsForm {
            amount_min: "25".into(),
            currency: "jpy".into(),
            amount_max: "1,500".into(),
            q: "ada lovelace".into(),
            ..Default::default()
        };
        let f = form.filter().unwrap();
        assert_eq!((f.amount_gte, f.amount_lte), (Some(25), Some(1500)));
        assert_eq!(f.currency.unwrap().code(), "JPY");
        assert_eq!(
            form.query(Some(("after", "abc".into()))),
            "?q=ada+lovelace&currency=jpy&amount_min=25&amount_max=1%2C500&after=abc"
        );
        let bad = PaymentsForm {
            amount_min: "lots".into(),
            status: "lost".into(),
            ..Default::default()
        };
        assert_eq!(bad.filter().unwrap_err().len(), 2);
    }
}
