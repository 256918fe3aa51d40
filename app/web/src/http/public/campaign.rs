//! The campaign a donation page names: shown with its goal, progress and
//! match while it is open, refused once it has ended.

use crate::domain::Timestamp;
use crate::domain::campaign::parse_slug;
use crate::domain::format_amount;
use crate::storage::{Store, StoreError};

/// A campaign as the page shows it.
pub struct CampaignView {
    pub slug: String,
    pub name: String,
    /// "12,340.00 USD" raised, the match included.
    pub raised: String,
    pub goal: Option<GoalView>,
    pub count: i64,
    /// "2×" while the match lasts.
    pub match_label: Option<String>,
    /// What the match can still add, when it has a cap.
    pub match_remaining: Option<String>,
}

/// A goal and how much of it is reached (at most 100).
pub struct GoalView {
    pub amount: String,
    pub percent: u8,
}

/// The open campaign with this slug, or none (unknown or ended).
pub async fn open_campaign(store: &Store, slug: &str) -> Result<Option<CampaignView>, StoreError> {
    let Ok(slug) = parse_slug(slug) else {
        return Ok(None);
    };
    let Some((campaign, progress)) = store.campaign_for_page(&slug).await? else {
        return Ok(None);
    };
    let now = Timestamp::now();
    if !campaign.is_open(now) {
        return Ok(None);
    }
    let code = campaign.currency.code();
    let matching = campaign.match_active(&progress, now);
    Ok(Some(CampaignView {
        raised: format_amount(progress.raised + progress.matched, code),
        goal: campaign
            .goal
            .zip(progress.percent_of_goal(&campaign))
            .map(|(goal, percent)| GoalView {
                amount: format_amount(goal, code),
                percent,
            }),
        count: progress.count,
        match_label: campaign.match_label().filter(|_| matching),
        match_remaining: progress
            .match_remaining
            .filter(|_| matching)
            .map(|left| format_amount(left, code)),
        slug: campaign.slug,
        name: campaign.name,
    }))
}
