"""The DNS resolver of user-defined networks, answering on each network's gateway.

Docker's embedded resolver lives inside every container (127.0.0.11 plus NAT
rules per namespace). Wharf keeps one resolver in the host agent instead,
listening on the gateway address of every user-defined bridge: a container's
``/etc/resolv.conf`` points at its gateway, no rules are needed, and the
answer depends on which gateway was asked, so a container only ever learns
the names of its own networks.

Names the networks know get A records; others are forwarded unchanged to the
host's resolvers (the agent lives in the host's namespace, so even a
loopback resolver such as systemd-resolved works).
"""

from __future__ import annotations

import contextlib
import ipaddress
import logging
import os
import selectors
import socket
import struct
import threading
from collections.abc import Callable, Sequence
from pathlib import Path

log = logging.getLogger("wharf.dns")

TTL = 600
FORWARD_TIMEOUT = 3.0

# header flags and codes (RFC 1035 4.1.1)
QR = 0x8000
RD = 0x0100
RA = 0x0080
OPCODE_MASK = 0x7800
NOERROR, FORMERR, SERVFAIL, NXDOMAIN, NOTIMP = 0, 1, 2, 3, 4
TYPE_A, TYPE_ANY, CLASS_IN = 1, 255, 1

#: (address asked, client's address, name) -> its addresses, or None for a name not ours
Lookup = Callable[[str, str, str], "list[str] | None"]
#: (address asked, client's address) -> where to forward that client's other names
Upstreams = Callable[[str, str], "list[tuple[str, int]]"]


def host_nameservers(resolv_conf: Path = Path("/etc/resolv.conf")) -> list[tuple[str, int]]:
    """The host's resolvers from ``resolv_conf``, as (address, 53) pairs."""
    servers = []
    with contextlib.suppress(OSError):
        for line in resolv_conf.read_text().splitlines():
            parts = line.split()
            if len(parts) >= 2 and parts[0] == "nameserver":
                with contextlib.suppress(ValueError):
                    servers.append((str(ipaddress.ip_address(parts[1].split("%")[0])), 53))
    return servers


def configured_upstreams(entries: tuple[str, ...] | list[str]) -> list[tuple[str, int]]:
    """Parse the host configuration's ``dns_upstreams`` ("IP" or "IP:PORT")."""
    out = []
    for entry in entries:
        host, sep, port = entry.rpartition(":") if entry.count(":") == 1 else ("", "", "")
        if not sep:
            host, port = entry, "53"
        try:
            out.append((str(ipaddress.ip_address(host.strip("[]"))), int(port)))
        except ValueError:
            raise ValueError(
                f"invalid dns_upstreams entry {entry!r}: expected IP or IP:PORT"
            ) from None
    return out


class Query:
    """The parts of a DNS query the resolver needs: id, flags, the one question."""

    def __init__(self, data: bytes) -> None:
        if len(data) < 12:
            raise ValueError("short message")
        self.data = data
        self.id, self.flags, qdcount = struct.unpack("!HHH", data[:6])
        if self.flags & QR:
            raise ValueError("not a query")
        labels, pos = [], 12
        while True:
            if pos >= len(data):
                raise ValueError("truncated name")
            length = data[pos]
            if length == 0:
                pos += 1
                break
            if length & 0xC0:
                raise ValueError("compressed name in a question")
            labels.append(data[pos + 1 : pos + 1 + length].decode("ascii", "replace"))
            pos += 1 + length
        if pos + 4 > len(data) or qdcount != 1:
            raise ValueError("expected exactly one question")
        self.qtype, self.qclass = struct.unpack("!HH", data[pos : pos + 4])
        self.question = data[12 : pos + 4]
        self.name = ".".join(labels).lower()
        self.opcode = self.flags & OPCODE_MASK

    def reply(self, rcode: int, addresses: Sequence[str] = ()) -> bytes:
        flags = QR | self.opcode | (self.flags & RD) | RA | rcode
        header = struct.pack("!HHHHHH", self.id, flags, 1, len(addresses), 0, 0)
        answers = b"".join(
            struct.pack("!HHHIH", 0xC00C, TYPE_A, CLASS_IN, TTL, 4) + socket.inet_aton(ip)
            for ip in addresses
        )
        return header + self.question + answers


def error_reply(data: bytes, rcode: int) -> bytes | None:
    """A header-only reply with ``rcode`` to a message too broken to parse, if it has an id."""
    if len(data) < 4:
        return None
    msg_id, flags = struct.unpack("!HH", data[:4])
    return struct.pack(
        "!HHHHHH", msg_id, QR | (flags & (OPCODE_MASK | RD)) | RA | rcode, 0, 0, 0, 0
    )


