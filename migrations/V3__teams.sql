-- V3: teams (clans), their members and invitations.
-- Conventions: see V1 (BIGINT epoch ms, VARCHAR + CHECK, JSON as TEXT, utf8mb4_bin).

CREATE TABLE teams (
    id            BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
    name          VARCHAR(32)     NOT NULL,
    -- Case-insensitive uniqueness of names, as for usernames (see users.username_lower).
    name_lower    VARCHAR(32)     NOT NULL,
    -- Short tag shown next to usernames; stored uppercased by the application, so
    -- the unique key is already case-insensitive.
    tag           VARCHAR(8)      NOT NULL,
    owner_id      BIGINT UNSIGNED NOT NULL,
    created_at_ms BIGINT          NOT NULL,
    PRIMARY KEY (id),
    UNIQUE KEY teams_name_lower_key (name_lower),
    UNIQUE KEY teams_tag_key (tag),
    KEY teams_owner_idx (owner_id),
    CONSTRAINT teams_owner_fk FOREIGN KEY (owner_id) REFERENCES users (id),
    CONSTRAINT teams_name_lower_check CHECK (name_lower = LOWER(name)),
    CONSTRAINT teams_tag_upper_check CHECK (tag = UPPER(tag))
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

CREATE TABLE team_members (
    team_id      BIGINT UNSIGNED NOT NULL,
    user_id      BIGINT UNSIGNED NOT NULL,
    role         VARCHAR(16)     NOT NULL DEFAULT 'member',
    joined_at_ms BIGINT          NOT NULL,
    PRIMARY KEY (team_id, user_id),
    -- A player belongs to at most one team: the database enforces it, so two
    -- concurrent joins cannot both succeed.
    UNIQUE KEY team_members_user_key (user_id),
    CONSTRAINT team_members_team_fk FOREIGN KEY (team_id) REFERENCES teams (id) ON DELETE CASCADE,
    CONSTRAINT team_members_user_fk FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE,
    CONSTRAINT team_members_role_check CHECK (role IN ('owner', 'captain', 'member'))
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

-- An invitation from a team to a player. Accepting deletes the row and inserts the
-- membership in one transaction; expired rows are simply ignored and purged.
CREATE TABLE team_invites (
    id            BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
    team_id       BIGINT UNSIGNED NOT NULL,
    user_id       BIGINT UNSIGNED NOT NULL,
    invited_by    BIGINT UNSIGNED NOT NULL,
    created_at_ms BIGINT          NOT NULL,
    expires_at_ms BIGINT          NOT NULL,
    PRIMARY KEY (id),
    -- One open invitation per team and player; re-inviting refreshes it.
    UNIQUE KEY team_invites_team_user_key (team_id, user_id),
    -- "My invitations".
    KEY team_invites_user_idx (user_id, expires_at_ms),
    CONSTRAINT team_invites_team_fk FOREIGN KEY (team_id) REFERENCES teams (id) ON DELETE CASCADE,
    CONSTRAINT team_invites_user_fk FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE,
    CONSTRAINT team_invites_inviter_fk FOREIGN KEY (invited_by) REFERENCES users (id) ON DELETE CASCADE
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;
