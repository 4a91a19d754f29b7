#!/usr/bin/env python3
"""Load generator for scripts/bench-matches: creates RESULTS 2v2 matches among 64
players (FIRST_PLAYER..FIRST_PLAYER+63, rotating so players share matches and their
stats rows contend), then posts their results with CONCURRENCY clients, each request
HMAC-signed as a game server. Prints results/s and p50/p99 of the PUT."""
import hashlib, hmac, json, os, threading, time, urllib.request

BASE = os.environ["BASE"]
KEY = os.environ["GAME_SERVER_KEY"].encode()
N = int(os.environ.get("RESULTS", "400"))
C = int(os.environ.get("CONCURRENCY", "8"))
FIRST = int(os.environ["FIRST_PLAYER"])
_seq = [0]
_lock = threading.Lock()

def send(method, path, body):
    data = json.dumps(body).encode()
    with _lock:
        _seq[0] += 1
        ts = int(time.time()) - (_seq[0] % 250)  # distinct signatures for equal bodies
    msg = f"{ts}.{method}.{path}.".encode() + data
    sig = hmac.new(KEY, msg, hashlib.sha256).hexdigest()
    req = urllib.request.Request(BASE + path, data=data, method=method, headers={
        "content-type": "application/json", "x-rh-timestamp": str(ts), "x-rh-signature": sig})
    with urllib.request.urlopen(req) as resp:
        return resp.status, json.loads(resp.read())

def roster(i):
    p = [FIRST + (i * 4 + k) % 64 for k in range(4)]
    return [[p[0], p[1]], [p[2], p[3]]]

matches = []
for i in range(N):
    teams = roster(i)
    status, body = send("POST", "/api/v1/matches", {"mode": "2v2", "region": "eu", "teams": teams})
    assert status == 201, body
    matches.append((body["id"], teams))

latencies, errors = [], []
def worker(chunk):
    for mid, teams in chunk:
        parts = [{"user_id": u, "kills": 5, "deaths": 3, "assists": 4, "hero": "ranger"}
                 for t in teams for u in t]
        t0 = time.perf_counter()
        try:
            status, _ = send("PUT", f"/api/v1/matches/{mid}/result",
                             {"winner_team": mid % 2, "duration_s": 600, "participants": parts})
            if status != 200:
                errors.append(status)
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(str(e))
        latencies.append(time.perf_counter() - t0)

threads = [threading.Thread(target=worker, args=(matches[k::C],)) for k in range(C)]
start = time.perf_counter()
for t in threads: t.start()
for t in threads: t.join()
elapsed = time.perf_counter() - start
latencies.sort()
pct = lambda q: latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000
print(f"{N} results in {elapsed:.2f}s: {N / elapsed:.0f} results/s, "
      f"p50 {pct(0.50):.1f} ms, p99 {pct(0.99):.1f} ms, errors {len(errors)} {errors[:3]}")
