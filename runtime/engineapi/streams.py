"""Byte streams of the Engine API: Docker's multiplexed framing and the attach relay.

Without a TTY, Docker sends a container's output in frames: one byte naming
the stream (0 stdin, 1 stdout, 2 stderr), three zero bytes, four bytes of
big-endian length, then the data; with a TTY it sends the bytes alone. The
shim speaks its own frames (``runtime.containers.attach``); the relay turns
one into the other and copies the client's bytes to the container's stdin.
"""

from __future__ import annotations

import contextlib
import socket
import struct
import threading

from runtime.containers.attach import EXIT, STDERR, iter_frames

STREAM_IDS = {"stdin": 0, "stdout": 1, "stderr": 2}


def frame(stream: int, data: bytes) -> bytes:
    """One multiplexed frame (Docker's stdcopy header, then the data)."""
    return struct.pack(">BxxxI", stream, len(data)) + data


def relay(
    client: socket.socket,
    shim: socket.socket,
    *,
    tty: bool,
    stdin: bool,
    stdout: bool = True,
    stderr: bool = True,
) -> None:
    """Copy a container's output from its shim socket to a hijacked client, and the
    client's bytes to its stdin, until the container's side closes."""
    if stdin:
        threading.Thread(target=_pump_stdin, args=(client, shim), daemon=True).start()
    else:
        with contextlib.suppress(OSError):
            shim.shutdown(socket.SHUT_WR)
    try:
        for stream, data in iter_frames(shim):
            if stream == EXIT:
                break
            if not (stderr if stream == STDERR else stdout):
                continue
            client.sendall(data if tty else frame(stream, data))
    finally:
        shim.close()
        with contextlib.suppress(OSError):
            client.shutdown(socket.SHUT_RDWR)


def _pump_stdin(client: socket.socket, shim: socket.socket) -> None:
    """Client bytes to the container's stdin; the client's half-close closes stdin."""
    try:
        while True:
            data = client.recv(65536)
            if not data:
                break
            shim.sendall(data)
    except OSError:
        return
    with contextlib.suppress(OSError):
        shim.shutdown(socket.SHUT_WR)
