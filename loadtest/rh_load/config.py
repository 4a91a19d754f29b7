"""Settings of a load run, read once from the environment (scripts/loadtest sets them).

Every knob has a default that suits `./scripts/cluster` on this machine, so the
locustfile also runs by hand: `locust -f loadtest/locustfile.py --headless -u 1004 ...`.
"""

import os
from dataclasses import dataclass, field


def _env(name: str, default: str) -> str:
    return os.environ.get(name, default)


def _range(name: str, default: str) -> tuple[float, float]:
    lo, hi = (float(x) for x in _env(name, default).split(","))
    return lo, hi


@dataclass(frozen=True)
class Settings:
    # Where the cluster answers (HAProxy in front of the runtimes and the sidecars).
    http_url: str = field(default_factory=lambda: _env("RH_LOAD_HTTP", "http://127.0.0.1:8080"))
    ws_url: str = field(default_factory=lambda: _env("RH_LOAD_WS", "ws://127.0.0.1:8001/ws"))
    # Where the run's raw records go (CSV/JSON files the report and the checker read).
    out_dir: str = field(default_factory=lambda: _env("RH_LOAD_OUT", "target/loadtest/manual"))
    # The dev key scripts/up and scripts/cluster give the app (game servers sign with it).
    game_server_key: bytes = field(
        default_factory=lambda: _env(
            "RH_LOAD_GAME_SERVER_KEY", "dev-only-game-server-key-do-not-use-in-production"
        ).encode()
    )
    # Players are lt{tag}x{n}@load.test; a new tag gives new accounts on an old database.
    tag: str = field(default_factory=lambda: _env("RH_LOAD_TAG", "0"))
    password: str = "load-test-password-1"
    game_servers: int = field(default_factory=lambda: int(_env("RH_LOAD_GAME_SERVERS", "4")))
    # Seconds a formed match is "played" before its result is posted (uniform).
    play_s: tuple[float, float] = field(default_factory=lambda: _range("RH_LOAD_PLAY_S", "8,20"))
    # Share of results posted a second time (the same result, reordered and re-signed).
    duplicate_rate: float = field(default_factory=lambda: float(_env("RH_LOAD_DUP_RATE", "0.2")))
    # Pause between a player's matches (seconds, uniform).
    rest_s: tuple[float, float] = field(default_factory=lambda: _range("RH_LOAD_REST_S", "2,6"))
    # How long the end-of-run drain may take to settle the matches still pending.
    drain_s: float = field(default_factory=lambda: float(_env("RH_LOAD_DRAIN_S", "120")))


MODES = ("1v1", "2v2", "4v4")
REGIONS = ("na", "eu", "sa", "asia", "oce")

SETTINGS = Settings()
