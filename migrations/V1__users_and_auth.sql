-- V1: accounts, refresh-token families and the audit log.
--
-- Conventions for every migration in this folder (see migrations/README.md):
-- * Times are BIGINT epoch milliseconds: Spin's MySQL interface cannot read
--   DATETIME/TIMESTAMP/DATE at all (the whole query fails), so we never store them.
-- * Closed sets of values are VARCHAR + CHECK, not ENUM (Spin's handling of ENUM is
--   untested and a CHECK is portable to managed MySQL 8.0.16+ and MariaDB 10.2+).
-- * JSON documents are TEXT (Spin refuses the JSON column type).
-- * utf8mb4_bin: comparisons are exact. Case-insensitive uniqueness is explicit,
--   through a lowercased copy with its own unique key, so the rule does not depend on
--   the server's default collation (which differs between MariaDB and MySQL).
-- * Applied migrations are never edited; rh-migrate refuses to run if one was.

CREATE TABLE users (
    id              BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
    -- Stored lowercased by the application; the CHECK makes a forgotten
    -- normalisation fail loudly instead of creating a duplicate account.
    email           VARCHAR(254)    NOT NULL,
    -- As typed by the player (shown in profiles and leaderboards) ...
    username        VARCHAR(20)     NOT NULL,
    -- ... and lowercased, so "Alice" and "alice" cannot both exist.
    username_lower  VARCHAR(20)     NOT NULL,
    -- PHC string (argon2id$v=19$m=...); VARCHAR(255) leaves room for other params.
    password_hash   VARCHAR(255)    NOT NULL,
    region          VARCHAR(16)     NOT NULL,
    avatar_url      VARCHAR(2048)   NULL,
    role            VARCHAR(16)     NOT NULL DEFAULT 'player',
    -- A ban is a deadline rather than a flag so temporary bans expire by themselves;
    -- NULL means not banned. Permanent bans use a far-future value.
    banned_until_ms BIGINT          NULL,
    ban_reason      VARCHAR(500)    NULL,
    created_at_ms   BIGINT          NOT NULL,
    updated_at_ms   BIGINT          NOT NULL,
    PRIMARY KEY (id),
    UNIQUE KEY users_email_key (email),
    UNIQUE KEY users_username_lower_key (username_lower),
    CONSTRAINT users_role_check CHECK (role IN ('player', 'admin')),
    CONSTRAINT users_email_lowercase_check CHECK (email = LOWER(email)),
    CONSTRAINT users_username_lower_check CHECK (username_lower = LOWER(username))
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

-- One row per refresh token ever issued. Tokens of one login session share a
-- family_id; rotation marks the old row used_at_ms and inserts the next one. Presenting
-- a token whose used_at_ms is already set is reuse (RFC 9700 section 4.14): the whole
-- family gets revoked_at_ms, so the thief's and the victim's newest tokens both die.
CREATE TABLE refresh_tokens (
    jti           VARCHAR(64)     NOT NULL,
    family_id     VARCHAR(64)     NOT NULL,
    user_id       BIGINT UNSIGNED NOT NULL,
    expires_at_ms BIGINT          NOT NULL,
    used_at_ms    BIGINT          NULL,
    revoked_at_ms BIGINT          NULL,
    created_at_ms BIGINT          NOT NULL,
    PRIMARY KEY (jti),
    -- Revoking a family is one UPDATE ... WHERE family_id = ?.
    KEY refresh_tokens_family_idx (family_id),
    -- Bans and "log out everywhere" revoke by user; also lets a purge find old rows.
    KEY refresh_tokens_user_idx (user_id, expires_at_ms),
    CONSTRAINT refresh_tokens_user_fk FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

-- Append-only record of security-relevant and admin actions (register, login,
-- failed login, refresh-token reuse, logout, bans, result overrides...).
-- No foreign keys on purpose: the log must survive the deletion of what it mentions,
-- and a failed login has no actor.
CREATE TABLE audit_log (
    id            BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
    actor_id      BIGINT UNSIGNED NULL,
    action        VARCHAR(64)     NOT NULL,
    target_type   VARCHAR(32)     NULL,
    target_id     VARCHAR(64)     NULL,
    -- Client address as seen by the runtime (spin-client-addr); IPv6 fits in 45.
    ip            VARCHAR(64)     NULL,
    reason        VARCHAR(500)    NULL,
    -- JSON snapshots as text (Spin cannot read JSON columns).
    before_data   TEXT            NULL,
    after_data    TEXT            NULL,
    created_at_ms BIGINT          NOT NULL,
    PRIMARY KEY (id),
    -- The admin views page newest first by id within one filter.
    KEY audit_log_actor_idx (actor_id, id),
    KEY audit_log_target_idx (target_type, target_id, id),
    KEY audit_log_action_idx (action, id),
    KEY audit_log_created_idx (created_at_ms)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;
