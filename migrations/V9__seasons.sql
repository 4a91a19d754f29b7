-- V9: ranked seasons (issue 12). The rules (schedule, soft reset, placement, rewards)
-- are rh_domain::seasons; the rollover's steps are rh_app::seasons (docs/seasons.md).
-- Conventions: see V1 (BIGINT epoch ms, VARCHAR + CHECK, JSON as TEXT, utf8mb4_bin).

-- Seasons follow each other without gaps; only the last may be open-ended
-- (ends_at_ms NULL). status moves scheduled -> active -> rolling -> ended, and the
-- transitions are the rollover's claim: exactly one season is 'active' at any time
-- (the claim moves 'active' from the old season to the new one in one transaction),
-- which is how every result knows which season it counts for.
CREATE TABLE seasons (
    id                      BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
    name                    VARCHAR(64)     NOT NULL,
    starts_at_ms            BIGINT          NOT NULL,
    ends_at_ms              BIGINT          NULL,
    status                  VARCHAR(16)     NOT NULL DEFAULT 'scheduled',
    -- When the claim ran, and when the last player was reset.
    rollover_started_at_ms  BIGINT          NULL,
    rollover_finished_at_ms BIGINT          NULL,
    -- Players the rollover reset, over every mode (for season_ended).
    players_reset           BIGINT UNSIGNED NOT NULL DEFAULT 0,
    created_at_ms           BIGINT          NOT NULL,
    PRIMARY KEY (id),
    -- "The active season" on every result and tick; the schedule in order.
    KEY seasons_status_idx (status),
    KEY seasons_starts_idx (starts_at_ms),
    CONSTRAINT seasons_status_check CHECK (status IN ('scheduled', 'active', 'rolling', 'ended')),
    CONSTRAINT seasons_window_check CHECK (ends_at_ms IS NULL OR ends_at_ms > starts_at_ms)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

-- A season's settings per mode (rh_domain::seasons::ModeSettings). A mode without a
-- row uses the domain's defaults. reward_top_ranks is "1,10,100".
CREATE TABLE season_modes (
    season_id        BIGINT UNSIGNED  NOT NULL,
    mode             VARCHAR(16)      NOT NULL,
    placement_games  TINYINT UNSIGNED NOT NULL,
    soft_reset_k     DOUBLE           NOT NULL,
    reward_top_ranks VARCHAR(64)      NOT NULL,
    PRIMARY KEY (season_id, mode),
    CONSTRAINT season_modes_season_fk FOREIGN KEY (season_id) REFERENCES seasons (id) ON DELETE CASCADE,
    CONSTRAINT season_modes_mode_fk FOREIGN KEY (mode) REFERENCES modes (name),
    CONSTRAINT season_modes_k_check CHECK (soft_reset_k >= 0 AND soft_reset_k <= 1)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

-- The install's first season: open-ended from the epoch, no placement games, so a studio
-- that never schedules a season sees no change (docs/seasons.md).
INSERT INTO seasons (id, name, starts_at_ms, ends_at_ms, status, created_at_ms)
VALUES (1, 'Season 1', 0, NULL, 'active', UNIX_TIMESTAMP() * 1000);
INSERT INTO season_modes (season_id, mode, placement_games, soft_reset_k, reward_top_ranks)
SELECT 1, name, 0, 0.75, '1,10,100' FROM modes;

-- A player's counters in the season named by season_id: the rating (mmr, mu, sigma)
-- carries across seasons through the soft reset, these start again at 0. placed is set
-- by the game that completes placement (every game when the season has none); the
-- boards show exactly the rows with placed = 1 of the active season. The rollover moves
-- every row of the old season to the new one in batches (season_id is its progress: a
-- row still naming the old season has not been reset yet).
ALTER TABLE user_stats
    ADD COLUMN season_id       BIGINT UNSIGNED  NOT NULL DEFAULT 1,
    ADD COLUMN season_games    INT UNSIGNED     NOT NULL DEFAULT 0,
    ADD COLUMN season_wins     INT UNSIGNED     NOT NULL DEFAULT 0,
    ADD COLUMN season_losses   INT UNSIGNED     NOT NULL DEFAULT 0,
    ADD COLUMN season_draws    INT UNSIGNED     NOT NULL DEFAULT 0,
    ADD COLUMN season_peak_mmr INT              NULL,
    ADD COLUMN placed          TINYINT UNSIGNED NOT NULL DEFAULT 0,
    -- The rollover's batches: WHERE mode = ? AND season_id = ? ORDER BY user_id.
    ADD KEY user_stats_season_idx (mode, season_id, user_id);

-- Everything played so far is season 1's.
UPDATE user_stats
SET season_games = games, season_wins = wins, season_losses = losses, season_draws = draws,
    season_peak_mmr = CASE WHEN games > 0 THEN mmr END, placed = IF(games > 0, 1, 0);

-- Final standings of every ended season, written by the rollover's claim in one
-- statement from user_stats as it was when the season ended (so a result arriving during
-- the rollover cannot move them). rank is over the placed, unbanned players of the mode
-- (NULL for a player who had not finished placement); a region's board is the rows of
-- that home region (at the time) in rank order, so its positions need no column. Read by
-- GET /seasons/{id}/rankings/{mode} and the profile's history.
CREATE TABLE season_standings (
    season_id   BIGINT UNSIGNED NOT NULL,
    mode        VARCHAR(16)     NOT NULL,
    user_id     BIGINT UNSIGNED NOT NULL,
    region      VARCHAR(16)     NOT NULL,
    `rank`      INT UNSIGNED    NULL,
    mmr         INT             NOT NULL,
    peak_mmr    INT             NULL,
    games       INT UNSIGNED    NOT NULL,
    wins        INT UNSIGNED    NOT NULL,
    losses      INT UNSIGNED    NOT NULL,
    draws       INT UNSIGNED    NOT NULL,
    PRIMARY KEY (season_id, mode, user_id),
    -- A past season's board, global and by region.
    KEY season_standings_rank_idx (season_id, mode, `rank`),
    KEY season_standings_region_idx (season_id, mode, region, `rank`),
    -- A player's history.
    KEY season_standings_user_idx (user_id, season_id),
    CONSTRAINT season_standings_season_fk FOREIGN KEY (season_id) REFERENCES seasons (id),
    CONSTRAINT season_standings_user_fk FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

-- End-of-season badges. The primary key makes each badge once per player, mode and
-- season, whatever a resumed rollover does again.
CREATE TABLE season_rewards (
    season_id     BIGINT UNSIGNED NOT NULL,
    mode          VARCHAR(16)     NOT NULL,
    user_id       BIGINT UNSIGNED NOT NULL,
    badge         VARCHAR(32)     NOT NULL,
    granted_at_ms BIGINT          NOT NULL,
    PRIMARY KEY (season_id, mode, user_id, badge),
    KEY season_rewards_user_idx (user_id, season_id),
    CONSTRAINT season_rewards_season_fk FOREIGN KEY (season_id) REFERENCES seasons (id),
    CONSTRAINT season_rewards_user_fk FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

-- A rollover's progress per mode. Each batch locks its row FOR UPDATE first, so batches
-- on several runtimes run one at a time and each sees the last one's commit; done = 1
-- once no row of the mode names the old season. cursor_user_id is the last user id a
-- batch reached: badges are granted by user-id range up to it (rh_app::seasons::rollover).
CREATE TABLE season_rollovers (
    season_id      BIGINT UNSIGNED  NOT NULL,
    mode           VARCHAR(16)      NOT NULL,
    done           TINYINT UNSIGNED NOT NULL DEFAULT 0,
    reset          BIGINT UNSIGNED  NOT NULL DEFAULT 0,
    cursor_user_id BIGINT UNSIGNED  NOT NULL DEFAULT 0,
    PRIMARY KEY (season_id, mode),
    CONSTRAINT season_rollovers_season_fk FOREIGN KEY (season_id) REFERENCES seasons (id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;
