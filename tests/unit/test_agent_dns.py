"""The networks' resolver: answers for known names, forwards the rest, survives junk.

Everything here runs on 127.0.0.1 with a high port; the "upstream" is a fake
server of the test's own, so no query ever leaves the machine.
"""

from __future__ import annotations

import socket
import struct
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from runtime.agent.dns import (
    NXDOMAIN,
    Lookup,
    Resolver,
    Upstreams,
    configured_upstreams,
    host_nameservers,
)

LOCAL = "127.0.0.1"


def query(name: str, qtype: int = 1, msg_id: int = 0x1234) -> bytes:
    labels = b"".join(bytes([len(p)]) + p.encode() for p in name.split("."))
    return (
        struct.pack("!HHHHHH", msg_id, 0x0100, 1, 0, 0, 0)
        + labels
        + b"\0"
        + struct.pack("!HH", qtype, 1)
    )


def answers(reply: bytes) -> tuple[int, list[str]]:
    """(rcode, A addresses) of a reply made by our resolver (answers use a name pointer)."""
    flags, qd, an = struct.unpack("!HHH", reply[2:8])
    pos = 12
    while reply[pos]:
        pos += reply[pos] + 1
    pos += 5
    found = []
    for _ in range(an):
        _, rtype, _, _, length = struct.unpack("!HHHIH", reply[pos : pos + 12])
        if rtype == 1:
            found.append(socket.inet_ntoa(reply[pos + 12 : pos + 12 + length]))
        pos += 12 + length
    return flags & 0xF, found


def listening(lookup: Lookup, upstreams: Upstreams) -> Resolver:
    """A resolver listening on LOCAL at a port free for UDP and TCP.

    A port free for UDP a moment ago may be another test process's TCP port by
    the time the resolver binds it (tests run in parallel): try another one.
    """
    for _ in range(20):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.bind((LOCAL, 0))
            port = s.getsockname()[1]
        r = Resolver(lookup, upstreams, port=port)
        r.set_addresses([LOCAL])
        if r.addresses() == [LOCAL]:
            return r
        r.close()
    raise AssertionError("no port on 127.0.0.1 free for both UDP and TCP in 20 tries")


class FakeUpstream:
    """A UDP server on loopback that answers every query with NXDOMAIN and counts them."""

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((LOCAL, 0))
        self.port = self.sock.getsockname()[1]
        self.seen: list[bytes] = []
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                data, peer = self.sock.recvfrom(4096)
            except OSError:
                return
            self.seen.append(data)
            header = struct.pack("!HHHHHH", struct.unpack("!H", data[:2])[0], 0x8183, 1, 0, 0, 0)
            self.sock.sendto(header + data[12:], peer)


@pytest.fixture
def upstream() -> Iterator[FakeUpstream]:
    up = FakeUpstream()
    yield up
    up.sock.close()


@pytest.fixture
def resolver(upstream: FakeUpstream) -> Iterator[Resolver]:
    names = {"web": ["10.9.0.2"], "db": ["10.9.0.3", "10.9.0.4"]}
    asked: list[tuple[str, str]] = []

    def lookup(listen_ip: str, client: str, name: str) -> list[str] | None:
        asked.append((listen_ip, name))
        return names.get(name)

    r = listening(lookup, lambda ip, client: [(LOCAL, upstream.port)])
    r.asked = asked  # type: ignore[attr-defined]
    t = threading.Thread(target=r.serve_forever, daemon=True)
    t.start()
    yield r
    r.close()
    t.join(timeout=5)


def ask_udp(r: Resolver, data: bytes) -> bytes:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(5)
        s.sendto(data, (LOCAL, r.port))
        return s.recv(4096)


def test_a_known_name_gets_its_addresses(resolver: Resolver):
    assert answers(ask_udp(resolver, query("web"))) == (0, ["10.9.0.2"])
    assert answers(ask_udp(resolver, query("DB"))) == (0, ["10.9.0.3", "10.9.0.4"])
    assert resolver.asked[0] == (LOCAL, "web")  # type: ignore[attr-defined]


def test_a_known_name_asked_for_another_type_has_no_records_and_is_not_forwarded(
    resolver: Resolver, upstream: FakeUpstream
):
    assert answers(ask_udp(resolver, query("web", qtype=28))) == (0, [])
    assert upstream.seen == []


def test_unknown_names_go_to_the_upstream_unchanged(resolver: Resolver, upstream: FakeUpstream):
    q = query("example.invalid", msg_id=77)
    reply = ask_udp(resolver, q)
    assert upstream.seen == [q]
    assert struct.unpack("!H", reply[:2])[0] == 77
    assert answers(reply)[0] == NXDOMAIN


def test_tcp_queries_are_answered_too(resolver: Resolver):
    with socket.create_connection((LOCAL, resolver.port), timeout=5) as s:
        q = query("web")
        s.sendall(struct.pack("!H", len(q)) + q)
        length = struct.unpack("!H", s.recv(2))[0]
        reply = b""
        while len(reply) < length:
            reply += s.recv(length - len(reply))
    assert answers(reply) == (0, ["10.9.0.2"])


def test_junk_gets_formerr_and_the_resolver_keeps_serving(resolver: Resolver):
    reply = ask_udp(resolver, b"\x00\x07\x01\x00garbage")
    assert struct.unpack("!H", reply[:2])[0] == 7
    assert reply[3] & 0xF == 1  # FORMERR
    assert answers(ask_udp(resolver, query("web"))) == (0, ["10.9.0.2"])


def test_an_upstream_that_does_not_answer_gives_servfail():
    r = listening(lambda ip, client, name: None, lambda ip, client: [])
    threading.Thread(target=r.serve_forever, daemon=True).start()
    try:
        assert ask_udp(r, query("nothing.invalid"))[3] & 0xF == 2
    finally:
        r.close()


def test_addresses_can_be_dropped_and_the_port_is_freed(resolver: Resolver):
    resolver.set_addresses([])
    assert resolver.addresses() == []
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind((LOCAL, resolver.port))  # would fail if the resolver still held it


def test_host_nameservers_reads_resolv_conf(tmp_path: Path):
    conf = tmp_path / "resolv.conf"
    conf.write_text(
        "# c\nnameserver 10.0.0.1\nnameserver fe80::1%eth0\nnameserver bogus\nsearch x\n"
    )
    assert host_nameservers(conf) == [("10.0.0.1", 53), ("fe80::1", 53)]


def test_configured_upstreams_take_an_optional_port():
    assert configured_upstreams(["127.0.0.1:5353", "10.0.0.2"]) == [
        ("127.0.0.1", 5353),
        ("10.0.0.2", 53),
    ]
    with pytest.raises(ValueError, match="nameserver.example"):
        configured_upstreams(["nameserver.example"])
