//! Payments, refunds, idempotency keys, the audit log and the daily rollups.
//! Every write runs in one transaction with its rollups, its audit entry and
//! its idempotency record.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde_json::json;

use super::dialect::{Dialect, like_pattern};
use super::rollups::{Deltas, Subject};
use super::text::Text;
use super::{Store, StoreError, on_pool, retry_tx};
use crate::domain::{
    Breakdown, DailyTotal, Filter, ListRequest, Metadata, Method, MinorUnits, NewPayment,
    NewRefund, PageFrom, Payer, Payment, PaymentPatch, Refund, RefundReason, Status, StatusTotal,
    Summary, SummaryRequest, Timestamp, new_id, refund_amount,
};

pub(crate) const PAYMENT_COLUMNS: &str = "id, amount, amount_refunded, currency, status, method, \
     payer_name, payer_email, campaign, description, external_ref, metadata, created_at, updated_at";

/// A payments row as selected with [`PAYMENT_COLUMNS`], in that order.
#[derive(Clone)]
pub(crate) struct PaymentRow {
    id: Text,
    amount: i64,
    amount_refunded: i64,
    currency: Text,
    status: Text,
    method: Text,
    payer_name: Text,
    payer_email: Text,
    campaign: Option<Text>,
    description: Option<Text>,
    external_ref: Option<Text>,
    metadata: Text,
    created_at: i64,
    updated_at: i64,
}

// By position, not by name: exports decode millions of rows, and a lookup
// of each column's name in each row showed in their profile.
impl<'r, R> sqlx::FromRow<'r, R> for PaymentRow
where
    R: sqlx::Row,
    usize: sqlx::ColumnIndex<R>,
    Text: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    i64: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    fn from_row(row: &'r R) -> Result<Self, sqlx::Error> {
        Ok(PaymentRow {
            id: row.try_get(0)?,
            amount: row.try_get(1)?,
            amount_refunded: row.try_get(2)?,
            currency: row.try_get(3)?,
            status: row.try_get(4)?,
            method: row.try_get(5)?,
            payer_name: row.try_get(6)?,
            payer_email: row.try_get(7)?,
            campaign: row.try_get(8)?,
            description: row.try_get(9)?,
            external_ref: row.try_get(10)?,
            metadata: row.try_get(11)?,
            created_at: row.try_get(12)?,
            updated_at: row.try_get(13)?,
        })
    }
}

fn corrupt(what: &str, id: &str) -> StoreError {
    StoreError::Corrupt(format!("stored {what} of {id} is not valid"))
}

impl PaymentRow {
    pub(crate) fn into_payment(self) -> Result<Payment, StoreError> {
        let status = Status::parse(&self.status).map_err(|_| corrupt("status", &self.id))?;
        let method = Method::parse(&self.method).map_err(|_| corrupt("method", &self.id))?;
        let metadata: Metadata =
            serde_json::from_str(&self.metadata).map_err(|_| corrupt("metadata", &self.id))?;
        Ok(Payment {
            id: self.id.0,
            object: "payment",
            amount: self.amount,
            amount_refunded: self.amount_refunded,
            currency: self.currency.0,
            status,
            method,
            payer: Payer {
                name: self.payer_name.0,
                email: self.payer_email.0,
            },
            campaign: self.campaign.map(String::from),
            description: self.description.map(String::from),
            external_ref: self.external_ref.map(String::from),
            metadata,
            created_at: Timestamp(self.created_at),
            updated_at: Timestamp(self.updated_at),
            refunds: None,
        })
    }

    fn subject(&self) -> Subject<'_> {
        Subject {
            currency: &self.currency,
            method: &self.method,
            campaign: self.campaign.as_deref(),
            amount: self.amount,
            created_at: Timestamp(self.created_at),
        }
    }
}

#[derive(sqlx::FromRow)]
struct RefundRow {
    id: Text,
    payment_id: Text,
    amount: i64,
    reason: Text,
    created_at: i64,
}

impl RefundRow {
    fn into_refund(self) -> Result<Refund, StoreError> {
        Ok(Refund {
            reason: RefundReason::parse(&self.reason).map_err(|_| corrupt("reason", &self.id))?,
            id: self.id.0,
            object: "refund",
            payment_id: self.payment_id.0,
            amount: self.amount,
            created_at: Timestamp(self.created_at),
        })
    }
}

/// A stored payment as text, for exports.
pub struct ExportRow(PaymentRow);

impl ExportRow {
    pub fn id(&self) -> &str {
        &self.0.id
    }
    pub fn created_at(&self) -> Timestamp {
        Timestamp(self.0.created_at)
    }
    pub fn amount(&self) -> i64 {
        self.0.amount
    }
    pub fn amount_refunded(&self) -> i64 {
        self.0.amount_refunded
    }
    pub fn currency(&self) -> &str {
        &self.0.currency
    }
    pub fn status(&self) -> &str {
        &self.0.status
    }
    pub fn method(&self) -> &str {
        &self.0.method
    }
    pub fn payer_name(&self) -> &str {
        &self.0.payer_name
    }
    pub fn payer_email(&self) -> &str {
        &self.0.payer_email
    }
    pub fn campaign(&self) -> &str {
        self.0.campaign.as_deref().unwrap_or("")
    }
    pub fn description(&self) -> &str {
        self.0.description.as_deref().unwrap_or("")
    }
    pub fn external_ref(&self) -> &str {
        self.0.external_ref.as_deref().unwrap_or("")
    }
    /// The metadata as stored JSON; empty when there is none.
    pub fn metadata_json(&self) -> &str {
        if &*self.0.metadata == "{}" {
            ""
        } else {
            &self.0.metadata
        }
    }
}

