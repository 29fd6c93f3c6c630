"""Serve the Engine API on ``$WHARF_RUN/docker.sock`` (mode 0660, group from the host config)."""

from __future__ import annotations

import contextlib
import grp
import logging
import os
import threading
from pathlib import Path

from runtime.config import Paths
from runtime.engineapi.http import Router, Server
from runtime.engineapi.tls import TlsRelay
from runtime.errors import InvalidArgument

log = logging.getLogger("wharf.engineapi")

ROUTE_MODULES = (
    "system",
    "containers",
    "archive",
    "observe",
    "limits",
    "space",
    "execs",
    "images",
    "build",
    "networks",
)


def socket_path(paths: Paths) -> Path:
    return paths.run / "docker.sock"


def make_router() -> Router:
    """Every resource's routes in one table."""
    import importlib

    router = Router()
    for name in ROUTE_MODULES:
        router.routes += importlib.import_module(f"runtime.engineapi.{name}").router.routes
    return router


def _group_id(name: str | None) -> int | None:
    if not name:
        return None
    try:
        return int(name) if name.isdigit() else grp.getgrnam(name).gr_gid
    except KeyError:
        raise InvalidArgument(f"api_socket_group {name!r}: no such group") from None


def listen(paths: Paths) -> Server:
    """Bind the socket (replacing a dead agent's), owned by root and the configured group."""
    sock = socket_path(paths)
    with contextlib.suppress(FileNotFoundError):
        sock.unlink()
    old_umask = os.umask(0o177)
    try:
        server = Server(str(sock), make_router(), paths)
    finally:
        os.umask(old_umask)
    gid = _group_id(paths.config.api_socket_group)
    if gid is not None:
        os.chown(sock, 0, gid)
    os.chmod(sock, 0o660)
    if paths.config.api_tcp is not None:
        server.relay = _listen_tcp(paths, sock)
    return server


def _listen_tcp(paths: Paths, sock: Path) -> TlsRelay | None:
    """The admin's TCP door (TLS with client certificates); a failure leaves the socket served."""
    try:
        relay = TlsRelay(paths.config.api_tcp, sock)
    except InvalidArgument as exc:
        log.warning("the Engine API is not served on TCP: %s", exc)
        return None
    threading.Thread(target=relay.serve_forever, daemon=True, name="engineapi-tcp").start()
    return relay


def close(server: Server, paths: Paths) -> None:
    if server.relay is not None:
        server.relay.close()
    server.shutdown()
    server.server_close()
    with contextlib.suppress(FileNotFoundError):
        socket_path(paths).unlink()
