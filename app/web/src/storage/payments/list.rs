//! Listing and exporting payments: the filtered keyset query.

use super::super::dialect::{Dialect, like_pattern};
use super::super::exec::Arg;
use super::super::keyset;
use super::super::{Store, StoreError};
use super::rows::{ExportRow, PAYMENT_COLUMNS, PaymentRow};
use crate::domain::{Cursor, Filter, ListRequest, Page, PageFrom};

/// The clauses of a filter, pushing their arguments in order.
fn filter_clauses<'a>(d: Dialect, f: &'a Filter, args: &mut Vec<Arg<'a>>) -> Vec<String> {
    let mut clauses: Vec<String> = Vec::new();
    let mut eq = |column: &str, value: Option<&'a str>, args: &mut Vec<Arg<'a>>| {
        if let Some(v) = value {
            clauses.push(format!("{column} = ?"));
            args.push(v.into());
        }
    };
    eq("status", f.status.map(|s| s.as_str()), args);
    eq("method", f.method.map(|m| m.as_str()), args);
    eq("currency", f.currency.map(|c| c.code()), args);
    eq("campaign", f.campaign.as_deref(), args);
    eq("donor_id", f.donor_id.as_deref(), args);
    let mut cmp = |column: &str, op: &str, value: Option<i64>, args: &mut Vec<Arg<'a>>| {
        if let Some(v) = value {
            clauses.push(format!("{column} {op} ?"));
            args.push(v.into());
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
        args.push(q.into());
        args.push(q.into());
        for _ in 0..3 {
            args.push(pattern.clone().into());
        }
    }
    clauses
}

/// The SELECT for one page, and its arguments.
fn page_query(d: Dialect, req: &ListRequest) -> (String, Vec<Arg<'_>>) {
    let mut args = Vec::new();
    let clauses = filter_clauses(d, &req.filter, &mut args);
    keyset::page_query(
        &format!("SELECT {PAYMENT_COLUMNS} FROM payments"),
        "created_at",
        clauses,
        args,
        &req.from,
        req.limit,
    )
}

impl Store {
    /// A page of payments matching the filter, in keyset order.
    #[tracing::instrument(skip_all)]
    pub async fn list_payments(&self, req: &ListRequest) -> Result<Page, StoreError> {
        Page::from_rows(self.page_rows(req).await?, req.limit, &req.from)
            .try_map(PaymentRow::into_payment)
    }

    /// A page of raw rows for bulk export: no per-row parsing (the metadata
    /// stays the JSON text it is stored as). Newest first, after `after`.
    pub async fn export_rows(
        &self,
        filter: &Filter,
        after: Option<Cursor>,
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
        let (sql, args) = (&sql, &args);
        self.read(|c| Box::pin(c.fetch_all(sql, args))).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Currency, Status};

    #[test]
    fn filters_and_cursor_bind_in_order() {
        let req = ListRequest {
            filter: Filter {
                status: Some(Status::Pending),
                currency: Some(Currency::USD),
                amount_gte: Some(100),
                ..Filter::default()
            },
            limit: 25,
            from: PageFrom::Before(Cursor {
                created_at: 7,
                id: "pay_x".into(),
            }),
        };
        let (sql, args) = page_query(Dialect::Sqlite, &req);
        assert!(sql.ends_with(
            " WHERE status = ? AND currency = ? AND amount >= ? \
             AND (created_at > ? OR (created_at = ? AND id > ?)) \
             ORDER BY created_at ASC, id ASC LIMIT ?"
        ));
        let expected: Vec<Arg<'_>> = vec![
            "pending".into(),
            "USD".into(),
            100.into(),
            7.into(),
            7.into(),
            "pay_x".into(),
            26.into(),
        ];
        assert_eq!(args, expected);
    }
}
