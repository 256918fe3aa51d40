//! Memberships: recurring gifts, kept as the processor's subscriptions say
//! (created and updated by its events, in their transactions), listed and
//! counted for the overview.

use std::collections::BTreeMap;

use super::exec::{Arg, Tx};
use super::keyset;
use super::payments::corrupt;
use super::text::Text;
use super::{Store, StoreError};
use crate::domain::{
    Interval, Membership, MembershipStatus, Page, PageFrom, Timestamp, monthly_recurring_revenue,
    new_id,
};

pub(crate) const MEMBERSHIP_COLUMNS: &str = "id, donor_id, external_ref, amount, currency, \
     billing_interval, status, campaign, cancel_at_period_end, started_at, canceled_at, \
     current_period_end";

#[derive(sqlx::FromRow)]
pub(crate) struct MembershipRow {
    id: Text,
    donor_id: Option<Text>,
    external_ref: Text,
    amount: i64,
    currency: Text,
    billing_interval: Text,
    status: Text,
    campaign: Option<Text>,
    cancel_at_period_end: i64,
    started_at: i64,
    canceled_at: Option<i64>,
    current_period_end: Option<i64>,
}

impl MembershipRow {
    pub(crate) fn into_membership(self) -> Result<Membership, StoreError> {
        Ok(Membership {
            interval: Interval::parse(&self.billing_interval)
                .map_err(|_| corrupt("interval", &self.id))?,
            status: MembershipStatus::parse(&self.status)
                .map_err(|_| corrupt("status", &self.id))?,
            id: self.id.0,
            object: "membership",
            donor_id: self.donor_id.map(|t| t.0),
            amount: self.amount,
            currency: self.currency.0,
            external_ref: self.external_ref.0,
            campaign: self.campaign.map(|t| t.0),
            cancel_at_period_end: self.cancel_at_period_end != 0,
            started_at: Timestamp(self.started_at),
            canceled_at: self.canceled_at.map(Timestamp),
            current_period_end: self.current_period_end.map(Timestamp),
        })
    }
}

/// A subscription as the processor reports it now.
#[derive(Clone, Debug, PartialEq)]
pub struct SubscriptionState {
    /// The processor's subscription id (`sub_…`): the membership's key.
    pub external_ref: String,
    pub amount: i64,
    /// Upper case ISO 4217.
    pub currency: String,
    pub interval: Interval,
    pub status: MembershipStatus,
    pub campaign: Option<String>,
    pub cancel_at_period_end: bool,
    pub started_at: Timestamp,
    pub canceled_at: Option<Timestamp>,
    pub current_period_end: Option<Timestamp>,
    /// The member's email and name, when the processor told them.
    pub member: Option<(String, String)>,
}

/// Records the membership of `s` or brings it up to date, in `tx`; its id.
/// A membership only moves out of `canceled` when the subscription is
/// replaced (never by a late event of the old one).
pub(crate) async fn upsert(
    tx: &mut Tx<'_>,
    s: &SubscriptionState,
    now: Timestamp,
) -> Result<String, sqlx::Error> {
    let donor = match &s.member {
        Some((email, name)) => Some(super::donors::link(tx, email, name, now).await?),
        None => None,
    };
    let id = new_id("mem");
    let d = tx.dialect();
    let sql = format!(
        "{} INTO memberships (id, donor_id, external_ref, amount, currency, billing_interval, \
         status, campaign, cancel_at_period_end, started_at, canceled_at, current_period_end, \
         state_at, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        d.insert_ignore()
    );
    let args: Vec<Arg<'_>> = vec![
        id.as_str().into(),
        donor.as_deref().into(),
        s.external_ref.as_str().into(),
        s.amount.into(),
        s.currency.as_str().into(),
        s.interval.as_str().into(),
        s.status.as_str().into(),
        s.campaign.as_deref().into(),
        i64::from(s.cancel_at_period_end).into(),
        s.started_at.0.into(),
        s.canceled_at.map(|t| t.0).into(),
        s.current_period_end.map(|t| t.0).into(),
        now.0.into(),
        now.0.into(),
        now.0.into(),
    ];
    if tx.execute(&sql, &args).await? == 1 {
        return Ok(id);
    }
    let sql = format!(
        "SELECT id, status FROM memberships WHERE external_ref = ?{}",
        d.for_update()
    );
    let (id, status): (Text, Text) = tx
        .fetch_one(&sql, &[s.external_ref.as_str().into()])
        .await?;
    // Canceled is final: a late `updated` event fetched before the cancel
    // could otherwise revive it.
    let status = if status.0 == MembershipStatus::Canceled.as_str() {
        MembershipStatus::Canceled
    } else {
        s.status
    };
    tx.execute(
        "UPDATE memberships SET donor_id = COALESCE(donor_id, ?), amount = ?, currency = ?, \
         billing_interval = ?, status = ?, campaign = COALESCE(?, campaign), \
         cancel_at_period_end = ?, canceled_at = COALESCE(canceled_at, ?), \
         current_period_end = ?, state_at = ?, updated_at = ? WHERE id = ?",
        &[
            donor.as_deref().into(),
            s.amount.into(),
            s.currency.as_str().into(),
            s.interval.as_str().into(),
            status.as_str().into(),
            s.campaign.as_deref().into(),
            i64::from(s.cancel_at_period_end).into(),
            s.canceled_at.map(|t| t.0).into(),
            s.current_period_end.map(|t| t.0).into(),
            now.0.into(),
            now.0.into(),
            id.0.as_str().into(),
        ],
    )
    .await?;
    Ok(id.0)
}

