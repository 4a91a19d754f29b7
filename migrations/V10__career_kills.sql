-- Each player's kills per mode, kept by every result (and taken back by a void), so the
-- kill achievements read one row per mode instead of summing the player's whole match
-- history inside every result's transaction (a cost that grew with each game played).
ALTER TABLE user_stats ADD COLUMN kills BIGINT UNSIGNED NOT NULL DEFAULT 0;

-- What the results so far add up to: every participant line of a completed match (a
-- voided match's kills no longer count, as its wins and losses do not).
UPDATE user_stats us
JOIN (
    SELECT mp.user_id, m.mode, SUM(mp.kills) AS kills
    FROM match_participants mp
    JOIN matches m ON m.id = mp.match_id
    WHERE mp.result IS NOT NULL AND m.status = 'completed'
    GROUP BY mp.user_id, m.mode
) done ON done.user_id = us.user_id AND done.mode = us.mode
SET us.kills = done.kills;
