//! Donors: found or made for each payment's email in the payment's own
//! transaction, listed and read with their totals and memberships.

use std::collections::{BTreeMap, HashMap};

use super::dialect::like_pattern;
use super::exec::{Arg, Tx};
use super::keyset;
use super::memberships::{MEMBERSHIP_COLUMNS, MembershipRow};
use super::text::Text;
use super::{Store, StoreError};
use crate::domain::{Donor, GiftTotals, Membership, Page, PageFrom, Timestamp, email_key, new_id};

/// The donor of `email`, made (named `name`, dated `at`) if there is none:
/// one per email whatever its case, even when two payments race.
pub(crate) async fn link(
    tx: &mut Tx<'_>,
    email: &str,
    name: &str,
    at: Timestamp,
) -> Result<String, sqlx::Error> {
    let key = email_key(email);
    let found: Option<(Text,)> = tx
        .fetch_optional(
            "SELECT id FROM donors WHERE email_key = ?",
            &[key.as_str().into()],
        )
        .await?;
    if let Some((id,)) = found {
        return Ok(id.0);
    }
    let id = new_id("don");
    let d = tx.dialect();
    let sql = format!(
        "{} INTO donors (id, email_key, email, name, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)",
        d.insert_ignore()
    );
    let args = [
        id.as_str().into(),
        key.as_str().into(),
        email.into(),
        name.into(),
        at.0.into(),
        at.0.into(),
    ];
    if tx.execute(&sql, &args).await? == 1 {
        return Ok(id);
    }
    // Another transaction made it first. A locking read sees its committed
    // row (a plain read on MySQL would see this transaction's snapshot).
    let sql = format!("SELECT id FROM donors WHERE email_key = ?{}", d.for_share());
    let (id,): (Text,) = tx.fetch_one(&sql, &[key.as_str().into()]).await?;
    Ok(id.0)
}

/// The donors of many emails at once (a bulk load): made where missing,
/// keyed by [`email_key`].
pub(crate) async fn link_many(
    tx: &mut Tx<'_>,
    donors: &BTreeMap<String, (&str, &str, Timestamp)>,
) -> Result<HashMap<String, String>, sqlx::Error> {
    let d = tx.dialect();
    let entries: Vec<_> = donors.iter().collect();
    for chunk in entries.chunks(d.max_placeholders() / 6) {
        let sql = format!(
            "{} INTO donors (id, email_key, email, name, created_at, updated_at) VALUES {}",
            d.insert_ignore(),
            vec!["(?, ?, ?, ?, ?, ?)"; chunk.len()].join(", ")
        );
        let mut args: Vec<Arg<'_>> = Vec::with_capacity(chunk.len() * 6);
        for (key, (email, name, at)) in chunk {
            args.extend([
                new_id("don").into(),
                key.as_str().into(),
                (*email).into(),
                (*name).into(),
                at.0.into(),
                at.0.into(),
            ]);
        }
        tx.execute(&sql, &args).await?;
    }
    let mut ids = HashMap::with_capacity(donors.len());
    for chunk in entries.chunks(d.max_placeholders().min(10_000)) {
        let sql = format!(
            "SELECT email_key, id FROM donors WHERE email_key IN ({}){}",
            vec!["?"; chunk.len()].join(", "),
            d.for_share()
        );
        let args: Vec<Arg<'_>> = chunk.iter().map(|(k, _)| k.as_str().into()).collect();
        let rows: Vec<(Text, Text)> = tx.fetch_all(&sql, &args).await?;
        ids.extend(rows.into_iter().map(|(k, id)| (k.0, id.0)));
    }
    Ok(ids)
}

type DonorRow = (Text, Text, Text, i64);

const CAPTURED: &str = "('succeeded', 'partially_refunded', 'refunded')";

impl Store {
    /// Donors newest first, matching `q` (their id, or part of their name or
    /// email) when given, in keyset order from `from`.
    pub async fn list_donors(
        &self,
        q: Option<&str>,
        limit: i64,
        from: &PageFrom,
    ) -> Result<Page<Donor>, StoreError> {
        let d = self.dialect();
        let mut clauses = Vec::new();
        let mut args: Vec<Arg<'_>> = Vec::new();
        if let Some(q) = q {
            clauses.push(format!(
                "(id = ? OR {} OR {})",
                d.contains("name"),
                d.contains("email")
            ));
            let pattern = like_pattern(q);
            args.extend([q.into(), pattern.clone().into(), pattern.into()]);
        }
        let (sql, args) = keyset::page_query(
            "SELECT id, name, email, created_at FROM donors",
            "created_at",
            clauses,
            args,
            from,
            limit,
        );
        let (sql, args) = (&sql, &args);
        let rows: Vec<DonorRow> = self.read(|c| Box::pin(c.fetch_all(sql, args))).await?;
        let page = Page::from_rows(rows, limit, from);
        Ok(Page {
            items: self.donors_from(page.items).await?,
            has_more: page.has_more,
        })
    }

    /// One donor with totals and memberships.
    pub async fn donor(&self, id: &str) -> Result<Donor, StoreError> {
        let row: Option<DonorRow> = self
            .read(|c| {
                Box::pin(async move {
                    c.fetch_optional(
                        "SELECT id, name, email, created_at FROM donors WHERE id = ?",
                        &[id.into()],
                    )
                    .await
                })
            })
            .await?;
        let row = row.ok_or(StoreError::NotFound)?;
        Ok(self.donors_from(vec![row]).await?.remove(0))
    }