/// One entry of a payment's audit trail.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct AuditEntry {
    pub id: i64,
    pub occurred_at: i64,
    pub actor: Text,
    pub action: Text,
    pub subject: Text,
    pub details: Text,
}

/// An idempotency key as claimed by one principal (token or user).
#[derive(Clone, Debug)]
pub struct IdempotencyKey {
    pub principal: String,
    pub key: String,
    /// SHA-256 of the method, path and canonical JSON body.
    pub request_hash: String,
}

/// The result of an idempotent write.
#[derive(Debug)]
pub enum Idempotent<T> {
    /// Done now.
    Done(T),
    /// Done before with the same key and request: the stored response.
    Replay { status: u16, body: String },
    /// The key was used before for a different request.
    Mismatch,
}

/// A page of payments in keyset order, newest first.
#[derive(Debug)]
pub struct Page {
    pub items: Vec<Payment>,
    /// More rows exist beyond this page in the direction of travel.
    pub has_more: bool,
}

/// Hours an idempotency key is kept (the contract asks for at least 24).
pub const IDEMPOTENCY_RETENTION_HOURS: i64 = 25;

/// Values bound to a dynamically built statement.
enum Arg {
    Int(i64),
    Text(String),
}

macro_rules! bind_args {
    ($query:expr, $args:expr) => {{
        let mut q = $query;
        for arg in $args {
            q = match arg {
                Arg::Int(v) => q.bind(*v),
                Arg::Text(v) => q.bind(v.as_str()),
            };
        }
        q
    }};
}

/// Claims an idempotency key inside the transaction. Evaluates to `None` when
/// this request owns the key, or to the outcome of the earlier request.
/// A concurrent request with the same key waits on the row lock (MySQL) or
/// the write lock (SQLite) until the first commits, then replays it.
macro_rules! claim_key {
    ($tx:expr, $d:expr, $key:expr, $now:expr) => {{
        let key: &IdempotencyKey = $key;
        let claimed = sqlx::query(&format!(
            "{} INTO idempotency_keys (principal, idem_key, request_hash, created_at) VALUES (?, ?, ?, ?)",
            $d.insert_ignore()
        ))
        .bind(key.principal.as_str())
        .bind(key.key.as_str())
        .bind(key.request_hash.as_str())
        .bind($now)
        .execute(&mut *$tx)
        .await?
        .rows_affected()
            == 1;
        if claimed {
            None
        } else {
            let row: Option<(Text, Option<i32>, Option<Text>)> = sqlx::query_as(
                "SELECT request_hash, status_code, response_body FROM idempotency_keys \
                 WHERE principal = ? AND idem_key = ?",
            )
            .bind(key.principal.as_str())
            .bind(key.key.as_str())
            .fetch_optional(&mut *$tx)
            .await?;
            Some(match row {
                Some((hash, _, _)) if hash.0 != key.request_hash => Idempotent::Mismatch,
                Some((_, Some(status), Some(body))) => Idempotent::Replay {
                    status: u16::try_from(status).unwrap_or(500),
                    body: body.0,
                },
                // Claimed by a transaction that has not committed yet: only
                // possible when the lock wait gave up; report it as busy.
                _ => {
                    return Ok(Err(StoreError::Conflict(
                        "a request with this Idempotency-Key is still being processed; retry shortly".into(),
                    )))
                }
            })
        }
    }};
}

macro_rules! store_response {
    ($tx:expr, $key:expr, $status:expr, $body:expr) => {
        if let Some(key) = $key {
            sqlx::query(
                "UPDATE idempotency_keys SET status_code = ?, response_body = ? \
                 WHERE principal = ? AND idem_key = ?",
            )
            .bind(i32::from($status))
            .bind($body.as_str())
            .bind(key.principal.as_str())
            .bind(key.key.as_str())
            .execute(&mut *$tx)
            .await?;
        }
    };
}

macro_rules! apply_rollups {
    ($tx:expr, $d:expr, $deltas:expr) => {{
        let deltas: &Deltas = $deltas;
        let monthly = deltas.by_month();
        // Daily rows, then the same changes per month, in the same transaction.
        for (table, period, set) in [("daily_rollups", "day", deltas), ("monthly_rollups", "month", &monthly)] {
            let rows: Vec<_> = set.iter().collect();
            // A bulk load over many days touches more rows than one
            // statement may carry placeholders for.
            for chunk in rows.chunks($d.max_placeholders() / 7) {
                let sql = format!(
                    "INSERT INTO {table} (currency, dimension, {period}, value, count, gross, refunded) VALUES {}{}",
                    vec!["(?, ?, ?, ?, ?, ?, ?)"; chunk.len()].join(", "),
                    $d.rollup_upsert_tail(period)
                );
                let mut q = sqlx::query(&sql);
                for (k, c) in chunk {
                    q = q
                        .bind(k.currency.as_str())
                        .bind(k.dimension)
                        .bind(k.day.as_str())
                        .bind(k.value.as_str())
                        .bind(c.count)
                        .bind(c.gross)
                        .bind(c.refunded);
                }
                q.execute(&mut *$tx).await?;
            }
        }
    }};
}

