-- Donors (one per email, compared without case), memberships (Stripe
-- subscriptions) and campaigns; each payment names its donor and, when a
-- membership made it, its membership. Existing payments are backfilled:
-- one donor per lower-cased email, dated by its first payment.

CREATE TABLE donors (
    id         VARCHAR(40)  NOT NULL PRIMARY KEY,
    -- The email lower-cased: the key a payment's email is matched on.
    email_key  VARCHAR(254) NOT NULL,
    email      VARCHAR(254) NOT NULL COLLATE utf8mb4_unicode_ci,
    name       VARCHAR(200) NOT NULL COLLATE utf8mb4_unicode_ci,
    created_at BIGINT       NOT NULL,
    updated_at BIGINT       NOT NULL,
    UNIQUE KEY donors_email_key (email_key),
    KEY donors_created_idx (created_at, id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

CREATE TABLE memberships (
    id                   VARCHAR(40)  NOT NULL PRIMARY KEY,
    donor_id             VARCHAR(40),
    external_ref         VARCHAR(255) NOT NULL,
    amount               BIGINT       NOT NULL,
    currency             CHAR(3)      NOT NULL,
    billing_interval     VARCHAR(10)  NOT NULL,
    status               VARCHAR(20)  NOT NULL,
    campaign             VARCHAR(100),
    cancel_at_period_end INT          NOT NULL DEFAULT 0,
    started_at           BIGINT       NOT NULL,
    canceled_at          BIGINT,
    current_period_end   BIGINT,
    -- Stripe's `created` of the newest subscription state applied: an older
    -- event never overwrites a newer state.
    state_at             BIGINT       NOT NULL,
    created_at           BIGINT       NOT NULL,
    updated_at           BIGINT       NOT NULL,
    UNIQUE KEY memberships_external_ref_key (external_ref),
    KEY memberships_status_idx (status, id),
    KEY memberships_donor_idx (donor_id),
    KEY memberships_started_idx (started_at),
    KEY memberships_canceled_idx (canceled_at)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

CREATE TABLE campaigns (
    slug        VARCHAR(100) NOT NULL PRIMARY KEY,
    name        VARCHAR(200) NOT NULL,
    goal        BIGINT,
    currency    CHAR(3)      NOT NULL,
    match_ratio BIGINT,
    match_cap   BIGINT,
    ends_at     BIGINT,
    created_at  BIGINT       NOT NULL,
    updated_at  BIGINT       NOT NULL
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

ALTER TABLE payments
    ADD COLUMN donor_id      VARCHAR(40),
    ADD COLUMN membership_id VARCHAR(40),
    ADD KEY payments_donor_idx (donor_id, created_at, id),
    ADD KEY payments_membership_idx (membership_id, created_at);

INSERT INTO donors (id, email_key, email, name, created_at, updated_at)
SELECT CONCAT('don_', LOWER(HEX(RANDOM_BYTES(16)))), LOWER(payer_email) COLLATE utf8mb4_bin,
       MIN(payer_email), MIN(payer_name), MIN(created_at), MIN(created_at)
FROM payments
GROUP BY LOWER(payer_email) COLLATE utf8mb4_bin;

UPDATE payments p
JOIN donors d ON d.email_key = LOWER(p.payer_email) COLLATE utf8mb4_bin
SET p.donor_id = d.id;