/// The membership of a subscription, and fills its donor when it has none.
pub(crate) async fn of_subscription(
    tx: &mut Tx<'_>,
    subscription: &str,
    donor: &str,
) -> Result<Option<String>, sqlx::Error> {
    let found: Option<(Text,)> = tx
        .fetch_optional(
            "SELECT id FROM memberships WHERE external_ref = ?",
            &[subscription.into()],
        )
        .await?;
    let Some((id,)) = found else { return Ok(None) };
    tx.execute(
        "UPDATE memberships SET donor_id = ? WHERE id = ? AND donor_id IS NULL",
        &[donor.into(), id.0.as_str().into()],
    )
    .await?;
    Ok(Some(id.0))
}

/// The overview's membership figures.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct MembershipStats {
    /// Active or past due.
    pub members: i64,
    /// Monthly recurring revenue per currency (yearly counts 1/12).
    pub mrr: BTreeMap<String, i64>,
    pub started_since: i64,
    pub canceled_since: i64,
}

impl Store {
    /// Memberships with `status` (any when None), newest started first,
    /// in keyset order from `from`.
    pub async fn list_memberships(
        &self,
        status: Option<MembershipStatus>,
        limit: i64,
        from: &PageFrom,
    ) -> Result<Page<Membership>, StoreError> {
        let mut clauses = Vec::new();
        let mut args: Vec<Arg<'_>> = Vec::new();
        if let Some(s) = status {
            clauses.push("status = ?".to_owned());
            args.push(s.as_str().into());
        }
        let (sql, args) = keyset::page_query(
            &format!("SELECT {MEMBERSHIP_COLUMNS} FROM memberships"),
            "started_at",
            clauses,
            args,
            from,
            limit,
        );
        let (sql, args) = (&sql, &args);
        let rows: Vec<MembershipRow> = self.read(|c| Box::pin(c.fetch_all(sql, args))).await?;
        Page::from_rows(rows, limit, from).try_map(MembershipRow::into_membership)
    }

    pub async fn membership(&self, id: &str) -> Result<Membership, StoreError> {
        let sql = format!("SELECT {MEMBERSHIP_COLUMNS} FROM memberships WHERE id = ?");
        let sql = &sql;
        let row: Option<MembershipRow> = self
            .read(|c| Box::pin(async move { c.fetch_optional(sql, &[id.into()]).await }))
            .await?;
        row.ok_or(StoreError::NotFound)?.into_membership()
    }

    /// Members, recurring revenue, and memberships started and canceled
    /// since `since` (the overview passes the start of the month).
    pub async fn membership_stats(&self, since: Timestamp) -> Result<MembershipStats, StoreError> {
        let d = self.dialect();
        let sums = format!(
            "SELECT currency, billing_interval, status, {}, COUNT(*) FROM memberships \
             WHERE status IN ('active', 'past_due') GROUP BY currency, billing_interval, status",
            d.sum("amount")
        );
        let sums = &sums;
        type SumRow = (Text, Text, Text, i64, i64);
        let rows: Vec<SumRow> = self.read(|c| Box::pin(c.fetch_all(sums, &[]))).await?;
        let mut members = 0;
        let mut parsed = Vec::with_capacity(rows.len());
        for (currency, interval, status, amount, count) in &rows {
            members += count;
            let interval =
                Interval::parse(interval).map_err(|_| corrupt("interval", "memberships"))?;
            let status =
                MembershipStatus::parse(status).map_err(|_| corrupt("status", "memberships"))?;
            parsed.push((currency.0.as_str(), *amount, interval, status));
        }
        let (started,): (i64,) = self
            .read(|c| {
                Box::pin(async move {
                    c.fetch_one(
                        "SELECT COUNT(*) FROM memberships WHERE started_at >= ?",
                        &[since.0.into()],
                    )
                    .await
                })
            })
            .await?;
        let (canceled,): (i64,) = self
            .read(|c| {
                Box::pin(async move {
                    c.fetch_one(
                        "SELECT COUNT(*) FROM memberships WHERE canceled_at >= ?",
                        &[since.0.into()],
                    )
                    .await
                })
            })
            .await?;
        Ok(MembershipStats {
            members,
            mrr: monthly_recurring_revenue(parsed),
            started_since: started,
            canceled_since: canceled,
        })
    }
}
