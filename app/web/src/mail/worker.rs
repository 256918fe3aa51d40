//! The mail worker: drains the outbox. Each round claims the due messages
//! with a lease (`Store::claim_outbox`), sends each and marks it:
//!
//! * sent → `sent`;
//! * a temporary failure (4xx, a connection or TLS failure) → tried again
//!   after an exponential backoff, until the message is older than
//!   [`WorkerConfig::give_up_after`], then `failed`;
//! * a permanent failure (5xx) → `failed` at once.
//!
//! Several replicas may run it at once: a claimed row is one worker's until
//! its lease ends. A worker that stops after sending and before marking
//! leaves the lease to expire, and the message goes again with its
//! Message-ID (a receiving server or reader can tell the copy).

use std::time::Duration;

use tokio::sync::watch;

use super::{Mailer, SendError};
use crate::domain::Timestamp;
use crate::storage::outbox::OutboxMessage;
use crate::storage::{Store, StoreError};

/// How the worker paces itself.
#[derive(Clone, Debug)]
pub struct WorkerConfig {
    /// How long a claimed message stays this worker's (longer than one
    /// SMTP conversation can take).
    pub lease: Duration,
    /// Messages claimed at once.
    pub batch: u32,
    /// How often the serving worker looks for due messages.
    pub poll: Duration,
    /// The first retry's delay; each next one doubles, up to `retry_max`.
    pub retry_base: Duration,
    pub retry_max: Duration,
    /// A message still not sent this long after it was written fails.
    pub give_up_after: Duration,
}

impl Default for WorkerConfig {
    fn default() -> Self {
        WorkerConfig {
            lease: Duration::from_secs(300),
            batch: 20,
            poll: Duration::from_secs(5),
            retry_base: Duration::from_secs(60),
            retry_max: Duration::from_secs(3600),
            give_up_after: Duration::from_secs(24 * 3600),
        }
    }
}

impl WorkerConfig {
    /// The delay before the try after `attempts` tries.
    pub fn backoff(&self, attempts: i64) -> Duration {
        let doublings = u32::try_from(attempts.saturating_sub(1).clamp(0, 20)).unwrap_or(20);
        self.retry_base
            .saturating_mul(1u32 << doublings)
            .min(self.retry_max)
            .max(Duration::from_secs(1))
    }
}

/// What one drain did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FlushReport {
    pub sent: u64,
    /// Deferred for another try.
    pub deferred: u64,
    pub failed: u64,
}

fn micros(d: Duration) -> i64 {
    i64::try_from(d.as_micros()).unwrap_or(i64::MAX)
}

/// Sends every message due at `now` once (a deferred one waits for its next
/// attempt, at least a second later).
pub async fn flush(
    store: &Store,
    mailer: &Mailer,
    config: &WorkerConfig,
    now: Timestamp,
) -> Result<FlushReport, StoreError> {
    let mut report = FlushReport::default();
    loop {
        let batch = store.claim_outbox(now, config.lease, config.batch).await?;
        if batch.is_empty() {
            return Ok(report);
        }
        for message in &batch {
            deliver(store, mailer, config, message, now, &mut report).await?;
        }
    }
}

async fn deliver(
    store: &Store,
    mailer: &Mailer,
    config: &WorkerConfig,
    m: &OutboxMessage,
    now: Timestamp,
    report: &mut FlushReport,
) -> Result<(), StoreError> {
    match mailer.send(m).await {
        Ok(()) => {
            store.outbox_sent(&m.id, Timestamp::now().max(now)).await?;
            metrics::counter!("mail_messages_total", "outcome" => "sent").increment(1);
            tracing::info!(message = %m.id.0, kind = %m.kind.0, "mail sent");
            report.sent += 1;
        }
        Err(SendError::Temporary(why))
            if now.0.saturating_sub(m.created_at) < micros(config.give_up_after) =>
        {
            let next = Timestamp(now.0.saturating_add(micros(config.backoff(m.attempts))));
            store.outbox_deferred(&m.id, next, &why).await?;
            metrics::counter!("mail_messages_total", "outcome" => "deferred").increment(1);
            tracing::warn!(message = %m.id.0, attempts = m.attempts, reason = %why, "mail deferred");
            report.deferred += 1;
        }
        Err(SendError::Temporary(why) | SendError::Permanent(why)) => {
            store.outbox_failed(&m.id, &why).await?;
            metrics::counter!("mail_messages_total", "outcome" => "failed").increment(1);
            tracing::warn!(message = %m.id.0, attempts = m.attempts, reason = %why, "mail failed");
            report.failed += 1;
        }
    }
    Ok(())
}

/// The serving worker: drains the outbox every `poll` until `stop` turns
/// true (a message being sent then is finished first).
pub async fn run(
    store: Store,
    mailer: Mailer,
    config: WorkerConfig,
    mut stop: watch::Receiver<bool>,
) {
    let mut tick = tokio::time::interval(config.poll);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            changed = stop.changed() => {
                if changed.is_err() || *stop.borrow() {
                    return;
                }
                continue;
            }
        }
        if let Err(e) = flush(&store, &mailer, &config, Timestamp::now()).await {
            tracing::warn!(error = %e, "the mail worker could not read the outbox");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_its_cap() {
        let c = WorkerConfig::default();
        assert_eq!(c.backoff(1), Duration::from_secs(60));
        assert_eq!(c.backoff(2), Duration::from_secs(120));
        assert_eq!(c.backoff(3), Duration::from_secs(240));
        assert_eq!(c.backoff(40), Duration::from_secs(3600));
        let quick = WorkerConfig {
            retry_base: Duration::ZERO,
            ..WorkerConfig::default()
        };
        assert_eq!(quick.backoff(1), Duration::from_secs(1));
    }
}