macro_rules! fetch_payment {
    ($exec:expr, $d:expr, $id:expr, $lock:expr) => {
        sqlx::query_as::<_, PaymentRow>(&format!(
            "SELECT {PAYMENT_COLUMNS} FROM payments WHERE id = ?{}",
            if $lock { $d.for_update() } else { "" }
        ))
        .bind($id)
        .fetch_optional($exec)
        .await?
    };
}

/// Splits `from..=to` into (table, period column, first, last): whole
/// calendar months from `monthly_rollups`, the partial months at either end
/// from `daily_rollups`.
fn summary_spans(
    from: NaiveDate,
    to: NaiveDate,
) -> Vec<(&'static str, &'static str, String, String)> {
    use chrono::Datelike;
    let day = |d: NaiveDate| d.format("%Y-%m-%d").to_string();
    let month = |d: NaiveDate| d.format("%Y-%m").to_string();
    let month_start = |d: NaiveDate| d.with_day(1).unwrap_or(d);
    let month_end = |d: NaiveDate| {
        let next = if d.month() == 12 {
            NaiveDate::from_ymd_opt(d.year() + 1, 1, 1)
        } else {
            NaiveDate::from_ymd_opt(d.year(), d.month() + 1, 1)
        };
        next.and_then(|n| n.pred_opt()).unwrap_or(d)
    };
    // Whole months: the first month starting on or after `from`, to the last
    // month ending on or before `to`.
    let first_full = if from.day() == 1 {
        from
    } else {
        month_end(from).succ_opt().unwrap_or(from)
    };
    let last_full_end = if to == month_end(to) {
        to
    } else {
        month_start(to).pred_opt().unwrap_or(to)
    };
    if first_full > last_full_end {
        return vec![("daily_rollups", "day", day(from), day(to))];
    }
    let mut spans = Vec::new();
    if from < first_full {
        spans.push((
            "daily_rollups",
            "day",
            day(from),
            day(first_full.pred_opt().unwrap_or(from)),
        ));
    }
    spans.push((
        "monthly_rollups",
        "month",
        month(first_full),
        month(last_full_end),
    ));
    if last_full_end < to {
        spans.push((
            "daily_rollups",
            "day",
            day(last_full_end.succ_opt().unwrap_or(to)),
            day(to),
        ));
    }
    spans
}

/// Builds `WHERE …` for a filter, pushing its arguments in order.
fn where_clause(d: Dialect, f: &Filter, args: &mut Vec<Arg>) -> String {
    let mut clauses: Vec<String> = Vec::new();
    let mut eq = |column: &str, value: Option<String>, args: &mut Vec<Arg>| {
        if let Some(v) = value {
            clauses.push(format!("{column} = ?"));
            args.push(Arg::Text(v));
        }
    };
    eq("status", f.status.map(|s| s.as_str().to_owned()), args);
    eq("method", f.method.map(|m| m.as_str().to_owned()), args);
    eq("currency", f.currency.map(|c| c.code().to_owned()), args);
    eq("campaign", f.campaign.clone(), args);
    let mut cmp = |column: &str, op: &str, value: Option<i64>, args: &mut Vec<Arg>| {
        if let Some(v) = value {
            clauses.push(format!("{column} {op} ?"));
            args.push(Arg::Int(v));
        }
    };
    cmp("created_at", ">=", f.created_gte.map(|t| t.0), args);
    cmp("created_at", "<", f.created_lt.map(|t| t.0), args);
    cmp("amount", ">=", f.amount_gte, args);
    cmp("amount", "<=", f.amount_lte, args);
    if let Some(q) = &f.q {
        let pattern = like_pattern(q);
        clauses.push(format!(
            "(id = ? OR external_ref = ? OR {} OR {} OR {})",
            d.contains("payer_name"),
            d.contains("payer_email"),
            d.contains("description")
        ));
        args.push(Arg::Text(q.clone()));
        args.push(Arg::Text(q.clone()));
        for _ in 0..3 {
            args.push(Arg::Text(pattern.clone()));
        }
    }
    if clauses.is_empty() {
        String::new()
    } else {
        format!(" WHERE {}", clauses.join(" AND "))
    }
}

/// The SELECT for one page, and its arguments.
fn page_query(d: Dialect, req: &ListRequest) -> (String, Vec<Arg>) {
    let mut args = Vec::new();
    let mut sql = format!(
        "SELECT {PAYMENT_COLUMNS} FROM payments{}",
        where_clause(d, &req.filter, &mut args)
    );
    let join = if sql.contains(" WHERE ") {
        " AND "
    } else {
        " WHERE "
    };
    let order = match &req.from {
        PageFrom::Start => "DESC",
        PageFrom::After(c) => {
            sql.push_str(join);
            sql.push_str("(created_at < ? OR (created_at = ? AND id < ?))");
            args.extend([
                Arg::Int(c.created_at),
                Arg::Int(c.created_at),
                Arg::Text(c.id.clone()),
            ]);
            "DESC"
        }
        PageFrom::Before(c) => {
            sql.push_str(join);
            sql.push_str("(created_at > ? OR (created_at = ? AND id > ?))");
            args.extend([
                Arg::Int(c.created_at),
                Arg::Int(c.created_at),
                Arg::Text(c.id.clone()),
            ]);
            "ASC"
        }
    };
    sql.push_str(&format!(" ORDER BY created_at {order}, id {order} LIMIT ?"));
    args.push(Arg::Int(req.limit + 1));
    (sql, args)
}

