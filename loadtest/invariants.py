#!/usr/bin/env python3
"""Invariant checks after a load run, against MySQL, Redis and the harness records.

    invariants.py --run-dir target/loadtest/<run> \
        --mysql-url mysql://rankedhonor:rankedhonor-dev@127.0.0.1:3306/rankedhonor_load \
        --redis-url redis://127.0.0.1:6390/0

Checks (rh_load/checks.py and rh_load/delivery.py hold them as pure functions):
- no_overlap: no player in two matches at once (pending or completed intervals);
- counters, rating_chains, side_effects_once: every result applied exactly once;
- leaderboards: Redis boards equal MySQL user_stats, per mode and region;
- all_settled: every match formed during the run has its result (none left pending);
- duplicates_same_body: every duplicate result answered 200 with the first body;
- delivery: every subscribed client received every event of its channels (as defined
  in rh_load/delivery.py), and no event twice.
Writes invariants.json into the run directory (with WebSocket delivery latencies) and
exits 1 when any check fails.
"""

import argparse
import csv
import json
import os
import sys
import time
from collections import Counter, defaultdict
from urllib.parse import unquote, urlparse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from rh_load.checks import (  # noqa: E402
    Part,
    Stats,
    check_counters,
    check_leaderboard,
    check_no_overlap,
    check_rating_chains,
    check_side_effects_once,
)
from rh_load.delivery import Sub, check_delivery, publications  # noqa: E402


def mysql_connect(url: str):
    import pymysql

    u = urlparse(url)
    return pymysql.connect(host=u.hostname, port=u.port or 3306, user=unquote(u.username or ""),
                           password=unquote(u.password or ""), database=u.path.lstrip("/"), autocommit=True)


def rows(db, sql: str, args=()) -> list[tuple]:
    with db.cursor() as c:
        c.execute(sql, args)
        return list(c.fetchall())


def utc_day(ms: int) -> int:
    return int(time.strftime("%Y%m%d", time.gmtime(ms / 1000)))


def payload_match(raw) -> int | None:
    try:
        return json.loads(raw).get("match_id")
    except (TypeError, ValueError, AttributeError):
        return None


def load_mysql(db) -> dict:
    parts = [Part(*r) for r in rows(db, """
        SELECT p.match_id, p.user_id, m.mode, m.status, m.created_at_ms, m.completed_at_ms, p.result,
               p.mmr_before, p.mmr_after, p.mu_before, p.mu_after, p.sigma_before, p.sigma_after
        FROM match_participants p JOIN matches m ON m.id = p.match_id""")]
    stats = [Stats(*r) for r in rows(db, "SELECT user_id, mode, mmr, mu, sigma, wins, losses, draws, games FROM user_stats")]
    users = rows(db, "SELECT id, username, region, banned_until_ms FROM users")
    now = time.time() * 1000
    feed = [payload_match(p) for (p,) in rows(db, "SELECT payload FROM feed_events WHERE kind = 'match_completed'")]
    notes = rows(db, "SELECT id, user_id, kind, payload, created_at_ms FROM notifications")
    hero_picks = {(d, m, h): n for d, m, h, n in rows(db, "SELECT day, mode, hero, picks FROM hero_pick_rates")}
    heroes = Counter()
    for mode, completed_ms, hero in rows(db, """
            SELECT m.mode, m.completed_at_ms, p.hero FROM match_participants p JOIN matches m ON m.id = p.match_id
            WHERE m.status = 'completed' AND p.hero IS NOT NULL"""):
        heroes[(utc_day(completed_ms), mode, hero)] += 1
    return {
        "parts": parts,
        "stats": stats,
        "names": {u: n for u, n, _, _ in users},
        "regions": {u: r for u, _, r, _ in users},
        "banned": {u for u, _, _, b in users if b is not None and b > now},
        "feed": [m for m in feed if m is not None],
        "notes": notes,
        "hero_picks": hero_picks,
        "hero_expected": dict(heroes),
        "modes": [m for (m,) in rows(db, "SELECT name FROM modes")],
        "achievements": rows(db, "SELECT user_id, code, match_id FROM user_achievements"),
    }


