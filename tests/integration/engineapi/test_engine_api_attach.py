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


def _hijack(docker_host: str, path: str) -> socket.socket:
    """An attach connection past its ``101``."""
    s = _connect(docker_host)
    s.sendall(
        f"POST /v1.41{path} HTTP/1.1\r\nHost: docker\r\nConnection: Upgrade\r\n"
        "Upgrade: tcp\r\nContent-Length: 0\r\n\r\n".encode()
    )
    head = b""
    while b"\r\n\r\n" not in head:
        head += s.recv(1)
    assert head.startswith(b"HTTP/1.1 101"), head
    return s


def _read_until(s: socket.socket, text: bytes) -> bytes:
    seen = b""
    while text not in seen:
        chunk = s.recv(65536)
        assert chunk, f"the attach ended before {text!r}; it sent {seen!r}"
        seen += chunk
    return seen


def test_the_detach_keys_end_the_attach_and_the_shell_runs_on(docker_host, docker, wharf) -> None:
    """A client that does not watch for the keys itself (docker-py's attach socket)
    relies on the server: the keys end the attach, not the container's stdin."""
    docker("run", "-dit", "--name", "srv", "busybox", "sh")
    first = _hijack(
        docker_host, "/containers/srv/attach?stream=1&stdin=1&stdout=1&detachKeys=ctrl-a"
    )
    first.sendall(b"echo one-$((1+1))\n")
    _read_until(first, b"one-2")
    first.sendall(b"\x01")
    while first.recv(65536):
        pass  # the server ends the attach
    first.close()
    assert wharf("inspect", "-f", "{{.State.Running}}", "srv").stdout.strip() == "true"
    again = _hijack(docker_host, "/containers/srv/attach?stream=1&stdin=1&stdout=1")
    again.sendall(b"echo two-$((1+2))\n")
    _read_until(again, b"two-3")  # the same shell still reads its terminal
    again.close()
    docker("rm", "-f", "srv")


def test_bad_detach_keys_are_a_400_and_start_nothing(docker_host, docker, wharf) -> None:
    docker("create", "--name", "bad", "-it", "busybox", "sh")
    status, body = _request(
        docker_host, "POST", "/containers/bad/attach?stream=1&detachKeys=ctrl-1"
    )
    assert status == 400
    assert json.loads(body)["message"] == "Invalid detach keys (ctrl-1) provided"
    assert wharf("inspect", "-f", "{{.State.Status}}", "bad").stdout.strip() == "created"
    wharf("rm", "bad")


def test_run_rm_reports_each_runs_exit_code(docker, wharf) -> None:
    """``docker run --rm`` waits for ``removed``: a run that starts, exits and is
    removed between two looks of the wait still reports its own code, not the
    created state's 0 (each run is a new chance for that race)."""
    for code in range(1, 9):
        proc = docker(
            "run", "--rm", "busybox", "sh", "-c", f"echo r{code}; exit {code}", check=False
        )
        assert (proc.stdout, proc.returncode) == (f"r{code}\n", code)
    assert wharf("ps", "-aq").stdout == ""