fn metadata_json(m: &Metadata) -> String {
    serde_json::to_string(m).unwrap_or_else(|_| "{}".into())
}

impl Store {
    /// Records a payment. With `idempotency`, a repeat of the same request
    /// replays the first response; `respond` renders the response to store.
    #[tracing::instrument(skip_all, fields(actor = actor))]
    pub async fn create_payment(
        &self,
        actor: &str,
        idempotency: Option<&IdempotencyKey>,
        new: &NewPayment,
        respond: impl Fn(&Payment) -> (u16, String),
    ) -> Result<Idempotent<Payment>, StoreError> {
        let result = on_pool!(self, |pool, d| {
            retry_tx!(d, async {
            let now = Timestamp::now();
            let mut tx = pool.begin_with(d.begin_write()).await?;
            if let Some(key) = idempotency
                && let Some(prior) = claim_key!(tx, d, key, now.0)
            {
                tx.rollback().await?;
                return Ok(Ok(prior));
            }
            let created_at = new.created_at.unwrap_or(now);
            let payment = Payment {
                id: new_id("pay"),
                object: "payment",
                amount: new.amount.get(),
                amount_refunded: 0,
                currency: new.currency.code().to_owned(),
                status: new.initial_status(),
                method: new.method,
                payer: Payer {
                    name: new.payer.name.to_string(),
                    email: new.payer.email.as_str().to_owned(),
                },
                campaign: new.campaign.as_deref().map(str::to_owned),
                description: new.description.as_deref().map(str::to_owned),
                external_ref: new.external_ref.as_deref().map(str::to_owned),
                metadata: new.metadata.clone(),
                created_at,
                updated_at: now,
                refunds: None,
            };
            let inserted = sqlx::query(&format!(
                "INSERT INTO payments ({PAYMENT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
            ))
            .bind(payment.id.as_str())
            .bind(payment.amount)
            .bind(0i64)
            .bind(payment.currency.as_str())
            .bind(payment.status.as_str())
            .bind(payment.method.as_str())
            .bind(payment.payer.name.as_str())
            .bind(payment.payer.email.as_str())
            .bind(payment.campaign.as_deref())
            .bind(payment.description.as_deref())
            .bind(payment.external_ref.as_deref())
            .bind(metadata_json(&payment.metadata))
            .bind(created_at.0)
            .bind(now.0)
            .execute(&mut *tx)
            .await;
            match inserted {
                Err(e) if d.is_unique_violation(&e) => {
                    tx.rollback().await?;
                    return Ok(Err(StoreError::Conflict(
                        "a payment with this external_ref already exists".into(),
                    )));
                }
                other => {
                    other?;
                }
            }
            let mut deltas = Deltas::default();
            let subject = Subject {
                currency: &payment.currency,
                method: payment.method.as_str(),
                campaign: payment.campaign.as_deref(),
                amount: payment.amount,
                created_at,
            };
            deltas.created(&subject, payment.status);
            apply_rollups!(tx, d, &deltas);
            let details = json!({"amount": payment.amount, "currency": payment.currency,
                                 "status": payment.status, "method": payment.method});
            super::audit::record(&mut *tx, &super::audit::AuditEntry {
                at: now,
                actor,
                action: "payment.created",
                subject: payment.id.as_str(),
                details,
            })
            .await?;
            let (status, body) = respond(&payment);
            store_response!(tx, idempotency, status, body);
            tx.commit().await?;
            Ok(Ok(Idempotent::Done(payment)))
        }
        .await)
        });
        let outcome = result??;
        if matches!(outcome, Idempotent::Done(_)) {
            metrics::counter!("payments_created_total").increment(1);
        }
        Ok(outcome)
    }

    /// One payment, without its refunds.
    pub async fn payment(&self, id: &str) -> Result<Payment, StoreError> {
        let row = on_pool!(self, |pool, d| fetch_payment!(pool, d, id, false));
        row.ok_or(StoreError::NotFound)?.into_payment()
    }

    /// One payment with its refunds, oldest refund first.
    pub async fn payment_with_refunds(&self, id: &str) -> Result<Payment, StoreError> {
        let mut payment = self.payment(id).await?;
        payment.refunds = Some(self.refunds(id).await?);
        Ok(payment)
    }

    pub async fn refunds(&self, payment_id: &str) -> Result<Vec<Refund>, StoreError> {
        let rows: Vec<RefundRow> = on_pool!(self, |pool, d| {
            sqlx::query_as(
                "SELECT id, payment_id, amount, reason, created_at FROM refunds \
                 WHERE payment_id = ? ORDER BY created_at, id",
            )
            .bind(payment_id)
            .fetch_all(pool)
            .await?
        });
        rows.into_iter().map(RefundRow::into_refund).collect()
    }

