//! Refunds of payments that came through Stripe (DESIGN §12): Stripe first,
//! then the ledger with Stripe's refund id. Refused by Stripe or Stripe
//! unreachable: nothing is recorded, and the same request may be retried
//! (Stripe gets the same idempotency key, so it refunds at most once).

use sha2::{Digest, Sha256};

use super::{Stripe, StripeError};
use crate::domain::{MinorUnits, NewRefund, Payment, Refund, RefundReason, STRIPE, refund_amount};
use crate::storage::payments::{IdempotencyClaim, Idempotent, RecordedResponse};
use crate::storage::{Store, StoreError};

/// Why a refund was not made.
#[derive(Debug, thiserror::Error)]
pub enum RefundError {
    #[error("{0}")]
    Store(#[from] StoreError),
    /// Stripe refused (409 at the API), with its message.
    #[error("Stripe refused the refund: {0}")]
    Refused(String),
    /// Stripe did not answer usably (502 at the API).
    #[error(
        "Stripe could not be reached; nothing was refunded or recorded, and the same request may be retried"
    )]
    Unreachable(String),
}

/// Refunds `payment`: through Stripe when it came through Stripe, else in
/// the ledger only.
pub async fn refund(
    store: &Store,
    stripe: Option<&Stripe>,
    actor: &str,
    idempotency: &IdempotencyClaim,
    payment: &Payment,
    new: &NewRefund,
    record: impl Fn(&Refund) -> RecordedResponse + Sync,
) -> Result<Idempotent<Refund>, RefundError> {
    let Some(pi) = payment
        .external_ref
        .as_deref()
        .filter(|_| payment.processor == Some(STRIPE))
    else {
        return Ok(store
            .refund_payment(actor, Some(idempotency), &payment.id, new, record)
            .await?);
    };
    let Some(stripe) = stripe else {
        return Err(StoreError::Conflict(
            "this payment came through Stripe, which is not configured here; refund it where Stripe is".into(),
        )
        .into());
    };
    if let Some(prior) = store.idempotency_prior(idempotency).await? {
        return Ok(prior);
    }
    let amount = refund_amount(
        payment.status,
        payment.amount,
        payment.amount_refunded,
        new.amount.map(MinorUnits::get),
    )
    .map_err(|refusal| StoreError::Conflict(refusal.to_string()))?;
    let reason = match new.reason() {
        RefundReason::Other => None,
        r => Some(r.as_str()),
    };
    let key = stripe_idempotency_key(idempotency, &payment.id);
    let made = match stripe.client.create_refund(pi, amount, reason, &key).await {
        Ok(made) => made,
        Err(StripeError::Refused { message, .. }) => return Err(RefundError::Refused(message)),
        Err(StripeError::NotFound(message)) => return Err(RefundError::Refused(message)),
        Err(StripeError::Unavailable(why)) => return Err(RefundError::Unreachable(why)),
    };
    let recorded = NewRefund {
        amount: Some(MinorUnits::new(made.amount).map_err(|_| {
            RefundError::Unreachable("Stripe answered with a refund of no amount".into())
        })?),
        reason: new.reason,
    };
    Ok(store
        .record_refund(
            actor,
            Some(idempotency),
            &payment.id,
            &recorded,
            Some(&made.id),
            record,
        )
        .await?)
}

/// The key Stripe gets for our request: the same for a retry of the same
/// request (same caller, key and payment), different for any other, and
/// revealing nothing of ours.
pub fn stripe_idempotency_key(claim: &IdempotencyClaim, payment_id: &str) -> String {
    let mut h = Sha256::new();
    for part in [&claim.principal, &claim.key, payment_id] {
        h.update(part.as_bytes());
        h.update([0]);
    }
    format!("payments-refund-{}", hex::encode(h.finalize()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claim(principal: &str, key: &str) -> IdempotencyClaim {
        IdempotencyClaim {
            principal: principal.into(),
            key: key.into(),
            request_hash: String::new(),
        }
    }

    #[test]
    fn stripe_keys_follow_our_request() {
        let a = stripe_idempotency_key(&claim("tok_1", "k1"), "pay_1");
        assert_eq!(a, stripe_idempotency_key(&claim("tok_1", "k1"), "pay_1"));
        assert_ne!(a, stripe_idempotency_key(&claim("tok_2", "k1"), "pay_1"));
        assert_ne!(a, stripe_idempotency_key(&claim("tok_1", "k2"), "pay_1"));
        assert_ne!(a, stripe_idempotency_key(&claim("tok_1", "k1"), "pay_2"));
        // The separator keeps ("ab", "c") and ("a", "bc") apart.
        assert_ne!(
            stripe_idempotency_key(&claim("ab", "c"), "p"),
            stripe_idempotency_key(&claim("a", "bc"), "p")
        );
        assert!(a.len() <= 255 && !a.contains("k1"));
    }
}
