"""Helpers for network tests: container addresses, the host's network state, a UDP server.

Traffic in these tests goes only to 127.0.0.0/8, to the bridges' gateways the
test host made, and to the test's own containers.
"""

from __future__ import annotations

import json
import socket
import subprocess
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

UDP_ECHO_C = r"""
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
int main(int argc, char **argv) {
    int s = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(atoi(argv[1]))};
    if (bind(s, (struct sockaddr *)&a, sizeof a)) { perror("bind"); return 1; }
    puts("ready");
    fflush(stdout);
    for (;;) {
        char buf[512];
        struct sockaddr_in p;
        socklen_t l = sizeof p;
        ssize_t n = recvfrom(s, buf, sizeof buf, 0, (struct sockaddr *)&p, &l);
        if (n > 0) sendto(s, buf, n, 0, (struct sockaddr *)&p, l);
    }
}
"""


@pytest.fixture(scope="session")
def udp_echo_binary(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A static UDP echo server (busybox has no UDP listener), built with the host's gcc."""
    d = tmp_path_factory.mktemp("udpecho")
    (d / "udpecho.c").write_text(UDP_ECHO_C)
    proc = subprocess.run(
        ["gcc", "-static", "-O2", "-o", str(d / "udpecho"), str(d / "udpecho.c")],
        capture_output=True,
        text=True,
    )
    if proc.returncode:
        pytest.fail(f"cannot build the UDP echo server (gcc -static): {proc.stderr}", False)
    return d / "udpecho"


@pytest.fixture
def inspect(wharf: Callable[..., subprocess.CompletedProcess]) -> Callable[[str], dict]:
    def get(ref: str) -> dict:
        return json.loads(wharf("inspect", ref).stdout)[0]

    return get


@pytest.fixture
def ip_of(inspect: Callable[[str], dict]) -> Callable[[str, str], str]:
    """The address a container has on a network."""

    def get(ref: str, network: str) -> str:
        return inspect(ref)["NetworkSettings"]["Networks"][network]["IPAddress"]

    return get


class FakeResolver:
    """A UDP DNS server on a loopback address answering NXDOMAIN once, recording the query."""

    def __init__(self, address: str, port: int = 0) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((address, port))
        self.sock.settimeout(20)
        self.port = self.sock.getsockname()[1]
        self.seen: list[bytes] = []
        self.thread = threading.Thread(target=self._answer, daemon=True)
        self.thread.start()

    def _answer(self) -> None:
        try:
            data, peer = self.sock.recvfrom(4096)
        except OSError:
            return
        self.seen.append(data)
        header = data[:2] + b"\x81\x83" + data[4:6] + b"\0\0\0\0\0\0"
        self.sock.sendto(header + data[12:], peer)

    def finish(self) -> list[bytes]:
        """Wait for the query (up to the timeout), close, and return what was asked."""
        self.thread.join(timeout=20)
        self.sock.close()
        return self.seen


@pytest.fixture
def fake_resolver() -> Iterator[Callable[..., FakeResolver]]:
    made: list[FakeResolver] = []

    def make(address: str = "127.0.0.1", port: int = 0) -> FakeResolver:
        made.append(FakeResolver(address, port))
        return made[-1]

    yield make
    for r in made:
        r.sock.close()
