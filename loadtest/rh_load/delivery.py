"""Did every subscribed client receive every event of its channels? (pure; see below)

Pub/sub is fire-and-forget (docs/websocket.md): a client that was not subscribed, or
whose sidecar had lost Redis, misses events by design. So the check is precise about
which events a client must have received:

1. **What was published, and when.** From MySQL, for every match the run completed:
   `rating_changed` on `rankings:{mode}`, and on `user:{id}` of each participant its
   `rating_changed`, each of its notifications (by id) and each achievement unlocked
   by that match. They are published after the result's commit and before the answer
   to the request that applied it, so each lies in the window
   [`completed_at_ms` (the result's server time, taken before its transaction),
   `ok_ms` (when the game server read the 200)]. That bound is only sure when the first
   attempt of the result was answered 200 (`clean`): after a lost answer (a runtime
   killed mid-request) the fresh application may have died before publishing, so such
   matches are left out and counted as `ambiguous`.
   `match_found` on `user:{id}` is published by the tick right after the match's
   creation; its window is taken as [`created_at_ms`, `created_at_ms` + 5 s].
2. **When a client was listening.** A subscription lasts from the `subscribed` answer
   to the moment the client noticed its connection had gone. When a fault (a sidecar
   or runtime killed, Redis stopped) happened in the 10 s before a drop was noticed, the
   subscription is taken to have ended at the fault (the sidecar was already dead).
3. **Outages.** From the moment Redis is told to shut down until every runtime and
   sidecar answers its health check again, nothing is required.

An event is *expected* by a client when one of the client's subscriptions to the
event's channel covers the whole window and the window does not touch an outage.
A *miss* is an expected event the client never received. A *duplicate* is an event
received twice by one client (no replays exist, so that would be a double publish).
"""

from collections import Counter, defaultdict
from typing import NamedTuple

FOUND_WINDOW_MS = 5_000
FAULT_LOOKBACK_MS = 10_000
CLEAN_END_REASONS = ("run_end", "stopped")


class Sub(NamedTuple):
    user_id: int
    channel: str
    start_ms: int
    end_ms: int
    end_reason: str


class Pub(NamedTuple):
    channel: str
    kind: str
    key: str
    lo_ms: int
    hi_ms: int


def outage_windows(faults: list[dict]) -> list[tuple[int, int]]:
    """[redis_stopping, redis_recovered] windows (an unrecovered one lasts forever)."""
    windows, start = [], None
    for f in sorted(faults, key=lambda f: f["t_ms"]):
        if f["event"] == "redis_stopping":
            start = f["t_ms"]
        elif f["event"] in ("redis_recovered", "redis_not_recovered") and start is not None:
            end = f["t_ms"] if f["event"] == "redis_recovered" else 1 << 62
            windows.append((start, end))
            start = None
    if start is not None:
        windows.append((start, 1 << 62))
    return windows


def fault_times(faults: list[dict]) -> list[int]:
    return sorted(f["t_ms"] for f in faults if f["event"] in ("kill", "rss_guard_kill", "redis_stopping"))


def effective_end(sub: Sub, faults_at: list[int]) -> int:
    if sub.end_reason in CLEAN_END_REASONS:
        return sub.end_ms
    earlier = [t for t in faults_at if sub.end_ms - FAULT_LOOKBACK_MS <= t <= sub.end_ms]
    return min(earlier) if earlier else sub.end_ms


def publications(completed: list[dict], created: list[dict], results: dict[int, dict]) -> tuple[list[Pub], Counter]:
    """The events the app published. `completed`: {match_id, mode, completed_ms,
    users, notifications: [(user, id)], achievements: [(user, code)]}; `created`:
    {match_id, created_ms, users}; `results`: the game servers' logs by match id."""
    pubs, skipped = [], Counter()
    for m in completed:
        log = results.get(m["match_id"])
        if not log or "ok_ms" not in log:
            skipped["result_not_posted_by_harness"] += 1
            continue
        if not log.get("clean"):
            skipped["ambiguous_result_window"] += 1
            continue
        lo, hi, mid = m["completed_ms"], log["ok_ms"], str(m["match_id"])
        pubs.append(Pub(f"rankings:{m['mode']}", "rk_rating", mid, lo, hi))
        for u in m["users"]:
            pubs.append(Pub(f"user:{u}", "rating", mid, lo, hi))
        for u, nid in m["notifications"]:
            pubs.append(Pub(f"user:{u}", "notification", str(nid), lo, hi))
        for u, code in m["achievements"]:
            pubs.append(Pub(f"user:{u}", "achievement", code, lo, hi))
    for m in created:
        lo = m["created_ms"]
        for u in m["users"]:
            pubs.append(Pub(f"user:{u}", "match_found", str(m["match_id"]), lo, lo + FOUND_WINDOW_MS))
    return pubs, skipped


def check_delivery(pubs: list[Pub], subs: list[Sub], received: list[tuple], faults: list[dict]) -> dict:
    """`received`: (user_id, channel, kind, key) per event a client read. Returns
    per-kind counts, the misses (up to 50 listed) and the duplicates."""
    outages = outage_windows(faults)
    faults_at = fault_times(faults)
    by_channel: dict[str, list[tuple[int, int, int]]] = defaultdict(list)
    for s in subs:
        by_channel[s.channel].append((s.start_ms, effective_end(s, faults_at), s.user_id))
    got = Counter(received)
    kinds: dict[str, Counter] = defaultdict(Counter)
    misses = []
    for p in pubs:
        k = kinds[p.kind]
        k["published"] += 1
        if any(lo <= p.hi_ms and p.lo_ms <= hi for lo, hi in outages):
            k["during_outage"] += 1
            continue
        listeners = {u for start, end, u in by_channel.get(p.channel, ()) if start <= p.lo_ms and end >= p.hi_ms}
        for u in listeners:
            k["expected"] += 1
            if got[(u, p.channel, p.kind, p.key)]:
                k["delivered"] += 1
            else:
                k["missed"] += 1
                if len(misses) < 50:
                    misses.append({"user_id": u, **p._asdict()})
    duplicates = {f"{u} {c} {kind} {key}": n for (u, c, kind, key), n in got.items() if n > 1}
    return {
        "kinds": {k: dict(v) for k, v in sorted(kinds.items())},
        "missed": sum(v["missed"] for v in kinds.values()),
        "misses": misses,
        "duplicates": dict(list(duplicates.items())[:50]),
        "duplicate_count": len(duplicates),
    }
