"""What the simulated clients saw, kept in memory and written as CSV at the end.

Locust's own CSV files hold the per-route HTTP statistics; these records hold what
Locust cannot: every WebSocket event each client received, when each client was
subscribed to each channel, every drop and reconnect, every HTTP error with its time
(to attribute errors to fault windows), and every result the game servers posted.
`report.py` and `invariants.py` read them after the run.

All times are epoch milliseconds from this machine's clock, the same clock the app
stamps its rows with (the whole cluster runs here).
"""

import csv
import json
import os
import time


def now_ms() -> int:
    return time.time_ns() // 1_000_000


class Recorder:
    """Append-only lists; Locust runs every user in one process on gevent, so plain
    appends from many greenlets need no lock."""

    def __init__(self) -> None:
        self.started_ms = now_ms()
        # recv_ms, user_id, channel, kind, key, server_ms
        self.ws_events: list[tuple] = []
        # user_id, channel, start_ms, end_ms, end_reason (end_ms None while open)
        self.ws_subs: list[list] = []
        # t_ms, user_id, reason, connected_for_ms
        self.ws_drops: list[tuple] = []
        # t_ms, user_id, error
        self.ws_connect_failures: list[tuple] = []
        # t_ms, user_id, code (error messages the sidecar sent)
        self.ws_errors: list[tuple] = []
        # t_ms (request start), route, status (0 = no HTTP answer), detail
        self.http_errors: list[tuple] = []
        # match_id -> dict (see gameserver.ResultLog)
        self.results: dict[int, dict] = {}
        # match_id -> (first_learned_ms, via)
        self.learned: dict[int, tuple] = {}
        # counters that need no detail
        self.counts: dict[str, int] = {}

    def count(self, name: str, n: int = 1) -> None:
        self.counts[name] = self.counts.get(name, 0) + n

    def open_sub(self, user_id: int, channel: str) -> list:
        row = [user_id, channel, now_ms(), None, ""]
        self.ws_subs.append(row)
        return row

    @staticmethod
    def close_sub(row: list, reason: str, at_ms: int | None = None) -> None:
        if row[3] is None:
            row[3] = at_ms if at_ms is not None else now_ms()
            row[4] = reason

    def write(self, out_dir: str) -> None:
        os.makedirs(out_dir, exist_ok=True)
        end = now_ms()
        for row in self.ws_subs:
            self.close_sub(row, "run_end", end)

        def dump(name: str, header: list[str], rows) -> None:
            with open(os.path.join(out_dir, name), "w", newline="") as f:
                w = csv.writer(f)
                w.writerow(header)
                w.writerows(rows)

        dump("ws_events.csv", ["recv_ms", "user_id", "channel", "kind", "key", "server_ms"], self.ws_events)
        dump("ws_subs.csv", ["user_id", "channel", "start_ms", "end_ms", "end_reason"], self.ws_subs)
        dump("ws_drops.csv", ["t_ms", "user_id", "reason", "connected_for_ms"], self.ws_drops)
        dump("ws_connect_failures.csv", ["t_ms", "user_id", "error"], self.ws_connect_failures)
        dump("ws_errors.csv", ["t_ms", "user_id", "code"], self.ws_errors)
        dump("http_errors.csv", ["t_ms", "route", "status", "detail"], self.http_errors)
        dump(
            "learned_matches.csv",
            ["match_id", "learned_ms", "via"],
            ((m, t, via) for m, (t, via) in sorted(self.learned.items())),
        )
        with open(os.path.join(out_dir, "results.jsonl"), "w") as f:
            for match_id, log in sorted(self.results.items()):
                f.write(json.dumps({"match_id": match_id, **log}) + "\n")
        with open(os.path.join(out_dir, "harness.json"), "w") as f:
            json.dump({"started_ms": self.started_ms, "ended_ms": end, "counts": self.counts}, f, indent=1)


RECORDER = Recorder()
