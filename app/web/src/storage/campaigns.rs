//! Campaigns and their progress. Progress is read from the monthly rollups
//! of the `campaign` dimension, so its cost does not grow with the number
//! of payments.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde_json::json;

use super::audit::{self, AuditEntry};
use super::exec::Tx;
use super::payments::corrupt;
use super::retry::TxError;
use super::text::Text;
use super::{Store, StoreError};
use crate::domain::{Campaign, CampaignProgress, CampaignSpec, Currency, Timestamp};

/// How old the donation page's campaign and progress may be: the page is
/// the busiest public one, and its progress bar need not move by the
/// millisecond. Staff pages read the database every time.
pub const PAGE_CACHE_TTL: Duration = Duration::from_secs(1);

/// More entries than this and expired ones are swept out (slugs come from
/// the query string, so unknown ones are cached too and must not pile up).
const SWEEP_ABOVE: usize = 1024;

type PageEntry = (Option<(Campaign, CampaignProgress)>, Instant);

#[derive(Default)]
pub struct PageCache {
    entries: Mutex<HashMap<String, PageEntry>>,
}

impl std::fmt::Debug for PageCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PageCache")
    }
}

const COLUMNS: &str =
    "slug, name, goal, currency, match_ratio, match_cap, ends_at, created_at, updated_at";

#[derive(sqlx::FromRow)]
struct CampaignRow {
    slug: Text,
    name: Text,
    goal: Option<i64>,
    currency: Text,
    match_ratio: Option<i64>,
    match_cap: Option<i64>,
    ends_at: Option<i64>,
    created_at: i64,
    updated_at: i64,
}

impl CampaignRow {
    fn into_campaign(self) -> Result<Campaign, StoreError> {
        Ok(Campaign {
            currency: Currency::parse(&self.currency)
                .map_err(|_| corrupt("currency", &self.slug))?,
            slug: self.slug.0,
            name: self.name.0,
            goal: self.goal,
            match_ratio: self.match_ratio,
            match_cap: self.match_cap,
            ends_at: self.ends_at.map(Timestamp),
            created_at: Timestamp(self.created_at),
            updated_at: Timestamp(self.updated_at),
        })
    }
}

fn details(spec: &CampaignSpec) -> serde_json::Value {
    json!({"name": spec.name, "goal": spec.goal, "currency": spec.currency.code(),
           "match_ratio": spec.match_ratio, "match_cap": spec.match_cap,
           "ends_at": spec.ends_at})
}

async fn create(
    tx: &mut Tx<'_>,
    actor: &str,
    slug: &str,
    spec: &CampaignSpec,
) -> Result<(), TxError> {
    let now = Timestamp::now();
    let sql = format!("INSERT INTO campaigns ({COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)");
    let args = [
        slug.into(),
        spec.name.as_str().into(),
        spec.goal.into(),
        spec.currency.code().into(),
        spec.match_ratio.into(),
        spec.match_cap.into(),
        spec.ends_at.map(|t| t.0).into(),
        now.0.into(),
        now.0.into(),
    ];
    match tx.execute(&sql, &args).await {
        Err(e) if tx.dialect().is_unique_violation(&e) => {
            return Err(StoreError::Conflict(format!("a campaign {slug} already exists")).into());
        }
        other => other?,
    };
    let entry = AuditEntry {
        at: now,
        actor,
        action: "campaign.created",
        subject: slug,
        details: details(spec),
    };
    audit::record(tx, &entry).await?;
    Ok(())
}

async fn update(
    tx: &mut Tx<'_>,
    actor: &str,
    slug: &str,
    spec: &CampaignSpec,
) -> Result<(), TxError> {
    let now = Timestamp::now();
    let changed = tx
        .execute(
            "UPDATE campaigns SET name = ?, goal = ?, currency = ?, match_ratio = ?, \
             match_cap = ?, ends_at = ?, updated_at = ? WHERE slug = ?",
            &[
                spec.name.as_str().into(),
                spec.goal.into(),
                spec.currency.code().into(),
                spec.match_ratio.into(),
                spec.match_cap.into(),
                spec.ends_at.map(|t| t.0).into(),
                now.0.into(),
                slug.into(),
            ],
        )
        .await?;
    if changed == 0 {
        return Err(StoreError::NotFound.into());
    }
    let entry = AuditEntry {
        at: now,
        actor,
        action: "campaign.updated",
        subject: slug,
        details: details(spec),
    };
    audit::record(tx, &entry).await?;
    Ok(())
}

