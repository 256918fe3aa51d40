//! The campaign a donation page names: shown with its goal, progress and
//! match while it is open, refused once it has ended.

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
    // Campaign storage is not on this branch yet.
    let _ = (store, slug, format_amount(0, "USD"));
    Ok(None)
}
