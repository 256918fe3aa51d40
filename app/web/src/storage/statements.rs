//! Year-end statements read from the ledger: which donors gave in a year,
//! and one donor's gifts of that year.

use super::text::Text;
use super::{Store, StoreError};
use crate::domain::Timestamp;
use crate::domain::statement::{Statement, StatementGift, year_bounds};

const CAPTURED: &str = "('succeeded', 'partially_refunded', 'refunded')";

impl Store {
    /// The donors with a captured gift in `year`, by id, after `after` (a
    /// donor id), at most `limit`: one page of a statement run.
    pub async fn statement_donors(
        &self,
        year: i32,
        after: &str,
        limit: i64,
    ) -> Result<Vec<String>, StoreError> {
        let (start, end) = year_bounds(year).ok_or(StoreError::NotFound)?;
        let sql = format!(
            "SELECT d.id FROM donors d WHERE d.id > ? AND d.erased_at IS NULL AND EXISTS \
             (SELECT 1 FROM payments p WHERE p.donor_id = d.id AND p.created_at >= ? \
             AND p.created_at < ? AND p.status IN {CAPTURED}) ORDER BY d.id LIMIT ?"
        );
        let sql = &sql;
        let rows: Vec<(Text,)> = self
            .read(|c| {
                Box::pin(async move {
                    c.fetch_all(
                        sql,
                        &[after.into(), start.0.into(), end.0.into(), limit.into()],
                    )
                    .await
                })
            })
            .await?;
        Ok(rows.into_iter().map(|(id,)| id.0).collect())
    }

    /// The donor's statement for `year`: every captured gift, oldest first.
    pub async fn statement(&self, donor_id: &str, year: i32) -> Result<Statement, StoreError> {
        let (start, end) = year_bounds(year).ok_or(StoreError::NotFound)?;
        let donor = self.donor(donor_id).await?;
        let sql = format!(
            "SELECT p.id, p.created_at, p.currency, p.amount, p.amount_refunded, \
             COALESCE(c.name, p.campaign), CASE WHEN p.membership_id IS NULL THEN 0 ELSE 1 END \
             FROM payments p LEFT JOIN campaigns c ON c.slug = p.campaign \
             WHERE p.donor_id = ? AND p.created_at >= ? AND p.created_at < ? \
             AND p.status IN {CAPTURED} ORDER BY p.created_at, p.id"
        );
        let sql = &sql;
        type GiftRow = (Text, i64, Text, i64, i64, Option<Text>, i64);
        let rows: Vec<GiftRow> = self
            .read(|c| {
                Box::pin(async move {
                    c.fetch_all(sql, &[donor_id.into(), start.0.into(), end.0.into()])
                        .await
                })
            })
            .await?;
        let gifts = rows
            .into_iter()
            .map(
                |(id, at, currency, amount, refunded, campaign, membership)| {
                    let kind = if membership != 0 {
                        "Membership"
                    } else {
                        "Gift"
                    };
                    StatementGift {
                        id: id.0,
                        created_at: Timestamp(at),
                        description: match campaign {
                            Some(c) => format!("{kind}: {}", c.0),
                            None => kind.to_owned(),
                        },
                        currency: currency.0,
                        amount,
                        refunded,
                    }
                },
            )
            .collect();
        Ok(Statement {
            year,
            donor_id: donor.id,
            donor_name: donor.name,
            donor_email: donor.email,
            gifts,
        })
    }
}
