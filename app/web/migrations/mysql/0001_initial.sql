-- MySQL 8 and MariaDB 10.11+. Tables are utf8mb4; identifiers, keys and hashes
-- compare exactly (utf8mb4_bin); names, emails and descriptions compare
-- without case (utf8mb4_unicode_ci exists on both servers) for search.
-- Timestamps are microseconds since the Unix epoch (UTC) in BIGINT: exact,
-- identical on every backend, and ordered for keyset pagination.

CREATE TABLE payments (
    id              VARCHAR(40)  NOT NULL PRIMARY KEY,
    amount          BIGINT       NOT NULL,
    amount_refunded BIGINT       NOT NULL DEFAULT 0,
    currency        CHAR(3)      NOT NULL,
    status          VARCHAR(20)  NOT NULL,
    method          VARCHAR(10)  NOT NULL,
    payer_name      VARCHAR(200) NOT NULL COLLATE utf8mb4_unicode_ci,
    payer_email     VARCHAR(254) NOT NULL COLLATE utf8mb4_unicode_ci,
    campaign        VARCHAR(100),
    description     VARCHAR(500) COLLATE utf8mb4_unicode_ci,
    external_ref    VARCHAR(255),
    metadata        MEDIUMTEXT   NOT NULL,
    created_at      BIGINT       NOT NULL,
    updated_at      BIGINT       NOT NULL,
    UNIQUE KEY payments_external_ref_key (external_ref),
    KEY payments_created_idx (created_at, id),
    KEY payments_status_idx (status, created_at, id),
    KEY payments_method_idx (method, created_at, id),
    KEY payments_currency_idx (currency, created_at, id),
    KEY payments_campaign_idx (campaign, created_at, id),
    KEY payments_email_idx (payer_email),
    CONSTRAINT payments_amount_check CHECK (amount > 0),
    CONSTRAINT payments_refunded_check CHECK (amount_refunded >= 0 AND amount_refunded <= amount)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

CREATE TABLE refunds (
    id         VARCHAR(40) NOT NULL PRIMARY KEY,
    payment_id VARCHAR(40) NOT NULL,
    amount     BIGINT      NOT NULL,
    reason     VARCHAR(40) NOT NULL,
    created_at BIGINT      NOT NULL,
    KEY refunds_payment_idx (payment_id, created_at),
    CONSTRAINT refunds_payment_fk FOREIGN KEY (payment_id) REFERENCES payments (id),
    CONSTRAINT refunds_amount_check CHECK (amount > 0)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

CREATE TABLE daily_rollups (
    currency  CHAR(3)      NOT NULL,
    dimension VARCHAR(10)  NOT NULL,
    day       CHAR(10)     NOT NULL,
    value     VARCHAR(100) NOT NULL,
    count     BIGINT       NOT NULL DEFAULT 0,
    gross     BIGINT       NOT NULL DEFAULT 0,
    refunded  BIGINT       NOT NULL DEFAULT 0,
    PRIMARY KEY (currency, dimension, day, value)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

CREATE TABLE idempotency_keys (
    principal     VARCHAR(64)  NOT NULL,
    idem_key      VARCHAR(255) NOT NULL,
    request_hash  CHAR(64)     NOT NULL,
    status_code   INT,
    response_body MEDIUMTEXT,
    created_at    BIGINT       NOT NULL,
    PRIMARY KEY (principal, idem_key),
    KEY idempotency_keys_created_idx (created_at)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

CREATE TABLE api_tokens (
    id           VARCHAR(40)  NOT NULL PRIMARY KEY,
    name         VARCHAR(100) NOT NULL,
    scope        VARCHAR(10)  NOT NULL,
    secret_hash  CHAR(64)     NOT NULL,
    created_at   BIGINT       NOT NULL,
    last_used_at BIGINT,
    revoked_at   BIGINT,
    UNIQUE KEY api_tokens_secret_hash_key (secret_hash)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

CREATE TABLE users (
    id            VARCHAR(40)  NOT NULL PRIMARY KEY,
    email         VARCHAR(254) NOT NULL COLLATE utf8mb4_unicode_ci,
    role          VARCHAR(10)  NOT NULL,
    password_hash VARCHAR(255) NOT NULL,
    created_at    BIGINT       NOT NULL,
    UNIQUE KEY users_email_key (email)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

CREATE TABLE audit_log (
    id          BIGINT       NOT NULL AUTO_INCREMENT PRIMARY KEY,
    occurred_at BIGINT       NOT NULL,
    actor       VARCHAR(64)  NOT NULL,
    action      VARCHAR(40)  NOT NULL,
    subject     VARCHAR(64)  NOT NULL,
    details     MEDIUMTEXT   NOT NULL,
    KEY audit_log_subject_idx (subject, id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;
