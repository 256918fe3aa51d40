-- Stripe: which processor a payment came through, its fee, its dispute and
-- its subscription; Stripe's id on each refund; and every webhook or synced
-- event received (ids, type and outcome only: never the body).
ALTER TABLE payments ADD COLUMN processor TEXT;
ALTER TABLE payments ADD COLUMN fee INTEGER;
ALTER TABLE payments ADD COLUMN dispute_status TEXT;
ALTER TABLE payments ADD COLUMN dispute_amount INTEGER;
ALTER TABLE payments ADD COLUMN dispute_reason TEXT;
ALTER TABLE payments ADD COLUMN subscription TEXT;

ALTER TABLE refunds ADD COLUMN external_ref TEXT;
CREATE UNIQUE INDEX refunds_external_ref_key ON refunds (external_ref);

CREATE TABLE processor_events (
    id          TEXT    NOT NULL PRIMARY KEY,
    type        TEXT    NOT NULL,
    object_id   TEXT,
    outcome     TEXT    NOT NULL,
    source      TEXT    NOT NULL,
    created_at  INTEGER NOT NULL,
    received_at INTEGER NOT NULL
);
CREATE INDEX processor_events_received_idx ON processor_events (received_at);
