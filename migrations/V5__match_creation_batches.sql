-- V5: matches created in batches can be found again without trusting AUTO_INCREMENT.
-- Conventions: see V1 (BIGINT epoch ms, VARCHAR + CHECK, JSON as TEXT, utf8mb4_bin).
--
-- The matchmaking tick creates every match a queue forms with one multi-row INSERT
-- (POST /api/v1/matches is a batch of one). Spin's MySQL interface returns no insert
-- id, and LAST_INSERT_ID() gives only the first row's: the others are consecutive only
-- when innodb_autoinc_lock_mode is 0 or 1, and managed MySQL servers run 2
-- (interleaved), where concurrent inserts may take ids in between. So each row carries
-- the random 128-bit key of its INSERT statement and its position in it, and the ids
-- are read back with one SELECT ... WHERE batch_key = ?, correct in every lock mode.
--
-- Both columns are NULL for matches created before this migration. Adding NULL
-- columns at the end is instant on MariaDB 10.3+ and MySQL 8; the index builds online.
ALTER TABLE matches
    ADD COLUMN batch_key   BINARY(16)        NULL,
    ADD COLUMN batch_index SMALLINT UNSIGNED NULL,
    -- The read-back (WHERE batch_key = ?), and a guard: two statements can never
    -- claim the same (key, position), so a mapping is never ambiguous.
    ADD UNIQUE KEY matches_batch_key (batch_key, batch_index);