class Resolver:
    """Answers on a changing set of addresses; one thread runs :meth:`serve_forever`."""

    def __init__(self, lookup: Lookup, upstreams: Upstreams, port: int = 53) -> None:
        self.lookup = lookup
        self.upstreams = upstreams
        self.port = port
        self._sel = selectors.DefaultSelector()
        self._socks: dict[str, tuple[socket.socket, socket.socket]] = {}
        self._lock = threading.Lock()
        self._wake_r, self._wake_w = os.pipe()
        self._sel.register(self._wake_r, selectors.EVENT_READ, ("wake", ""))
        self._closed = threading.Event()

    # --- the addresses listened on -----------------------------------------------

    def set_addresses(self, addresses: list[str]) -> None:
        """Listen (UDP and TCP) on exactly ``addresses``; one that cannot be bound is logged."""
        with self._lock:
            for ip in set(self._socks) - set(addresses):
                for s in self._socks.pop(ip):
                    with contextlib.suppress(KeyError, ValueError):
                        self._sel.unregister(s)
                    s.close()
            for ip in set(addresses) - set(self._socks):
                try:
                    self._socks[ip] = self._bind(ip)
                except OSError as exc:
                    log.warning("cannot listen on %s:%d: %s", ip, self.port, exc)
                    continue
                udp, tcp = self._socks[ip]
                self._sel.register(udp, selectors.EVENT_READ, ("udp", ip))
                self._sel.register(tcp, selectors.EVENT_READ, ("tcp", ip))
        os.write(self._wake_w, b"x")

    def addresses(self) -> list[str]:
        with self._lock:
            return sorted(self._socks)

    def _bind(self, ip: str) -> tuple[socket.socket, socket.socket]:
        udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            for s in (udp, tcp):
                s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                s.bind((ip, self.port))
            tcp.listen(16)
        except OSError:
            udp.close()
            tcp.close()
            raise
        udp.setblocking(False)
        tcp.setblocking(False)
        return udp, tcp

    # --- serving ------------------------------------------------------------------

    def serve_forever(self) -> None:
        while not self._closed.is_set():
            for key, _ in self._sel.select(timeout=1.0):
                kind, ip = key.data
                if kind == "wake":
                    os.read(self._wake_r, 512)
                elif kind == "udp":
                    self._on_udp(key.fileobj, ip)  # type: ignore[arg-type]
                else:
                    self._on_tcp(key.fileobj, ip)  # type: ignore[arg-type]

    def close(self) -> None:
        self._closed.set()
        self.set_addresses([])

    def _on_udp(self, sock: socket.socket, ip: str) -> None:
        try:
            data, peer = sock.recvfrom(4096)
        except OSError:
            return
        answer = self._answer_local(data, ip, peer[0])
        if answer is not None:
            with contextlib.suppress(OSError):
                sock.sendto(answer, peer)
            return
        threading.Thread(
            target=self._forward_udp, args=(sock, data, peer, ip), daemon=True, name="dns-fwd"
        ).start()

    def _on_tcp(self, listener: socket.socket, ip: str) -> None:
        try:
            conn, peer = listener.accept()
        except OSError:
            return
        threading.Thread(
            target=self._serve_tcp, args=(conn, ip, peer[0]), daemon=True, name="dns-tcp"
        ).start()

    def _serve_tcp(self, conn: socket.socket, ip: str, client: str) -> None:
        with conn:
            conn.setblocking(True)
            conn.settimeout(FORWARD_TIMEOUT)
            with contextlib.suppress(OSError, ValueError):
                data = _read_framed(conn)
                answer = self._answer_local(data, ip, client)
                if answer is None:
                    answer = self._ask_upstream(data, self.upstreams(ip, client), tcp=True)
                if answer is not None:
                    conn.sendall(struct.pack("!H", len(answer)) + answer)

    # --- answering ----------------------------------------------------------------

    def _answer_local(self, data: bytes, ip: str, client: str) -> bytes | None:
        """The reply for a name the networks know, an error reply, or None to forward."""
        try:
            query = Query(data)
        except ValueError:
            return error_reply(data, FORMERR)
        if query.opcode:
            return query.reply(NOTIMP)
        if query.qclass != CLASS_IN:
            return None
        try:
            found = self.lookup(ip, client, query.name)
        except Exception:  # a lookup bug must not kill the resolver
            log.exception("lookup of %s failed", query.name)
            return query.reply(SERVFAIL)
        if found is None:
            return None
        if query.qtype in (TYPE_A, TYPE_ANY):
            return query.reply(NOERROR, found)
        return query.reply(NOERROR)  # the name exists; it has no record of this type

    def _forward_udp(
        self, sock: socket.socket, data: bytes, peer: tuple[str, int], ip: str
    ) -> None:
        answer = self._ask_upstream(data, self.upstreams(ip, peer[0]), tcp=False)
        if answer is None:
            answer = error_reply(data, SERVFAIL)
        if answer is not None:
            with contextlib.suppress(OSError):
                sock.sendto(answer, peer)

    def _ask_upstream(
        self, data: bytes, upstreams: list[tuple[str, int]], tcp: bool
    ) -> bytes | None:
        mine = set(self.addresses())
        for host, port in upstreams:
            if host in mine and port == self.port:
                continue  # never forward to ourselves
            family = socket.AF_INET6 if ":" in host else socket.AF_INET
            kind = socket.SOCK_STREAM if tcp else socket.SOCK_DGRAM
            try:
                with socket.socket(family, kind) as s:
                    s.settimeout(FORWARD_TIMEOUT)
                    s.connect((host, port))
                    if tcp:
                        s.sendall(struct.pack("!H", len(data)) + data)
                        return _read_framed(s)
                    s.send(data)
                    while True:
                        reply = s.recv(65535)
                        if reply[:2] == data[:2]:
                            return reply
            except (OSError, ValueError) as exc:
                log.info("upstream %s:%d failed: %s", host, port, exc)
        return None


def _read_framed(s: socket.socket) -> bytes:
    """One length-prefixed DNS message from a TCP stream."""
    header = _read_exact(s, 2)
    (length,) = struct.unpack("!H", header)
    return _read_exact(s, length)


def _read_exact(s: socket.socket, n: int) -> bytes:
    data = b""
    while len(data) < n:
        chunk = s.recv(n - len(data))
        if not chunk:
            raise ValueError("connection closed mid-message")
        data += chunk
    return data
