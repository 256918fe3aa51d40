//! Recurring revenue by month: what memberships brought in, read from the
//! monthly rollups of the `recurring` dimension (so the cost does not grow
//! with the number of payments).

use super::text::Text;
use super::{Store, StoreError};

/// One month of payments made by memberships, in one currency.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RecurringMonth {
    /// `YYYY-MM`.
    pub month: String,
    pub count: i64,
    pub gross: i64,
    pub refunded: i64,
}

impl RecurringMonth {
    pub fn net(&self) -> i64 {
        self.gross - self.refunded
    }
}

impl Store {
    /// Every month from `from` to `to` (`YYYY-MM`, both included) that has
    /// recurring payments or refunds in `currency`, oldest first; months
    /// without any are left out.
    pub async fn recurring_by_month(
        &self,
        currency: &str,
        from: &str,
        to: &str,
    ) -> Result<Vec<RecurringMonth>, StoreError> {
        let d = self.dialect();
        let sql = format!(
            "SELECT month, {}, {}, {} FROM monthly_rollups \
             WHERE currency = ? AND dimension = 'recurring' AND value = '' \
             AND month >= ? AND month <= ? GROUP BY month ORDER BY month",
            d.sum("count"),
            d.sum("gross"),
            d.sum("refunded")
        );
        let sql = &sql;
        let rows: Vec<(Text, i64, i64, i64)> = self
            .read(|c| {
                Box::pin(async move {
                    c.fetch_all(sql, &[currency.into(), from.into(), to.into()])
                        .await
                })
            })
            .await?;
        Ok(rows
            .into_iter()
            .map(|(month, count, gross, refunded)| RecurringMonth {
                month: month.0,
                count,
                gross,
                refunded,
            })
            .collect())
    }
}
