-- Erasure: when a donor was pseudonymised, and the emails erased, kept only
-- as SHA-256 hashes so that a later processor event with one of them is
-- recorded under a pseudonym. The hashes carry no donor id and no time, and
-- InnoDB keeps rows in key order (no insertion order): a guessed email
-- confirms only that it was erased, never whose gifts were whose.
ALTER TABLE donors ADD COLUMN erased_at BIGINT;

CREATE TABLE erased_emails (
    email_hash CHAR(64) NOT NULL PRIMARY KEY
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;
