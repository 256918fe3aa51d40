-- Donors (one per email, compared without case), memberships (Stripe
-- subscriptions) and campaigns; each payment names its donor and, when a
-- membership made it, its membership. Existing payments are backfilled:
-- one donor per lower-cased email, named and dated by its first payment.

CREATE TABLE donors (
    id         TEXT    NOT NULL PRIMARY KEY,
    -- The email lower-cased: the key a payment's email is matched on.
    email_key  TEXT    NOT NULL,
    email      TEXT    NOT NULL,
    name       TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE UNIQUE INDEX donors_email_key ON donors (email_key);
CREATE INDEX donors_created_idx ON donors (created_at, id);

CREATE TABLE memberships (
    id                   TEXT    NOT NULL PRIMARY KEY,
    donor_id             TEXT,
    external_ref         TEXT    NOT NULL,
    amount               INTEGER NOT NULL,
    currency             TEXT    NOT NULL,
    billing_interval     TEXT    NOT NULL,
    status               TEXT    NOT NULL,
    campaign             TEXT,
    cancel_at_period_end INTEGER NOT NULL DEFAULT 0,
    started_at           INTEGER NOT NULL,
    canceled_at          INTEGER,
    current_period_end   INTEGER,
    -- Stripe's `created` of the newest subscription state applied: an older
    -- event never overwrites a newer state.
    state_at             INTEGER NOT NULL,
    created_at           INTEGER NOT NULL,
    updated_at           INTEGER NOT NULL
);
CREATE UNIQUE INDEX memberships_external_ref_key ON memberships (external_ref);
CREATE INDEX memberships_status_idx ON memberships (status, id);
CREATE INDEX memberships_donor_idx ON memberships (donor_id);
CREATE INDEX memberships_started_idx ON memberships (started_at);
CREATE INDEX memberships_canceled_idx ON memberships (canceled_at);

CREATE TABLE campaigns (
    slug        TEXT    NOT NULL PRIMARY KEY,
    name        TEXT    NOT NULL,
    goal        INTEGER,
    currency    TEXT    NOT NULL,
    match_ratio INTEGER,
    match_cap   INTEGER,
    ends_at     INTEGER,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
);

ALTER TABLE payments ADD COLUMN donor_id TEXT;
ALTER TABLE payments ADD COLUMN membership_id TEXT;
CREATE INDEX payments_donor_idx ON payments (donor_id, created_at, id);
CREATE INDEX payments_membership_idx ON payments (membership_id, created_at);

-- A bare column beside a single MIN() takes its value from the row with the
-- minimum (SQLite's documented behaviour): the first payment's name and email.
INSERT INTO donors (id, email_key, email, name, created_at, updated_at)
SELECT 'don_' || lower(hex(randomblob(16))), email_key, payer_email, payer_name, first_at, first_at
FROM (SELECT lower(payer_email) AS email_key, payer_email, payer_name, MIN(created_at) AS first_at
      FROM payments GROUP BY lower(payer_email));

UPDATE payments
SET donor_id = (SELECT d.id FROM donors d WHERE d.email_key = lower(payments.payer_email));
