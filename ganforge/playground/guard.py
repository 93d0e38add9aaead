"""Who may talk to the playground (the Host and Origin headers of every request), and how
much (each tab's commands a second).

The server listens on 127.0.0.1, but any page open in the same browser can reach it there.
Two attacks follow, and both are refused here, before routing:
- cross-site WebSocket hijacking: evil.example opens ws://127.0.0.1:8000/ws (browsers allow
  it and send `Origin: https://evil.example`), drives a session and reads its frames;
- DNS rebinding: evil.example's name is made to resolve to 127.0.0.1, so its page is "same
  origin" with the server and reads /api/runs; its requests still say `Host: evil.example`.
A request passes when its Host, and its Origin if it has one, name this server: 127.0.0.1,
localhost or [::1] (or the address the connection arrived on, the --host given, or a name
given with serve's --allow-host: the machine's name on a network) on the port it is served on. Requests without an Origin (curl, scripts) are not from a web page:
browsers send one on every websocket handshake and every POST.
"""

from __future__ import annotations

import json
import time
from typing import Callable
from urllib.parse import urlsplit

LOOPBACK = ("127.0.0.1", "localhost", "::1")
DEFAULT_PORTS = {"http": 80, "https": 443}


def _host_port(value: str, default_port: int) -> tuple[str, int] | None:
    """("name", port) of a Host header value ("127.0.0.1:8000", "[::1]:8000", "localhost")."""
    try:
        parts = urlsplit("//" + value.strip())
        name, port = parts.hostname, parts.port
    except ValueError:  # a port that is not a number, brackets that do not close, ...
        return None
    if not name or parts.path or parts.query or parts.fragment or parts.username is not None:
        return None
    return name.lower().rstrip("."), default_port if port is None else port


def _origin(value: str) -> tuple[str, int] | None:
    """("name", port) of an Origin header ("http://127.0.0.1:8000"); None for "null" or junk."""
    try:
        parts = urlsplit(value.strip())
        name, port = parts.hostname, parts.port
    except ValueError:
        return None
    if parts.scheme not in DEFAULT_PORTS or not name or parts.path not in ("", "/"):
        return None
    return name.lower().rstrip("."), DEFAULT_PORTS[parts.scheme] if port is None else port


class HostGuard:
    """ASGI middleware: a 403 (HTTP) or a refused handshake (websocket) for foreign requests."""

    def __init__(self, app, hosts: tuple[str, ...] = ()):
        self.app = app
        self.names = {*LOOPBACK, *(h.strip("[]").lower().rstrip(".") for h in hosts if h)}

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] in ("http", "websocket"):
            reason = self.refusal(scope)
            if reason is not None:
                await self._refuse(scope, receive, send, reason)
                return
        await self.app(scope, receive, send)

    def refusal(self, scope) -> str | None:
        """Why this request is refused (one line), or None when it may pass."""
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        local, port = (scope.get("server") or (None, None))[:2]
        allowed = self.names | ({local.lower()} if local else set())
        host = _host_port(headers.get("host", ""), 80)
        if host is None or host[0] not in allowed or (port is not None and host[1] != port):
            return (f"refused: Host {headers.get('host', '(none)')[:80]!r} is not this playground "
                    f"(open it as http://127.0.0.1:{port}/)")
        if "origin" in headers:
            origin = _origin(headers["origin"])
            if origin is None or origin[0] not in allowed or (port is not None and origin[1] != port):
                return (f"refused: a page from {headers['origin'][:80]!r} may not use this playground "
                        f"(only its own page, http://127.0.0.1:{port}/)")
        return None

    async def _refuse(self, scope, receive, send, reason: str) -> None:
        body = json.dumps({"error": reason}).encode()
        head = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
        if scope["type"] == "http":
            await send({"type": "http.response.start", "status": 403, "headers": head})
            await send({"type": "http.response.body", "body": body})
            return
        await receive()  # websocket.connect
        if "websocket.http.response" in scope.get("extensions", {}):  # a 403 with the reason in it
            await send({"type": "websocket.http.response.start", "status": 403, "headers": head})
            await send({"type": "websocket.http.response.body", "body": body})
        else:
            await send({"type": "websocket.close", "code": 1008})  # before accept: a 403, no reason


class RateLimit:
    """A token bucket: `allow()` is true for at most `rate` calls a second on average and `burst`
    at once, so that one tab cannot keep the CPU to itself (every command costs the worker a
    step, a render or a forward pass) while the page's own pace (slider drags are throttled to
    ~12 a second) always passes."""

    def __init__(self, rate: float, burst: int, clock: Callable[[], float] = time.monotonic):
        self.rate, self.burst, self.clock = rate, burst, clock
        self.tokens, self.last = float(burst), clock()

    def allow(self) -> bool:
        now = self.clock()
        self.tokens = min(self.burst, self.tokens + (now - self.last) * self.rate)
        self.last = now
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True
