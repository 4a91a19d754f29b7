"""The invariants, as pure functions over plain rows (no database, no Redis), so that
test_invariants.py can show each one failing on a corrupted state.

Each `check_*` returns a list of violations (human-readable strings); empty means it
holds. Row shapes are named tuples filled by invariants.py from MySQL, Redis and the
harness records.
"""

from collections import Counter, defaultdict
from typing import NamedTuple

SHIFT = 1 << 32
INFINITY = float("inf")


class Part(NamedTuple):
    """One player in one match (match_participants joined with matches)."""

    match_id: int
    user_id: int
    mode: str
    status: str  # pending | completed | voided
    created_ms: int
    completed_ms: int | None
    result: str | None  # win | loss | draw, NULL until completed
    mmr_before: int | None
    mmr_after: int | None
    mu_before: float | None
    mu_after: float | None
    sigma_before: float | None
    sigma_after: float | None


class Stats(NamedTuple):
    """A user_stats row."""

    user_id: int
    mode: str
    mmr: int
    mu: float
    sigma: float
    wins: int
    losses: int
    draws: int
    games: int


# ---- no player in two matches at once ----------------------------------------------


def check_no_overlap(parts: list[Part]) -> list[str]:
    """A player's matches never overlap: each lasts from creation to completion (or
    forever while pending), and a player is in at most one pending match."""
    out = []
    by_user: dict[int, list[Part]] = defaultdict(list)
    for p in parts:
        if p.status in ("pending", "completed"):
            by_user[p.user_id].append(p)
    for user, ps in by_user.items():
        ps.sort(key=lambda p: (p.created_ms, p.match_id))
        pending = [p.match_id for p in ps if p.status == "pending"]
        if len(pending) > 1:
            out.append(f"user {user} is in {len(pending)} pending matches {pending}")
        for a, b in zip(ps, ps[1:]):
            end = a.completed_ms if a.status == "completed" else INFINITY
            if b.created_ms < end:
                out.append(f"user {user}: match {b.match_id} created at {b.created_ms} while in match {a.match_id} "
                           f"({a.status}, {a.created_ms}..{a.completed_ms})")
    return out


# ---- every result applied exactly once ------------------------------------------------


def check_counters(parts: list[Part], stats: list[Stats]) -> list[str]:
    """user_stats games/wins/losses/draws equal the completed matches per player and mode;
    every participant of a completed match has a result, no pending one has."""
    out = []
    want: dict[tuple[int, str], Counter] = defaultdict(Counter)
    for p in parts:
        if p.status == "completed":
            if p.result is None or p.mmr_after is None:
                out.append(f"match {p.match_id} is completed but user {p.user_id} has no result/rating")
                continue
            c = want[(p.user_id, p.mode)]
            c["games"] += 1
            c[{"win": "wins", "loss": "losses", "draw": "draws"}[p.result]] += 1
        elif p.status == "pending" and p.result is not None:
            out.append(f"match {p.match_id} is pending but user {p.user_id} has result {p.result}")
    have = {(s.user_id, s.mode): s for s in stats}
    for key in set(want) | set(have):
        c = want.get(key, Counter())
        s = have.get(key)
        got = (s.games, s.wins, s.losses, s.draws) if s else (0, 0, 0, 0)
        exp = (c["games"], c["wins"], c["losses"], c["draws"])
        if got != exp:
            out.append(f"user {key[0]} {key[1]}: user_stats games/wins/losses/draws {got} but completed matches say {exp}")
    return out


def check_rating_chains(parts: list[Part], stats: list[Stats]) -> list[str]:
    """Per player and mode, completed matches in order chain their ratings: each match
    starts from the rating the previous one ended with, and the last one ends at the
    current user_stats rating. A result applied twice (or lost) breaks the chain."""
    out = []
    chains: dict[tuple[int, str], list[Part]] = defaultdict(list)
    for p in parts:
        if p.status == "completed" and p.mmr_after is not None:
            chains[(p.user_id, p.mode)].append(p)
    have = {(s.user_id, s.mode): s for s in stats}
    for key, ps in chains.items():
        ps.sort(key=lambda p: (p.completed_ms, p.match_id))
        for a, b in zip(ps, ps[1:]):
            if (a.mmr_after, a.mu_after, a.sigma_after) != (b.mmr_before, b.mu_before, b.sigma_before):
                out.append(f"user {key[0]} {key[1]}: match {b.match_id} starts at mmr {b.mmr_before} "
                           f"but match {a.match_id} ended at {a.mmr_after}")
        last, s = ps[-1], have.get(key)
        if s is None or (last.mmr_after, last.mu_after, last.sigma_after) != (s.mmr, s.mu, s.sigma):
            out.append(f"user {key[0]} {key[1]}: rating {None if s is None else s.mmr} is not where match "
                       f"{last.match_id} left it ({last.mmr_after})")
    return out


