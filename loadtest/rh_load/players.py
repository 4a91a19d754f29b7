"""A simulated player: an account, a WebSocket, and a loop of browse → queue → play.

One cycle (the Locust task):
1. browse: two or three reads among the profile, leaderboards (global, regional, own
   rank), match history, notifications, the feed and another player's profile;
2. queue: `POST /api/v1/matchmaking/queue` in a random mode (1v1, 2v2, 4v4) in the
   player's home region (players are spread over every region), then wait for
   `match_found` on `user:{id}`, checking `GET /api/v1/matchmaking/queue` every 4 s
   meanwhile (that also keeps the ticket alive, and finds the match if the event was
   missed, and a ticket lost when Redis restarted: then the player queues again);
3. play: tell the game servers about the match, wait for the `rating_changed` of that
   match on `user:{id}` (checking the queue status every 10 s in case the event is lost);
4. rest a few seconds.
"""

import itertools
import random
import time

import gevent
import gevent.event

from .config import MODES, REGIONS, SETTINGS
from .gameserver import BOOK
from .http import call, dumps
from .record import RECORDER
from .ws import PlayerSocket

_numbers = itertools.count(1)
QUEUE_WAIT_S = 180
RESULT_WAIT_S = 300
TOKEN_REFRESH_S = 10 * 60  # access tokens live 15 minutes


