"""What every request to the workbench passes before it reaches the study.

The workbench is a web server on the planner's machine: any page open in the same browser
could send it requests, and a hostile DNS name can resolve to 127.0.0.1 (DNS rebinding).
:class:`Guard` wraps the app (plain ASGI, before routing) and refuses:

- a ``Host`` header that is not the address the server was started on (``127.0.0.1:PORT``,
  ``localhost:PORT``, ``[::1]:PORT`` or the ``--host`` given) — 403, the rebinding defence;
- an ``Origin`` header from another site — 403 (browsers send it on cross-site requests);
- a request without the token — 401. The token comes as ``Authorization: Bearer TOKEN``
  (scripts) or the session cookie the page gets when opened with ``/?token=TOKEN`` (the
  address the server prints, as Jupyter does); the cookie is ``HttpOnly`` and
  ``SameSite=Strict``, and a changing request by cookie must carry a matching ``Origin``;
- a body longer than :data:`MAX_BODY` bytes (413) or of unknown length (411).

Every response carries a content security policy that allows scripts from the workbench
only (no inline script, no CDN), ``nosniff``, no framing and no referrer.
"""

from __future__ import annotations

import hmac
import json
import secrets
from collections.abc import Iterable
from http.cookies import SimpleCookie
from urllib.parse import parse_qs, urlsplit

__all__ = ["MAX_BODY", "Guard", "allowed_hosts", "new_token"]

#: Largest request body accepted (bytes): a drawn district or a facility is a few kB.
MAX_BODY = 2 * 1024 * 1024

SECURITY_HEADERS = [
    (b"content-security-policy",
     b"default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
     b"img-src 'self' data: https:; connect-src 'self'; object-src 'none'; "
     b"base-uri 'none'; frame-ancestors 'none'; form-action 'self'"),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"cache-control", b"no-store"),
]  # fmt: skip

_SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


def new_token() -> str:
    """A fresh random token (256 bits, URL-safe)."""
    return secrets.token_urlsafe(32)


def allowed_hosts(host: str, port: int) -> set[str]:
    """``Host`` header values the server answers to (lower case)."""
    names = {"127.0.0.1", "localhost", "[::1]"}
    if host not in ("127.0.0.1", "localhost", "::1"):
        names.add(f"[{host}]" if ":" in host else host)
    return {f"{n}:{port}".lower() for n in names}


def cookie_name(port: int) -> str:
    """The session cookie's name (one per port: two workbenches on one machine keep theirs)."""
    return f"hz_token_{port}"


class Guard:
    """ASGI middleware: Host, Origin, token and body size checks (see the module text).

    Parameters
    ----------
    app : ASGI app
    token : str
        The token every request must carry.
    hosts : iterable of str
        Allowed ``Host`` values, ``name:port`` (:func:`allowed_hosts`).
    port : int
        The server's port (names the cookie).
    """

    def __init__(self, app, token: str, hosts: Iterable[str], port: int):
        if not token or len(token) < 16:
            raise ValueError("the workbench token must be at least 16 characters")
        self.app = app
        self.token = token
        self.hosts = {h.lower() for h in hosts}
        self.cookie = cookie_name(port)

    async def __call__(self, scope, receive, send):
        if scope["type"] == "lifespan":
            return await self.app(scope, receive, send)
        if scope["type"] != "http":  # no websockets
            return await _reply(send, 403, "not allowed")
        headers = {k.decode("latin-1").lower(): v.decode("latin-1")
                   for k, v in scope.get("headers", [])}  # fmt: skip
        method = scope["method"].upper()
        host = headers.get("host", "").lower()
        if host not in self.hosts:
            return await _reply(send, 403, "this workbench answers on its own address only "
                                           "(Host header refused)")  # fmt: skip
        origin = headers.get("origin")
        if origin is not None and _origin_host(origin) not in self.hosts:
            return await _reply(send, 403, "request from another site refused (Origin)")
        query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        if scope["path"] == "/" and method == "GET" and "token" in query:
            if not self._match(query["token"][0]):
                return await _reply(send, 401, "wrong token; use the address hzspatial serve "
                                               "printed")  # fmt: skip
            return await self._login(send)
        bearer = headers.get("authorization", "")
        by_bearer = bearer.lower().startswith("bearer ") and self._match(bearer[7:].strip())
        by_cookie = self._match(_cookie(headers.get("cookie", ""), self.cookie))
        if not (by_bearer or by_cookie):
            return await _reply(send, 401, "this workbench needs its token: open the address "
                                           "hzspatial serve printed, or send 'Authorization: "
                                           "Bearer TOKEN'")  # fmt: skip
        if not by_bearer and method not in _SAFE_METHODS and origin is None:
            return await _reply(send, 403, "a change made with the session cookie must come "
                                           "from the workbench page (Origin missing)")
        if method not in _SAFE_METHODS:
            length = headers.get("content-length")
            if length is None:
                if "chunked" in headers.get("transfer-encoding", "").lower():
                    return await _reply(send, 411, "send the body with a Content-Length")
            elif not length.isdigit() or int(length) > MAX_BODY:
                return await _reply(send, 413, f"request body larger than {MAX_BODY:,} bytes")
            receive = _limited(receive, MAX_BODY)
        return await self.app(scope, receive, _with_headers(send))

    def _match(self, given: str | None) -> bool:
        return bool(given) and hmac.compare_digest(given.encode(), self.token.encode())

    async def _login(self, send):
        """``/?token=…``: the cookie set, then the page without the token in its address."""
        cookie = (f"{self.cookie}={self.token}; Path=/; HttpOnly; SameSite=Strict")
        await send({"type": "http.response.start", "status": 303,
                    "headers": [(b"location", b"/"), (b"set-cookie", cookie.encode()),
                                (b"content-length", b"0"), *SECURITY_HEADERS]})  # fmt: skip
        await send({"type": "http.response.body", "body": b""})


def _origin_host(origin: str) -> str:
    parts = urlsplit(origin)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return ""
    return parts.netloc.lower()


def _cookie(header: str, name: str) -> str | None:
    try:
        jar = SimpleCookie()
        jar.load(header)
    except Exception:  # a malformed cookie header is no token
        return None
    return jar[name].value if name in jar else None


def _limited(receive, limit: int):
    """``receive`` that stops a body growing past ``limit`` (a lying Content-Length)."""
    seen = 0

    async def inner():
        nonlocal seen
        message = await receive()
        if message["type"] == "http.request":
            seen += len(message.get("body", b""))
            if seen > limit:
                raise BodyTooLarge
        return message

    return inner


class BodyTooLarge(Exception):
    """A request body past :data:`MAX_BODY` although its Content-Length said less."""


def _with_headers(send):
    async def inner(message):
        if message["type"] == "http.response.start":
            message = dict(message)
            message["headers"] = [*message.get("headers", []), *SECURITY_HEADERS]
        await send(message)

    return inner


async def _reply(send, status: int, text: str):
    body = json.dumps({"error": text}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode()),
                            *SECURITY_HEADERS]})  # fmt: skip
    await send({"type": "http.response.body", "body": body})
