"""A player's WebSocket: authenticate, subscribe, record every event, reconnect.

One greenlet per player holds the connection (protocol: docs/websocket.md). When the
connection drops (a sidecar killed, HAProxy closing the tunnel, a 1013 while Redis is
away) it reconnects with exponential backoff and jitter, 100 ms doubling to 5 s (reset
after a connection that lasted 10 s), the policy docs/websocket.md suggests, and
subscribes again. Every drop, failed attempt and reconnect is recorded, and so is
every subscription's lifetime ([`Recorder.open_sub`]): from the `subscribed` answer to
the moment the client noticed the connection was gone. The delivery check in
invariants.py compares those intervals with what the app published.
"""

import json
import random
import struct

import gevent
import gevent.event
import websocket

from .record import RECORDER, now_ms

# Longer than the sidecar's 15 s ping interval: silence this long means a dead link.
READ_TIMEOUT_S = 45
BACKOFF_START_S = 0.1
BACKOFF_MAX_S = 5.0
STABLE_AFTER_MS = 10_000


def classify(channel: str, data: dict) -> tuple[str, str, int | None]:
    """(kind, key, server_ms) of an event: the key names the published message so the
    checker can match it with MySQL (a match id, a notification id, an achievement code);
    server_ms is the app's own timestamp when the message carries one."""
    t = data.get("type")
    if channel.startswith("rankings:") and t == "rating_changed":
        return "rk_rating", str(data.get("match_id")), data.get("at")
    if channel.startswith("user:"):
        if t == "rating_changed":
            return "rating", str(data.get("match_id")), None
        if t == "notification":
            n = data.get("notification") or {}
            return "notification", str(n.get("id")), n.get("created_at")
        if t == "achievement_unlocked":
            return "achievement", str(data.get("code")), None
        if t == "match_found":
            return "match_found", str(data.get("match_id")), None
    return str(t), "", None


class PlayerSocket:
    """The connection of one player; `on_event(data)` sees user-channel events."""

    def __init__(self, url: str, user_id: int, channels: list[str], token, on_event) -> None:
        self.url = url
        self.user_id = user_id
        self.channels = channels
        self.token = token  # callable returning the current access token
        self.on_event = on_event
        self.ws = None
        self.stopped = False
        self.sessions = 0
        self.connected = gevent.event.Event()
        self.greenlet = gevent.spawn(self._run)

    def stop(self) -> None:
        self.stopped = True
        ws = self.ws
        if ws is not None:
            try:
                ws.close(timeout=1)
            except Exception:  # noqa: BLE001 - closing a dead socket may fail; nothing to do
                pass
        self.greenlet.join(timeout=5)

    def reauth(self, token: str) -> None:
        """Sends a fresh access token before the connection's one expires."""
        ws = self.ws
        if ws is not None:
            try:
                ws.send(json.dumps({"type": "auth", "token": token}))
            except Exception:  # noqa: BLE001 - a drop is handled by the reader
                pass

    def _run(self) -> None:
        backoff = BACKOFF_START_S
        while not self.stopped:
            lasted = self._session()
            if self.stopped:
                break
            if lasted >= STABLE_AFTER_MS:
                backoff = BACKOFF_START_S
            gevent.sleep(backoff * random.uniform(0.5, 1.0))
            backoff = min(backoff * 2, BACKOFF_MAX_S)

    def _session(self) -> int:
        """One connection from open to drop; returns how long it was up (ms)."""
        try:
            ws = websocket.create_connection(self.url, timeout=10, enable_multithread=True)
        except Exception as e:  # noqa: BLE001 - every failure kind is recorded as is
            RECORDER.ws_connect_failures.append((now_ms(), self.user_id, f"{type(e).__name__}: {e}"[:120]))
            return 0
        opened = now_ms()
        self.ws = ws
        self.sessions += 1
        if self.sessions > 1:
            RECORDER.count("ws_reconnects")
        subs: dict[str, list] = {}
        reason = "closed"
        try:
            ws.send(json.dumps({"type": "auth", "token": self.token()}))
            ws.settimeout(READ_TIMEOUT_S)
            while not self.stopped:
                opcode, frame = ws.recv_data_frame(True)
                if opcode == websocket.ABNF.OPCODE_CLOSE:
                    code = struct.unpack("!H", frame.data[:2])[0] if len(frame.data) >= 2 else 1005
                    reason = f"close_{code}"
                    break
                if opcode != websocket.ABNF.OPCODE_TEXT:
                    continue  # pings are answered by the library
                self._handle(ws, json.loads(frame.data), subs)
        except websocket.WebSocketTimeoutException:
            reason = "read_timeout"
        except Exception as e:  # noqa: BLE001 - a reset or EOF is the normal way a kill shows
            reason = "stopped" if self.stopped else type(e).__name__
        finally:
            self.ws = None
            self.connected.clear()
            ended = now_ms()
            for row in subs.values():
                RECORDER.close_sub(row, reason, ended)
            try:
                ws.close(timeout=0)
            except Exception:  # noqa: BLE001
                pass
        lasted = now_ms() - opened
        if not self.stopped:
            RECORDER.ws_drops.append((now_ms(), self.user_id, reason, lasted))
        return lasted

    def _handle(self, ws, msg: dict, subs: dict[str, list]) -> None:
        t = msg.get("type")
        if t == "event":
            channel = msg.get("channel", "")
            data = msg.get("data") or {}
            kind, key, server_ms = classify(channel, data)
            RECORDER.ws_events.append((now_ms(), self.user_id, channel, kind, key, server_ms))
            if channel.startswith("user:"):
                self.on_event(data)
        elif t == "authenticated":
            if not subs:  # the first one; later ones answer a token refresh
                for channel in self.channels:
                    ws.send(json.dumps({"type": "subscribe", "channel": channel}))
        elif t == "subscribed":
            channel = msg.get("channel", "")
            if channel not in subs:
                subs[channel] = RECORDER.open_sub(self.user_id, channel)
            if len(subs) == len(self.channels):
                self.connected.set()
        elif t == "error":
            RECORDER.ws_errors.append((now_ms(), self.user_id, msg.get("code", "?")))
