-- V4: achievements, creator (streaming) integrations, and the tables that take the
-- place of the original design's document collections: activity feed, notifications,
-- and one-time nonces for signed game-server requests.
-- Conventions: see V1 (BIGINT epoch ms, VARCHAR + CHECK, JSON as TEXT, utf8mb4_bin).

-- The catalogue is data so new achievements need no deploy of the schema.
CREATE TABLE achievements (
    code        VARCHAR(64)  NOT NULL,
    name        VARCHAR(100) NOT NULL,
    description VARCHAR(500) NOT NULL,
    PRIMARY KEY (code)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

-- The primary key makes unlocking idempotent: INSERT IGNORE on a replayed match
-- result cannot award twice.
CREATE TABLE user_achievements (
    user_id        BIGINT UNSIGNED NOT NULL,
    code           VARCHAR(64)     NOT NULL,
    unlocked_at_ms BIGINT          NOT NULL,
    -- The match that unlocked it, when one did.
    match_id       BIGINT UNSIGNED NULL,
    PRIMARY KEY (user_id, code),
    CONSTRAINT user_achievements_user_fk FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE,
    CONSTRAINT user_achievements_code_fk FOREIGN KEY (code) REFERENCES achievements (code)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

-- A player's linked account on a streaming provider (e.g. Twitch).
-- Tokens are stored encrypted by the application (AES-GCM, nonce prepended), hence
-- VARBINARY: a database dump alone never yields usable provider tokens.
CREATE TABLE creator_integrations (
    user_id           BIGINT UNSIGNED NOT NULL,
    provider          VARCHAR(32)     NOT NULL,
    provider_user_id  VARCHAR(64)     NOT NULL,
    login             VARCHAR(64)     NOT NULL,
    display_name      VARCHAR(100)    NULL,
    access_token_enc  VARBINARY(1024) NOT NULL,
    refresh_token_enc VARBINARY(1024) NULL,
    expires_at_ms     BIGINT          NULL,
    -- Space-separated, as OAuth returns them.
    scopes            VARCHAR(500)    NOT NULL DEFAULT '',
    linked_at_ms      BIGINT          NOT NULL,
    PRIMARY KEY (user_id, provider),
    -- One provider account links to at most one player.
    UNIQUE KEY creator_integrations_provider_user_key (provider, provider_user_id),
    CONSTRAINT creator_integrations_user_fk FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

-- OAuth `state` values between the redirect to the provider and the callback.
-- Single use (deleted when consumed) and short-lived, which defeats CSRF on the
-- callback; the PKCE verifier stays server-side here.
CREATE TABLE oauth_states (
    state         VARCHAR(64)     NOT NULL,
    user_id       BIGINT UNSIGNED NOT NULL,
    provider      VARCHAR(32)     NOT NULL,
    code_verifier VARCHAR(128)    NULL,
    redirect_uri  VARCHAR(2048)   NULL,
    created_at_ms BIGINT          NOT NULL,
    expires_at_ms BIGINT          NOT NULL,
    PRIMARY KEY (state),
    KEY oauth_states_expires_idx (expires_at_ms),
    CONSTRAINT oauth_states_user_fk FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

-- The public activity feed. Events expire after 7 days: readers filter on
-- created_at_ms >= now - 7 days (so expiry is exact even if the purge is late) and a
-- periodic purge deletes older rows in batches via the created_at_ms index.
-- No foreign key to users: an event outlives nothing and is never joined for
-- integrity, and the purge must stay a cheap range delete.
CREATE TABLE feed_events (
    id            BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
    kind          VARCHAR(32)     NOT NULL,
    user_id       BIGINT UNSIGNED NULL,
    payload       TEXT            NOT NULL,
    created_at_ms BIGINT          NOT NULL,
    PRIMARY KEY (id),
    KEY feed_events_created_idx (created_at_ms),
    KEY feed_events_user_idx (user_id, id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

-- Per-player notifications (match completed, team invite, achievement unlocked...).
CREATE TABLE notifications (
    id            BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
    user_id       BIGINT UNSIGNED NOT NULL,
    kind          VARCHAR(32)     NOT NULL,
    payload       TEXT            NOT NULL,
    read_at_ms    BIGINT          NULL,
    created_at_ms BIGINT          NOT NULL,
    PRIMARY KEY (id),
    -- A player's inbox newest first, paged with id < ?.
    KEY notifications_user_idx (user_id, id DESC),
    CONSTRAINT notifications_user_fk FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

-- Nonces of signed game-server requests, kept until their signature window closes,
-- so a captured request cannot be replayed. The primary key makes "seen before?" and
-- "remember it" one INSERT that fails on a replay, atomically across replicas.
CREATE TABLE server_request_nonces (
    nonce         VARCHAR(64) NOT NULL,
    expires_at_ms BIGINT      NOT NULL,
    PRIMARY KEY (nonce),
    KEY server_request_nonces_expires_idx (expires_at_ms)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;