    /// The audit trail of one subject (a payment, token or user), oldest first.
    pub async fn audit_trail(&self, subject: &str) -> Result<Vec<AuditEntry>, StoreError> {
        Ok(on_pool!(self, |pool, d| {
            sqlx::query_as(
                "SELECT id, occurred_at, actor, action, subject, details FROM audit_log \
                 WHERE subject = ? ORDER BY id LIMIT 500",
            )
            .bind(subject)
            .fetch_all(pool)
            .await?
        }))
    }

    /// A page of payments matching the filter, in keyset order.
    #[tracing::instrument(skip_all)]
    pub async fn list_payments(&self, req: &ListRequest) -> Result<Page, StoreError> {
        let rows = self.page_rows(req).await?;
        let has_more = rows.len() as i64 > req.limit;
        let mut items = rows
            .into_iter()
            .take(req.limit as usize)
            .map(PaymentRow::into_payment)
            .collect::<Result<Vec<_>, _>>()?;
        if matches!(req.from, PageFrom::Before(_)) {
            items.reverse();
        }
        Ok(Page { items, has_more })
    }

    /// A page of raw rows for bulk export: no per-row parsing (the metadata
    /// stays the JSON text it is stored as). Newest first, after `after`.
    pub async fn export_rows(
        &self,
        filter: &Filter,
        after: Option<crate::domain::Cursor>,
        limit: i64,
    ) -> Result<Vec<ExportRow>, StoreError> {
        let req = ListRequest {
            filter: filter.clone(),
            limit: limit - 1,
            from: after.map_or(PageFrom::Start, PageFrom::After),
        };
        Ok(self
            .page_rows(&req)
            .await?
            .into_iter()
            .map(ExportRow)
            .collect())
    }

    /// Up to `req.limit + 1` rows in keyset order (the extra row tells
    /// whether more follow).
    async fn page_rows(&self, req: &ListRequest) -> Result<Vec<PaymentRow>, StoreError> {
        let (sql, args) = page_query(self.dialect(), req);
        Ok(on_pool!(self, |pool, d| {
            bind_args!(sqlx::query_as(&sql), &args)
                .fetch_all(pool)
                .await?
        }))
    }

    /// Changes status (allowed transitions only), description or metadata.
    #[tracing::instrument(skip_all, fields(actor = actor))]
    pub async fn update_payment(
        &self,
        actor: &str,
        id: &str,
        patch: &PaymentPatch,
    ) -> Result<Payment, StoreError> {
        let result = on_pool!(self, |pool, d| {
            retry_tx!(d, async {
            let now = Timestamp::now();
            let mut tx = pool.begin_with(d.begin_write()).await?;
            let Some(row) = fetch_payment!(&mut *tx, d, id, true) else {
                tx.rollback().await?;
                return Ok(Err(StoreError::NotFound));
            };
            let before = match row.clone().into_payment() {
                Ok(p) => p,
                Err(e) => return Ok(Err(e)),
            };
            let mut after = before.clone();
            if let Some(to) = patch.status
                && to != before.status
            {
                if !before.status.can_change_to(to) {
                    tx.rollback().await?;
                    return Ok(Err(StoreError::Conflict(format!(
                        "a payment cannot go from {} to {}; allowed: pending to succeeded or failed",
                        before.status, to
                    ))));
                }
                after.status = to;
            }
            if let Some(description) = &patch.description {
                after.description = description.as_deref().map(str::to_owned);
            }
            if let Some(metadata) = &patch.metadata {
                after.metadata = metadata.clone();
            }
            after.updated_at = now;
            sqlx::query("UPDATE payments SET status = ?, description = ?, metadata = ?, updated_at = ? WHERE id = ?")
                .bind(after.status.as_str())
                .bind(after.description.as_deref())
                .bind(metadata_json(&after.metadata))
                .bind(now.0)
                .bind(id)
                .execute(&mut *tx)
                .await?;
            let mut deltas = Deltas::default();
            deltas.status_changed(&row.subject(), before.status, after.status);
            apply_rollups!(tx, d, &deltas);
            let mut changes = serde_json::Map::new();
            if before.status != after.status {
                changes.insert("status".into(), json!([before.status, after.status]));
            }
            if before.description != after.description {
                changes.insert("description".into(), json!("changed"));
            }
            if before.metadata != after.metadata {
                changes.insert("metadata".into(), json!("changed"));
            }
            super::audit::record(&mut *tx, &super::audit::AuditEntry {
                at: now,
                actor,
                action: "payment.updated",
                subject: id,
                details: serde_json::Value::Object(changes),
            })
            .await?;
            tx.commit().await?;
            Ok(Ok(after))
        }
        .await)
        });
        result?
    }

