"""Attach before start, as ``docker run`` does it, spoken byte by byte.

The docker CLI attaches, half-closes its side when it has no stdin to send, and
only then starts the container; on a loaded machine the start can come well
after the half-close. The output must still arrive whole, framed.
"""

from __future__ import annotations

import json
import socket
import struct
import time


def _connect(docker_host: str) -> socket.socket:
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(30)
    s.connect(docker_host.removeprefix("unix://"))
    return s


def _request(
    docker_host: str, method: str, path: str, body: dict | None = None
) -> tuple[int, bytes]:
    """One request on its own connection; the status and the whole body."""
    data = json.dumps(body).encode() if body is not None else b""
    with _connect(docker_host) as s:
        s.sendall(
            f"{method} /v1.41{path} HTTP/1.1\r\nHost: docker\r\nConnection: close\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(data)}\r\n\r\n".encode()
            + data
        )
        raw = b""
        while chunk := s.recv(65536):
            raw += chunk
    head, _, rest = raw.partition(b"\r\n\r\n")
    status = int(head.split()[1])
    if b"transfer-encoding: chunked" in head.lower():
        body_bytes = b""
        while rest:
            size_text, _, rest = rest.partition(b"\r\n")
            size = int(size_text, 16)
            if size == 0:
                break
            body_bytes, rest = body_bytes + rest[:size], rest[size + 2 :]
        rest = body_bytes
    return status, rest


def _frames(data: bytes) -> list[tuple[int, bytes]]:
    out = []
    while data:
        stream, size = struct.unpack(">BxxxI", data[:8])
        out.append((stream, data[8 : 8 + size]))
        data = data[8 + size :]
    return out


def test_a_start_long_after_the_half_close_still_reaches_the_attach(docker_host, wharf) -> None:
    status, body = _request(
        docker_host,
        "POST",
        "/containers/create?name=late",
        {"Image": "busybox", "Cmd": ["sh", "-c", "echo out; echo err >&2; exit 4"]},
    )
    assert status == 201, body
    attach = _connect(docker_host)
    attach.sendall(
        b"POST /v1.41/containers/late/attach?stream=1&stdout=1&stderr=1 HTTP/1.1\r\n"
        b"Host: docker\r\nConnection: Upgrade\r\nUpgrade: tcp\r\nContent-Length: 0\r\n\r\n"
    )
    head = b""
    while b"\r\n\r\n" not in head:
        head += attach.recv(1)
    assert head.startswith(b"HTTP/1.1 101"), head
    attach.shutdown(socket.SHUT_WR)  # what the CLI does with no stdin to send
    time.sleep(1.5)  # longer than the attach's watch for a departed client
    status, body = _request(docker_host, "POST", "/containers/late/start")
    assert status == 204, body
    received = b""
    while chunk := attach.recv(65536):
        received += chunk
    attach.close()
    frames = _frames(received)
    assert b"".join(d for s, d in frames if s == 1) == b"out\n"
    assert b"".join(d for s, d in frames if s == 2) == b"err\n"
    status, body = _request(docker_host, "POST", "/containers/late/wait")
    assert json.loads(body)["StatusCode"] == 4
    wharf("rm", "late")


def test_a_client_that_hangs_up_before_the_start_leaves_no_waiting_attach(
    docker_host, wharf
) -> None:
    status, _ = _request(
        docker_host, "POST", "/containers/create?name=gone", {"Image": "busybox", "Cmd": ["true"]}
    )
    assert status == 201
    attach = _connect(docker_host)
    attach.sendall(
        b"POST /v1.41/containers/gone/attach?stream=1&stdout=1 HTTP/1.1\r\n"
        b"Host: docker\r\nConnection: Upgrade\r\nUpgrade: tcp\r\nContent-Length: 0\r\n\r\n"
    )
    head = b""
    while b"\r\n\r\n" not in head:
        head += attach.recv(1)
    attach.close()
    time.sleep(1.5)
    status, body = _request(docker_host, "POST", "/containers/gone/start")
    assert status == 204, body
    status, body = _request(docker_host, "POST", "/containers/gone/wait")
    assert json.loads(body)["StatusCode"] == 0
    # the run was not tied to the departed socket: its log holds nothing and it exited
    assert wharf("inspect", "-f", "{{.State.Status}}", "gone").stdout.strip() == "exited"
    wharf("rm", "gone")
