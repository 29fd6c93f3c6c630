"""The Engine API on TCP for an admin who asks for it: TLS with client certificates.

dockerd serves ``-H tcp://`` in plain text unless told ``--tlsverify``; Wharf
serves TCP only with TLS that verifies the client against the admin's CA (the
host config's ``api_tcp``), because a client of this API is root on the host.
Each accepted connection, once its certificate is checked, is relayed byte for
byte to the unix socket: one server handles every request whichever door it
came through, and a hijacked attach or exec works unchanged. One thread per
connection moves both directions, so a TLS object is never used by two
threads at once.
"""

from __future__ import annotations

import contextlib
import logging
import select
import socket
import ssl
import threading
from pathlib import Path

from runtime.config import ApiTcp
from runtime.errors import InvalidArgument

log = logging.getLogger("wharf.engineapi")

HANDSHAKE_TIMEOUT = 10.0
CHUNK = 64 * 1024


def server_context(cfg: ApiTcp) -> ssl.SSLContext:
    """TLS 1.2 or later, this host's certificate, and a client certificate the CA signed."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.verify_mode = ssl.CERT_REQUIRED
    try:
        ctx.load_cert_chain(cfg.tls_cert, cfg.tls_key)
        ctx.load_verify_locations(cfg.tls_ca)
    except (OSError, ssl.SSLError) as exc:
        raise InvalidArgument(f"api_tcp: cannot load the TLS files: {exc}") from None
    return ctx


class TlsRelay:
    """Listen on ``cfg``'s address; relay each verified client to ``unix_path``."""

    def __init__(self, cfg: ApiTcp, unix_path: Path) -> None:
        self.context = server_context(cfg)
        self.unix_path = str(unix_path)
        family = socket.AF_INET6 if ":" in cfg.host else socket.AF_INET
        self.listener = socket.socket(family, socket.SOCK_STREAM)
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            self.listener.bind((cfg.host, cfg.port))
            self.listener.listen(64)
        except OSError as exc:
            self.listener.close()
            raise InvalidArgument(
                f"api_tcp: cannot listen on {cfg.host}:{cfg.port}: {exc}"
            ) from None
        self._closed = threading.Event()

    @property
    def address(self) -> tuple[str, int]:
        return self.listener.getsockname()[:2]

    def serve_forever(self) -> None:
        while not self._closed.is_set():
            try:
                conn, peer = self.listener.accept()
            except OSError:
                return  # closed
            threading.Thread(
                target=self._serve, args=(conn, peer), daemon=True, name="engineapi-tls"
            ).start()

    def close(self) -> None:
        self._closed.set()
        with contextlib.suppress(OSError):
            self.listener.shutdown(socket.SHUT_RDWR)
        self.listener.close()

    def _serve(self, conn: socket.socket, peer: tuple) -> None:
        conn.settimeout(HANDSHAKE_TIMEOUT)
        try:
            tls = self.context.wrap_socket(conn, server_side=True)
        except (OSError, ssl.SSLError) as exc:
            log.warning("Engine API TLS client %s refused: %s", peer[0], exc)
            conn.close()
            return
        tls.settimeout(None)
        upstream = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            upstream.connect(self.unix_path)
            relay(tls, upstream)
        except (OSError, ssl.SSLError) as exc:
            log.debug("Engine API TLS connection from %s ended: %s", peer[0], exc)
        finally:
            upstream.close()
            tls.close()


def relay(tls: ssl.SSLSocket, upstream: socket.socket) -> None:
    """Move bytes both ways until the server side ends; a client's half-close is passed on."""
    client_open = True
    while True:
        readable = [upstream] + ([tls] if client_open else [])
        if client_open and tls.pending():
            ready = [tls]
        else:
            ready, _, _ = select.select(readable, [], [])
        if tls in ready:
            data = tls.recv(CHUNK)
            if data:
                upstream.sendall(data)
            else:  # the client closed its side (docker's CloseWrite after stdin ends)
                client_open = False
                with contextlib.suppress(OSError):
                    upstream.shutdown(socket.SHUT_WR)
        if upstream in ready:
            data = upstream.recv(CHUNK)
            if not data:
                return
            tls.sendall(data)