def check_side_effects_once(parts: list[Part], feed_match_ids: list[int], notified: list[tuple[int, int]],
                            hero_picks: dict[tuple, int], hero_expected: dict[tuple, int]) -> list[str]:
    """One `match_completed` feed event per completed match, one `match_completed`
    notification per participant, and hero picks counted once per participant."""
    out = []
    completed = {p.match_id for p in parts if p.status == "completed"}
    feed = Counter(feed_match_ids)
    for m in completed | set(feed):
        if feed.get(m, 0) != (1 if m in completed else 0):
            out.append(f"match {m}: {feed.get(m, 0)} match_completed feed events")
    expected_pairs = {(p.user_id, p.match_id) for p in parts if p.status == "completed"}
    got = Counter(notified)
    for pair in expected_pairs | set(got):
        if got.get(pair, 0) != (1 if pair in expected_pairs else 0):
            out.append(f"user {pair[0]} match {pair[1]}: {got.get(pair, 0)} match_completed notifications")
    for key in set(hero_picks) | set(hero_expected):
        if hero_picks.get(key, 0) != hero_expected.get(key, 0):
            out.append(f"hero picks {key}: {hero_picks.get(key, 0)} counted, {hero_expected.get(key, 0)} played")
    return out


# ---- leaderboards in Redis equal MySQL ----------------------------------------------


def score(mmr: int, user_id: int) -> int:
    """crates/app/src/leaderboard.rs: higher mmr first, then the lower user id."""
    return mmr * SHIFT + (SHIFT - 1 - (user_id % SHIFT))


def check_leaderboard(mode: str, stats: list[Stats], regions: dict[int, str], names: dict[int, str],
                      banned: set[int], built: bool, board: dict[int, float],
                      regional: dict[str, dict[int, float]], info: dict[int, list]) -> list[str]:
    """`lb:{mode}`, `lb:{mode}:{region}` and `lbinfo:{mode}` hold exactly the players
    with a completed match in the mode (bans excluded) at their MySQL mmr, wins and
    losses; the `lbmeta:{mode}:built` marker is present (else the next read rebuilds)."""
    out = []
    if not built:
        return [f"{mode}: boards not built (lbmeta:{mode}:built missing)"]
    want = {s.user_id: s for s in stats if s.mode == mode and s.games > 0 and s.user_id not in banned}
    for uid in set(want) | set(board):
        s = want.get(uid)
        if s is None:
            out.append(f"lb:{mode}: user {uid} listed but not ranked in MySQL")
        elif uid not in board:
            out.append(f"lb:{mode}: user {uid} missing (mmr {s.mmr} in MySQL)")
        elif int(board[uid]) != score(s.mmr, uid):
            out.append(f"lb:{mode}: user {uid} at mmr {int(board[uid]) // SHIFT}, MySQL says {s.mmr}")
    for region in set(regional) | {regions.get(u, "?") for u in want}:
        members = regional.get(region, {})
        expected = {u for u in want if regions.get(u) == region}
        for uid in expected ^ set(members):
            out.append(f"lb:{mode}:{region}: user {uid} {'missing' if uid in expected else 'should not be there'}")
        for uid in expected & set(members):
            if int(members[uid]) != score(want[uid].mmr, uid):
                out.append(f"lb:{mode}:{region}: user {uid} has a stale score")
    for uid in set(want) | set(info):
        s = want.get(uid)
        exp = [names.get(uid), s.wins, s.losses] if s else None
        if info.get(uid) != exp:
            out.append(f"lbinfo:{mode}: user {uid} is {info.get(uid)}, MySQL says {exp}")
    return out
