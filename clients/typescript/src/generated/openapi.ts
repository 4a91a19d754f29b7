// Generated from docs/openapi.yaml by scripts/generate.mjs: do not edit.
// Regenerate with `npm run generate` in clients/typescript.

export interface paths {
    "/api/v1/auth/register": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Create an account
         * @description Rate limited per client address (`auth_rate_limit_per_minute`, default 10 a
         *     minute, sliding window). The user, its first refresh token and the audit row
         *     are created in one transaction.
         */
        post: operations["register"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/auth/login": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Log in with email and password
         * @description An unknown email and a wrong password get the same 401 after the same amount of
         *     Argon2id work. Rate limited per client address like register (separate budget).
         */
        post: operations["login"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/auth/refresh": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Exchange a refresh token for a new pair
         * @description The presented refresh token is used up and a new one of the same family is
         *     issued. An already-used (rotated) token is answered with 401 and revokes every
         *     refresh token of its family, the newest included (RFC 9700 §4.14.2).
         */
        post: operations["refresh"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/auth/logout": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Log out
         * @description The access token is refused from now on (until it would have expired) and the
         *     refresh-token family it was issued with is revoked.
         */
        post: operations["logout"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/users/me": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** The caller's own profile (with email) */
        get: operations["getMe"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        /** Change username, region or avatar */
        patch: operations["updateMe"];
        trace?: never;
    };
    "/api/v1/users/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** A public profile (no email) */
        get: operations["getUser"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/metrics": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Business metrics in Prometheus text format
         * @description Matches created and completed, result answers, queue depth and waits, the active
         *     season and its rollover (docs/operations.md has every series). Counters live in
         *     Redis and gauges are read at scrape time, so every replica answers the same.
         *     For a Prometheus scraper: the credential is the `metrics_token` secret variable,
         *     never a player's or an admin's token. With `metrics_token` empty (the default)
         *     the route is off and answers 404.
         */
        get: operations["businessMetrics"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/health": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Whether MySQL and Redis answer */
        get: operations["health"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/matches": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Create a pending match (game server, signed) */
        post: {
            parameters: {
                query?: never;
                header: {
                    "X-RH-Timestamp": number;
                    "X-RH-Signature": string;
                    /** @description Names a signed call for safe retries (1 to 255 visible ASCII characters, part of the signature when sent); without it the signature is the key. See the note above /api/v1/matches. */
                    "Idempotency-Key"?: components["parameters"]["IdempotencyKey"];
                };
                path?: never;
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        /** @example 2v2 */
                        mode: string;
                        /** @example eu */
                        region: string;
                        teams: number[][];
                    };
                };
            };
            responses: {
                /** @description The pending match (again, with Idempotent-Replayed: true, for a repeat) */
                201: {
                    headers: {
                        "Idempotent-Replayed": components["headers"]["IdempotentReplayed"];
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["CreatedMatch"];
                    };
                };
                /** @description Bad signature (problem+json) */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                /** @description A call with this idempotency key is still running (problem+json); retry later */
                409: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                /** @description Unknown mode or region, wrong team sizes, unknown users, a user twice; or an idempotency key used for another request */
                422: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                503: components["responses"]["Unavailable"];
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/matches/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** A match with its participants and their stats */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    id: number;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description The match */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Match"];
                    };
                };
                /** @description Unknown match */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/matches/{id}/result": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        /**
         * Apply a result exactly once (game server, signed)
         * @description One MySQL transaction under SELECT ... FOR UPDATE on the match. The same result again (participants in any order) answers 200 with the same body and changes nothing; a different result for a completed match is 409.
         */
        put: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    id: number;
                };
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        /** @description null is a draw */
                        winner_team: number | null;
                        duration_s: number;
                        participants: {
                            user_id: number;
                            kills?: number;
                            deaths?: number;
                            assists?: number;
                            hero?: string;
                        }[];
                    };
                };
            };
            responses: {
                /** @description The applied result */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["MatchResult"];
                    };
                };
                /** @description Bad signature */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                /** @description Unknown match */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                /** @description A different result was already applied */
                409: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                /** @description Participants do not match the roster */
                422: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                503: components["responses"]["Unavailable"];
            };
        };
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/matches/{id}/events": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** The timeline, ordered by at_ms then arrival */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    id: number;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description The timeline */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Timeline"];
                    };
                };
                /** @description Unknown match */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
            };
        };
        put?: never;
        /** Append a timeline event (game server, signed); published on match:{id} */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    id: number;
                };
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        type: string;
                        at_ms: number;
                        /** @description Any JSON (at most 16 KiB) */
                        data?: unknown;
                    };
                };
            };
            responses: {
                /** @description The stored event */
                201: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["TimelineEvent"];
                    };
                };
                /** @description Unknown match */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/users/{id}/matches": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** A player's matches, newest first, cursor-paginated */
        get: {
            parameters: {
                query?: {
                    limit?: number;
                    /** @description a match id (the previous page's next_before) */
                    before?: number;
                };
                header?: never;
                path: {
                    id: number;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description A page of history */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["HistoryPage"];
                    };
                };
                /** @description Unknown user */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/rankings/{mode}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * A leaderboard page of the active season (rebuilt from MySQL first if Redis lost it)
         * @description Lists only players placed in the active season: those who finished its placement games in the mode (the season's `placement_games`, at least one game; see /api/v1/seasons/current) and are not banned. Right after a rollover the board is empty until players are placed again. Rank 1 is the highest mmr; equal mmr is ordered by user id (lower first). `wins` and `losses` are the player's totals in the mode. Ended seasons' final boards: /api/v1/seasons/{id}/rankings/{mode}.
         */
        get: {
            parameters: {
                query?: {
                    region?: string;
                    limit?: number;
                    offset?: number;
                };
                header?: never;
                path: {
                    mode: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description A page of the board */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["LeaderboardPage"];
                    };
                };
                /** @description Unknown mode or region */
                422: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/rankings/{mode}/me": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** The caller's rank and mmr with five players above and five below (Bearer) */
        get: {
            parameters: {
                query?: {
                    region?: string;
                };
                header?: never;
                path: {
                    mode: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description The caller and their neighbours */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["LeaderboardNeighbourhood"];
                    };
                };
                /** @description Missing or bad token */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                /** @description The caller is not on this board: not placed in the active season (no game yet, or placement games left) or banned */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/admin/leaderboards/rebuild": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Rebuild every mode's leaderboards from MySQL (game server / maintenance, signed) */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Boards rebuilt */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["RebuildResult"];
                    };
                };
                /** @description Bad signature */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/feed": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Recent platform events (last 7 days), newest first */
        get: {
            parameters: {
                query?: {
                    limit?: number;
                };
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Recent events */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["FeedPage"];
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/users/{id}/achievements": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** A player's unlocked achievements */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    id: number;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Unlocked achievements */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["AchievementList"];
                    };
                };
                /** @description Unknown user */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/notifications": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** The caller's notifications, newest first, with the unread count (Bearer) */
        get: {
            parameters: {
                query?: {
                    limit?: number;
                    before?: number;
                };
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description A page of the inbox */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["NotificationsPage"];
                    };
                };
                /** @description Missing or bad token */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/notifications/{id}/read": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Mark one of the caller's notifications read (Bearer) */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    id: number;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Marked read */
                204: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                /** @description Missing or bad token */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                /** @description No such notification of the caller (another user's included) */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/teams": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Search teams by name or tag prefix (case-insensitive), by name */
        get: {
            parameters: {
                query?: {
                    /** @description prefix of the name or the tag; empty lists all */
                    query?: string;
                    limit?: number;
                };
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Matching teams */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            items?: {
                                id?: number;
                                name?: string;
                                tag?: string;
                                owner_id?: number;
                                member_count?: number;
                                /** @description epoch ms */
                                created_at?: number;
                            }[];
                        };
                    };
                };
                /** @description Bad limit or query */
                422: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
            };
        };
        put?: never;
        /** Create a team; the caller becomes its owner */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        /** @description letters, digits, spaces, _ - .; unique regardless of case */
                        name: string;
                        /** @description stored uppercased; unique */
                        tag: string;
                    };
                };
            };
            responses: {
                /** @description The team (see GET /api/v1/teams/{id}) */
                201: {
                    headers: {
                        Location?: string;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Team"];
                    };
                };
                /** @description Malformed JSON */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description No or bad token */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description Name or tag taken, or the caller already belongs to a team */
                409: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description Invalid name or tag (errors[].field) */
                422: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/teams/invites": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** The caller's open invitations, newest first */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Invitations */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            items?: components["schemas"]["TeamInvite"][];
                        };
                    };
                };
                /** @description No or bad token */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/teams/invites/{invite_id}/accept": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Accept an invitation (the invitee only); withdraws the caller's other invitations */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    invite_id: number;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description The team joined */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Team"];
                    };
                };
                /** @description Not the invitee */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description No open invitation (declined, expired, withdrawn, team disbanded) */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description The team is full or the caller already belongs to a team */
                409: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/teams/invites/{invite_id}/decline": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Decline an invitation (the invitee only); the inviter is notified */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    invite_id: number;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Declined */
                204: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                /** @description Not the invitee */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description No open invitation */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/teams/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** A team with its members, roles, each member's mmr per mode and the team's average per mode */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    id: number;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description The team */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Team"];
                    };
                };
                /** @description No such team */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
            };
        };
        put?: never;
        post?: never;
        /** Disband the team (owner only); members are notified */
        delete: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    id: number;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Disbanded */
                204: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                /** @description Not the owner */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description No such team */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
            };
        };
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/teams/{id}/invites": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Invite a player (owner or captain); re-inviting refreshes the invitation (7 days) */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    id: number;
                };
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        user_id: number;
                    };
                };
            };
            responses: {
                /** @description The invitation */
                201: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["TeamInvite"];
                    };
                };
                /** @description Not the owner or a captain of this team */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description No such team */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description The player already belongs to a team, or the team is full */
                409: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description No such user (field user_id) */
                422: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/teams/{id}/leave": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Leave the team (not the owner) */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    id: number;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Left; the remaining members are notified */
                204: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                /** @description Not a member of this team */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description The owner must transfer ownership or disband first */
                409: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/teams/{id}/transfer": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Hand ownership to another member (owner only); the former owner becomes a captain */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    id: number;
                };
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        user_id: number;
                    };
                };
            };
            responses: {
                /** @description The team */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Team"];
                    };
                };
                /** @description Not the owner */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description No such team, or the player is not a member */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description Transferring to oneself */
                409: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/teams/{id}/members/{user_id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        post?: never;
        /** Remove a member (owner removes anyone but themselves; a captain removes plain members only) */
        delete: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    id: number;
                    user_id: number;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Removed; the player and the team are notified */
                204: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                /** @description Role does not allow it (a captain removing a captain or the owner, a member removing anyone) */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description No such team or member */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description Removing oneself (use leave) */
                409: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
            };
        };
        options?: never;
        head?: never;
        /** Promote to captain or demote to member (owner only) */
        patch: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    id: number;
                    user_id: number;
                };
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        /** @enum {string} */
                        role: "captain" | "member";
                    };
                };
            };
            responses: {
                /** @description The team */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Team"];
                    };
                };
                /** @description Not the owner */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description No such team or member */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description The owner's own role (use transfer) */
                409: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description role is not captain or member */
                422: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
            };
        };
        trace?: never;
    };
    "/api/v1/rankings/teams/{mode}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Teams ranked by their members' average mmr in the mode (members rated in it only) */
        get: {
            parameters: {
                query?: {
                    limit?: number;
                    offset?: number;
                };
                header?: never;
                path: {
                    mode: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description A page of the ranking (ties go to the older team) */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            mode?: string;
                            items?: {
                                rank?: number;
                                team_id?: number;
                                name?: string;
                                tag?: string;
                                average_mmr?: number;
                                rated_members?: number;
                            }[];
                        };
                    };
                };
                /** @description Unknown mode or bad limit/offset */
                422: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/users/me/activity": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** The caller's own audit trail (logins, failed logins, logouts and revocations, integration links, team changes), newest first */
        get: {
            parameters: {
                query?: {
                    limit?: number;
                    /** @description next_cursor of the previous page */
                    cursor?: string;
                };
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description A page of the trail */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            next_cursor?: string | null;
                            items?: {
                                id?: number;
                                /**
                                 * @example login
                                 * @example login_failed
                                 * @example logout
                                 * @example refresh_reuse
                                 * @example integration_linked
                                 * @example team_create
                                 */
                                action?: string;
                                actor_id?: number | null;
                                target_type?: string | null;
                                target_id?: string | null;
                                ip?: string | null;
                                reason?: string | null;
                                /** @description epoch ms */
                                created_at?: number;
                            }[];
                        };
                    };
                };
                /** @description No or bad token */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description Bad limit or cursor */
                422: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/integrations": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** The caller's linked provider accounts (never any token) */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Linked accounts, by provider name */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            integrations: components["schemas"]["IntegrationLink"][];
                        };
                    };
                };
                401: components["responses"]["Unauthorized"];
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/integrations/{provider}/authorize": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Start linking a provider (OAuth 2.0 authorization code with PKCE S256)
         * @description Stores a single-use `state` bound to the caller with a PKCE verifier for 10 minutes and returns the provider URL to open in the browser.
         */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    provider: "twitch" | "youtube" | "discord";
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Where to send the browser */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            /** Format: uri */
                            authorize_url: string;
                        };
                    };
                };
                401: components["responses"]["Unauthorized"];
                404: components["responses"]["NotFound"];
                503: components["responses"]["Unavailable"];
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/integrations/{provider}/callback": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * The provider's redirect back (authenticated by the bound `state`, no Bearer token)
         * @description Spends the `state` (single use), exchanges `code` at the provider's token endpoint with the PKCE verifier, reads the account and stores the link with its tokens encrypted (AES-256-GCM). Any failure stores nothing.
         */
        get: {
            parameters: {
                query?: {
                    code?: string;
                    state?: string;
                    /** @description Set by the provider when the player refused */
                    error?: string;
                };
                header?: never;
                path: {
                    provider: "twitch" | "youtube" | "discord";
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description The new link */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["IntegrationLink"];
                    };
                };
                400: components["responses"]["BadRequest"];
                404: components["responses"]["NotFound"];
                409: components["responses"]["Conflict"];
                503: components["responses"]["Unavailable"];
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/integrations/{provider}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        post?: never;
        /** Unlink a provider and delete its tokens */
        delete: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    provider: "twitch" | "youtube" | "discord";
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Unlinked */
                204: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                401: components["responses"]["Unauthorized"];
                404: components["responses"]["NotFound"];
            };
        };
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/streams": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Linked creators live now, most viewers first
         * @description Served from a Redis cache refreshed at most once a minute (the streams-refresh component on `streams:refresh`). A provider whose last refresh failed keeps its last good streams and is reported `stale`.
         */
        get: {
            parameters: {
                query?: {
                    provider?: "twitch" | "youtube";
                    limit?: number;
                };
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Live streams and per-provider freshness */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            streams: components["schemas"]["LiveStream"][];
                            providers: {
                                /** @enum {string} */
                                provider: "twitch" | "youtube";
                                /**
                                 * Format: int64
                                 * @description Last good refresh; 0 if never
                                 */
                                refreshed_at_ms: number;
                                stale: boolean;
                            }[];
                        };
                    };
                };
                422: components["responses"]["ValidationFailed"];
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/users/{id}/badges": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Badges earned through integrations (`discord` for a linked Discord account) */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    id: number;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description The player's badges */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            /** Format: int64 */
                            user_id: number;
                            badges: "discord"[];
                        };
                    };
                };
                404: components["responses"]["NotFound"];
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/matchmaking/queue": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** The caller's queue state (also keeps a waiting ticket alive) */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description State */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            /** @enum {string} */
                            state: "queued" | "matched" | "idle";
                            waited_s: number;
                            /** @description Mean of recent waits, at most the mode's seconds_to_floor */
                            estimated_wait_s?: number | null;
                            /** @description When queued: the quality a match must reach for this ticket now; null once the floor's time has passed (the best available match forms) */
                            quality_threshold?: number | null;
                            /** @description When queued: seconds until then (0 once reached) */
                            floor_in_s?: number;
                            /** @description When matched: the pending match */
                            match_id?: number;
                            /** @description When queued */
                            ticket?: {
                                ticket_id?: number;
                                mode?: string;
                                region?: string;
                                regions?: components["schemas"]["RegionLatency"][];
                                mmr?: number;
                                party?: number[];
                                /** @enum {string} */
                                state?: "pending_party" | "queued" | "forming";
                                waiting_for?: number[];
                            };
                        };
                    };
                };
                /** @description No or bad token */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
            };
        };
        put?: never;
        /**
         * Join the queue solo, lead a party, or consent to a party that lists you
         * @description Solo: `{mode, region}` queues the caller at their server-side mmr for the mode
         *     (1500 without a rating there). Party: the leader sends `party: [user ids]` (at most
         *     one team's size, leader included); that creates a `pending_party` ticket whose
         *     `party_id` each listed member sends back with their own token as
         *     `{mode, region, party_id}`. Only when every member has consented does the party
         *     queue, always on one team; nobody is queued by someone else's request. A ticket
         *     not matched or refreshed (GET) within 10 minutes expires. Joining publishes a
         *     tick on `matchmaking:tick`.
         *
         *     Where: either `region` (one region, as before) or `regions`, up to three
         *     `{region, latency_ms}` with the client's measured latency (0–1000 ms, each region
         *     known and named once). A match forms only in a region every ticket of it
         *     accepted, preferring the lowest worst latency; `region` in the answer is the
         *     ticket's preferred (lowest-latency) region, which consenting party members name.
         *     The party leader's list is the party's.
         *
         *     Matches form by predicted quality (1 = coin flip, 0 = a certain winner) under the
         *     rating model: a match needs the mode's threshold, which starts high and falls with
         *     the oldest ticket's wait; after the mode's `seconds_to_floor` the best available
         *     match inside the ±mmr window forms (see `GET` for the ticket's current threshold).
         */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        /**
                         * @example 1v1
                         * @example 2v2
                         * @example 4v4
                         */
                        mode: string;
                        /**
                         * @description One region (or send regions)
                         * @example eu
                         */
                        region?: string;
                        /** @description Up to three acceptable regions with the measured latency (or send region) */
                        regions?: components["schemas"]["RegionLatency"][];
                        /** @description Leader only: the friends to queue with */
                        party?: number[];
                        /** @description Member only: consent to this party */
                        party_id?: number;
                    };
                };
            };
            responses: {
                /** @description The ticket */
                202: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            ticket_id?: number;
                            mode?: string;
                            /** @description The preferred (lowest-latency) region */
                            region?: string;
                            /** @description Every accepted region, lowest latency first (latency 0 for a single-region ticket) */
                            regions?: components["schemas"]["RegionLatency"][];
                            /** @description Mean mmr of the members who joined, each read when they joined */
                            mmr?: number;
                            /** @description Every member, leader first */
                            party?: number[];
                            /** @description Party tickets only */
                            party_id?: number;
                            /** @enum {string} */
                            state?: "queued" | "pending_party";
                            waiting_for?: number[];
                            /** @description Mean of the last 50 waits in this mode and region, at most the mode's seconds_to_floor; null before any */
                            estimated_wait_s?: number | null;
                        };
                    };
                };
                /** @description Malformed JSON */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description No or bad token */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description The party does not list the caller */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description No such party */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description Already queued, or in a match that has not finished */
                409: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description Unknown mode or region, region and regions together or neither, more than three regions, a region named twice, latency above 1000 ms, party too large or with unknown users, party and party_id together, unknown fields (errors name each field, e.g. regions[1].latency_ms) */
                422: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
            };
        };
        /** Leave the queue (a party leaves together) */
        delete: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Left before a match formed */
                204: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                /** @description No or bad token */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description Not in the queue */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description Match already formed */
                409: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
            };
        };
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/matchmaking/queues": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Every queue (mode × region) with its waiting tickets and wait estimates (public)
         * @description One Redis round trip; nothing from MySQL but the modes. `tickets` counts eligible
         *     tickets (a party is one ticket); `oldest_wait_s` is how long the oldest of them has
         *     waited; `estimated_wait_s` is the mean of the last 50 waits capped by the mode's
         *     `seconds_to_floor`, as a join returns it. A multi-region ticket counts in each of
         *     its regions.
         *     Pending parties (not yet eligible) are not counted.
         */
        get: operations["queueOverview"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/matchmaking/tick": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Run one queue tick now (game server / operator, signed) and return its outcome
         * @description The same step the `queue-tick` Redis trigger runs on every `matchmaking:tick`
         *     message. Safe to run concurrently with any number of other ticks: every formed
         *     match's tickets are claimed atomically (all of a queue's matches in one script, each
         *     whole or not at all). An empty body runs it as the trigger does.
         */
        post: {
            parameters: {
                query?: never;
                header: {
                    "X-RH-Timestamp": number;
                    "X-RH-Signature": string;
                    /** @description Names a signed call for safe retries (1 to 255 visible ASCII characters, part of the signature when sent); without it the signature is the key. See the note above /api/v1/matches. */
                    "Idempotency-Key"?: components["parameters"]["IdempotencyKey"];
                };
                path?: never;
                cookie?: never;
            };
            requestBody?: {
                content: {
                    "application/json": {
                        /**
                         * @description Take the per-queue tick lock (saves duplicate work; never needed for correctness)
                         * @default true
                         */
                        use_lock?: boolean;
                        /** @default 20000 */
                        max_tickets_per_queue?: number;
                        /** @description Ignored; makes identical signed requests distinct */
                        request_id?: string;
                    };
                };
            };
            responses: {
                /** @description {queues_scanned, queues_locked, tickets_read, matches: [{match_id, mode, region, teams, ticket_ids, prediction}], tickets_left, claims_lost, creations_failed, tickets_dropped, read_us, group_us, create_us, claim_us, insert_us, finalize_us}. Each queue's formed matches are claimed in one script; all claimed matches of the tick are created in one MySQL transaction (queue by queue if that fails) and announced in one script; creations_failed counts matches whose tickets went back to the queue, tickets_dropped tickets removed because a member's account no longer exists; the *_us fields are where the time went (create_us = claim_us + insert_us + finalize_us). */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                /** @description Missing, wrong, stale or replayed signature */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/analytics/heroes": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Pick and win rates per hero in a mode over the last N UTC days (today included)
         * @description A pick is one participant of a completed (not voided) match who reported a hero.
         *     `pick_rate` = the hero's picks / all picks in the mode over the window (the rates of a
         *     mode add up to 1); `win_rate` = the hero's wins / its picks. Sorted by pick rate.
         *     Counted inside the result's transaction, so a replayed result counts nothing twice.
         */
        get: {
            parameters: {
                query: {
                    mode: string;
                    days?: number;
                };
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description The report */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            mode?: string;
                            days?: number;
                            /** @description first UTC day as yyyymmdd */
                            from_day?: number;
                            /** @description today (UTC) as yyyymmdd */
                            to_day?: number;
                            total_picks?: number;
                            heroes?: {
                                hero?: string;
                                picks?: number;
                                pick_rate?: number;
                                wins?: number;
                                win_rate?: number;
                            }[];
                        };
                    };
                };
                /** @description Missing or unknown mode, days outside 1-90 */
                422: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/analytics/overview": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Completed matches per UTC day and mode, active players per day, ranked players per mmr bucket of 100 per mode */
        get: {
            parameters: {
                query?: {
                    days?: number;
                };
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description {days, matches_per_day: [{day, mode, matches}], active_players_per_day: [{day, players}], mmr_distribution: [{mode, from, players}]} (day as yyyymmdd; a bucket is [from, from + 100)) */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                /** @description days outside 1-90 */
                422: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/admin/users": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Find accounts by id, username prefix or email prefix (case-insensitive), newest first */
        get: operations["adminSearchUsers"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/admin/users/{id}/ban": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Ban a user (permanent without until_ms)
         * @description Sets users.banned_until_ms/ban_reason, revokes the user's refresh tokens, refuses every
         *     token issued before now (user_tokens_not_before_key), removes the user from the
         *     matchmaking queue and from every leaderboard. Login of a banned user is 403
         *     "account banned"; refresh is refused too.
         */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    id: number;
                };
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        reason: string;
                        /** @description epoch ms in the future */
                        until_ms?: number;
                    };
                };
            };
            responses: {
                /** @description Banned */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["BanResult"];
                    };
                };
                /** @description No or bad token */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description Not an admin */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description No such user */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description Blank reason, until_ms in the past, banning oneself */
                422: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/admin/users/{id}/unban": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Lift a ban; the user is put back on the leaderboards (tokens from before the ban stay dead) */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    id: number;
                };
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        reason: string;
                    };
                };
            };
            responses: {
                /** @description Unbanned */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["UnbanResult"];
                    };
                };
                /** @description Not an admin */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description No such user */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/admin/users/{id}/rating": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Set, move or reset a user's rating in a mode (MySQL and leaderboards at once) */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    id: number;
                };
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        mode: string;
                        reason: string;
                        mmr?: number;
                        delta?: number;
                        reset?: boolean;
                    };
                };
            };
            responses: {
                /** @description The rating before and after */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["RatingAdjustment"];
                    };
                };
                /** @description Not an admin */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description The user has no rating in this mode */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description Not exactly one kind of change, blank reason */
                422: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/admin/matches/{id}/void": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Void a completed match
         * @description Status becomes `voided` (left out of history, the overview and hero analytics; its
         *     hero picks are subtracted). Every participant loses the match's win/loss/draw and
         *     game. Ratings are reversed (mmr/mu/sigma before the match, streak 0) for players with
         *     no later completed match in the mode; for the others the skipped reversal is returned
         *     and recorded in the audit row. The mode's leaderboards are rebuilt.
         */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    id: number;
                };
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        reason: string;
                    };
                };
            };
            responses: {
                /** @description Voided */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["VoidResult"];
                    };
                };
                /** @description Not an admin */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description No such match */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description The match is not completed (pending or already voided) */
                409: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/admin/rankings/rebuild": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Rebuild every mode's leaderboards from MySQL (admin token; /api/v1/admin/leaderboards/rebuild is the game server's signed equivalent) */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Boards rebuilt */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["RebuildResult"];
                    };
                };
                /** @description Not an admin */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description A rebuild is already running */
                503: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/admin/audit": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** The audit log, newest first, filtered and cursor-paginated */
        get: {
            parameters: {
                query?: {
                    actor_id?: number;
                    target_type?: string;
                    target_id?: string;
                    action?: string;
                    /** @description created_at_ms >= from_ms */
                    from_ms?: number;
                    /** @description created_at_ms < to_ms */
                    to_ms?: number;
                    /** @description next_cursor of the previous page */
                    cursor?: string;
                    limit?: number;
                };
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description A page of the log */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["AuditPage"];
                    };
                };
                /** @description Not an admin */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
                /** @description Bad integer filter or limit */
                422: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/problem+json": components["schemas"]["Problem"];
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/seasons": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Every season (past, current and scheduled), oldest first */
        get: operations["listSeasons"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/seasons/current": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * The active season (the one results count for now)
         * @description During a rollover this is already the new season: the old one reads `rolling` until its rollover finished, then `ended`.
         */
        get: operations["getCurrentSeason"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/seasons/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** One season */
        get: operations["getSeason"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/seasons/{id}/rankings/{mode}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * An ended season's final board of a mode (global, or ranked within a region)
         * @description The standings archived when the season's rollover began: the players placed in it and not banned at that moment, ranked by mmr (equal mmr by user id, lower first). With `region`, `rank` is the rank within that region. The current season's board is `GET /api/v1/rankings/{mode}`.
         */
        get: operations["getSeasonRankings"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/seasons/tick": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Run one season rollover tick now (game server / operator, signed) and return its outcome
         * @description The same step the worker's `season-tick` component runs on every
         *     `matchmaking:tick` message: when the active season is due (its `ends_at` has
         *     passed), claim its rollover, then soft-reset players in batches (one transaction
         *     each, per mode) until done, out of batches or out of time (10 s), and finish it
         *     (the old season becomes `ended`, `season_ended` then `season_started` are
         *     published). A tick with nothing due does nothing. Safe to run concurrently with any
         *     number of other ticks: the claim and each batch lock their rows in MySQL, so a
         *     rollover is claimed once and nobody is reset twice. An empty body runs it as the
         *     trigger does.
         */
        post: operations["seasonTick"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/users/{id}/seasons": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** A player's ended seasons (final rank and tier, peak tier, games per mode) and season badges (public) */
        get: operations["getUserSeasons"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/admin/seasons": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** The schedule, as GET /api/v1/seasons lists it (admin) */
        get: operations["adminListSeasons"];
        put?: never;
        /**
         * Schedule a season after the last one
         * @description The new season must start in the future, after the last season's start, and exactly when the last season ends (if that one has an end); an open-ended last season is closed at the new start. Modes left out of `modes` get the defaults.
         */
        post: operations["adminCreateSeason"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/admin/seasons/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        /**
         * Rename, move or re-tune a season that has not ended
         * @description Absent fields are left as they are. Moving a boundary moves the neighbour that shares it (a new `starts_at` is also the previous season's end; a new `ends_at` the next season's start). A start that has passed cannot move; `ends_at: null` makes the last season open-ended. In `modes`, only the fields sent change (a mode's other fields, and modes not named, keep theirs).
         */
        patch: operations["adminUpdateSeason"];
        trace?: never;
    };
    "/api/v1/admin/seasons/{id}/end": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * End the season under way now; the next tick rolls it over
         * @description Its `ends_at` becomes now, and a scheduled successor's `starts_at` moves to now with it (without one, the rollover starts an open-ended season with the same settings). The answer still reads `status: active`; the rollover starts at the next tick (about a second) and ends with `season_ended` / `season_started` on the `seasons` channel. No body is read.
         */
        post: operations["adminEndSeason"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
}
export type webhooks = Record<string, never>;
export interface components {
    schemas: {
        /** @description RFC 9457 problem details. */
        Problem: {
            /**
             * Format: uri-reference
             * @description Kind of problem: `/problems/bad-request`, `unauthorized`, `invalid-token`,
             *     `invalid-credentials`, `forbidden`, `not-found`, `method-not-allowed`,
             *     `conflict`, `payload-too-large`, `validation-failed`, `rate-limited`,
             *     `internal`, `unavailable`, `unhealthy`.
             * @example /problems/validation-failed
             */
            type: string;
            title: string;
            status: number;
            detail?: string;
            /** @description Present on 422 only. */
            errors?: components["schemas"]["FieldError"][];
        } & {
            [key: string]: unknown;
        };
        FieldError: {
            /** @example username */
            field: string;
            /** @example must be 3 to 20 characters */
            message: string;
        };
        RegisterRequest: {
            /**
             * Format: email
             * @description Stored lowercased; unique.
             */
            email: string;
            /** @description Kept as typed; unique without regard to case. */
            username: string;
            /** @description Counted in characters. Stored as an Argon2id hash (m=19 MiB, t=2, p=1). */
            password: string;
            /**
             * @description One of the `regions` variable (default `na`, `eu`, `sa`, `asia`, `oce`); case-insensitive.
             * @example eu
             */
            region: string;
        };
        LoginRequest: {
            /** Format: email */
            email: string;
            password: string;
        };
        RefreshRequest: {
            refresh_token: string;
        };
        /** @description Absent fields are left unchanged; any other field is a 400. */
        UpdateMeRequest: {
            username?: string;
            region?: string;
            /**
             * Format: uri
             * @description An http(s) URL; `null` or an empty string removes the avatar.
             */
            avatar_url?: string | null;
        };
        AuthResponse: {
            user: components["schemas"]["PrivateUser"];
            /** @description JWT, 15 minutes */
            access_token: string;
            /** @description JWT, 7 days, single use */
            refresh_token: string;
            /** @constant */
            token_type: "Bearer";
            /**
             * @description Access-token lifetime in seconds.
             * @constant
             */
            expires_in: 900;
        };
        /**
         * @description `mmr`, `wins`, `losses`, `draws` and `games` are the player's totals in the mode
         *     (the rating carries across seasons, soft-reset at each rollover); the `season_*`
         *     fields, `placed`, `placement_games_left` and `tier` are about the active season. A
         *     player still in placement shows no tier and is not on the leaderboard.
         */
        ModeStats: {
            mmr: number;
            wins: number;
            losses: number;
            draws: number;
            games: number;
            /**
             * Format: int64
             * @description The active season (null only if none is active).
             */
            season_id: number | null;
            /** @description Games in the active season (0 while the rollover has not reached the player). */
            season_games: number;
            /** @description Finished the active season's placement games in this mode. */
            placed: boolean;
            /** @description Placement games still to play (0 once placed). */
            placement_games_left: number;
            /** @description The tier of `mmr` once placed; null while in placement. */
            tier: null | components["schemas"]["Tier"];
        };
        /**
         * @description One entry per mode the player has played (`{}` for none).
         * @example {
         *       "1v1": {
         *         "mmr": 1234,
         *         "wins": 3,
         *         "losses": 1,
         *         "draws": 0,
         *         "games": 4,
         *         "season_id": 2,
         *         "season_games": 4,
         *         "placed": false,
         *         "placement_games_left": 1,
         *         "tier": null
         *       },
         *       "2v2": {
         *         "mmr": 1612,
         *         "wins": 14,
         *         "losses": 9,
         *         "draws": 1,
         *         "games": 24,
         *         "season_id": 2,
         *         "season_games": 7,
         *         "placed": true,
         *         "placement_games_left": 0,
         *         "tier": "gold"
         *       }
         *     }
         */
        Stats: {
            [key: string]: components["schemas"]["ModeStats"];
        };
        PublicUser: {
            /** Format: int64 */
            id: number;
            username: string;
            region: string;
            avatar_url: string | null;
            /**
             * Format: int64
             * @description Epoch milliseconds.
             */
            created_at: number;
            stats: components["schemas"]["Stats"];
            /** @description Public profile only (`GET /api/v1/users/{id}`); badges from linked creator accounts. */
            badges?: "discord"[];
            /** @description Public profile only; end-of-season badges, newest season first (also in `GET /api/v1/users/{id}/seasons`). */
            season_badges?: components["schemas"]["SeasonBadge"][];
        };
        PrivateUser: components["schemas"]["PublicUser"] & {
            /** Format: email */
            email: string;
            /**
             * @description `admin` may call /api/v1/admin/... (checked by the server on every request; this is for showing or hiding admin screens)
             * @enum {string}
             */
            role: "player" | "admin";
        };
        Health: {
            /** @constant */
            status: "ok";
            /** @constant */
            mysql: "ok";
            /** @constant */
            redis: "ok";
        };
        Team: {
            id?: number;
            name?: string;
            tag?: string;
            owner_id?: number;
            /** @description epoch ms */
            created_at?: number;
            member_count?: number;
            /** @description owner first, then captains, then members by join time */
            members?: {
                user_id?: number;
                username?: string;
                /** @enum {string} */
                role?: "owner" | "captain" | "member";
                joined_at?: number;
                /** @description mode → mmr, rated modes only */
                mmr?: {
                    [key: string]: number;
                };
            }[];
            /** @description mode → average over the members rated in it (rounded) */
            average_mmr?: {
                [key: string]: {
                    mmr?: number;
                    rated_members?: number;
                };
            };
        };
        TeamInvite: {
            id?: number;
            team_id?: number;
            team_name?: string;
            team_tag?: string;
            user_id?: number;
            invited_by?: number;
            created_at?: number;
            expires_at?: number;
        };
        IntegrationLink: {
            /** @enum {string} */
            provider: "twitch" | "youtube" | "discord";
            provider_user_id: string;
            /** @description Login */
            login: string;
            display_name?: string | null;
            scopes: string[];
            /** Format: int64 */
            linked_at_ms: number;
        };
        LiveStream: {
            /** @enum {string} */
            provider: "twitch" | "youtube";
            channel: string;
            display_name?: string | null;
            title: string;
            viewer_count: number;
            /** Format: date-time */
            started_at?: string | null;
            /** Format: uri */
            thumbnail_url?: string | null;
            /** Format: int64 */
            user_id: number;
            username: string;
            /** @description The player's best mmr over all modes */
            mmr?: number | null;
        };
        /** @enum {string} */
        MatchStatus: "pending" | "in_progress" | "completed" | "cancelled" | "voided";
        CreatedMatch: {
            /** Format: int64 */
            id: number;
            mode: string;
            region: string;
            status: components["schemas"]["MatchStatus"];
            /** @description user ids per team, team 0 first */
            teams: number[][];
            /**
             * Format: int64
             * @description epoch ms
             */
            created_at: number;
        };
        Participant: {
            /** Format: int64 */
            user_id: number;
            team: number;
            kills: number;
            deaths: number;
            assists: number;
            hero: string | null;
            /**
             * @description null while pending
             * @enum {string|null}
             */
            result: "win" | "loss" | "draw" | null;
            mmr_before: number | null;
            mmr_after: number | null;
            /** @description the rating model's skill estimate before the match (mmr = 1500 + 40 (mu - 25)); null while pending */
            mu_before: number | null;
            mu_after: number | null;
            /** @description the uncertainty of mu (in mu units) before the match */
            sigma_before: number | null;
            sigma_after: number | null;
        };
        Match: {
            /** Format: int64 */
            id: number;
            mode: string;
            region: string;
            status: components["schemas"]["MatchStatus"];
            /** @description null for a draw or an unfinished match */
            winner_team: number | null;
            duration_s: number | null;
            teams: number[][];
            /** @description by team */
            participants: components["schemas"]["Participant"][];
            /** Format: int64 */
            created_at: number;
            /** Format: int64 */
            completed_at: number | null;
            /** @description What the matchmaker predicted when it formed the match; null for a match a game server created */
            prediction: null | components["schemas"]["MatchPrediction"];
        };
        MatchPrediction: {
            /** @description 1 − the favourite's normalised edge: 1 for a coin flip, 0 for a certain winner */
            quality: number;
            /** @description Each team's predicted chance of winning, in team order (sums to 1) */
            predicted_win: number[];
            draw_probability: number;
            /** @description The slowest player's reported latency to the region; null when the tickets reported none */
            worst_latency_ms: number | null;
        };
        RegionLatency: {
            /** @example eu */
            region: string;
            /** @description The client's measured round trip to the region */
            latency_ms: number;
        };
        MatchResult: {
            match: components["schemas"]["Match"];
            rating_changes: {
                /** Format: int64 */
                user_id: number;
                mmr_before: number;
                mmr_after: number;
            }[];
        };
        TimelineEvent: {
            /** Format: int64 */
            match_id: number;
            /** @description position in the timeline */
            seq: number;
            /** @description the game's own event kind (kill, objective, ...) */
            type: string;
            /** @description milliseconds since the match started */
            at_ms: number;
            /** @description any JSON the game server sent */
            data: unknown;
        };
        Timeline: {
            /** Format: int64 */
            match_id: number;
            events: components["schemas"]["TimelineEvent"][];
        };
        HistoryEntry: {
            /**
             * Format: int64
             * @description the match id
             */
            id: number;
            mode: string;
            region: string;
            status: components["schemas"]["MatchStatus"];
            winner_team: number | null;
            duration_s: number | null;
            /** Format: int64 */
            created_at: number;
            /** Format: int64 */
            completed_at: number | null;
            team: number;
            /** @enum {string|null} */
            result: "win" | "loss" | "draw" | null;
            kills: number;
            deaths: number;
            assists: number;
            hero: string | null;
            mmr_before: number | null;
            mmr_after: number | null;
            /** @description the rating model's skill estimate before the match (mmr = 1500 + 40 (mu - 25)); null while pending */
            mu_before: number | null;
            mu_after: number | null;
            /** @description the uncertainty of mu (in mu units) before the match */
            sigma_before: number | null;
            sigma_after: number | null;
        };
        HistoryPage: {
            /** Format: int64 */
            user_id: number;
            matches: components["schemas"]["HistoryEntry"][];
            /**
             * Format: int64
             * @description the `before` of the next page; null on the last
             */
            next_before: number | null;
        };
        LeaderboardEntry: {
            /** @description 1-based */
            rank: number;
            /** Format: int64 */
            user_id: number;
            username: string;
            mmr: number;
            wins: number;
            losses: number;
        };
        LeaderboardPage: {
            mode: string;
            /** @description null for the global board */
            region: string | null;
            total: number;
            limit: number;
            offset: number;
            entries: components["schemas"]["LeaderboardEntry"][];
        };
        LeaderboardNeighbourhood: {
            mode: string;
            region: string | null;
            total: number;
            /** Format: int64 */
            user_id: number;
            rank: number;
            mmr: number;
            wins: number;
            losses: number;
            above: components["schemas"]["LeaderboardEntry"][];
            below: components["schemas"]["LeaderboardEntry"][];
        };
        RebuildResult: {
            rebuilt: {
                mode: string;
                players: number;
            }[];
        };
        /** @description `data` depends on `kind` (docs/events.md, `feed`) */
        FeedItem: {
            /** Format: int64 */
            id: number;
            /** @enum {string} */
            kind: "match_completed" | "rank_up" | "achievement_unlocked" | "placement_complete";
            /** Format: int64 */
            user_id: number | null;
            data: {
                [key: string]: unknown;
            };
            /** Format: int64 */
            created_at: number;
        };
        FeedPage: {
            events: components["schemas"]["FeedItem"][];
        };
        AchievementList: {
            /** Format: int64 */
            user_id: number;
            achievements: {
                code: string;
                name: string;
                description: string;
                /** Format: int64 */
                unlocked_at: number;
                /** Format: int64 */
                match_id: number | null;
            }[];
        };
        Notification: {
            /** Format: int64 */
            id: number;
            /** Format: int64 */
            user_id: number;
            /**
             * @description `data` depends on `kind` (docs/events.md, `user:{id}`)
             * @example match_completed
             * @example rank_up
             * @example achievement_unlocked
             * @example placement_complete
             * @example season_reward
             */
            kind: string;
            data: {
                [key: string]: unknown;
            };
            read: boolean;
            /** Format: int64 */
            created_at: number;
        };
        NotificationsPage: {
            unread: number;
            notifications: components["schemas"]["Notification"][];
            /** Format: int64 */
            next_before: number | null;
        };
        QueueOverview: {
            /** @description every mode */
            modes: string[];
            /** @description the configured regions */
            regions: string[];
            queues: {
                mode: string;
                region: string;
                tickets: number;
                /** @description null when empty */
                oldest_wait_s: number | null;
                /** @description null before any match formed here */
                estimated_wait_s: number | null;
            }[];
        };
        AdminUser: {
            /** Format: int64 */
            id: number;
            username: string;
            email: string;
            region: string;
            /** @enum {string} */
            role: "player" | "admin";
            /**
             * Format: int64
             * @description set while banned; a permanent ban reads as a far-future time
             */
            banned_until_ms: number | null;
            ban_reason: string | null;
            /** Format: int64 */
            created_at: number;
        };
        AdminUserList: {
            items: components["schemas"]["AdminUser"][];
        };
        BanResult: {
            /** Format: int64 */
            user_id: number;
            /**
             * Format: int64
             * @description epoch ms; a permanent ban is the far-future 253402300799999 (the end of year 9999)
             */
            banned_until_ms: number;
            ban_reason: string;
        };
        UnbanResult: {
            /** Format: int64 */
            user_id: number;
            banned_until_ms: null;
        };
        RatingSnapshot: {
            mode: string;
            mmr: number;
            mu: number;
            sigma: number;
        };
        RatingAdjustment: {
            /** Format: int64 */
            user_id: number;
            before: components["schemas"]["RatingSnapshot"];
            after: components["schemas"]["RatingSnapshot"];
        };
        VoidResult: {
            /** Format: int64 */
            match_id: number;
            /** @constant */
            status: "voided";
            reversed: {
                /** Format: int64 */
                user_id: number;
                /** @description the rating restored */
                mmr: number;
            }[];
            skipped: {
                /** Format: int64 */
                user_id: number;
                why: string;
            }[];
        };
        AuditEntry: {
            /** Format: int64 */
            id: number;
            /** Format: int64 */
            actor_id: number | null;
            action: string;
            target_type: string | null;
            target_id: string | null;
            ip: string | null;
            reason: string | null;
            /** @description the state before (any JSON) */
            before: unknown;
            /** @description the state after (any JSON) */
            after: unknown;
            /** Format: int64 */
            created_at_ms: number;
        };
        AuditPage: {
            items: components["schemas"]["AuditEntry"][];
            next_cursor: string | null;
        };
        /**
         * @description A function of mmr: bronze below 1300, silver from 1300, gold 1500, platinum 1700, diamond 1900, master 2100
         * @enum {string}
         */
        Tier: "bronze" | "silver" | "gold" | "platinum" | "diamond" | "master";
        /**
         * @description `rolling` while its rollover is under way (the next season is already `active`)
         * @enum {string}
         */
        SeasonStatus: "scheduled" | "active" | "rolling" | "ended";
        SeasonModeSettings: {
            /** @description Games of the season in the mode before a player is placed (shows a tier, is on the board); 0 places a player by their first game */
            placement_games: number;
            /** @description Share of a player's distance from 1500 mmr kept at the rollover into this season (1 = no reset, 0 = everyone back to 1500) */
            soft_reset_k: number;
            /** @description Final ranks that earn a top_{n} badge, ascending */
            reward_top_ranks: number[];
        };
        /** @description One mode's settings; a field left out takes its default */
        SeasonModeSettingsInput: {
            /** @description default 5 */
            placement_games?: number;
            /** @description default 0.75 */
            soft_reset_k?: number;
            /** @description strictly ascending; default [1, 10, 100] */
            reward_top_ranks?: number[];
        };
        /**
         * @example {
         *       "id": 2,
         *       "name": "Season 2",
         *       "starts_at": 1767225600000,
         *       "ends_at": 1775001600000,
         *       "status": "active",
         *       "modes": {
         *         "1v1": {
         *           "placement_games": 5,
         *           "soft_reset_k": 0.75,
         *           "reward_top_ranks": [
         *             1,
         *             10,
         *             100
         *           ]
         *         }
         *       },
         *       "rollover_started_at": null,
         *       "rollover_finished_at": null,
         *       "players_reset": 0
         *     }
         */
        Season: {
            /** Format: int64 */
            id: number;
            name: string;
            /**
             * Format: int64
             * @description epoch ms
             */
            starts_at: number;
            /**
             * Format: int64
             * @description epoch ms; null while open-ended (only the last season)
             */
            ends_at: number | null;
            status: components["schemas"]["SeasonStatus"];
            /** @description mode → its settings in this season, every mode of the install */
            modes: {
                [key: string]: components["schemas"]["SeasonModeSettings"];
            };
            /**
             * Format: int64
             * @description epoch ms; when its rollover was claimed
             */
            rollover_started_at: number | null;
            /**
             * Format: int64
             * @description epoch ms; when its rollover finished
             */
            rollover_finished_at: number | null;
            /** @description Players its rollover soft-reset, over every mode (0 until it finished) */
            players_reset: number;
        };
        SeasonList: {
            /** @description oldest first */
            items: components["schemas"]["Season"][];
        };
        CreateSeasonRequest: {
            /** @description 1 to 64 characters once trimmed */
            name: string;
            /**
             * Format: int64
             * @description epoch ms, in the future
             */
            starts_at: number;
            /**
             * Format: int64
             * @description epoch ms after starts_at; absent or null: open-ended
             */
            ends_at?: number | null;
            /** @description mode → settings; modes left out get the defaults */
            modes?: {
                [key: string]: components["schemas"]["SeasonModeSettingsInput"];
            };
        };
        /** @description Absent fields are left unchanged. */
        UpdateSeasonRequest: {
            name?: string;
            /**
             * Format: int64
             * @description epoch ms, in the future (only for a season not started yet); also the previous season's new end
             */
            starts_at?: number;
            /**
             * Format: int64
             * @description epoch ms, in the future and after starts_at; also the next season's new start. null: open-ended (the last season only)
             */
            ends_at?: number | null;
            /** @description mode → the settings fields to change; fields and modes not named keep theirs */
            modes?: {
                [key: string]: components["schemas"]["SeasonModeSettingsInput"];
            };
        };
        SeasonBoardEntry: {
            /** @description 1-based final rank; the position within the region when the page is filtered by region */
            rank: number;
            /** @description 1-based final rank over every region */
            global_rank: number;
            /** Format: int64 */
            user_id: number;
            username: string;
            /** @description the player's home region at the season's end */
            region: string;
            /** @description final mmr */
            mmr: number;
            tier: components["schemas"]["Tier"];
            /** @description The tier of the player's highest mmr in the season */
            peak_tier: null | components["schemas"]["Tier"];
            /** @description games in the season */
            games: number;
            wins: number;
            losses: number;
        };
        SeasonBoardPage: {
            /** Format: int64 */
            season_id: number;
            mode: string;
            /** @description null for the global board */
            region: string | null;
            /** @description ranked players (in the region, if filtered) */
            total: number;
            limit: number;
            offset: number;
            entries: components["schemas"]["SeasonBoardEntry"][];
        };
        SeasonBadge: {
            /** Format: int64 */
            season_id: number;
            mode: string;
            /**
             * @description The final tier (bronze ... master) of a placed player, or top_{n} for the best of the mode's reward_top_ranks their final rank is within
             * @example gold
             * @example top_10
             */
            badge: string;
            /**
             * Format: int64
             * @description epoch ms
             */
            granted_at: number;
        };
        SeasonHistoryEntry: {
            /** Format: int64 */
            season_id: number;
            season_name: string;
            mode: string;
            /** @description null when the player had not finished placement (or was banned) at the season's end */
            final_rank: number | null;
            /** @description null exactly when final_rank is */
            final_tier: null | components["schemas"]["Tier"];
            final_mmr: number;
            /** @description The tier of the player's highest mmr in the season */
            peak_tier: null | components["schemas"]["Tier"];
            games: number;
            wins: number;
            losses: number;
            draws: number;
            /**
             * @description The badges this season earned the player in this mode
             * @example [
             *       "gold",
             *       "top_10"
             *     ]
             */
            badges: string[];
        };
        SeasonHistory: {
            /** Format: int64 */
            user_id: number;
            /** @description Ended seasons, newest first, one entry per mode played (by mode name) */
            items: components["schemas"]["SeasonHistoryEntry"][];
            /** @description Every season badge, newest season first */
            badges: components["schemas"]["SeasonBadge"][];
        };
        SeasonTickOutcome: {
            /**
             * Format: int64
             * @description the season whose rollover this tick claimed
             */
            claimed: number | null;
            /**
             * Format: int64
             * @description the season being rolled over, if any
             */
            rolling: number | null;
            /** @description batch transactions this tick ran */
            batches: number;
            /** @description players this tick soft-reset */
            players_reset: number;
            /**
             * Format: int64
             * @description the season whose rollover this tick finished
             */
            finished: number | null;
            /** @description another replica holds the rollover lease; this tick did nothing */
            busy: boolean;
        };
    };
    responses: {
        /** @description Malformed JSON, a body that is not a JSON object, or a field of the wrong JSON type. */
        BadRequest: {
            headers: {
                [name: string]: unknown;
            };
            content: {
                "application/problem+json": components["schemas"]["Problem"];
            };
        };
        /**
         * @description Missing, malformed, expired, revoked or wrong-type token. `WWW-Authenticate:
         *     Bearer realm="rankedhonor"` (with `error="invalid_token"` when a token was sent).
         */
        Unauthorized: {
            headers: {
                /** @description RFC 6750 Bearer challenge. */
                "WWW-Authenticate"?: string;
                [name: string]: unknown;
            };
            content: {
                "application/problem+json": components["schemas"]["Problem"];
            };
        };
        /** @description Wrong email or password (the same answer for both). */
        InvalidCredentials: {
            headers: {
                [name: string]: unknown;
            };
            content: {
                "application/problem+json": components["schemas"]["Problem"];
            };
        };
        /** @description The account is banned. */
        Forbidden: {
            headers: {
                [name: string]: unknown;
            };
            content: {
                "application/problem+json": components["schemas"]["Problem"];
            };
        };
        /** @description No such resource or route. */
        NotFound: {
            headers: {
                [name: string]: unknown;
            };
            content: {
                "application/problem+json": components["schemas"]["Problem"];
            };
        };
        /** @description The path exists with other methods, listed in `Allow`. */
        MethodNotAllowed: {
            headers: {
                Allow?: string;
                [name: string]: unknown;
            };
            content: {
                "application/problem+json": components["schemas"]["Problem"];
            };
        };
        /** @description The email or username is already taken. */
        Conflict: {
            headers: {
                [name: string]: unknown;
            };
            content: {
                "application/problem+json": components["schemas"]["Problem"];
            };
        };
        /** @description The request body exceeds 64 KiB. */
        PayloadTooLarge: {
            headers: {
                [name: string]: unknown;
            };
            content: {
                "application/problem+json": components["schemas"]["Problem"];
            };
        };
        /** @description Some fields are missing or invalid; `errors` lists each one. */
        ValidationFailed: {
            headers: {
                [name: string]: unknown;
            };
            content: {
                /**
                 * @example {
                 *       "type": "/problems/validation-failed",
                 *       "title": "Validation failed",
                 *       "status": 422,
                 *       "detail": "2 invalid field(s)",
                 *       "errors": [
                 *         {
                 *           "field": "username",
                 *           "message": "must be 3 to 20 characters"
                 *         },
                 *         {
                 *           "field": "region",
                 *           "message": "must be one of: na, eu, sa, asia, oce"
                 *         }
                 *       ]
                 *     }
                 */
                "application/problem+json": components["schemas"]["Problem"];
            };
        };
        /** @description Too many attempts from this client address; retry after `Retry-After` seconds. */
        RateLimited: {
            headers: {
                "Retry-After"?: number;
                [name: string]: unknown;
            };
            content: {
                "application/problem+json": components["schemas"]["Problem"];
            };
        };
        /** @description An unexpected error; logged, details withheld. */
        InternalError: {
            headers: {
                [name: string]: unknown;
            };
            content: {
                "application/problem+json": components["schemas"]["Problem"];
            };
        };
        /** @description A dependency (MySQL, Redis, a provider) is down, frozen or busy. Every route answers this rather than a 500 while that lasts, and recovers by itself; retry after `Retry-After` seconds. */
        Unavailable: {
            headers: {
                "Retry-After"?: number;
                [name: string]: unknown;
            };
            content: {
                "application/problem+json": components["schemas"]["Problem"];
            };
        };
    };
    parameters: {
        /** @description Names a signed call for safe retries (1 to 255 visible ASCII characters, part of the signature when sent); without it the signature is the key. See the note above /api/v1/matches. */
        IdempotencyKey: string;
    };
    requestBodies: never;
    headers: {
        /** @description `true` when the answer is the stored outcome of an earlier identical call. */
        IdempotentReplayed: "true";
    };
    pathItems: never;
}
export type $defs = Record<string, never>;
export interface operations {
    register: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["RegisterRequest"];
            };
        };
        responses: {
            /** @description Account created; the caller is logged in. */
            201: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["AuthResponse"];
                };
            };
            400: components["responses"]["BadRequest"];
            405: components["responses"]["MethodNotAllowed"];
            409: components["responses"]["Conflict"];
            413: components["responses"]["PayloadTooLarge"];
            422: components["responses"]["ValidationFailed"];
            429: components["responses"]["RateLimited"];
            500: components["responses"]["InternalError"];
        };
    };
    login: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["LoginRequest"];
            };
        };
        responses: {
            /** @description Logged in; a new refresh-token family starts. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["AuthResponse"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["InvalidCredentials"];
            403: components["responses"]["Forbidden"];
            405: components["responses"]["MethodNotAllowed"];
            413: components["responses"]["PayloadTooLarge"];
            422: components["responses"]["ValidationFailed"];
            429: components["responses"]["RateLimited"];
            500: components["responses"]["InternalError"];
        };
    };
    refresh: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["RefreshRequest"];
            };
        };
        responses: {
            /** @description A new access/refresh pair. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["AuthResponse"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            405: components["responses"]["MethodNotAllowed"];
            413: components["responses"]["PayloadTooLarge"];
            422: components["responses"]["ValidationFailed"];
            500: components["responses"]["InternalError"];
        };
    };
    logout: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Logged out. */
            204: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            401: components["responses"]["Unauthorized"];
            405: components["responses"]["MethodNotAllowed"];
            500: components["responses"]["InternalError"];
        };
    };
    getMe: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The caller's profile. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["PrivateUser"];
                };
            };
            401: components["responses"]["Unauthorized"];
            404: components["responses"]["NotFound"];
            405: components["responses"]["MethodNotAllowed"];
            500: components["responses"]["InternalError"];
        };
    };
    updateMe: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["UpdateMeRequest"];
            };
        };
        responses: {
            /** @description The updated profile. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["PrivateUser"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            405: components["responses"]["MethodNotAllowed"];
            409: components["responses"]["Conflict"];
            413: components["responses"]["PayloadTooLarge"];
            422: components["responses"]["ValidationFailed"];
            500: components["responses"]["InternalError"];
        };
    };
    getUser: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: number;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The public profile. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["PublicUser"];
                };
            };
            404: components["responses"]["NotFound"];
            405: components["responses"]["MethodNotAllowed"];
            500: components["responses"]["InternalError"];
        };
    };
    businessMetrics: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The exposition (text format 0.0.4). */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example # HELP rh_matches_created_total Matches created, by POST /api/v1/matches or the queue tick.
                     *     # TYPE rh_matches_created_total counter
                     *     rh_matches_created_total{mode="2v2"} 1843
                     */
                    "text/plain": string;
                };
            };
            /** @description No token, or not the metrics token. */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The route is off (`metrics_token` is empty). */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    health: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Both dependencies answer. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "status": "ok",
                     *       "mysql": "ok",
                     *       "redis": "ok"
                     *     }
                     */
                    "application/json": components["schemas"]["Health"];
                };
            };
            /**
             * @description A dependency is down. A problem whose extension members `mysql` and `redis`
             *     are `ok` or `down`; `detail` names what is down.
             */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "type": "/problems/unhealthy",
                     *       "title": "Service Unavailable",
                     *       "status": 503,
                     *       "detail": "down: mysql",
                     *       "mysql": "down",
                     *       "redis": "ok"
                     *     }
                     */
                    "application/problem+json": components["schemas"]["Problem"] & {
                        /** @enum {string} */
                        mysql: "ok" | "down";
                        /** @enum {string} */
                        redis: "ok" | "down";
                    };
                };
            };
        };
    };
    queueOverview: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The queues, by mode then region */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["QueueOverview"];
                };
            };
        };
    };
    adminSearchUsers: {
        parameters: {
            query?: {
                /** @description a user id, or a prefix of the username or email; empty lists the newest accounts */
                query?: string;
                limit?: number;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Matching accounts */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["AdminUserList"];
                };
            };
            /** @description No or bad token */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Not an admin */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Bad limit or query too long */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    listSeasons: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The schedule */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["SeasonList"];
                };
            };
        };
    };
    getCurrentSeason: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The active season */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Season"];
                };
            };
            /** @description No season is active (never on a migrated install: migration V9 seeds one) */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    getSeason: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: number;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The season */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Season"];
                };
            };
            /** @description No such season */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    getSeasonRankings: {
        parameters: {
            query?: {
                region?: string;
                limit?: number;
                offset?: number;
            };
            header?: never;
            path: {
                id: number;
                mode: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description A page of the final board */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["SeasonBoardPage"];
                };
            };
            /** @description No such season or mode, or the season has not ended (no final standings yet) */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Unknown region, bad limit or offset */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    seasonTick: {
        parameters: {
            query?: never;
            header: {
                "X-RH-Timestamp": number;
                "X-RH-Signature": string;
                /** @description Names a signed call for safe retries (1 to 255 visible ASCII characters, part of the signature when sent); without it the signature is the key. See the note above /api/v1/matches. */
                "Idempotency-Key"?: components["parameters"]["IdempotencyKey"];
            };
            path?: never;
            cookie?: never;
        };
        requestBody?: {
            content: {
                "application/json": {
                    /**
                     * @description Players per batch transaction
                     * @default 2000
                     */
                    batch_size?: number;
                    /** @description Batches this tick runs at most (default: until done or out of time) */
                    max_batches?: number;
                    /**
                     * @description Take the Redis rollover lease first (saves duplicate work; never needed for correctness)
                     * @default true
                     */
                    use_lease?: boolean;
                    /** @description Ignored; makes identical signed requests distinct */
                    request_id?: string;
                };
            };
        };
        responses: {
            /** @description What the tick did (again, with Idempotent-Replayed: true, for a repeated signature or key) */
            200: {
                headers: {
                    "Idempotent-Replayed": components["headers"]["IdempotentReplayed"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["SeasonTickOutcome"];
                };
            };
            /** @description Malformed JSON or an unknown field */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Missing, wrong or stale signature */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description A call with this idempotency key is still running; retry later */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description batch_size outside 1-5000, or an idempotency key used for another request */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            503: components["responses"]["Unavailable"];
        };
    };
    getUserSeasons: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: number;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The player's season history */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["SeasonHistory"];
                };
            };
            /** @description No such user */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    adminListSeasons: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The schedule */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["SeasonList"];
                };
            };
            /** @description No or bad token */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Not an admin */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    adminCreateSeason: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["CreateSeasonRequest"];
            };
        };
        responses: {
            /** @description The scheduled season (`status: scheduled`) */
            201: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Season"];
                };
            };
            /** @description Malformed JSON, a missing name or starts_at, a field of the wrong type, an unknown field */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description No or bad token */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Not an admin */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The window overlaps another season's */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Name not 1 to 64 characters; unknown mode (field modes.{mode}) or bad settings (modes.{mode}.{field}); starts_at not in the future; ends_at not after starts_at; a gap after the last season's end (field starts_at) */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    adminUpdateSeason: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: number;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["UpdateSeasonRequest"];
            };
        };
        responses: {
            /** @description The season */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Season"];
                };
            };
            /** @description Malformed JSON, a field of the wrong type, an unknown field */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description No or bad token */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Not an admin */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description No such season */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The season (or the neighbour a move would change) has ended or is rolling over, a start that has passed would move, or the window would overlap another season's */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Name not 1 to 64 characters; unknown mode or bad settings (modes.{mode}[.{field}]); starts_at or ends_at not in the future; ends_at not after starts_at; ends_at null for a season that is not the last; a gap */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    adminEndSeason: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: number;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The season, with its new end */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Season"];
                };
            };
            /** @description No or bad token */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Not an admin */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description No such season */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The season is not under way (scheduled, or already ended or rolling over) */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
}
