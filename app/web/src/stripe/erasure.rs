//! Erasing a donor who may still be a member: their subscriptions are
//! canceled at Stripe first, then the ledger erases them
//! ([`Store::erase_donor`]). The command line and the dashboard both call
//! [`erase_donor`].

use super::client::{StripeClient, StripeError};
use crate::storage::privacy::ErasureReport;
use crate::storage::{Store, StoreError};

/// Why a donor was not erased.
#[derive(Debug, thiserror::Error)]
pub enum ErasureError {
    #[error("there is no such donor")]
    NotFound,
    #[error("the donor has an active or past-due membership; cancel it to erase them")]
    MembershipActive,
    #[error("the donor's membership can only be canceled with Stripe configured")]
    StripeNotConfigured,
    /// Stripe did not cancel the subscription: nothing was erased.
    #[error("Stripe did not cancel the membership, so nothing was erased: {0}")]
    Stripe(StripeError),
    #[error("{0}")]
    Store(StoreError),
}

impl From<StoreError> for ErasureError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => ErasureError::NotFound,
            other => ErasureError::Store(other),
        }
    }
}

/// Erases the donor `donor_id` (see [`Store::erase_donor`]). With
/// `cancel_membership`, each active or past-due membership's subscription
/// is canceled at Stripe (`stripe`) before anything is erased; without it,
/// such a membership refuses the erasure.
pub async fn erase_donor(
    store: &Store,
    stripe: Option<&StripeClient>,
    actor: &str,
    donor_id: &str,
    cancel_membership: bool,
) -> Result<ErasureReport, ErasureError> {
    let donor = store.donor(donor_id).await?;
    let live: Vec<_> = donor
        .memberships
        .iter()
        .filter(|m| m.status.is_member())
        .collect();
    if !live.is_empty() {
        if !cancel_membership {
            return Err(ErasureError::MembershipActive);
        }
        let Some(client) = stripe else {
            return Err(ErasureError::StripeNotConfigured);
        };
        for m in live {
            cancel(client, &m.external_ref)
                .await
                .map_err(ErasureError::Stripe)?;
        }
    }
    // A membership that became active after the check above is refused
    // there (a `Conflict`), unless `cancel_membership`.
    Ok(store
        .erase_donor(actor, donor_id, cancel_membership)
        .await?)
}

/// Cancels a subscription, or finds it canceled (or gone) already.
async fn cancel(client: &StripeClient, subscription: &str) -> Result<(), StripeError> {
    match client.cancel_subscription(subscription).await {
        Ok(_) => Ok(()),
        Err(refused @ (StripeError::Refused { .. } | StripeError::NotFound(_))) => {
            match client.subscription(subscription).await {
                Err(StripeError::NotFound(_)) => Ok(()),
                Ok(s) if matches!(s.status.as_str(), "canceled" | "incomplete_expired") => Ok(()),
                _ => Err(refused),
            }
        }
        Err(e) => Err(e),
    }
}