class PlayerLogic:
    """Kept apart from the Locust class so the flow reads top to bottom."""

    def __init__(self, client) -> None:
        self.client = client
        self.n = next(_numbers)
        self.region = REGIONS[self.n % len(REGIONS)]
        # The leaderboard channel this player watches (every mode has watchers).
        self.watch_mode = MODES[self.n % len(MODES)]
        self.user_id = 0
        self.access = ""
        self.refresh = ""
        self.token_at = 0.0
        self.wake = gevent.event.Event()
        self.found: list[int] = []  # match ids from match_found events
        self.results: set[int] = set()  # match ids whose rating_changed arrived
        self.current: int | None = None
        self.sock: PlayerSocket | None = None

    # ---- account and socket --------------------------------------------------------

    def log_in(self) -> None:
        name = f"lt{SETTINGS.tag}x{self.n}"
        account = {"email": f"{name}@load.test", "username": name, "password": SETTINGS.password, "region": self.region}
        while True:
            status, body = call(
                self.client, "POST", "/api/v1/auth/register", "/api/v1/auth/register",
                body=dumps(account), ok=(201,), expected=(409,),
            )
            if status == 409:  # an earlier run with this tag made the account
                status, body = call(
                    self.client, "POST", "/api/v1/auth/login", "/api/v1/auth/login",
                    body=dumps({"email": account["email"], "password": SETTINGS.password}),
                )
            if status in (200, 201):
                break
            gevent.sleep(random.uniform(1, 3))
        self._take_tokens(body)
        self.user_id = body["user"]["id"]
        self.sock = PlayerSocket(
            SETTINGS.ws_url, self.user_id, [f"user:{self.user_id}", f"rankings:{self.watch_mode}"],
            lambda: self.access, self._on_event,
        )

    def _take_tokens(self, body: dict) -> None:
        self.access = body["access_token"]
        self.refresh = body["refresh_token"]
        self.token_at = time.monotonic()

    def keep_token_fresh(self) -> None:
        if time.monotonic() - self.token_at < TOKEN_REFRESH_S:
            return
        status, body = call(
            self.client, "POST", "/api/v1/auth/refresh", "/api/v1/auth/refresh",
            body=dumps({"refresh_token": self.refresh}),
        )
        if status == 200:
            self._take_tokens(body)
            if self.sock:
                self.sock.reauth(self.access)

    def _on_event(self, data: dict) -> None:
        kind = data.get("type")
        if kind == "match_found":
            self.found.append(data["match_id"])
            BOOK.learn(data["match_id"], "ws")
            self.wake.set()
        elif kind == "rating_changed":
            self.results.add(data["match_id"])
            self.wake.set()

    def stop(self) -> None:
        if self.user_id:
            self._leave()
        if self.sock:
            self.sock.stop()

    # ---- one cycle -------------------------------------------------------------------

    def cycle(self) -> None:
        self.keep_token_fresh()
        self.browse()
        match_id = self.queue_up()
        if match_id is not None:
            self.await_result(match_id)
        gevent.sleep(random.uniform(*SETTINGS.rest_s))

    def browse(self) -> None:
        mode = random.choice(MODES)
        reads = [
            ("/api/v1/users/me", "/api/v1/users/me", True, ()),
            (f"/api/v1/rankings/{mode}?limit=50", "/api/v1/rankings/[mode]", False, ()),
            (f"/api/v1/rankings/{mode}?region={self.region}&limit=20", "/api/v1/rankings/[mode]?region", False, ()),
            (f"/api/v1/rankings/{mode}/me", "/api/v1/rankings/[mode]/me", True, (404,)),
            (f"/api/v1/users/{self.user_id}/matches?limit=10", "/api/v1/users/[id]/matches", False, ()),
            ("/api/v1/notifications?limit=20", "/api/v1/notifications", True, ()),
            ("/api/v1/feed?limit=20", "/api/v1/feed", False, ()),
            (f"/api/v1/users/{random.randint(1, max(1, self.user_id))}", "/api/v1/users/[id]", False, (404,)),
        ]
        for path, name, auth, expected in random.sample(reads, random.randint(2, 3)):
            call(self.client, "GET", path, name, token=self.access if auth else None, expected=expected)

    def _status(self) -> dict:
        status, body = call(self.client, "GET", "/api/v1/matchmaking/queue", "/api/v1/matchmaking/queue [GET]",
                            token=self.access)
        return body if status == 200 and isinstance(body, dict) else {}

    def _join(self, mode: str) -> int:
        status, _ = call(
            self.client, "POST", "/api/v1/matchmaking/queue", "/api/v1/matchmaking/queue [POST]",
            body=dumps({"mode": mode, "region": self.region}), token=self.access, ok=(202,), expected=(409,),
        )
        return status

    def _new_match(self) -> int | None:
        while self.found:
            m = self.found.pop()
            if m != self.current and m not in self.results:
                return m
        return None

    def queue_up(self) -> int | None:
        """Queues and waits until matched; returns the match id (None: gave up)."""
        mode = random.choice(MODES)
        status = self._join(mode)
        if status not in (202, 409):
            return None
        deadline = time.monotonic() + QUEUE_WAIT_S
        while time.monotonic() < deadline:
            self.wake.wait(timeout=4)
            self.wake.clear()
            m = self._new_match()
            if m is not None:
                return self._matched(m)
            st = self._status()
            state = st.get("state")
            if state == "matched" and st.get("match_id") not in (None, self.current):
                BOOK.learn(st["match_id"], "status")
                return self._matched(st["match_id"])
            if state == "idle":
                # The ticket is gone: expired, or Redis restarted without its data.
                RECORDER.count("tickets_lost_requeued")
                if self._join(mode) not in (202, 409):
                    return None
        RECORDER.count("queue_gave_up")
        self._leave()
        return None

    def _leave(self) -> None:
        """Leaves the queue; a 409 means a match formed first: the game servers must
        still hear of it, or it would stay pending."""
        status, _ = call(self.client, "DELETE", "/api/v1/matchmaking/queue", "/api/v1/matchmaking/queue [DELETE]",
                         token=self.access, ok=(204,), expected=(404, 409))
        if status == 409:
            st = self._status()
            if st.get("state") == "matched" and st.get("match_id"):
                BOOK.learn(st["match_id"], "status")

    def _matched(self, match_id: int) -> int:
        self.current = match_id
        RECORDER.count("player_matches")
        return match_id

    def await_result(self, match_id: int) -> None:
        deadline = time.monotonic() + RESULT_WAIT_S
        while match_id not in self.results and time.monotonic() < deadline:
            self.wake.wait(timeout=10)
            self.wake.clear()
            if match_id in self.results:
                break
            st = self._status()
            if st and not (st.get("state") == "matched" and st.get("match_id") == match_id):
                RECORDER.count("result_seen_by_poll")
                self.results.add(match_id)
                break
        if match_id not in self.results:
            RECORDER.count("result_wait_gave_up")
