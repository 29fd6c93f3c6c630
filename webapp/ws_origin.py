"""The Origin check of websocket handshakes: scheme, host and port, not the host alone.

Browsers send a site's cookies to every port of its host, and Channels'
AllowedHostsOriginValidator compares only the host name, so a page served
from another port of the same machine (a container publishing a port, say)
could open ``/ws/jobs/ID/`` with the visitor's session and read another team's
job output. Here an Origin must be exactly the site's own origin, as the
handshake's Host header and scheme give it (the Host itself in ALLOWED_HOSTS,
so a rebound DNS name cannot pose as the site), or one of CSRF_TRUSTED_ORIGINS
(the public origin when a proxy rewrites Host). A handshake without an Origin
is a non-browser client; it passes only without cookies, so no session rides it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlsplit

from channels.security.websocket import WebsocketDenier
from django.conf import settings
from django.http.request import is_same_domain, split_domain_port, validate_host

ASGIApp = Callable[[dict, Callable, Callable], Awaitable[Any]]
Origin = tuple[str, str, int]
_DEFAULT_PORTS = {"http": 80, "https": 443}


def parse_origin(text: str) -> Origin | None:
    """Return (scheme, host, port) of an origin like ``https://h:8443``; None if it is not one."""
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:
        return None
    scheme, host = parts.scheme.lower(), parts.hostname
    if scheme not in _DEFAULT_PORTS or not host or parts.path not in ("", "/"):
        return None
    if parts.query or parts.fragment or parts.username is not None:
        return None
    return scheme, host, port if port is not None else _DEFAULT_PORTS[scheme]


def _headers(scope: dict) -> dict[bytes, list[str]]:
    found: dict[bytes, list[str]] = {}
    for name, value in scope.get("headers", []):
        found.setdefault(name.lower(), []).append(value.decode("latin1"))
    return found


def _is_secure(scope: dict, headers: dict[bytes, list[str]]) -> bool:
    """Like Django's ``request.is_secure()``: the ASGI scheme, or the configured proxy header."""
    proxy = getattr(settings, "SECURE_PROXY_SSL_HEADER", None)
    if proxy:
        name, secure_value = proxy
        header = name.removeprefix("HTTP_").replace("_", "-").lower().encode()
        values = headers.get(header)
        if values:
            return values[0].split(",", 1)[0].strip() == secure_value
    return scope.get("scheme") == "wss"


def _allowed_hosts() -> list[str]:
    allowed = settings.ALLOWED_HOSTS
    if settings.DEBUG and not allowed:
        return [".localhost", "127.0.0.1", "[::1]"]  # what Django's request.get_host() allows
    return allowed


def own_origin(scope: dict) -> Origin | None:
    """The site's origin as this handshake addressed it; None if its Host is not one we serve."""
    headers = _headers(scope)
    hosts = headers.get(b"host", [])
    if len(hosts) != 1:
        return None
    domain, _port = split_domain_port(hosts[0])
    if not domain or not validate_host(domain, _allowed_hosts()):
        return None
    scheme = "https" if _is_secure(scope, headers) else "http"
    return parse_origin(f"{scheme}://{hosts[0]}")


def _trusted(origin: Origin) -> bool:
    """Is ORIGIN one of CSRF_TRUSTED_ORIGINS (``https://*.example.org`` matches subdomains)?"""
    for pattern in settings.CSRF_TRUSTED_ORIGINS:
        wildcard = "://*." in pattern
        trusted = parse_origin(pattern.replace("://*.", "://", 1))
        if trusted is None:
            continue
        scheme, host, port = trusted
        if (origin[0], origin[2]) != (scheme, port):
            continue
        if origin[1] == host or (wildcard and is_same_domain(origin[1], "." + host)):
            return True
    return False


def origin_allowed(scope: dict) -> bool:
    """The rule of the module docstring, for one websocket handshake scope."""
    headers = _headers(scope)
    origins = headers.get(b"origin", [])
    if not origins:
        return b"cookie" not in headers
    if len(origins) != 1:
        return False
    origin = parse_origin(origins[0])
    if origin is None:
        return False
    return origin == own_origin(scope) or _trusted(origin)


class SameOriginWebsocketValidator:
    """ASGI middleware: refuse (HTTP 403 at the handshake) a websocket whose Origin is not ours."""

    def __init__(self, inner: ASGIApp) -> None:
        self.inner = inner

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> Any:
        if scope["type"] == "websocket" and not origin_allowed(scope):
            return await WebsocketDenier()(scope, receive, send)
        return await self.inner(scope, receive, send)