def load_redis(url: str, modes: list[str], regions: set[str]) -> dict:
    import redis

    r = redis.Redis.from_url(url)
    boards = {}
    for mode in modes:
        def zset(key: str) -> dict[int, float]:
            return {int(m): s for m, s in r.zrange(key, 0, -1, withscores=True)}

        boards[mode] = {
            "built": bool(r.exists(f"lbmeta:{mode}:built")),
            "board": zset(f"lb:{mode}"),
            "regional": {reg: zset(f"lb:{mode}:{reg}") for reg in regions if r.exists(f"lb:{mode}:{reg}")},
            "info": {int(k): json.loads(v) for k, v in r.hgetall(f"lbinfo:{mode}").items()},
        }
    return boards


def read_csv(path: str) -> list[dict]:
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def load_run(run_dir: str) -> dict:
    results = {}
    with open(os.path.join(run_dir, "results.jsonl")) as f:
        for line in f:
            r = json.loads(line)
            results[r.pop("match_id")] = r
    faults = []
    path = os.path.join(run_dir, "faults.jsonl")
    if os.path.exists(path):
        with open(path) as f:
            faults = [json.loads(line) for line in f if line.strip()]
    with open(os.path.join(run_dir, "harness.json")) as f:
        harness = json.load(f)
    subs = [Sub(int(r["user_id"]), r["channel"], int(r["start_ms"]), int(r["end_ms"]), r["end_reason"])
            for r in read_csv(os.path.join(run_dir, "ws_subs.csv"))]
    events = read_csv(os.path.join(run_dir, "ws_events.csv"))
    learned = {int(r["match_id"]): r["via"] for r in read_csv(os.path.join(run_dir, "learned_matches.csv"))}
    return {"results": results, "faults": faults, "harness": harness, "subs": subs, "events": events, "learned": learned}


def percentiles(values: list[int]) -> dict:
    if not values:
        return {"n": 0}
    v = sorted(values)
    pick = lambda q: v[min(len(v) - 1, int(q * len(v)))]  # noqa: E731
    return {"n": len(v), "p50": pick(0.50), "p95": pick(0.95), "p99": pick(0.99), "max": v[-1]}


