"""Game servers: play every formed match for a while, then post its signed result.

Players tell the shared [`MatchBook`] about each match they are put in (from their
`match_found` event or from `GET /api/v1/matchmaking/queue`); game servers take the
matches whose play time is over and `PUT /api/v1/matches/{id}/result`, signed with
game_server_key. A failed attempt (no answer, 5xx) is retried, re-signed, until it is
answered: the route is exactly-once, so a retry of a result that was in fact applied
gets the stored outcome. A share of results is posted a second time a little later,
participants reordered: that duplicate must answer 200 with the same body.

Everything a game server did per match goes to `RECORDER.results`:
`attempts` ([sent_ms, answered_ms, status], ...), `ok_ms` (first 200), `clean` (the
first attempt was answered 200, so the app's after-commit publishing finished before
`ok_ms`: the delivery check uses that as the publish deadline), `dup` (duplicate's
status and whether its body equalled the first one), `anomaly` (an answer that should
never happen, e.g. a 409 for our own result).
"""

import heapq
import json
import random
import time

import gevent

from .config import SETTINGS
from .http import call, dumps, signed_headers
from .record import RECORDER, now_ms

HEROES = ("ranger", "warden", "mystic", "brute", "shade", "tinker")
MAX_ATTEMPTS = 40


class MatchBook:
    """Formed matches waiting to be settled, by due time (a heap)."""

    def __init__(self) -> None:
        self.heap: list[tuple[float, str, int]] = []
        self.results: dict[int, dict] = {}  # match_id -> the result we posted
        self.bodies: dict[int, object] = {}  # match_id -> first 200 body

    def learn(self, match_id: int, via: str) -> None:
        if match_id in RECORDER.learned:
            return
        RECORDER.learned[match_id] = (now_ms(), via)
        due = time.monotonic() + random.uniform(*SETTINGS.play_s)
        heapq.heappush(self.heap, (due, "result", match_id))

    def pop_due(self, force: bool = False):
        if self.heap and (force or self.heap[0][0] <= time.monotonic()):
            _, kind, match_id = heapq.heappop(self.heap)
            return kind, match_id
        return None

    def schedule_duplicate(self, match_id: int) -> None:
        heapq.heappush(self.heap, (time.monotonic() + random.uniform(1, 3), "duplicate", match_id))


BOOK = MatchBook()


def make_result(teams: list[list[int]]) -> dict:
    """A random result: mostly a winner, sometimes a draw; plausible player lines."""
    winner = None if random.random() < 0.05 else random.randrange(len(teams))
    participants = [
        {
            "user_id": u,
            "kills": random.randint(0, 20),
            "deaths": random.randint(0, 15),
            "assists": random.randint(0, 20),
            "hero": random.choice(HEROES),
        }
        for team in teams
        for u in team
    ]
    return {"winner_team": winner, "duration_s": random.randint(300, 1800), "participants": participants}


def encode_variant(result: dict) -> bytes:
    """The same result in another byte form: participants shuffled (the app hashes the
    canonical form, so the meaning is unchanged, but the signature differs)."""
    parts = list(result["participants"])
    random.shuffle(parts)
    return dumps({**result, "participants": parts})


def same_body(a: object, b: object) -> bool:
    return json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)


class GameServer:
    """The settling logic, over any Locust HTTP client (a user's, or the drain's)."""

    def __init__(self, client) -> None:
        self.client = client

    def settle(self, kind: str, match_id: int) -> None:
        if kind == "result":
            self.post_result(match_id)
        else:
            self.post_duplicate(match_id)

    def _roster(self, match_id: int) -> dict | None:
        for attempt in range(MAX_ATTEMPTS):
            status, body = call(self.client, "GET", f"/api/v1/matches/{match_id}", "/api/v1/matches/[id]")
            if status == 200 and isinstance(body, dict):
                return body
            if status == 404:
                break
            gevent.sleep(min(0.5 * 2**attempt, 5))
        RECORDER.results.setdefault(match_id, {})["anomaly"] = "match not readable"
        return None

    def _put(self, match_id: int, result: dict, log: dict, key: str) -> tuple[int, object]:
        path = f"/api/v1/matches/{match_id}/result"
        status, body = 0, None
        for attempt in range(MAX_ATTEMPTS):
            payload = encode_variant(result)
            sent = now_ms()
            status, body = call(
                self.client,
                "PUT",
                path,
                "/api/v1/matches/[id]/result",
                body=payload,
                headers=signed_headers(SETTINGS.game_server_key, "PUT", path, payload),
            )
            log.setdefault(key, []).append([sent, now_ms(), status])
            if status == 200 or status in (404, 409, 422):
                break
            # At least a second apart, so a resend never repeats a signature.
            gevent.sleep(max(1.0, min(0.5 * 2**attempt, 5)))
        return status, body

    def post_result(self, match_id: int) -> None:
        log = RECORDER.results.setdefault(match_id, {})
        m = self._roster(match_id)
        if m is None:
            return
        result = BOOK.results.get(match_id)  # set when an earlier post was cut short
        if m.get("status") != "pending" and result is None:
            log["anomaly"] = f"already {m.get('status')} before our result"
            return
        if result is None:
            result = BOOK.results[match_id] = make_result(m["teams"])
        log["mode"] = m.get("mode")
        status, body = self._put(match_id, result, log, "attempts")
        if status != 200:
            log["anomaly"] = f"result answered {status}"
            return
        log["ok_ms"] = log["attempts"][-1][1]
        log["clean"] = len(log["attempts"]) == 1
        BOOK.bodies[match_id] = body
        RECORDER.count("results_applied_by_us")
        if random.random() < SETTINGS.duplicate_rate:
            BOOK.schedule_duplicate(match_id)

    def post_duplicate(self, match_id: int) -> None:
        log = RECORDER.results.setdefault(match_id, {})
        status, body = self._put(match_id, BOOK.results[match_id], log, "dup_attempts")
        same = status == 200 and same_body(body, BOOK.bodies.get(match_id))
        log["dup"] = {"status": status, "same_body": same}
        RECORDER.count("duplicates_same_body" if same else "duplicates_different")


def drain(client, deadline_s: float) -> int:
    """Settles every known match still unsettled at the end of the run (waiting for its
    play time, or cut short when Locust stopped the game servers), ignoring play times,
    with a few greenlets in parallel. Returns how many were left at the deadline."""
    server = GameServer(client)
    open_matches = [m for m in RECORDER.learned
                    if not {"ok_ms", "anomaly"} & set(RECORDER.results.get(m, {}))]
    dups = [(0.0, kind, m) for _, kind, m in BOOK.heap if kind == "duplicate"]
    BOOK.heap = [(0.0, "result", m) for m in open_matches] + dups
    heapq.heapify(BOOK.heap)
    end = time.monotonic() + deadline_s

    def worker() -> None:
        while time.monotonic() < end:
            item = BOOK.pop_due(force=True)
            if item is None:
                return
            server.settle(*item)

    gevent.joinall([gevent.spawn(worker) for _ in range(max(1, SETTINGS.game_servers))], timeout=deadline_s)
    return len(BOOK.heap)
