-- The outbox: each message to a donor, written in the transaction of the
-- event that causes it and delivered later by the mail worker. `cause` names
-- that event (`receipt:<payment id>`, `refund:<refund id>`, …) and is
-- unique, so a redelivered event adds nothing. `message_id` is made once, so
-- a message sent again after a crash carries the same Message-ID.
-- `claimed_until` is a worker's lease on the row; `last_error` never holds an
-- address or a body.
CREATE TABLE outbox (
    id              TEXT    NOT NULL PRIMARY KEY,
    cause           TEXT    NOT NULL,
    kind            TEXT    NOT NULL,
    donor_id        TEXT,
    payment_id      TEXT,
    recipient       TEXT    NOT NULL,
    subject         TEXT    NOT NULL,
    text_body       TEXT    NOT NULL,
    html_body       TEXT    NOT NULL,
    message_id      TEXT    NOT NULL,
    status          TEXT    NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    claimed_until   INTEGER,
    last_error      TEXT,
    created_at      INTEGER NOT NULL,
    sent_at         INTEGER
);
CREATE UNIQUE INDEX outbox_cause_key ON outbox (cause);
CREATE INDEX outbox_due_idx ON outbox (status, next_attempt_at);
CREATE INDEX outbox_payment_idx ON outbox (payment_id);
CREATE INDEX outbox_donor_idx ON outbox (donor_id);
CREATE INDEX outbox_created_idx ON outbox (created_at, id);
