"""RankedHonor load scenario: players and game servers (run by scripts/loadtest).

    locust -f loadtest/locustfile.py --headless -u 1004 -r 20 -t 6m \
        --host http://127.0.0.1:8080 --csv target/loadtest/run/locust

`-u` counts every user: RH_LOAD_GAME_SERVERS game servers (default 4, spawned first,
`fixed_count`) and the rest players. Everything runs in this one process on gevent, so
players and game servers share the match book (players report formed matches; game
servers post their results). One process is enough for 1,000 players on this machine
(the cluster needs the other core); the report shows Locust's own CPU use.

At the end of the run the remaining matches are settled (the drain), then the harness
records (WebSocket events and subscriptions, errors with times, results) are written to
RH_LOAD_OUT for report.py and invariants.py.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import gevent  # noqa: E402
from locust import FastHttpUser, between, constant, events, task  # noqa: E402
from locust.contrib.fasthttp import FastHttpSession  # noqa: E402

from rh_load.config import SETTINGS  # noqa: E402
from rh_load.gameserver import BOOK, GameServer, drain  # noqa: E402
from rh_load.players import PlayerLogic  # noqa: E402
from rh_load.record import RECORDER  # noqa: E402


class Player(FastHttpUser):
    weight = 1
    wait_time = between(0, 0.5)
    # Enough for a request queued behind a runtime restart; a hang is an error.
    network_timeout = 30.0
    connection_timeout = 10.0

    def on_start(self) -> None:
        self.logic = PlayerLogic(self.client)
        self.logic.log_in()

    @task
    def play(self) -> None:
        self.logic.cycle()

    def on_stop(self) -> None:
        self.logic.stop()


class GameServerUser(FastHttpUser):
    fixed_count = SETTINGS.game_servers
    wait_time = constant(0)
    network_timeout = 30.0
    connection_timeout = 10.0

    def on_start(self) -> None:
        self.server = GameServer(self.client)

    @task
    def settle(self) -> None:
        item = BOOK.pop_due()
        if item is None:
            gevent.sleep(0.2)
            return
        self.server.settle(*item)


@events.test_stop.add_listener
def _on_test_stop(environment, **_kwargs) -> None:
    client = FastHttpSession(
        base_url=environment.host,
        request_event=environment.events.request,
        user=None,
        network_timeout=30.0,
        connection_timeout=10.0,
    )
    left = drain(client, SETTINGS.drain_s)
    RECORDER.count("drain_left_unsettled", left)
    RECORDER.write(SETTINGS.out_dir)
