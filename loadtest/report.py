#!/usr/bin/env python3
"""Turns a run directory into report.md: HTTP per route (Locust's CSV), errors by
status, matches and results, WebSocket delivery and latency, what clients saw around
each fault, and the invariant outcome (invariants.json).

    report.py --run-dir target/loadtest/<run>
"""

import argparse
import bisect
import csv
import json
import os
from collections import Counter, defaultdict

FAULT_WINDOW_MS = 30_000


def read_csv(path: str) -> list[dict]:
    if not os.path.exists(path):
        return []
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def read_json(path: str, default):
    if not os.path.exists(path):
        return default
    with open(path) as f:
        return json.load(f)


def table(header: list[str], rows: list[list]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
    return "\n".join(lines)


def http_section(run: str) -> list[str]:
    stats = read_csv(os.path.join(run, "locust_stats.csv"))
    out = ["## HTTP (Locust, per route)", ""]
    rows = []
    for s in stats:
        rows.append([s["Type"], s["Name"], s["Request Count"], s["Failure Count"], f"{float(s['Requests/s']):.1f}",
                     s["50%"], s["95%"], s["99%"], s["100%"]])
    out.append(table(["method", "route", "requests", "failures", "req/s", "p50 ms", "p95 ms", "p99 ms", "max ms"], rows))
    errors = read_csv(os.path.join(run, "http_errors.csv"))
    by_status = Counter(e["status"] for e in errors)
    by_route = Counter((e["route"], e["status"]) for e in errors)
    out += ["", "### Errors by status (0 = no HTTP answer: refused, reset, timeout)", ""]
    out.append(table(["status", "count"], [[s, n] for s, n in sorted(by_status.items())]) if errors else "none")
    if errors:
        out += ["", table(["route", "status", "count"], [[r, s, n] for (r, s), n in by_route.most_common(20)])]
    return out


def matches_section(inv: dict, harness: dict) -> list[str]:
    m, r = inv.get("matches", {}), inv.get("results", {})
    counts = harness.get("counts", {})
    rows = [
        ["matches formed during the run", m.get("formed")],
        ["completed (results applied)", m.get("completed", 0)],
        ["left pending", m.get("pending", 0)],
        ["learned by players (via)", f"{m.get('learned_by_players')} {m.get('learned_via')}"],
        ["results answered 200", r.get("posted_ok")],
        ["answered on the first attempt", r.get("clean_first_attempt")],
        ["needed a retry", r.get("retried")],
        ["duplicates posted (same body)", f"{r.get('duplicates')} ({counts.get('duplicates_same_body', 0)})"],
    ]
    rows += [[k, v] for k, v in sorted(counts.items()) if k not in ("duplicates_same_body",)]
    return ["## Matches and results", "", table(["what", "count"], rows)]


def ws_section(run: str, inv: dict, harness: dict) -> list[str]:
    d = inv.get("delivery", {})
    out = ["## WebSocket", ""]
    rows = [[k, v.get("published", 0), v.get("expected", 0), v.get("delivered", 0), v.get("missed", 0),
             v.get("during_outage", 0)] for k, v in d.get("kinds", {}).items()]
    out.append(table(["event", "published", "expected deliveries", "delivered", "missed", "in outage"], rows))
    events = read_csv(os.path.join(run, "ws_events.csv"))
    out += ["", f"Events received in total: {len(events)} "
                f"({dict(Counter(e['kind'] for e in events).most_common(8))}); results skipped by the "
                f"delivery check: {d.get('skipped_matches')}; duplicates: {d.get('duplicate_count', 0)}.", ""]
    lat = inv.get("latency_ms", {})
    out.append("Delivery latency (ms, from the app's own time of the event to the client's read):")
    out += ["", table(["event", "n", "p50", "p95", "p99", "max"],
                      [[k, v.get("n"), v.get("p50"), v.get("p95"), v.get("p99"), v.get("max")] for k, v in lat.items()])]
    drops = read_csv(os.path.join(run, "ws_drops.csv"))
    fails = read_csv(os.path.join(run, "ws_connect_failures.csv"))
    errs = read_csv(os.path.join(run, "ws_errors.csv"))
    out += ["", f"Connections dropped: {len(drops)} ({dict(Counter(x['reason'] for x in drops))}); "
                f"reconnected: {harness.get('counts', {}).get('ws_reconnects', 0)}; failed connection attempts: "
                f"{len(fails)}; error messages from the sidecar: {dict(Counter(e['code'] for e in errs))}."]
    return out


def resubscribe_delays(run: str) -> tuple[dict[tuple, int], list]:
    """For each drop: how long until the client was subscribed to its user channel again."""
    starts = defaultdict(list)
    for s in read_csv(os.path.join(run, "ws_subs.csv")):
        if s["channel"].startswith("user:"):
            starts[int(s["user_id"])].append(int(s["start_ms"]))
    for v in starts.values():
        v.sort()
    delays = []
    for d in read_csv(os.path.join(run, "ws_drops.csv")):
        uid, t = int(d["user_id"]), int(d["t_ms"])
        i = bisect.bisect_left(starts[uid], t)
        delays.append((t, starts[uid][i] - t if i < len(starts[uid]) else None))
    return starts, delays


def faults_section(run: str) -> list[str]:
    faults = []
    path = os.path.join(run, "faults.jsonl")
    if os.path.exists(path):
        with open(path) as f:
            faults = [json.loads(x) for x in f if x.strip()]
    if not faults:
        return ["## Faults", "", "none injected"]
    t0 = next((f["t0_ms"] for f in faults if f["event"] == "plan"), faults[0]["t_ms"])
    out = ["## Faults", "", table(["t (s)", "event", "detail"], [
        [f"{(f['t_ms'] - t0) / 1000:.1f}", f["event"],
         ", ".join(f"{k}={v}" for k, v in f.items() if k not in ("t_ms", "event", "plan"))]
        for f in faults if f["event"] != "plan"])]
    errors = read_csv(os.path.join(run, "http_errors.csv"))
    drops = read_csv(os.path.join(run, "ws_drops.csv"))
    fails = read_csv(os.path.join(run, "ws_connect_failures.csv"))
    _, delays = resubscribe_delays(run)
    out += ["", f"What clients saw after each fault (for {FAULT_WINDOW_MS // 1000} s, or until the next one):", ""]
    rows = []
    starts = [f["t_ms"] for f in faults if f["event"] in ("kill", "rss_guard_kill", "restart", "redis_stopping")]
    for f in faults:
        if f["event"] not in ("kill", "rss_guard_kill", "restart", "redis_stopping"):
            continue
        # Until the next fault at most, so nothing is counted twice.
        lo = f["t_ms"]
        hi = min([lo + FAULT_WINDOW_MS] + [t for t in starts if t > lo])
        errs = Counter(f"{e['route']} {e['status']}" for e in errors if lo <= int(e["t_ms"]) < hi)
        dropped = [d for d in drops if lo <= int(d["t_ms"]) < hi]
        back = sorted(x for t, x in delays if lo <= t < hi and x is not None)
        never = sum(1 for t, x in delays if lo <= t < hi and x is None)
        rows.append([
            f"{(lo - t0) / 1000:.1f}", f"{f['event']} {f.get('target', 'redis')}",
            sum(errs.values()), "; ".join(f"{k}: {n}" for k, n in errs.most_common(6)) or "-",
            len(dropped), sum(1 for x in fails if lo <= int(x["t_ms"]) < hi),
            f"{back[len(back) // 2]}/{back[-1]}" if back else "-", never,
        ])
    out.append(table(["t (s)", "fault", "HTTP errors", "by route and status", "WS drops", "failed WS connects",
                      "resubscribed after (ms, median/max)", "never resubscribed"], rows))
    return out


def invariants_section(inv: dict) -> list[str]:
    out = ["## Invariants", "", f"Overall: **{'PASS' if inv.get('ok') else 'FAIL'}**", ""]
    rows = [[k, "pass" if c["ok"] else "FAIL", c["violations"], "; ".join(c["examples"][:3])]
            for k, c in inv.get("checks", {}).items()]
    out.append(table(["check", "outcome", "violations", "examples"], rows))
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--run-dir", required=True)
    p.add_argument("--add-meta", nargs="*", default=[], metavar="KEY=VALUE",
                   help="facts to add to meta.json first (scripts/loadtest: after-run figures)")
    args = p.parse_args()
    run = args.run_dir
    meta = read_json(os.path.join(run, "meta.json"), {})
    if args.add_meta:
        meta.update(kv.split("=", 1) for kv in args.add_meta)
        with open(os.path.join(run, "meta.json"), "w") as f:
            json.dump(meta, f, indent=1)
    harness = read_json(os.path.join(run, "harness.json"), {})
    inv = read_json(os.path.join(run, "invariants.json"), {})
    secs = (harness.get("ended_ms", 0) - harness.get("started_ms", 0)) / 1000
    lines = ["# Load run " + os.path.basename(os.path.abspath(run)), ""]
    lines += [f"- {k}: {v}" for k, v in meta.items()]
    lines += [f"- harness time (start of Locust to end of drain): {secs:.0f} s", ""]
    for section in (http_section(run), matches_section(inv, harness), ws_section(run, inv, harness),
                    faults_section(run), invariants_section(inv)):
        lines += section + [""]
    with open(os.path.join(run, "report.md"), "w") as f:
        f.write("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
