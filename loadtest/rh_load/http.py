"""HTTP helpers shared by players and game servers: one request → (status, JSON), with
Locust's statistics kept per route template and every error recorded with its time."""

import hashlib
import hmac
import json
import time

from .record import RECORDER, now_ms


def signed_headers(key: bytes, method: str, path: str, body: bytes) -> dict[str, str]:
    """The game-server signature (crates/infra/src/server_sig.rs): hex HMAC-SHA256 of
    "{timestamp}.{METHOD}.{path}.{body}" under game_server_key. The app remembers every
    accepted signature for its 300 s window, so a resend must differ in timestamp or
    body bytes (the callers reorder participants, which keeps the result's meaning)."""
    ts = str(int(time.time()))
    mac = hmac.new(key, f"{ts}.{method}.{path}.".encode() + body, hashlib.sha256)
    return {"x-rh-timestamp": ts, "x-rh-signature": mac.hexdigest(), "content-type": "application/json"}


def call(
    client,
    method: str,
    path: str,
    name: str,
    body: bytes | None = None,
    headers: dict | None = None,
    token: str | None = None,
    ok: tuple[int, ...] = (200,),
    expected: tuple[int, ...] = (),
) -> tuple[int, object]:
    """Sends one request with a Locust client (FastHttpSession).

    `ok` statuses are successes; `expected` ones are app answers the scenario handles
    (a 409 "already queued") and count as successes in Locust but are tallied in the
    harness counters as `{name} {status}`; anything else is a failure, reported to
    Locust as "HTTP {status}" (0 = no answer: refused, reset or timed out) and recorded
    with its start time so the report can place it in a fault window.
    """
    hdrs = dict(headers or {})
    if token:
        hdrs["authorization"] = f"Bearer {token}"
    if body is not None and "content-type" not in hdrs:
        hdrs["content-type"] = "application/json"
    # Errors are recorded at the request's start, so a request that hung until its
    # timeout is placed at the fault that made it hang, not 30 s later.
    started = now_ms()
    with client.request(method, path, name=name, data=body, headers=hdrs, catch_response=True) as r:
        status = r.status_code or 0
        try:
            parsed = json.loads(r.content) if r.content else None
        except ValueError:
            parsed = None
        if status in ok:
            r.success()
        elif status in expected:
            r.success()
            RECORDER.count(f"{name} {status}")
        else:
            detail = ""
            if isinstance(parsed, dict):
                detail = str(parsed.get("detail") or parsed.get("title") or "")[:120]
            elif status == 0:
                detail = str(getattr(r, "error", "") or "")[:120]
            RECORDER.http_errors.append((started, name, status, detail))
            r.failure(f"HTTP {status}")
        return status, parsed


def dumps(value: object) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()
