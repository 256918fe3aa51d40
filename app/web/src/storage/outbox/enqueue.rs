//! Writing messages to the outbox, inside the transaction of their cause.
//! Each is keyed by its cause (`receipt:<payment id>`, `refund:<refund
//! id>`, `membership_canceled:<membership id>`, `renewal_failed:<invoice
//! id>`) and inserted with INSERT IGNORE, so a redelivered event, or a
//! second event about the same object, adds nothing. Nothing is written
//! for an erased donor (their address is a pseudonym under `.invalid`).

use super::super::exec::Tx;
use super::super::text::Text;
use super::PENDING;
use crate::domain::{Refund, Timestamp, new_id};
use crate::mail::Letterhead;
use crate::mail::messages::{self, Composed, Gift, MembershipNote, Recurring, RefundMade};

/// Whether mail can go to `email` (an erased donor's cannot).
fn deliverable(email: &str) -> bool {
    let lower = email.to_ascii_lowercase();
    !(lower.ends_with("@invalid") || lower.ends_with(".invalid"))
}

struct Envelope<'a> {
    cause: String,
    donor_id: Option<&'a str>,
    payment_id: Option<&'a str>,
    recipient: &'a str,
}

/// Writes `message` once per cause; whether it was new.
async fn put(
    tx: &mut Tx<'_>,
    org: &Letterhead,
    envelope: &Envelope<'_>,
    message: &Composed,
    now: Timestamp,
) -> Result<bool, sqlx::Error> {
    if !deliverable(envelope.recipient) {
        return Ok(false);
    }
    let sql = format!(
        "{} INTO outbox (id, cause, kind, donor_id, payment_id, recipient, subject, text_body, \
         html_body, message_id, status, attempts, next_attempt_at, created_at) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?)",
        tx.dialect().insert_ignore()
    );
    let inserted = tx
        .execute(
            &sql,
            &[
                new_id("msg").into(),
                envelope.cause.as_str().into(),
                message.kind.as_str().into(),
                envelope.donor_id.into(),
                envelope.payment_id.into(),
                envelope.recipient.into(),
                message.subject.as_str().into(),
                message.text.as_str().into(),
                message.html.as_str().into(),
                org.new_message_id().into(),
                PENDING.into(),
                now.0.into(),
                now.0.into(),
            ],
        )
        .await?;
    Ok(inserted == 1)
}

#[derive(sqlx::FromRow)]
struct PaymentFacts {
    id: Text,
    amount: i64,
    currency: Text,
    payer_name: Text,
    payer_email: Text,
    campaign: Option<Text>,
    created_at: i64,
    donor_id: Option<Text>,
    membership_id: Option<Text>,
    processor: Option<Text>,
}

async fn payment_facts(
    tx: &mut Tx<'_>,
    payment_id: &str,
) -> Result<Option<PaymentFacts>, sqlx::Error> {
    tx.fetch_optional(
        "SELECT id, amount, currency, payer_name, payer_email, campaign, created_at, donor_id, \
         membership_id, processor FROM payments WHERE id = ?",
        &[payment_id.into()],
    )
    .await
}

/// Who asks for a receipt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Asked {
    /// The processor's event: only for a payment that came through it (an
    /// API import with the same reference asked for none).
    ByProcessor,
    /// The API request that made the payment (`send_receipt`).
    ByRequest,
}

/// The receipt of the succeeded payment `payment_id`.
pub(crate) async fn receipt(
    tx: &mut Tx<'_>,
    org: &Letterhead,
    payment_id: &str,
    asked: Asked,
    now: Timestamp,
) -> Result<bool, sqlx::Error> {
    let Some(p) = payment_facts(tx, payment_id).await? else {
        return Ok(false);
    };
    if asked == Asked::ByProcessor && p.processor.is_none() {
        return Ok(false);
    }
    let campaign = match &p.campaign {
        Some(slug) => {
            let named: Option<(Text,)> = tx
                .fetch_optional(
                    "SELECT name FROM campaigns WHERE slug = ?",
                    &[slug.0.as_str().into()],
                )
                .await?;
            Some(named.map_or_else(|| slug.0.clone(), |(n,)| n.0))
        }
        None => None,
    };
    let membership = match &p.membership_id {
        Some(id) => {
            let row: Option<(Text, Option<i64>)> = tx
                .fetch_optional(
                    "SELECT billing_interval, current_period_end FROM memberships WHERE id = ?",
                    &[id.0.as_str().into()],
                )
                .await?;
            row.map(|(interval, end)| Recurring {
                interval: interval_word(&interval),
                next_charge: end.map(Timestamp),
            })
        }
        None => None,
    };
    let gift = Gift {
        payment_id: p.id.0.clone(),
        name: p.payer_name.0.clone(),
        amount: p.amount,
        currency: p.currency.0.clone(),
        date: Timestamp(p.created_at),
        campaign,
        membership,
    };
    let envelope = Envelope {
        cause: format!("receipt:{}", p.id.0),
        donor_id: p.donor_id.as_deref(),
        payment_id: Some(&p.id),
        recipient: &p.payer_email,
    };
    put(tx, org, &envelope, &messages::receipt(org, &gift), now).await
}