    /// Refunds part or all of what remains of a payment. The payment row is
    /// locked (MySQL) or the database write-locked (SQLite), and the update is
    /// conditional, so concurrent refunds can never exceed the payment.
    #[tracing::instrument(skip_all, fields(actor = actor))]
    pub async fn refund_payment(
        &self,
        actor: &str,
        idempotency: Option<&IdempotencyKey>,
        payment_id: &str,
        new: &NewRefund,
        respond: impl Fn(&Refund) -> (u16, String),
    ) -> Result<Idempotent<Refund>, StoreError> {
        let result = on_pool!(self, |pool, d| {
            retry_tx!(d, async {
            let now = Timestamp::now();
            let mut tx = pool.begin_with(d.begin_write()).await?;
            if let Some(key) = idempotency
                && let Some(prior) = claim_key!(tx, d, key, now.0)
            {
                tx.rollback().await?;
                return Ok(Ok(prior));
            }
            let Some(row) = fetch_payment!(&mut *tx, d, payment_id, true) else {
                tx.rollback().await?;
                return Ok(Err(StoreError::NotFound));
            };
            let status = match Status::parse(&row.status) {
                Ok(s) => s,
                Err(_) => return Ok(Err(corrupt("status", payment_id))),
            };
            let amount = match refund_amount(status, row.amount, row.amount_refunded, new.amount.map(MinorUnits::get)) {
                Ok(a) => a,
                Err(refusal) => {
                    tx.rollback().await?;
                    return Ok(Err(StoreError::Conflict(refusal.to_string())));
                }
            };
            let new_status = Status::after_refund(row.amount, row.amount_refunded + amount);
            let updated = sqlx::query(
                "UPDATE payments SET amount_refunded = amount_refunded + ?, status = ?, updated_at = ? \
                 WHERE id = ? AND amount_refunded + ? <= amount",
            )
            .bind(amount)
            .bind(new_status.as_str())
            .bind(now.0)
            .bind(payment_id)
            .bind(amount)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if updated != 1 {
                tx.rollback().await?;
                return Ok(Err(StoreError::Conflict(
                    "the payment changed while refunding; the refund would exceed it".into(),
                )));
            }
            let refund = Refund {
                id: new_id("re"),
                object: "refund",
                payment_id: payment_id.to_owned(),
                amount,
                reason: new.reason(),
                created_at: now,
            };
            sqlx::query("INSERT INTO refunds (id, payment_id, amount, reason, created_at) VALUES (?, ?, ?, ?, ?)")
                .bind(refund.id.as_str())
                .bind(payment_id)
                .bind(amount)
                .bind(refund.reason.as_str())
                .bind(now.0)
                .execute(&mut *tx)
                .await?;
            let mut deltas = Deltas::default();
            deltas.refunded(&row.subject(), amount, now);
            deltas.status_changed(&row.subject(), status, new_status);
            apply_rollups!(tx, d, &deltas);
            let details = json!({"refund": refund.id, "amount": amount, "reason": refund.reason,
                                 "status": [status, new_status]});
            super::audit::record(&mut *tx, &super::audit::AuditEntry {
                at: now,
                actor,
                action: "refund.created",
                subject: payment_id,
                details,
            })
            .await?;
            let (code, body) = respond(&refund);
            store_response!(tx, idempotency, code, body);
            tx.commit().await?;
            Ok(Ok(Idempotent::Done(refund)))
        }
        .await)
        });
        let outcome = result??;
        if matches!(outcome, Idempotent::Done(_)) {
            metrics::counter!("refunds_created_total").increment(1);
        }
        Ok(outcome)
    }

    /// Totals for one currency over a range of days, from the rollups only.
    #[tracing::instrument(skip_all)]
    pub async fn summary(&self, req: &SummaryRequest) -> Result<Summary, StoreError> {
        let from = req.from.format("%Y-%m-%d").to_string();
        let to = req.to.format("%Y-%m-%d").to_string();
        let currency = req.currency.code();
        // Two reads, both range scans of the rollups' primary key: the daily
        // totals, and the dimensions already summed by the database.
        type DayRow = (Text, i64, i64, i64);
        type DimRow = (Text, Text, i64, i64, i64);
        let spans = summary_spans(req.from, req.to);
        let (days, dims): (Vec<DayRow>, Vec<DimRow>) = on_pool!(self, |pool, d| {
            // One connection for both reads: one pool checkout, not two.
            let mut conn = pool.acquire().await?;
            let days = sqlx::query_as(
                "SELECT day, count, gross, refunded FROM daily_rollups \
                 WHERE currency = ? AND dimension = 'total' AND day >= ? AND day <= ?",
            )
            .bind(currency)
            .bind(&from)
            .bind(&to)
            .fetch_all(&mut *conn)
            .await?;
            // Whole months from monthly_rollups, the partial months at
            // either end from daily_rollups (under two months of days in
            // all): a few hundred rows of the primary key, summed below.
            // (Grouping in the database made it walk every day of each value.)
            let mut dims: Vec<DimRow> = Vec::new();
            for (table, period, lo, hi) in &spans {
                let mut part: Vec<DimRow> = sqlx::query_as(&format!(
                    "SELECT dimension, value, count, gross, refunded FROM {table} \
                     WHERE currency = ? AND dimension IN ('status', 'method', 'campaign') \
                     AND {period} >= ? AND {period} <= ?"
                ))
                .bind(currency)
                .bind(lo)
                .bind(hi)
                .fetch_all(&mut *conn)
                .await?;
                dims.append(&mut part);
            }
            (days, dims)
        });
        let mut daily: BTreeMap<NaiveDate, DailyTotal> = BTreeMap::new();
        let mut day = req.from;
        while day <= req.to {
            daily.insert(
                day,
                DailyTotal {
                    date: day,
                    count: 0,
                    gross: 0,
                    refunded: 0,
                },
            );
            day = day.succ_opt().unwrap_or(day);
            if day == NaiveDate::MAX {
                break;
            }
        }
        for (day, count, gross, refunded) in days {
            if let Some(entry) = NaiveDate::parse_from_str(&day, "%Y-%m-%d")
                .ok()
                .and_then(|d| daily.get_mut(&d))
            {
                entry.count += count;
                entry.gross += gross;
                entry.refunded += refunded;
            }
        }
        let (mut by_status, mut by_method, mut by_campaign) =
            (BTreeMap::new(), BTreeMap::new(), BTreeMap::new());
        for (dimension, value, count, gross, refunded) in dims {
            let map: &mut BTreeMap<String, Breakdown> = match &*dimension {
                "status" => &mut by_status,
                "method" => &mut by_method,
                _ => &mut by_campaign,
            };
            // The same value can come from a daily and a monthly span.
            let b = map.entry(value.0).or_default();
            b.count += count;
            b.gross += gross;
            b.refunded += refunded;
            b.net = b.gross - b.refunded;
        }
        for map in [&mut by_status, &mut by_method, &mut by_campaign] {
            map.retain(|_, b| *b != Breakdown::default());
        }
        let daily: Vec<DailyTotal> = daily.into_values().collect();
        let (count, gross, refunded) = daily.iter().fold((0, 0, 0), |(c, g, r), d| {
            (c + d.count, g + d.gross, r + d.refunded)
        });
        let by_status = by_status
            .into_iter()
            .map(|(status, b)| {
                let total = StatusTotal {
                    count: b.count,
                    gross: b.gross,
                };
                (status, total)
            })
            .collect();
        Ok(Summary {
            currency: currency.to_owned(),
            from: req.from,
            to: req.to,
            count,
            gross,
            refunded,
            net: gross - refunded,
            by_status,
            by_method,
            by_campaign,
            daily,
        })
    }

