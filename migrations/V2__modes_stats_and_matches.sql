-- V2: game modes, per-mode player ratings, matches and everything a match produces.
-- Conventions: see V1 (BIGINT epoch ms, VARCHAR + CHECK, JSON as TEXT, utf8mb4_bin).

-- Modes are data, not code, so adding "3v3" is an INSERT. The name is the natural key
-- used in URLs, Redis keys (rankings:{mode}) and every per-mode row below.
CREATE TABLE modes (
    name      VARCHAR(16)      NOT NULL,
    teams     TINYINT UNSIGNED NOT NULL,
    team_size TINYINT UNSIGNED NOT NULL,
    PRIMARY KEY (name),
    CONSTRAINT modes_shape_check CHECK (teams >= 2 AND team_size >= 1)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

INSERT INTO modes (name, teams, team_size) VALUES
    ('1v1', 2, 1),
    ('2v2', 2, 2),
    ('4v4', 2, 4);

-- One row per player and mode, created on the first match in that mode (a profile
-- shows only modes with a row). mmr is the displayed integer rating; mu and sigma are
-- the underlying estimate and its uncertainty (sigma shrinks as games accumulate).
-- The rating columns have no defaults on purpose: initial values belong to the
-- rating code in rh-domain, not to the schema.
CREATE TABLE user_stats (
    user_id           BIGINT UNSIGNED NOT NULL,
    mode              VARCHAR(16)     NOT NULL,
    mmr               INT             NOT NULL,
    mu                DOUBLE          NOT NULL,
    sigma             DOUBLE          NOT NULL,
    wins              INT UNSIGNED    NOT NULL DEFAULT 0,
    losses            INT UNSIGNED    NOT NULL DEFAULT 0,
    draws             INT UNSIGNED    NOT NULL DEFAULT 0,
    games             INT UNSIGNED    NOT NULL DEFAULT 0,
    -- Signed: +3 is three wins in a row, -2 two losses in a row.
    streak            INT             NOT NULL DEFAULT 0,
    last_match_at_ms  BIGINT          NULL,
    PRIMARY KEY (user_id, mode),
    -- The leaderboard query (rebuilding Redis from MySQL, or paging when Redis is
    -- cold): WHERE mode = ? ORDER BY mmr DESC, user_id. user_id breaks ties stably.
    KEY user_stats_ranking_idx (mode, mmr DESC, user_id),
    CONSTRAINT user_stats_user_fk FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE,
    CONSTRAINT user_stats_mode_fk FOREIGN KEY (mode) REFERENCES modes (name),
    CONSTRAINT user_stats_sigma_check CHECK (sigma > 0)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

-- A match is created 'pending' when the game server starts it and becomes
-- 'completed' exactly once when its result is accepted ('voided' by an admin).
CREATE TABLE matches (
    id              BIGINT UNSIGNED  NOT NULL AUTO_INCREMENT,
    mode            VARCHAR(16)      NOT NULL,
    region          VARCHAR(16)      NOT NULL,
    status          VARCHAR(16)      NOT NULL DEFAULT 'pending',
    -- NULL for a draw or while pending.
    winner_team     TINYINT UNSIGNED NULL,
    duration_s      INT UNSIGNED     NULL,
    -- SHA-256 (hex) of the accepted result body. Results are applied under
    -- SELECT ... FOR UPDATE on this row; a replay of the same body finds the same hash
    -- and gets the stored outcome instead of applying ratings twice, a different body
    -- for a completed match is a conflict.
    result_hash     CHAR(64)         NULL,
    created_at_ms   BIGINT           NOT NULL,
    completed_at_ms BIGINT           NULL,
    PRIMARY KEY (id),
    -- Pending-match sweeps and admin views.
    KEY matches_status_idx (status),
    -- Recent matches per mode and the daily aggregates.
    KEY matches_mode_completed_idx (mode, completed_at_ms),
    CONSTRAINT matches_mode_fk FOREIGN KEY (mode) REFERENCES modes (name),
    CONSTRAINT matches_status_check CHECK (status IN ('pending', 'completed', 'voided'))
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

-- Who played a match, on which team, how they did and what it did to their rating.
-- Rating columns are NULL until the match completes; keeping before/after makes the
-- match page and a later recomputation (or an admin void) possible without replaying
-- every match.
CREATE TABLE match_participants (
    match_id     BIGINT UNSIGNED  NOT NULL,
    user_id      BIGINT UNSIGNED  NOT NULL,
    team         TINYINT UNSIGNED NOT NULL,
    kills        INT UNSIGNED     NOT NULL DEFAULT 0,
    deaths       INT UNSIGNED     NOT NULL DEFAULT 0,
    assists      INT UNSIGNED     NOT NULL DEFAULT 0,
    hero         VARCHAR(32)      NULL,
    result       VARCHAR(8)       NULL,
    mmr_before   INT              NULL,
    mmr_after    INT              NULL,
    mu_before    DOUBLE           NULL,
    mu_after     DOUBLE           NULL,
    sigma_before DOUBLE           NULL,
    sigma_after  DOUBLE           NULL,
    -- Also serves "a match's participants" (prefix match_id).
    PRIMARY KEY (match_id, user_id),
    -- A player's history newest first: WHERE user_id = ? ORDER BY match_id DESC
    -- (ids grow with time), paged with match_id < ?.
    KEY match_participants_history_idx (user_id, match_id DESC),
    CONSTRAINT match_participants_match_fk FOREIGN KEY (match_id) REFERENCES matches (id) ON DELETE CASCADE,
    CONSTRAINT match_participants_user_fk FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE,
    CONSTRAINT match_participants_result_check CHECK (result IS NULL OR result IN ('win', 'loss', 'draw'))
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

-- A match's timeline (kills, objectives, ...) as reported by the game server; takes
-- the place of a per-match document. seq is assigned by the reporter, so a retried
-- batch hits the primary key instead of duplicating events.
CREATE TABLE match_events (
    match_id BIGINT UNSIGNED NOT NULL,
    seq      INT UNSIGNED    NOT NULL,
    type     VARCHAR(32)     NOT NULL,
    at_ms    BIGINT          NOT NULL,
    -- Event-specific JSON as text.
    data     TEXT            NULL,
    PRIMARY KEY (match_id, seq),
    CONSTRAINT match_events_match_fk FOREIGN KEY (match_id) REFERENCES matches (id) ON DELETE CASCADE
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

-- Daily pick and win counts per mode and hero, incremented when a result is applied
-- (INSERT ... ON DUPLICATE KEY UPDATE picks = picks + 1). day is the UTC day as
-- yyyymmdd (20261125): readable in SQL and sortable as an integer.
CREATE TABLE hero_pick_rates (
    day   INT UNSIGNED NOT NULL,
    mode  VARCHAR(16)  NOT NULL,
    hero  VARCHAR(32)  NOT NULL,
    picks INT UNSIGNED NOT NULL DEFAULT 0,
    wins  INT UNSIGNED NOT NULL DEFAULT 0,
    PRIMARY KEY (day, mode, hero),
    -- "Pick rates for a mode over the last N days".
    KEY hero_pick_rates_mode_day_idx (mode, day),
    CONSTRAINT hero_pick_rates_mode_fk FOREIGN KEY (mode) REFERENCES modes (name)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;
