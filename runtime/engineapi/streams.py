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

from runtime.containers.attach import EXIT, STDERR, EscapeWatch, iter_frames

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
    detach_keys: bytes | None = None,
) -> None:
    """Copy a container's output from its shim socket to a hijacked client, and the
    client's bytes to its stdin, until the container's side closes or the client
    detaches."""
    if stdin:
        threading.Thread(
            target=_pump_stdin, args=(client, shim, tty, detach_keys), daemon=True
        ).start()
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


def _pump_stdin(
    client: socket.socket, shim: socket.socket, tty: bool, detach_keys: bytes | None
) -> None:
    """Client bytes to the container's stdin.

    As in Docker, without a TTY the client's end of input is the container's (the
    shim closes stdin for the run's own attach, StdinOnce); with a TTY it only ends
    this attach, as do the detach keys, and the container runs on with its stdin
    open: the docker CLI detaches by closing its connection, so taking that for an
    end of input would end the shell it meant to leave running."""
    watch = EscapeWatch(detach_keys) if tty and detach_keys else None
    try:
        while data := client.recv(65536):
            hit = False
            if watch is not None:
                data, hit = watch.feed(data)
            if data:
                shim.sendall(data)
            if hit:
                break
    except OSError:
        pass
    with contextlib.suppress(OSError):
        # a shut read side ends the output loop (and the shim keeps the container's
        # stdin); a shut write side is the container's EOF
        shim.shutdown(socket.SHUT_RD if tty else socket.SHUT_WR)