    /// Count, gross and refunded per currency over a range of days, for the
    /// currencies named: whole months from the monthly rollups, partial ones
    /// from the daily rollups, one range scan per currency and span.
    pub async fn totals_by_currency(
        &self,
        currencies: &[String],
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<BTreeMap<String, (i64, i64, i64)>, StoreError> {
        let mut totals = BTreeMap::new();
        if currencies.is_empty() {
            return Ok(totals);
        }
        let marks = vec!["?"; currencies.len()].join(", ");
        let spans = summary_spans(from, to);
        let rows: Vec<(Text, i64, i64, i64)> = on_pool!(self, |pool, d| {
            let mut conn = pool.acquire().await?;
            let mut rows = Vec::new();
            for (table, period, lo, hi) in &spans {
                let sql = format!(
                    "SELECT currency, {}, {}, {} FROM {table} \
                     WHERE currency IN ({marks}) AND dimension = 'total' \
                     AND {period} >= ? AND {period} <= ? GROUP BY currency",
                    d.sum("count"),
                    d.sum("gross"),
                    d.sum("refunded")
                );
                let mut q = sqlx::query_as::<_, (Text, i64, i64, i64)>(&sql);
                for code in currencies {
                    q = q.bind(code.as_str());
                }
                rows.append(&mut q.bind(lo).bind(hi).fetch_all(&mut *conn).await?);
            }
            rows
        });
        for (code, count, gross, refunded) in rows {
            let entry = totals.entry(code.0).or_insert((0, 0, 0));
            entry.0 += count;
            entry.1 += gross;
            entry.2 += refunded;
        }
        Ok(totals)
    }

    /// Currencies that have any captured payment, most used first.
    pub async fn currencies(&self) -> Result<Vec<String>, StoreError> {
        let rows: Vec<(Text,)> = on_pool!(self, |pool, d| {
            sqlx::query_as(
                "SELECT currency FROM monthly_rollups WHERE dimension = 'total' \
                 GROUP BY currency ORDER BY SUM(count) DESC, currency",
            )
            .fetch_all(pool)
            .await?
        });
        Ok(rows.into_iter().map(|(c,)| c.0).collect())
    }

    /// Forgets idempotency keys older than the retention period.
    pub async fn purge_idempotency_keys(&self) -> Result<u64, StoreError> {
        let cutoff = Timestamp::now().0 - IDEMPOTENCY_RETENTION_HOURS * 3_600_000_000;
        Ok(on_pool!(self, |pool, d| {
            sqlx::query("DELETE FROM idempotency_keys WHERE created_at < ?")
                .bind(cutoff)
                .execute(pool)
                .await?
                .rows_affected()
        }))
    }

    /// Whether any payment exists.
    pub async fn has_payments(&self) -> Result<bool, StoreError> {
        let row: Option<(Text,)> = on_pool!(self, |pool, d| {
            sqlx::query_as("SELECT id FROM payments LIMIT 1")
                .fetch_optional(pool)
                .await?
        });
        Ok(row.is_some())
    }
}

/// A payment and its refunds as generated by `payments seed`.
#[derive(Clone, Debug, PartialEq)]
pub struct SeedPayment {
    pub id: String,
    pub amount: i64,
    pub currency: crate::domain::Currency,
    pub payer_name: String,
    pub payer_email: String,
    pub method: crate::domain::Method,
    /// As created, before its refunds.
    pub status: Status,
    pub campaign: Option<String>,
    pub description: Option<String>,
    pub external_ref: Option<String>,
    pub metadata: crate::domain::Metadata,
    pub created_at: Timestamp,
    /// (id, amount, when, reason) of each refund, in order.
    pub refunds: Vec<(String, i64, Timestamp, RefundReason)>,
}

impl Store {
    /// Inserts a batch of generated payments, their refunds and rollups in
    /// one transaction with multi-row statements.
    pub async fn insert_seed_batch(&self, batch: &[SeedPayment]) -> Result<(), StoreError> {
        if batch.is_empty() {
            return Ok(());
        }
        let mut payments = Vec::with_capacity(batch.len());
        let mut refunds = Vec::new();
        let mut deltas = Deltas::default();
        for s in batch {
            let id = s.id.clone();
            let refunded: i64 = s.refunds.iter().map(|r| r.1).sum();
            let status = if refunded > 0 {
                Status::after_refund(s.amount, refunded)
            } else {
                s.status
            };
            let updated_at = s.refunds.last().map_or(s.created_at, |r| r.2);
            let subject = Subject {
                currency: s.currency.code(),
                method: s.method.as_str(),
                campaign: s.campaign.as_deref(),
                amount: s.amount,
                created_at: s.created_at,
            };
            deltas.created(&subject, status);
            for (refund_id, amount, at, reason) in &s.refunds {
                deltas.refunded(&subject, *amount, *at);
                refunds.push((refund_id.clone(), id.clone(), *amount, *reason, *at));
            }
            payments.push((id, s, refunded, status, updated_at));
        }
        // Concurrent batches can meet on the same rollup rows: retry on a deadlock.
        let result: Result<(), sqlx::Error> = on_pool!(self, |pool, d| retry_tx!(d, async {
            let mut tx = pool.begin_with(d.begin_write()).await?;
            // As many rows per statement as the placeholder limit allows.
            for chunk in payments.chunks(d.max_placeholders() / 14) {
                let sql = format!(
                    "INSERT INTO payments ({PAYMENT_COLUMNS}) VALUES {}",
                    vec!["(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"; chunk.len()].join(", ")
                );
                let mut q = sqlx::query(&sql);
                for (id, s, refunded, status, updated_at) in chunk {
                    q = q
                        .bind(id.as_str())
                        .bind(s.amount)
                        .bind(*refunded)
                        .bind(s.currency.code())
                        .bind(status.as_str())
                        .bind(s.method.as_str())
                        .bind(s.payer_name.as_str())
                        .bind(s.payer_email.as_str())
                        .bind(s.campaign.as_deref())
                        .bind(s.description.as_deref())
                        .bind(s.external_ref.as_deref())
                        .bind(metadata_json(&s.metadata))
                        .bind(s.created_at.0)
                        .bind(updated_at.0);
                }
                q.execute(&mut *tx).await?;
            }
            for chunk in refunds.chunks(d.max_placeholders() / 5) {
                let sql = format!(
                    "INSERT INTO refunds (id, payment_id, amount, reason, created_at) VALUES {}",
                    vec!["(?, ?, ?, ?, ?)"; chunk.len()].join(", ")
                );
                let mut q = sqlx::query(&sql);
                for (id, payment_id, amount, reason, at) in chunk {
                    q = q
                        .bind(id.as_str())
                        .bind(payment_id.as_str())
                        .bind(*amount)
                        .bind(reason.as_str())
                        .bind(at.0);
                }
                q.execute(&mut *tx).await?;
            }
            apply_rollups!(tx, d, &deltas);
            tx.commit().await?;
            Ok(())
        }
        .await));
        result?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn spans(from: &str, to: &str) -> Vec<(&'static str, String, String)> {
        summary_spans(d(from), d(to))
            .into_iter()
            .map(|(t, _, a, b)| (t, a, b))
            .collect()
    }

    #[test]
    fn ranges_split_into_whole_months_and_partial_ends() {
        assert_eq!(
            spans("2026-05-03", "2026-05-20"),
            vec![("daily_rollups", "2026-05-03".into(), "2026-05-20".into())]
        );
        assert_eq!(
            spans("2026-05-01", "2026-05-31"),
            vec![("monthly_rollups", "2026-05".into(), "2026-05".into())]
        );
        assert_eq!(
            spans("2025-10-26", "2026-11-29"),
            vec![
                ("daily_rollups", "2025-10-26".into(), "2025-10-31".into()),
                ("monthly_rollups", "2025-11".into(), "2026-10".into()),
                ("daily_rollups", "2026-11-01".into(), "2026-11-29".into()),
            ]
        );
        assert_eq!(
            spans("2025-12-15", "2026-01-31"),
            vec![
                ("daily_rollups", "2025-12-15".into(), "2025-12-31".into()),
                ("monthly_rollups", "2026-01".into(), "2026-01".into())
            ]
        );
        assert_eq!(
            spans("2026-02-01", "2026-02-27"),
            vec![("daily_rollups", "2026-02-01".into(), "2026-02-27".into())]
        );
        assert_eq!(
            spans("2024-02-29", "2024-02-29"),
            vec![("daily_rollups", "2024-02-29".into(), "2024-02-29".into())]
        );
    }
}