def delivery_and_latency(my: dict, run: dict) -> tuple[dict, dict]:
    start = run["harness"]["started_ms"]
    matches = defaultdict(lambda: {"users": []})
    for p in my["parts"]:
        m = matches[p.match_id]
        m.update(match_id=p.match_id, mode=p.mode, status=p.status, created_ms=p.created_ms, completed_ms=p.completed_ms)
        m["users"].append(p.user_id)
    in_run = {k: m for k, m in matches.items() if m["created_ms"] >= start}
    by_user_time = {(u, m["completed_ms"]): k for k, m in in_run.items() if m["status"] == "completed" for u in m["users"]}
    notes_of = defaultdict(list)
    for nid, uid, kind, payload, created in my["notes"]:
        mid = payload_match(payload) if kind != "rank_up" else by_user_time.get((uid, created))
        if mid in in_run:
            notes_of[mid].append((uid, nid))
    ach_of = defaultdict(list)
    for uid, code, mid in my["achievements"]:
        if mid in in_run:
            ach_of[mid].append((uid, code))
    completed = [{**m, "notifications": notes_of[k], "achievements": ach_of[k]}
                 for k, m in in_run.items() if m["status"] == "completed"]
    pubs, skipped = publications(completed, list(in_run.values()), run["results"])
    received = [(int(e["user_id"]), e["channel"], e["kind"], e["key"]) for e in run["events"]]
    delivery = check_delivery(pubs, run["subs"], received, run["faults"])
    delivery["skipped_matches"] = dict(skipped)

    # Latency: from the app's own time for the event (a result's server time, taken
    # before its transaction; a match's creation for match_found) to the client's read.
    notes_time = {str(nid): created for nid, _, _, _, created in my["notes"]}
    latency = defaultdict(list)
    for e in run["events"]:
        kind, key = e["kind"], e["key"]
        if kind in ("rk_rating", "rating", "match_found") and key.isdigit() and int(key) in in_run:
            m = in_run[int(key)]
            t0 = m["created_ms"] if kind == "match_found" else m["completed_ms"]
        elif kind == "notification":
            t0 = notes_time.get(key)
        else:
            continue
        if t0 is not None:
            latency[kind].append(int(e["recv_ms"]) - t0)
    return delivery, {k: percentiles(v) for k, v in sorted(latency.items())}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--run-dir", required=True)
    p.add_argument("--mysql-url", required=True)
    p.add_argument("--redis-url", required=True)
    args = p.parse_args()

    my = load_mysql(mysql_connect(args.mysql_url))
    run = load_run(args.run_dir)
    regions = set(my["regions"].values())
    boards = load_redis(args.redis_url, my["modes"], regions)
    start = run["harness"]["started_ms"]

    checks: dict[str, list[str]] = {
        "no_overlap": check_no_overlap(my["parts"]),
        "counters": check_counters(my["parts"], my["stats"]),
        "rating_chains": check_rating_chains(my["parts"], my["stats"]),
        "side_effects_once": check_side_effects_once(my["parts"], my["feed"], [
            (uid, payload_match(payload)) for _, uid, kind, payload, _ in my["notes"] if kind == "match_completed"
        ], my["hero_picks"], my["hero_expected"]),
        "leaderboards": [v for mode in my["modes"] for v in check_leaderboard(
            mode, my["stats"], my["regions"], my["names"], my["banned"], **boards[mode])],
    }
    run_matches = {p.match_id: p.status for p in my["parts"] if p.created_ms >= start}
    checks["all_settled"] = [
        f"match {m} still {s} ({'known to the game servers' if m in run['learned'] else 'never reported to a player'})"
        for m, s in sorted(run_matches.items()) if s != "completed"]
    checks["duplicates_same_body"] = [
        f"match {m}: duplicate answered {r['dup']['status']} with {'the same' if r['dup']['same_body'] else 'another'} body"
        for m, r in run["results"].items() if "dup" in r and not r["dup"]["same_body"]]
    checks["harness_anomalies"] = [f"match {m}: {r['anomaly']}" for m, r in run["results"].items() if "anomaly" in r]
    delivery, latency = delivery_and_latency(my, run)
    checks["delivery"] = [f"user {m['user_id']} missed {m['kind']} {m['key']} on {m['channel']}" for m in delivery["misses"]]
    if delivery["missed"] > len(delivery["misses"]):
        checks["delivery"].append(f"... {delivery['missed'] - len(delivery['misses'])} more misses")
    checks["delivery"] += [f"received twice: {k}" for k in delivery["duplicates"]]

    statuses = Counter(run_matches.values())
    counts = {k: len(v) for k, v in checks.items()}
    counts["delivery"] = delivery["missed"] + delivery["duplicate_count"]
    out = {
        "ok": not any(checks.values()),
        "checks": {k: {"ok": not v, "violations": counts[k], "examples": v[:20]} for k, v in checks.items()},
        "matches": {"formed": len(run_matches), **statuses, "learned_by_players": len(run["learned"]),
                    "learned_via": dict(Counter(run["learned"].values()))},
        "results": {
            "posted_ok": sum(1 for r in run["results"].values() if "ok_ms" in r),
            "clean_first_attempt": sum(1 for r in run["results"].values() if r.get("clean")),
            "retried": sum(1 for r in run["results"].values() if len(r.get("attempts", [])) > 1),
            "duplicates": sum(1 for r in run["results"].values() if "dup" in r),
        },
        "delivery": delivery,
        "latency_ms": latency,
    }
    with open(os.path.join(args.run_dir, "invariants.json"), "w") as f:
        json.dump(out, f, indent=1)
    for name, c in out["checks"].items():
        print(f"{'PASS' if c['ok'] else 'FAIL'} {name}" + ("" if c["ok"] else f": {c['violations']} violation(s)"))
        for v in c["examples"][:5]:
            print(f"     {v}")
    sys.exit(0 if out["ok"] else 1)


if __name__ == "__main__":
    main()