/// The notice of `refund`, just recorded.
pub(crate) async fn refund(
    tx: &mut Tx<'_>,
    org: &Letterhead,
    refund: &Refund,
    now: Timestamp,
) -> Result<bool, sqlx::Error> {
    let Some(p) = payment_facts(tx, &refund.payment_id).await? else {
        return Ok(false);
    };
    let made = RefundMade {
        payment_id: p.id.0.clone(),
        name: p.payer_name.0.clone(),
        amount: refund.amount,
        payment_amount: p.amount,
        currency: p.currency.0.clone(),
        gift_date: Timestamp(p.created_at),
        date: refund.created_at,
    };
    let envelope = Envelope {
        cause: format!("refund:{}", refund.id),
        donor_id: p.donor_id.as_deref(),
        payment_id: Some(&p.id),
        recipient: &p.payer_email,
    };
    put(tx, org, &envelope, &messages::refund(org, &made), now).await
}

#[derive(sqlx::FromRow)]
struct MemberFacts {
    id: Text,
    status: Text,
    amount: i64,
    currency: Text,
    billing_interval: Text,
    canceled_at: Option<i64>,
    donor_id: Text,
    email: Text,
    name: Text,
}

async fn member_facts(
    tx: &mut Tx<'_>,
    subscription: &str,
) -> Result<Option<MemberFacts>, sqlx::Error> {
    tx.fetch_optional(
        "SELECT m.id, m.status, m.amount, m.currency, m.billing_interval, m.canceled_at, \
         d.id AS donor_id, d.email, d.name \
         FROM memberships m JOIN donors d ON d.id = m.donor_id WHERE m.external_ref = ?",
        &[subscription.into()],
    )
    .await
}

fn interval_word(interval: &str) -> &'static str {
    if interval == "year" { "year" } else { "month" }
}

fn note(m: &MemberFacts, date: Timestamp) -> MembershipNote {
    MembershipNote {
        name: m.name.0.clone(),
        amount: m.amount,
        currency: m.currency.0.clone(),
        interval: interval_word(&m.billing_interval),
        date,
    }
}

/// The canceled notice of the subscription's membership, once it is
/// canceled (nothing before).
pub(crate) async fn membership_canceled(
    tx: &mut Tx<'_>,
    org: &Letterhead,
    subscription: &str,
    now: Timestamp,
) -> Result<bool, sqlx::Error> {
    let Some(m) = member_facts(tx, subscription).await? else {
        return Ok(false);
    };
    if m.status.0 != "canceled" {
        return Ok(false);
    }
    let envelope = Envelope {
        cause: format!("membership_canceled:{}", m.id.0),
        donor_id: Some(&m.donor_id),
        payment_id: None,
        recipient: &m.email,
    };
    let date = Timestamp(m.canceled_at.unwrap_or(now.0));
    let message = messages::membership_canceled(org, &note(&m, date));
    put(tx, org, &envelope, &message, now).await
}

/// The failed-renewal notice of `invoice` of the subscription's membership
/// (nothing once the membership is canceled).
pub(crate) async fn renewal_failed(
    tx: &mut Tx<'_>,
    org: &Letterhead,
    subscription: &str,
    invoice: &str,
    now: Timestamp,
) -> Result<bool, sqlx::Error> {
    let Some(m) = member_facts(tx, subscription).await? else {
        return Ok(false);
    };
    if m.status.0 == "canceled" {
        return Ok(false);
    }
    let envelope = Envelope {
        cause: format!("renewal_failed:{invoice}"),
        donor_id: Some(&m.donor_id),
        payment_id: None,
        recipient: &m.email,
    };
    let message = messages::renewal_failed(org, &note(&m, now));
    put(tx, org, &envelope, &message, now).await
}

#[cfg(test)]
mod tests {
    #[test]
    fn erased_addresses_get_no_mail() {
        assert!(!super::deliverable("erased-don_1@invalid"));
        assert!(!super::deliverable("x@example.INVALID"));
        assert!(super::deliverable("reader@example.org"));
    }
}
