-- Timestamps are microseconds since the Unix epoch (UTC) in 64-bit integers:
-- exact, identical on every backend, and ordered for keyset pagination.

CREATE TABLE payments (
    id              TEXT    NOT NULL PRIMARY KEY,
    amount          INTEGER NOT NULL CHECK (amount > 0),
    amount_refunded INTEGER NOT NULL DEFAULT 0 CHECK (amount_refunded >= 0 AND amount_refunded <= amount),
    currency        TEXT    NOT NULL,
    status          TEXT    NOT NULL,
    method          TEXT    NOT NULL,
    payer_name      TEXT    NOT NULL,
    payer_email     TEXT    NOT NULL,
    campaign        TEXT,
    description     TEXT,
    external_ref    TEXT UNIQUE,
    metadata        TEXT    NOT NULL DEFAULT '{}',
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
);
-- Keyset order (newest first) and one index per equality filter, each ending
-- in the keyset columns so a filtered page is an index range scan.
CREATE INDEX payments_created_idx ON payments (created_at, id);
CREATE INDEX payments_status_idx ON payments (status, created_at, id);
CREATE INDEX payments_method_idx ON payments (method, created_at, id);
CREATE INDEX payments_currency_idx ON payments (currency, created_at, id);
CREATE INDEX payments_campaign_idx ON payments (campaign, created_at, id);
CREATE INDEX payments_email_idx ON payments (payer_email);

CREATE TABLE refunds (
    id         TEXT    NOT NULL PRIMARY KEY,
    payment_id TEXT    NOT NULL REFERENCES payments (id),
    amount     INTEGER NOT NULL CHECK (amount > 0),
    reason     TEXT    NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX refunds_payment_idx ON refunds (payment_id, created_at);

-- One row per (currency, dimension, day, value): dimension is 'total',
-- 'status', 'method' or 'campaign'. Updated in the same transaction as every
-- write, so summaries read O(days) rows whatever the number of payments.
CREATE TABLE daily_rollups (
    currency  TEXT    NOT NULL,
    dimension TEXT    NOT NULL,
    day       TEXT    NOT NULL,
    value     TEXT    NOT NULL,
    count     INTEGER NOT NULL DEFAULT 0,
    gross     INTEGER NOT NULL DEFAULT 0,
    refunded  INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (currency, dimension, day, value)
);

CREATE TABLE idempotency_keys (
    principal     TEXT    NOT NULL,
    idem_key      TEXT    NOT NULL,
    request_hash  TEXT    NOT NULL,
    status_code   INTEGER,
    response_body TEXT,
    created_at    INTEGER NOT NULL,
    PRIMARY KEY (principal, idem_key)
);
CREATE INDEX idempotency_keys_created_idx ON idempotency_keys (created_at);

CREATE TABLE api_tokens (
    id           TEXT    NOT NULL PRIMARY KEY,
    name         TEXT    NOT NULL,
    scope        TEXT    NOT NULL,
    secret_hash  TEXT    NOT NULL UNIQUE,
    created_at   INTEGER NOT NULL,
    last_used_at INTEGER,
    revoked_at   INTEGER
);

CREATE TABLE users (
    id            TEXT    NOT NULL PRIMARY KEY,
    email         TEXT    NOT NULL UNIQUE COLLATE NOCASE,
    role          TEXT    NOT NULL,
    password_hash TEXT    NOT NULL,
    created_at    INTEGER NOT NULL
);

CREATE TABLE audit_log (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    occurred_at INTEGER NOT NULL,
    actor       TEXT    NOT NULL,
    action      TEXT    NOT NULL,
    subject     TEXT    NOT NULL,
    details     TEXT    NOT NULL
);
CREATE INDEX audit_log_subject_idx ON audit_log (subject, id);
