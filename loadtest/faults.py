#!/usr/bin/env python3
"""Fault injector, run beside the load (scripts/loadtest starts it with Locust).

Uses the cluster's state directory (scripts/cluster: `<name>.pid`, `<name>.cmd` for
`runtime-1..N`, `sidecar-1..M`, `haproxy`). Default schedule, as fractions of the run
(all after the ramp-up of 1,000 players at 8/s in an 8-minute run):

    0.35 kill-runtime     SIGKILL runtime-1 (HAProxy routes around it)
    0.43 restart-runtime  its .cmd; back when its own /health answers 200
    0.55 kill-sidecar     SIGKILL sidecar-1 (its clients reconnect through HAProxy)
    0.63 restart-sidecar  its .cmd; back when its own /healthz answers 200
    0.75 restart-redis    SHUTDOWN the run's own Redis, start it again

Redis restart: `--redis-restart empty` (default) shuts down with NOSAVE, so Redis comes
back empty, the way the project runs Redis (no persistence: it holds only what MySQL
can rebuild). `keep` shuts down with SAVE and the new process loads the dump (the Redis
must have been started with `--dir` pointing at a writable folder). "Recovered" is
recorded when every runtime's /health and every sidecar's /healthz answer 200 again,
checked on their own ports (read from their .cmd `--listen` argument).

Every action is one JSON line in --out with its epoch-ms time; the report and the
delivery check use them. The injector only ever signals the pids in the state
directory, after checking that the pid still runs the expected binary.
"""

import argparse
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.request

DEFAULT_SCHEDULE = "0.35:kill-runtime,0.43:restart-runtime,0.55:kill-sidecar,0.63:restart-sidecar,0.75:restart-redis"
BINARIES = {"runtime": "rh-runtime", "sidecar": "rh-sidecar"}


def now_ms() -> int:
    return time.time_ns() // 1_000_000


