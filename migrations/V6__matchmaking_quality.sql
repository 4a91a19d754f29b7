-- V6: matchmaking by predicted match quality (issue 13).
-- Conventions: see V1 (BIGINT epoch ms, VARCHAR + CHECK, JSON as TEXT, utf8mb4_bin).
-- Spin's MySQL interface reads integers, DOUBLE and strings only, so every value here
-- is one of those (no DECIMAL, no JSON).

-- Per-mode settings of the quality matcher, as data so operators tune a mode with an
-- UPDATE and no rebuild (the tick reads them each run). Semantics and the reasons for
-- the defaults: rh_domain::matchmaking::settings. A mode without a row uses the
-- domain's defaults (the 1v1 row's values).
--   quality_start / quality_floor: the quality (1 = coin flip, 0 = certain winner) a
--     group needs at zero wait and just before seconds_to_floor; linear in between.
--   seconds_to_floor: from then on the best group inside the ±mmr window forms
--     (the no-starvation guarantee).
--   settled_sigma / sigma_widening / max_widening: σ above settled_sigma widens the
--     ±mmr window by sigma_widening mmr per unit, at most max_widening.
--   rematch_window_s / rematch_penalty: avoid players who met within the window when
--     a group within rematch_penalty quality exists; 0 turns it off.
-- Team modes start higher: their split already balances most groups (see
-- docs/benchmarks.md, "Matchmaking by predicted quality").
CREATE TABLE matchmaking_settings (
    mode             VARCHAR(16)  NOT NULL,
    quality_start    DOUBLE       NOT NULL,
    quality_floor    DOUBLE       NOT NULL,
    seconds_to_floor INT UNSIGNED NOT NULL,
    settled_sigma    DOUBLE       NOT NULL,
    sigma_widening   DOUBLE       NOT NULL,
    max_widening     INT UNSIGNED NOT NULL,
    rematch_window_s INT UNSIGNED NOT NULL DEFAULT 0,
    rematch_penalty  DOUBLE       NOT NULL DEFAULT 0.1,
    PRIMARY KEY (mode),
    CONSTRAINT matchmaking_settings_mode_fk FOREIGN KEY (mode) REFERENCES modes (name),
    CONSTRAINT matchmaking_settings_quality_check CHECK (
        quality_start BETWEEN 0 AND 1 AND quality_floor BETWEEN 0 AND quality_start),
    CONSTRAINT matchmaking_settings_floor_check CHECK (seconds_to_floor >= 1),
    CONSTRAINT matchmaking_settings_sigma_check CHECK (settled_sigma >= 0 AND sigma_widening >= 0),
    CONSTRAINT matchmaking_settings_penalty_check CHECK (rematch_penalty BETWEEN 0 AND 1)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

INSERT INTO matchmaking_settings
    (mode, quality_start, quality_floor, seconds_to_floor, settled_sigma, sigma_widening, max_widening)
VALUES
    ('1v1', 0.95, 0.5, 20, 3.0, 20.0, 150),
    ('2v2', 0.98, 0.5, 20, 3.0, 20.0, 150),
    ('4v4', 0.99, 0.5, 20, 3.0, 20.0, 150);

-- What the matcher predicted when it formed a match, shown on GET /api/v1/matches/{id}
-- and in match_found. NULL for matches a game server created directly (no prediction
-- was made) and for those created before this migration.
--   quality: 1 − the favourite's edge, normalised (rh_domain::matchmaking::quality);
--   predicted_win: each team's predicted win probability, comma-separated in team
--     order ("0.5123,0.4877"): a short list read whole, never queried by element;
--   draw_probability: the predicted chance of a draw;
--   worst_latency_ms: the slowest player's reported latency to the match's region
--     (NULL when the tickets reported none).
-- Adding NULL columns at the end is instant on MariaDB 10.3+ and MySQL 8.
ALTER TABLE matches
    ADD COLUMN quality          DOUBLE       NULL,
    ADD COLUMN predicted_win    VARCHAR(255) NULL,
    ADD COLUMN draw_probability DOUBLE       NULL,
    ADD COLUMN worst_latency_ms INT UNSIGNED NULL;
