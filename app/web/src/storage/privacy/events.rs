//! Processor events after an erasure: an event about an erased donor's
//! PaymentIntent or subscription, or with an erased email, records its
//! money under a pseudonym and never the name or email it carries.

use std::borrow::Cow;

use super::scrub::{ERASED_NAME, email_hash, pseudonym};
use crate::domain::{Timestamp, new_id};
use crate::storage::donors;
use crate::storage::exec::Tx;
use crate::storage::memberships::SubscriptionState;
use crate::storage::text::Text;

/// Whom an event's payment is recorded under, and with which name and email.
pub(crate) struct EventPayer {
    pub(crate) donor: String,
    pub(crate) name: String,
    pub(crate) email: String,
    /// The donor is erased: `name` and `email` are the pseudonym.
    pub(crate) erased: bool,
}

impl EventPayer {
    fn erased(donor: String) -> EventPayer {
        EventPayer {
            email: pseudonym(&donor),
            name: ERASED_NAME.to_owned(),
            donor,
            erased: true,
        }
    }
}

/// The erased donor whose payment is `external_ref`.
async fn erased_owner_of_payment(
    tx: &mut Tx<'_>,
    external_ref: &str,
) -> Result<Option<String>, sqlx::Error> {
    let found: Option<(Text,)> = tx
        .fetch_optional(
            "SELECT d.id FROM payments p JOIN donors d ON d.id = p.donor_id \
             WHERE p.external_ref = ? AND d.erased_at IS NOT NULL",
            &[external_ref.into()],
        )
        .await?;
    Ok(found.map(|(id,)| id.0))
}

/// The erased donor whose membership is the subscription `subscription`.
async fn erased_owner_of_subscription(
    tx: &mut Tx<'_>,
    subscription: &str,
) -> Result<Option<String>, sqlx::Error> {
    let found: Option<(Text,)> = tx
        .fetch_optional(
            "SELECT d.id FROM memberships m JOIN donors d ON d.id = m.donor_id \
             WHERE m.external_ref = ? AND d.erased_at IS NOT NULL",
            &[subscription.into()],
        )
        .await?;
    Ok(found.map(|(id,)| id.0))
}

/// Whether `email` belongs to an erased donor.
pub(crate) async fn email_erased(tx: &mut Tx<'_>, email: &str) -> Result<bool, sqlx::Error> {
    if email.trim().is_empty() {
        return Ok(false);
    }
    let found: Option<(Text,)> = tx
        .fetch_optional(
            "SELECT email_hash FROM erased_emails WHERE email_hash = ?",
            &[email_hash(email).into()],
        )
        .await?;
    Ok(found.is_some())
}

/// A new donor already pseudonymised: the payer of a gift from an erased
/// email. Each such gift gets its own, so nothing links it to the gifts
/// before the erasure.
async fn pseudonymous_donor(tx: &mut Tx<'_>, at: Timestamp) -> Result<String, sqlx::Error> {
    let id = new_id("don");
    let email = pseudonym(&id);
    let now = Timestamp::now();
    tx.execute(
        "INSERT INTO donors (id, email_key, email, name, created_at, updated_at, erased_at) \
         VALUES (?, ?, ?, ?, ?, ?, ?)",
        &[
            id.as_str().into(),
            email.as_str().into(),
            email.as_str().into(),
            ERASED_NAME.into(),
            at.0.into(),
            now.0.into(),
            now.0.into(),
        ],
    )
    .await?;
    Ok(id)
}

/// The payer of a processor's payment (`external_ref`, perhaps of
/// `subscription`) from `email` and `name`: the erased donor owning either
/// object, a new pseudonymous donor for an erased email, or else the donor
/// of the email ([`donors::link`]) unless an erasure committed meanwhile.
pub(crate) async fn payer_of(
    tx: &mut Tx<'_>,
    external_ref: &str,
    subscription: Option<&str>,
    email: &str,
    name: &str,
    at: Timestamp,
) -> Result<EventPayer, sqlx::Error> {
    let mut owner = erased_owner_of_payment(tx, external_ref).await?;
    if let (None, Some(sub)) = (&owner, subscription) {
        owner = erased_owner_of_subscription(tx, sub).await?;
    }
    if let Some(donor) = owner {
        return Ok(EventPayer::erased(donor));
    }
    if email_erased(tx, email).await? {
        return Ok(EventPayer::erased(pseudonymous_donor(tx, at).await?));
    }
    let donor = donors::link(tx, email, name, at).await?;
    // A locking read: on MySQL it waits for an erasure of this donor that
    // holds its row, and sees it once committed (a plain read would not).
    let sql = format!(
        "SELECT erased_at FROM donors WHERE id = ?{}",
        tx.dialect().for_share()
    );
    let (erased_at,): (Option<i64>,) = tx.fetch_one(&sql, &[donor.as_str().into()]).await?;
    if erased_at.is_some() {
        return Ok(EventPayer::erased(donor));
    }
    Ok(EventPayer {
        donor,
        name: name.to_owned(),
        email: email.to_owned(),
        erased: false,
    })
}

/// `state` without its member when the member must not be recorded: the
/// payment's payer is erased, the subscription is an erased donor's, or
/// the member's email was erased. A membership without a member gets its
/// donor from its payments ([`super::super::memberships::of_subscription`]).
pub(crate) async fn member_state<'s>(
    tx: &mut Tx<'_>,
    state: &'s SubscriptionState,
    payer_erased: bool,
) -> Result<Cow<'s, SubscriptionState>, sqlx::Error> {
    let Some((email, _)) = &state.member else {
        return Ok(Cow::Borrowed(state));
    };
    let hide = payer_erased
        || erased_owner_of_subscription(tx, &state.external_ref)
            .await?
            .is_some()
        || email_erased(tx, email).await?;
    if !hide {
        return Ok(Cow::Borrowed(state));
    }
    let mut anonymous = state.clone();
    anonymous.member = None;
    Ok(Cow::Owned(anonymous))
}
