"""A small HTTP/1.1 server on a unix socket: requests, routes, replies, hijacking.

One thread per connection (the engine's calls block: a pull, a wait, a log
follow), keep-alive as HTTP/1.1 wants, request bodies read whole or chunked,
streamed replies sent chunked. A route may take the connection over
(``Upgrade: tcp``, Docker's hijack) and speak raw bytes on it until it ends.

Errors leave as Docker's ``{"message": ...}`` with the status its daemon uses
for the runtime's error kind (``status_for``).
"""

from __future__ import annotations

import io
import json
import logging
import re
import socket
import socketserver
import threading
import urllib.parse
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler
from typing import Any

from runtime import errors

log = logging.getLogger("wharf.engineapi")

#: the newest Engine API version answered, and the oldest accepted in a path's /vX.Y prefix
API_VERSION = "1.41"
MIN_API_VERSION = "1.24"

_VERSION_PREFIX = re.compile(r"^/v(\d+\.\d+)(/.*)$")


class HTTPError(Exception):
    """A reply other than the runtime's errors: a status and Docker's message."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def status_for(exc: BaseException) -> int:
    """Docker's status for a runtime error kind (its errdefs' HTTP mapping)."""
    if isinstance(exc, HTTPError):
        return exc.status
    if isinstance(exc, errors.NotFound):
        return 404
    if isinstance(exc, errors.Conflict):
        return 409
    if isinstance(exc, errors.AuthenticationError):
        return 401
    if isinstance(exc, errors.ReadOnly):
        return 403
    if isinstance(exc, errors.InvalidArgument):
        return 400
    if isinstance(exc, errors.WharfError) and exc.kind == "invalid_argument":
        return 400  # the list filters' own class (runtime.cli.filters.InvalidFilter)
    return 500


def message_of(exc: BaseException) -> str:
    if isinstance(exc, (HTTPError, errors.WharfError)):
        return exc.message
    return f"{type(exc).__name__}: {exc}"


@dataclass
class Request:
    """One request as a route sees it: path parameters, query, headers, body."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: Any
    params: dict[str, str]
    handler: Handler
    api_version: str = API_VERSION
    _body: bytes | None = field(default=None, repr=False)
    _reading: Iterator[bytes] | None = field(default=None, repr=False)

    def arg(self, name: str, default: str | None = None) -> str | None:
        values = self.query.get(name)
        return values[-1] if values else default

    def flag(self, name: str, default: bool = False) -> bool:
        """A boolean query parameter as Docker reads them (1/true/True; 0/false/empty)."""
        value = self.arg(name)
        if value is None:
            return default
        return value.strip().lower() not in ("", "0", "false", "no")

    def int_arg(self, name: str, default: int | None = None) -> int | None:
        value = self.arg(name)
        if value in (None, ""):
            return default
        try:
            return int(value)
        except ValueError:
            raise HTTPError(400, f"invalid value for {name}: {value!r}") from None

    def filters(self) -> list[str]:
        """The ``filters`` parameter (``{"key": ["v"]}`` or ``{"key": {"v": true}}``) as the
        CLI's ``key=value`` items."""
        text = self.arg("filters")
        if not text:
            return []
        try:
            data = json.loads(text)
        except ValueError:
            raise HTTPError(400, f"invalid filter: {text!r}") from None
        items = []
        for key, values in (data or {}).items():
            if isinstance(values, dict):
                values = [v for v, on in values.items() if on]
            for value in values:
                items.append(f"{key}={value}")
        return items

    def body(self) -> bytes:
        if self._body is None:
            self._body = b"".join(self.body_chunks())
        return self._body

    def json(self) -> Any:
        data = self.body()
        if not data.strip():
            return {}
        try:
            return json.loads(data)
        except ValueError as exc:
            raise HTTPError(400, f"invalid JSON body: {exc}") from None

    def body_chunks(self) -> Iterator[bytes]:
        """The body as it arrives (a build context or an archive may be large).

        Every call continues one read of the connection: what a route left
        unread, the drain after it reads, and nothing is read twice.
        """
        if self._body is not None:
            return iter([self._body])
        if self._reading is None:
            self._reading = self._read_body()
        return self._reading

    def body_file(self) -> io.BufferedReader:
        """The body as a file read as it arrives (``tarfile``'s stream mode reads archives
        and images from it without holding them whole)."""
        return io.BufferedReader(_BodyReader(self.body_chunks()), 1 << 16)

    def _read_body(self) -> Iterator[bytes]:
        rfile = self.handler.rfile
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            while True:
                size = int(rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass  # trailers
                    return
                left = size
                while left:
                    chunk = rfile.read(min(left, 1 << 16))
                    if not chunk:
                        return
                    left -= len(chunk)
                    yield chunk
                rfile.readline()
        else:
            left = int(self.headers.get("Content-Length") or 0)
            while left:
                chunk = rfile.read(min(left, 1 << 16))
                if not chunk:
                    return
                left -= len(chunk)
                yield chunk

    @property
    def wants_upgrade(self) -> bool:
        return self.headers.get("Upgrade", "").lower() == "tcp"


class Reply:
    """What a route returns: a status, headers and a body (bytes, JSON, or a stream)."""

    def __init__(
        self,
        status: int = 200,
        body: Any = None,
        *,
        content_type: str = "application/json",
        headers: dict[str, str] | None = None,
        stream: Iterable[bytes] | None = None,
    ) -> None:
        self.status = status
        self.body = body
        self.content_type = content_type
        self.headers = headers or {}
        self.stream = stream


class Hijack:
    """A route's answer that takes the connection: ``run(sock)`` speaks raw bytes on it."""

    def __init__(
        self,
        run: Callable[[socket.socket], None],
        content_type: str = "application/vnd.docker.raw-stream",
    ) -> None:
        self.run = run
        self.content_type = content_type


Route = Callable[[Request], "Reply | Hijack | Any"]


class Router:
    """Routes by method and path pattern (``{name}`` matches one path segment)."""

    def __init__(self) -> None:
        self.routes: list[tuple[str, re.Pattern[str], Route]] = []

    def add(self, method: str, pattern: str, route: Route) -> None:
        regex = re.sub(r"\{name:path\}", r"(?P<name>.+)", pattern)  # image names hold slashes
        regex = re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", regex)
        self.routes.append((method, re.compile(f"^{regex}$"), route))

    def route(self, method: str, pattern: str) -> Callable[[Route], Route]:
        def register(fn: Route) -> Route:
            self.add(method, pattern, fn)
            return fn

        return register

    def find(self, method: str, path: str) -> tuple[Route, dict[str, str]]:
        allowed = False
        for m, regex, route in self.routes:
            match = regex.match(path)
            if match:
                if m == method or (method == "HEAD" and m == "GET"):
                    return route, {k: urllib.parse.unquote(v) for k, v in match.groupdict().items()}
                allowed = True
        if allowed:
            raise HTTPError(405, f"method {method} not allowed on {path}")
        raise HTTPError(404, f"page not found: {path}")


def ping_headers() -> dict[str, str]:
    """The headers dockerd puts on every reply (the client negotiates its version from them)."""
    return {
        "Api-Version": API_VERSION,
        "Docker-Experimental": "false",
        "Ostype": "linux",
        "Server": "Wharf-Engine",
    }


class Handler(BaseHTTPRequestHandler):
    """One connection: requests in turn until it closes or is hijacked."""

    protocol_version = "HTTP/1.1"
    server: Server
    gone: threading.Event | None = None

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base's name
        log.debug(format, *args)

    def do_GET(self) -> None:  # noqa: N802 - the base's names
        self._dispatch()

    do_POST = do_PUT = do_DELETE = do_HEAD = do_GET  # noqa: N815

    def _dispatch(self) -> None:
        url = urllib.parse.urlsplit(self.path)
        path = url.path
        version = API_VERSION
        match = _VERSION_PREFIX.match(path)
        if match:
            version, path = match.group(1), match.group(2)
        request = Request(
            self.command,
            path,
            urllib.parse.parse_qs(url.query, keep_blank_values=True),
            self.headers,
            {},
            self,
            version,
        )
        try:
            if _version_key(version) < _version_key(MIN_API_VERSION):
                raise HTTPError(
                    400,
                    f"client version {version} is too old. Minimum supported API version is "
                    f"{MIN_API_VERSION}, please upgrade your client to a newer version",
                )
            if _version_key(version) > _version_key(API_VERSION):
                raise HTTPError(
                    400,
                    f"client version {version} is too new. Maximum supported API version is "
                    f"{API_VERSION}",
                )
            route, request.params = self.server.router.find(self.command, path)
            result = route(request)
        except Exception as exc:  # every failure is an answer, never a dropped connection
            status = status_for(exc)
            if status == 500:
                log.warning("%s %s failed", self.command, self.path, exc_info=True)
            self._drain(request)
            self._send(Reply(status, {"message": message_of(exc)}))
            return
        if isinstance(result, Hijack):
            self._hijack(request, result)
            return
        if not isinstance(result, Reply):
            result = Reply(200, result)
        self._drain(request)
        self._send(result)

    def _watch_gone(self) -> None:
        """Set ``self.gone`` when the client closes during a stream (an idle events
        follower would otherwise never notice)."""
        self.gone = threading.Event()
        sock = self.connection

        def watch() -> None:
            try:
                if sock.recv(1, socket.MSG_PEEK) == b"":
                    self.gone.set()
            except OSError:
                self.gone.set()

        threading.Thread(target=watch, daemon=True, name="gone").start()

    def _drain(self, request: Request) -> None:
        """Read what is left of the body so the next request on the connection starts clean."""
        try:
            for _ in request.body_chunks():
                pass
        except (OSError, ValueError):
            self.close_connection = True

    def _send(self, reply: Reply) -> None:
        try:
            self.send_response(reply.status, _reason(reply.status))
            for key, value in {**ping_headers(), **reply.headers}.items():
                self.send_header(key, value)
            if reply.stream is not None:
                self._watch_gone()
                self.send_header("Content-Type", reply.content_type)
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                self.wfile.flush()
                if self.command != "HEAD":
                    for chunk in reply.stream:
                        if chunk:
                            self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                            self.wfile.flush()
                    self.wfile.write(b"0\r\n\r\n")
                self.wfile.flush()
                return
            body = reply.body
            if body is None and reply.status in (204, 304):
                data = b""
            elif isinstance(body, bytes):
                data = body
            elif isinstance(body, str):
                data = body.encode()
            else:
                data = json.dumps(body).encode() + b"\n"
            if reply.status not in (204, 304):
                self.send_header("Content-Type", reply.content_type)
                self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if self.command != "HEAD" and data:
                self.wfile.write(data)
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
        finally:
            close = getattr(reply.stream, "close", None)
            if close is not None:
                close()  # a generator left early (the client went away) runs its finally

    def _hijack(self, request: Request, hijack: Hijack) -> None:
        self._drain(request)
        if request.wants_upgrade:
            self.send_response(101, "UPGRADED")
            self.send_header("Content-Type", hijack.content_type)
            self.send_header("Connection", "Upgrade")
            self.send_header("Upgrade", "tcp")
        else:
            self.send_response(200, "OK")
            self.send_header("Content-Type", hijack.content_type)
        for key, value in ping_headers().items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.flush()
        self.close_connection = True
        try:
            hijack.run(self.connection)
        except OSError:
            pass  # the client went away
        except Exception:
            log.warning("hijacked %s %s failed", self.command, self.path, exc_info=True)


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""


def _version_key(text: str) -> tuple[int, ...]:
    try:
        return tuple(int(p) for p in text.split("."))
    except ValueError:
        raise HTTPError(400, f"invalid API version {text!r}") from None


class Server(socketserver.ThreadingUnixStreamServer):
    daemon_threads = True
    block_on_close = False
    relay: Any = None  # the TCP door (runtime.engineapi.tls.TlsRelay) when the admin asked

    def __init__(self, path: str, router: Router, paths: Any) -> None:
        self.router = router
        self.paths = paths
        super().__init__(path, Handler)

    def get_request(self) -> tuple[socket.socket, Any]:
        sock, _ = self.socket.accept()
        return sock, ("unix", 0)  # BaseHTTPRequestHandler wants an address pair


class _BodyReader(io.RawIOBase):
    """A request body, as it arrives, as a file ``tarfile`` reads in stream mode."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self._chunks, self._left = chunks, b""

    def readable(self) -> bool:
        return True

    def readinto(self, buf: memoryview) -> int:  # type: ignore[override]
        while not self._left:
            self._left = next(self._chunks, b"")
            if not self._left:
                return 0
        n = min(len(buf), len(self._left))
        buf[:n], self._left = self._left[:n], self._left[n:]
        return n
