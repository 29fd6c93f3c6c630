"""Docker's ``-p``/``-P`` grammar and host-port choice.

``-p [IP:][HOSTPORT:]PORT[/PROTO]`` with ranges (``8000-8001:80-81``) and an
empty host port (``IP::PORT``) meaning "pick one"; ``-P`` publishes every
exposed port on a free host port.
"""

from __future__ import annotations

import contextlib
import ipaddress
import os
import socket
from dataclasses import dataclass
from pathlib import Path

from runtime.errors import Conflict, InvalidArgument

PROTOS = ("tcp", "udp")
ANY = "0.0.0.0"  # noqa: S104 - Docker's name for "every host address"


@dataclass(frozen=True)
class PortRequest:
    """One container port to publish; ``host_port`` 0 = pick a free one."""

    proto: str
    ctr_port: int
    host_ip: str = ""
    host_port: int = 0


def _port(text: str, what: str, flag: str) -> int:
    if not text.isdigit() or not 0 < int(text) < 65536:
        raise InvalidArgument(f"invalid {what} {text!r} in {flag!r}: expected 1-65535")
    return int(text)


def _range(text: str, what: str, flag: str) -> list[int]:
    if "-" in text:
        lo, _, hi = text.partition("-")
        a, b = _port(lo, what, flag), _port(hi, what, flag)
        if b < a:
            raise InvalidArgument(f"invalid {what} range {text!r} in {flag!r}")
        return list(range(a, b + 1))
    return [_port(text, what, flag)]


def split_proto(text: str, flag: str) -> tuple[str, str]:
    port, _, proto = text.partition("/")
    proto = (proto or "tcp").lower()
    if proto not in PROTOS:
        raise InvalidArgument(f"invalid protocol {proto!r} in {flag!r}: use tcp or udp")
    return port, proto


def parse_publish(flag: str) -> list[PortRequest]:
    """Parse one ``-p`` value into requests, one per container port."""
    body, proto = split_proto(flag, flag)
    host_ip, host_part, ctr_part = "", "", body
    if body.startswith("["):
        raise InvalidArgument(f"invalid -p {flag!r}: IPv6 host addresses are not supported")
    parts = body.split(":")
    if len(parts) == 3:
        host_ip, host_part, ctr_part = parts
    elif len(parts) == 2:
        host_part, ctr_part = parts
    elif len(parts) != 1:
        raise InvalidArgument(f"invalid -p {flag!r}: expected [IP:][HOSTPORT:]PORT[/PROTO]")
    if host_ip:
        try:
            ipaddress.IPv4Address(host_ip)
        except ValueError:
            raise InvalidArgument(f"invalid host IP {host_ip!r} in -p {flag!r}") from None
    ctr_ports = _range(ctr_part, "container port", flag)
    if not host_part:
        return [PortRequest(proto, p, host_ip, 0) for p in ctr_ports]
    host_ports = _range(host_part, "host port", flag)
    if len(host_ports) == 1 and len(ctr_ports) > 1:
        raise InvalidArgument(f"invalid -p {flag!r}: one host port for a range of container ports")
    if len(host_ports) != len(ctr_ports):
        raise InvalidArgument(f"invalid -p {flag!r}: host and container port ranges differ in size")
    return [PortRequest(proto, c, host_ip, h) for c, h in zip(ctr_ports, host_ports, strict=True)]


def parse_exposed(key: str) -> tuple[int, str]:
    """Parse an ExposedPorts key (``80/tcp``) or ``--expose`` value."""
    port, proto = split_proto(key, key)
    return _port(port, "exposed port", key), proto


def host_port_free(proto: str, host_ip: str, port: int) -> bool:
    """Whether nothing on the host listens on that port (a bind test, closed at once)."""
    kind = socket.SOCK_STREAM if proto == "tcp" else socket.SOCK_DGRAM
    with socket.socket(socket.AF_INET, kind) as s:
        if kind == socket.SOCK_STREAM:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host_ip or ANY, port))
        except OSError:
            return False
    return True


def ephemeral_range() -> tuple[int, int]:
    with contextlib.suppress(OSError, ValueError):
        lo, hi = Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()
        return int(lo), int(hi)
    return 32768, 60999


def pick_host_port(proto: str, host_ip: str, taken: set[tuple[str, int]]) -> int:
    """Return a free host port from the ephemeral range, starting at a random place."""
    lo, hi = ephemeral_range()
    start = lo + int.from_bytes(os.urandom(4), "big") % (hi - lo + 1)
    for offset in range(hi - lo + 1):
        port = lo + (start - lo + offset) % (hi - lo + 1)
        if (proto, port) not in taken and host_port_free(proto, host_ip, port):
            return port
    raise Conflict(f"no free host port for {proto} in {lo}-{hi}")