class Injector:
    def __init__(self, args: argparse.Namespace) -> None:
        self.dir = args.state_dir
        self.out = open(args.out, "a", buffering=1)
        self.redis_port = args.redis_port
        self.redis_cmd = args.redis_cmd
        self.redis_mode = args.redis_restart

    def log(self, event: str, at_ms: int | None = None, **fields) -> None:
        row = {"t_ms": at_ms or now_ms(), "event": event, **fields}
        self.out.write(json.dumps(row) + "\n")
        print(f"faults: {json.dumps(row)}", file=sys.stderr, flush=True)

    # ---- the state directory ------------------------------------------------------

    def names(self, kind: str) -> list[str]:
        found = [f[: -len(".pid")] for f in os.listdir(self.dir) if re.fullmatch(rf"{kind}-\d+\.pid", f)]
        return sorted(found, key=lambda n: int(n.rsplit("-", 1)[1]))

    def pid(self, name: str) -> int:
        with open(os.path.join(self.dir, f"{name}.pid")) as f:
            return int(f.read().strip())

    def listen(self, name: str) -> str | None:
        try:
            with open(os.path.join(self.dir, f"{name}.cmd")) as f:
                m = re.search(r"--listen[ =]'?([0-9.]+:\d+)", f.read())
            return m.group(1) if m else None
        except OSError:
            return None

    def health_url(self, name: str) -> str | None:
        addr = self.listen(name)
        if addr is None:
            return None
        return f"http://{addr}/health" if name.startswith("runtime") else f"http://{addr}/healthz"

    @staticmethod
    def healthy(url: str) -> bool:
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                return r.status == 200
        except Exception:  # noqa: BLE001 - any failure means "not yet"
            return False

    def wait_healthy(self, names: list[str], timeout_s: float = 60) -> bool:
        urls = [u for u in (self.health_url(n) for n in names) if u]
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if all(self.healthy(u) for u in urls):
                return True
            time.sleep(0.1)
        return False

    # ---- actions --------------------------------------------------------------------

    def kill(self, kind: str) -> None:
        name = self.names(kind)[0]
        pid = self.pid(name)
        # The executable itself, not a shell whose command line merely mentions it.
        exe = os.path.basename(os.readlink(f"/proc/{pid}/exe"))
        if exe != BINARIES[kind]:
            self.log("skipped", target=name, why=f"pid {pid} runs {exe}, not {BINARIES[kind]}")
            return
        at = now_ms()  # before the signal: clients may notice within the same millisecond
        os.kill(pid, signal.SIGKILL)
        self.log("kill", at_ms=at, target=name, pid=pid, signal="SIGKILL")

    def restart(self, kind: str) -> None:
        name = self.names(kind)[0]
        with open(os.path.join(self.dir, f"{name}.cmd")) as f:
            cmd = f.read().strip()
        subprocess.run(["bash", "-c", cmd], check=True)
        self.log("restart", target=name, pid=self.pid(name))
        ok = self.wait_healthy([name])
        self.log("back" if ok else "not_back", target=name)

    def restart_redis(self) -> None:
        how = "SAVE" if self.redis_mode == "keep" else "NOSAVE"
        self.log("redis_stopping", port=self.redis_port, shutdown=how)
        # redis-cli exits non-zero when the server closes the link on shutdown: expected.
        subprocess.run(["redis-cli", "-p", str(self.redis_port), "SHUTDOWN", how],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
        while subprocess.run(["redis-cli", "-p", str(self.redis_port), "PING"],
                             capture_output=True, check=False).returncode == 0:
            time.sleep(0.05)
        self.log("redis_stop", port=self.redis_port, shutdown=how)
        subprocess.run(["bash", "-c", self.redis_cmd], check=True, stdout=subprocess.DEVNULL)
        while subprocess.run(["redis-cli", "-p", str(self.redis_port), "PING"],
                             capture_output=True, check=False).returncode != 0:
            time.sleep(0.05)
        self.log("redis_start", port=self.redis_port)
        ok = self.wait_healthy(self.names("runtime") + self.names("sidecar"))
        self.log("redis_recovered" if ok else "redis_not_recovered")

    def guard_memory(self, limit_mb: int) -> None:
        """Protects the machine: a runtime whose resident memory passes `limit_mb` is
        SIGKILLed (and logged as `rss_guard_kill`) before the kernel's OOM killer picks
        a victim on a machine shared with other work. A runtime has no bound on requests
        in flight, and each holds an instance, so an overload grows it without limit."""
        while True:
            for name in self.names("runtime"):
                try:
                    pid = self.pid(name)
                    with open(f"/proc/{pid}/status") as f:
                        rss_kb = next(int(line.split()[1]) for line in f if line.startswith("VmRSS:"))
                except (OSError, ValueError, StopIteration):
                    continue
                if rss_kb > limit_mb * 1024 and os.path.basename(os.readlink(f"/proc/{pid}/exe")) == "rh-runtime":
                    at = now_ms()
                    os.kill(pid, signal.SIGKILL)
                    self.log("rss_guard_kill", at_ms=at, target=name, pid=pid, rss_mb=rss_kb // 1024)
                    subprocess.run(["bash", os.path.join(self.dir, f"{name}.cmd")], check=False)
                    self.log("restart", target=name, pid=self.pid(name), why="rss guard")
            time.sleep(1)

    def run(self, action: str) -> None:
        match action:
            case "kill-runtime":
                self.kill("runtime")
            case "restart-runtime":
                self.restart("runtime")
            case "kill-sidecar":
                self.kill("sidecar")
            case "restart-sidecar":
                self.restart("sidecar")
            case "restart-redis":
                self.restart_redis()
            case _:
                raise SystemExit(f"unknown action {action}")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--state-dir", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--duration", type=float, required=True, help="run length in seconds")
    p.add_argument("--t0", type=float, default=None, help="run start, epoch seconds (default: now)")
    p.add_argument("--schedule", default=DEFAULT_SCHEDULE, help="fraction:action,...")
    p.add_argument("--redis-port", type=int, required=True)
    p.add_argument("--redis-cmd", required=True, help="shell command starting the Redis again")
    p.add_argument("--redis-restart", choices=["empty", "keep"], default="empty")
    p.add_argument("--rss-limit-mb", type=int, default=4000, help="0 = no memory guard")
    args = p.parse_args()
    injector = Injector(args)
    if args.rss_limit_mb:
        threading.Thread(target=injector.guard_memory, args=(args.rss_limit_mb,), daemon=True).start()
    t0 = args.t0 or time.time()
    plan = [(float(f) * args.duration, a) for f, a in (item.split(":") for item in args.schedule.split(",") if item)]
    injector.log("plan", t0_ms=int(t0 * 1000), plan=[[round(t, 1), a] for t, a in plan],
                 redis_restart=args.redis_restart)
    for at, action in sorted(plan):
        delay = t0 + at - time.time()
        if delay > 0:
            time.sleep(delay)
        try:
            injector.run(action)
        except Exception as e:  # noqa: BLE001 - one failed action must not stop the rest
            injector.log("failed", action=action, error=f"{type(e).__name__}: {e}")


if __name__ == "__main__":
    main()
