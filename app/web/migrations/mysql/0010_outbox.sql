-- The outbox: each message to a donor, written in the transaction of the
-- event that causes it and delivered later by the mail worker. `cause` names
-- that event (`receipt:<payment id>`, `refund:<refund id>`, …) and is
-- unique, so a redelivered event adds nothing. `message_id` is made once, so
-- a message sent again after a crash carries the same Message-ID.
-- `claimed_until` is a worker's lease on the row; `last_error` never holds an
-- address or a body.
CREATE TABLE outbox (
    id              VARCHAR(40)  NOT NULL PRIMARY KEY,
    cause           VARCHAR(255) NOT NULL,
    kind            VARCHAR(40)  NOT NULL,
    donor_id        VARCHAR(40),
    payment_id      VARCHAR(40),
    recipient       VARCHAR(254) NOT NULL,
    subject         VARCHAR(500) NOT NULL,
    text_body       MEDIUMTEXT   NOT NULL,
    html_body       MEDIUMTEXT   NOT NULL,
    message_id      VARCHAR(255) NOT NULL,
    status          VARCHAR(20)  NOT NULL,
    attempts        INT          NOT NULL DEFAULT 0,
    next_attempt_at BIGINT       NOT NULL,
    claimed_until   BIGINT,
    last_error      VARCHAR(500),
    created_at      BIGINT       NOT NULL,
    sent_at         BIGINT,
    UNIQUE KEY outbox_cause_key (cause),
    KEY outbox_due_idx (status, next_attempt_at),
    KEY outbox_payment_idx (payment_id),
    KEY outbox_donor_idx (donor_id),
    KEY outbox_created_idx (created_at, id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;