impl Store {
    /// The campaign and its progress as the public donation page shows
    /// them: at most [`PAGE_CACHE_TTL`] old.
    pub async fn campaign_for_page(
        &self,
        slug: &str,
    ) -> Result<Option<(Campaign, CampaignProgress)>, StoreError> {
        {
            let entries = self
                .page_campaigns
                .entries
                .lock()
                .unwrap_or_else(|e| e.into_inner());
            if let Some((found, at)) = entries.get(slug)
                && at.elapsed() < PAGE_CACHE_TTL
            {
                return Ok(found.clone());
            }
        }
        let read_at = Instant::now();
        let found = match self.campaign(slug).await? {
            Some(c) => {
                let progress = self.campaign_progress(&c).await?;
                Some((c, progress))
            }
            None => None,
        };
        let mut entries = self
            .page_campaigns
            .entries
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        if entries.len() >= SWEEP_ABOVE {
            entries.retain(|_, (_, at)| at.elapsed() < PAGE_CACHE_TTL);
        }
        entries.insert(slug.to_owned(), (found.clone(), read_at));
        Ok(found)
    }

    pub async fn campaign(&self, slug: &str) -> Result<Option<Campaign>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM campaigns WHERE slug = ?");
        let sql = &sql;
        let row: Option<CampaignRow> = self
            .read(|c| Box::pin(async move { c.fetch_optional(sql, &[slug.into()]).await }))
            .await?;
        row.map(CampaignRow::into_campaign).transpose()
    }

    /// Every campaign, newest first.
    pub async fn campaigns(&self) -> Result<Vec<Campaign>, StoreError> {
        let sql =
            format!("SELECT {COLUMNS} FROM campaigns ORDER BY created_at DESC, slug LIMIT 500");
        let sql = &sql;
        let rows: Vec<CampaignRow> = self.read(|c| Box::pin(c.fetch_all(sql, &[]))).await?;
        rows.into_iter().map(CampaignRow::into_campaign).collect()
    }

    /// Captured gifts to the campaign in its currency, less refunds, and the
    /// match they earn.
    pub async fn campaign_progress(&self, c: &Campaign) -> Result<CampaignProgress, StoreError> {
        let d = self.dialect();
        let sql = format!(
            "SELECT {}, {}, {} FROM monthly_rollups \
             WHERE currency = ? AND dimension = 'campaign' AND value = ?",
            d.sum("count"),
            d.sum("gross"),
            d.sum("refunded")
        );
        let (sql, currency, slug) = (&sql, c.currency.code(), c.slug.as_str());
        let (count, gross, refunded): (Option<i64>, Option<i64>, Option<i64>) = self
            .read(|conn| {
                Box::pin(async move { conn.fetch_one(sql, &[currency.into(), slug.into()]).await })
            })
            .await?;
        Ok(c.progress(
            count.unwrap_or(0),
            gross.unwrap_or(0),
            refunded.unwrap_or(0),
        ))
    }

    pub async fn create_campaign(
        &self,
        actor: &str,
        slug: &str,
        spec: &CampaignSpec,
    ) -> Result<Campaign, StoreError> {
        self.write(|tx| Box::pin(create(tx, actor, slug, spec)))
            .await?;
        self.saved_campaign(slug).await
    }

    pub async fn update_campaign(
        &self,
        actor: &str,
        slug: &str,
        spec: &CampaignSpec,
    ) -> Result<Campaign, StoreError> {
        self.write(|tx| Box::pin(update(tx, actor, slug, spec)))
            .await?;
        self.saved_campaign(slug).await
    }

    /// The campaign just written, read back. This process's donation page
    /// stops showing the old one at once; other replicas within
    /// [`PAGE_CACHE_TTL`].
    async fn saved_campaign(&self, slug: &str) -> Result<Campaign, StoreError> {
        self.page_campaigns
            .entries
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(slug);
        self.campaign(slug).await?.ok_or(StoreError::NotFound)
    }
}
