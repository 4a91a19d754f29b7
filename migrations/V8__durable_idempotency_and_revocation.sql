-- Integrity that survives losing Redis (issue 14). Redis stays the fast path for
-- replay checks and token revocation; these tables are what it is rebuilt from, or
-- what a request consults, when Redis comes back empty.

-- The outcome of a signed game-server call, keyed by its idempotency key (the
-- `Idempotency-Key` header, or the signature itself when the request has none; see
-- rh-infra's server_sig). Create-type calls (POST /api/v1/matches, POST
-- /api/v1/matches/{id}/events) insert their row in the same transaction as the row they
-- create, so a retry or a replay after Redis lost its state finds the original answer
-- here and creates nothing. The primary key is what makes two concurrent first
-- attempts safe: the second waits on the first's row lock and then sees a duplicate.
-- Retention: 24 hours (expires_at_ms), deleted in batches by the worker's tick.
CREATE TABLE server_idempotency (
    -- SHA-256 of "key:{Idempotency-Key}" or "sig:{signature}".
    key_hash      BINARY(32)        NOT NULL,
    -- SHA-256 of "{METHOD}\n{path}\n{body}": the same key with another request is refused.
    fingerprint   BINARY(32)        NOT NULL,
    status        SMALLINT UNSIGNED NOT NULL,
    body          MEDIUMBLOB        NOT NULL,
    created_at_ms BIGINT            NOT NULL,
    expires_at_ms BIGINT            NOT NULL,
    PRIMARY KEY (key_hash),
    -- The batched clean-up: DELETE ... WHERE expires_at_ms < ? LIMIT n.
    KEY server_idempotency_expires_idx (expires_at_ms)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

-- Access tokens revoked before their expiry (logout). Redis holds the same marks
-- (`auth:revoked:{jti}`) for the fast path; a row lives until the token would have
-- expired anyway (15 minutes at most), then the clean-up deletes it.
CREATE TABLE revoked_access_tokens (
    jti           VARCHAR(64)     NOT NULL,
    user_id       BIGINT UNSIGNED NOT NULL,
    expires_at_ms BIGINT          NOT NULL,
    revoked_at_ms BIGINT          NOT NULL,
    PRIMARY KEY (jti),
    KEY revoked_access_tokens_expires_idx (expires_at_ms)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

-- "Tokens issued before this second are refused" per user (bans, and anything that
-- ends every session). Redis holds the same value (`auth:nbf:{user}`); the row expires
-- when the longest-lived token issued before it (a refresh token, 7 days) would have.
CREATE TABLE user_token_cutoffs (
    user_id       BIGINT UNSIGNED NOT NULL,
    not_before_s  BIGINT          NOT NULL,
    expires_at_ms BIGINT          NOT NULL,
    updated_at_ms BIGINT          NOT NULL,
    PRIMARY KEY (user_id),
    KEY user_token_cutoffs_expires_idx (expires_at_ms),
    CONSTRAINT user_token_cutoffs_user_fk FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;