    /// The donor of an email (any case), if there is one.
    pub async fn donor_by_email(&self, email: &str) -> Result<Option<Donor>, StoreError> {
        let key = email_key(email);
        let key = &key;
        let row: Option<DonorRow> = self
            .read(|c| {
                Box::pin(async move {
                    c.fetch_optional(
                        "SELECT id, name, email, created_at FROM donors WHERE email_key = ?",
                        &[key.as_str().into()],
                    )
                    .await
                })
            })
            .await?;
        match row {
            Some(row) => Ok(Some(self.donors_from(vec![row]).await?.remove(0))),
            None => Ok(None),
        }
    }

    /// Donors from their rows, with two more statements for all of them:
    /// totals of their captured payments, and their memberships.
    async fn donors_from(&self, rows: Vec<DonorRow>) -> Result<Vec<Donor>, StoreError> {
        if rows.is_empty() {
            return Ok(Vec::new());
        }
        let marks = vec!["?"; rows.len()].join(", ");
        let ids: Vec<Arg<'_>> = rows.iter().map(|r| r.0.0.as_str().into()).collect();
        let d = self.dialect();
        let totals_sql = format!(
            "SELECT donor_id, currency, COUNT(*), {}, {}, MIN(created_at), MAX(created_at) \
             FROM payments WHERE donor_id IN ({marks}) AND status IN {CAPTURED} \
             GROUP BY donor_id, currency",
            d.sum("amount"),
            d.sum("amount_refunded")
        );
        let members_sql = format!(
            "SELECT {MEMBERSHIP_COLUMNS} FROM memberships WHERE donor_id IN ({marks}) \
             ORDER BY started_at DESC, id DESC"
        );
        let (totals_sql, members_sql, ids) = (&totals_sql, &members_sql, &ids);
        type TotalRow = (Text, Text, i64, i64, i64, i64, i64);
        let totals: Vec<TotalRow> = self
            .read(|c| Box::pin(c.fetch_all(totals_sql, ids)))
            .await?;
        let members: Vec<MembershipRow> = self
            .read(|c| Box::pin(c.fetch_all(members_sql, ids)))
            .await?;
        let mut memberships: HashMap<String, Vec<Membership>> = HashMap::new();
        for row in members {
            let m = row.into_membership()?;
            if let Some(donor) = m.donor_id.clone() {
                memberships.entry(donor).or_default().push(m);
            }
        }
        let mut by_donor: HashMap<String, (BTreeMap<String, GiftTotals>, i64, i64)> =
            HashMap::new();
        for (donor, currency, count, gross, refunded, first, last) in totals {
            let e = by_donor
                .entry(donor.0)
                .or_insert_with(|| (BTreeMap::new(), i64::MAX, i64::MIN));
            e.0.insert(
                currency.0,
                GiftTotals {
                    count,
                    gross,
                    refunded,
                    net: gross - refunded,
                },
            );
            e.1 = e.1.min(first);
            e.2 = e.2.max(last);
        }
        Ok(rows
            .into_iter()
            .map(|(id, name, email, created_at)| {
                let (totals, first, last) = by_donor.remove(&id.0).unwrap_or_default();
                let gifts = !totals.is_empty();
                Donor {
                    memberships: memberships.remove(&id.0).unwrap_or_default(),
                    id: id.0,
                    object: "donor",
                    name: name.0,
                    email: email.0,
                    first_gift_at: gifts.then_some(Timestamp(first)),
                    last_gift_at: gifts.then_some(Timestamp(last)),
                    totals,
                    created_at: Timestamp(created_at),
                }
            })
            .collect())
    }

    /// How many donors there are.
    pub async fn donor_count(&self) -> Result<i64, StoreError> {
        let (n,): (i64,) = self
            .read(|c| Box::pin(c.fetch_one("SELECT COUNT(*) FROM donors", &[])))
            .await?;
        Ok(n)
    }
}

/// A donor's captured gift, as the donor's page charts it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Gift {
    pub created_at: Timestamp,
    pub currency: String,
    pub amount: i64,
    pub refunded: i64,
}

impl Store {
    /// The names and emails of these donors (those that exist), by id: one
    /// statement for a page of memberships.
    pub async fn donor_names(
        &self,
        ids: &[&str],
    ) -> Result<HashMap<String, (String, String)>, StoreError> {
        if ids.is_empty() {
            return Ok(HashMap::new());
        }
        let sql = format!(
            "SELECT id, name, email FROM donors WHERE id IN ({})",
            vec!["?"; ids.len()].join(", ")
        );
        let args: Vec<Arg<'_>> = ids.iter().map(|id| (*id).into()).collect();
        let (sql, args) = (&sql, &args);
        let rows: Vec<(Text, Text, Text)> = self.read(|c| Box::pin(c.fetch_all(sql, args))).await?;
        Ok(rows
            .into_iter()
            .map(|(id, name, email)| (id.0, (name.0, email.0)))
            .collect())
    }

    /// The donor's newest `limit` captured gifts, newest first (through the
    /// index on donor and time).
    pub async fn donor_gifts(&self, donor_id: &str, limit: i64) -> Result<Vec<Gift>, StoreError> {
        let sql = format!(
            "SELECT created_at, currency, amount, amount_refunded FROM payments \
             WHERE donor_id = ? AND status IN {CAPTURED} \
             ORDER BY created_at DESC, id DESC LIMIT ?"
        );
        let sql = &sql;
        let rows: Vec<(i64, Text, i64, i64)> = self
            .read(|c| {
                Box::pin(async move { c.fetch_all(sql, &[donor_id.into(), limit.into()]).await })
            })
            .await?;
        Ok(rows
            .into_iter()
            .map(|(at, currency, amount, refunded)| Gift {
                created_at: Timestamp(at),
                currency: currency.0,
                amount,
                refunded,
            })
            .collect())
    }
}
