-- Stripe: which processor a payment came through, its fee, its dispute and
-- its subscription; Stripe's id on each refund; and every webhook or synced
-- event received (ids, type and outcome only: never the body).
ALTER TABLE payments
    ADD COLUMN processor      VARCHAR(20),
    ADD COLUMN fee            BIGINT,
    ADD COLUMN dispute_status VARCHAR(30),
    ADD COLUMN dispute_amount BIGINT,
    ADD COLUMN dispute_reason VARCHAR(40),
    ADD COLUMN subscription   VARCHAR(255);

ALTER TABLE refunds
    ADD COLUMN external_ref VARCHAR(255),
    ADD UNIQUE KEY refunds_external_ref_key (external_ref);

CREATE TABLE processor_events (
    id          VARCHAR(255) NOT NULL PRIMARY KEY,
    type        VARCHAR(100) NOT NULL,
    object_id   VARCHAR(255),
    outcome     VARCHAR(20)  NOT NULL,
    source      VARCHAR(10)  NOT NULL,
    created_at  BIGINT       NOT NULL,
    received_at BIGINT       NOT NULL,
    KEY processor_events_received_idx (received_at)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;
