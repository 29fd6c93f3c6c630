"""Relay a terminal's stdio to a container through its shim's attach socket.

The shim speaks frames: one byte stream (1 stdout, 2 stderr, 3 exit code),
four bytes big-endian length, then data. Bytes we send are the container's
stdin; shutting down our write side closes it (Docker's StdinOnce).
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import sys
import threading
from collections.abc import Callable, Collection

STDOUT, STDERR, EXIT = 1, 2, 3


def _recv_exact(sock: socket.socket, n: int) -> bytes | None:
    buf = b""
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            return None
        buf += chunk
    return buf


def read_frames(sock: socket.socket) -> tuple[list[tuple[int, bytes]], int | None]:
    """Read every frame until the shim closes; return (frames, exit code or None)."""
    frames, code = [], None
    for stream, data in iter_frames(sock):
        if stream == EXIT:
            code = int.from_bytes(data, "big")
        else:
            frames.append((stream, data))
    return frames, code


def iter_frames(sock: socket.socket):  # noqa: ANN201 - a generator of (stream, bytes)
    while True:
        head = _recv_exact(sock, 5)
        if head is None:
            return
        data = _recv_exact(sock, int.from_bytes(head[1:], "big")) or b""
        yield head[0], data


#: Docker's default --detach-keys
DEFAULT_DETACH_KEYS = "ctrl-p,ctrl-q"


class Detached(Exception):
    """The person typed the detach keys: the container runs on without us."""


def parse_detach_keys(text: str) -> bytes:
    """Turn Docker's ``--detach-keys`` text (``ctrl-p,ctrl-q``, ``a``) into the bytes typed."""
    from runtime.errors import InvalidArgument

    out = bytearray()
    for key in text.split(","):
        low = key.lower()
        if len(key) == 1:
            out.append(ord(key))
        elif low.startswith("ctrl-") and len(key) == 6:
            ch = low[5]
            if "a" <= ch <= "z":
                out.append(ord(ch) - ord("a") + 1)
            elif ch in "@[\\]^_":
                out.append("@[\\]^_".index(ch) + (0 if ch == "@" else 26))
            else:
                raise InvalidArgument(f"Invalid detach keys ({text}) provided")
        else:
            raise InvalidArgument(f"Invalid detach keys ({text}) provided")
    if not out:
        raise InvalidArgument(f"Invalid detach keys ({text}) provided")
    return bytes(out)


class EscapeWatch:
    """Pass typed bytes on, holding back a partial detach sequence until it is decided."""

    def __init__(self, keys: bytes) -> None:
        self.keys = keys
        self.held = b""

    def feed(self, data: bytes) -> tuple[bytes, bool]:
        """Return (bytes to send, whether the whole sequence was typed)."""
        out = bytearray()
        for b in data:
            candidate = self.held + bytes([b])
            if self.keys.startswith(candidate):
                self.held = candidate
                if candidate == self.keys:
                    return bytes(out), True
                continue
            out += self.held
            self.held = b""
            if self.keys[:1] == bytes([b]):
                self.held = bytes([b])
                if self.held == self.keys:
                    return bytes(out), True
            else:
                out.append(b)
        return bytes(out), False


def _pump_stdin(sock: socket.socket, keys: bytes | None, detached: threading.Event) -> None:
    fd = sys.stdin.fileno()
    watch = EscapeWatch(keys) if keys else None
    try:
        while True:
            data = os.read(fd, 65536)
            if not data:
                break
            if watch is not None:
                data, hit = watch.feed(data)
                if hit:
                    # wake the reader; closing the socket then drops us as a client
                    # without ending the container's stdin (a shutdown of our write
                    # side would: that is how EOF is sent)
                    detached.set()
                    if data:
                        sock.sendall(data)
                    sock.shutdown(socket.SHUT_RD)
                    return
            if data:
                sock.sendall(data)
    except OSError:
        return
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_WR)


def relay(
    sock: socket.socket,
    *,
    stdin_open: bool,
    tty: bool,
    on_signal: Callable[[int], object] | None = None,
    on_resize: Callable[[int, int], object] | None = None,
    detach_keys: str | None = None,
    streams: Collection[str] | None = None,
) -> int | None:
    """Copy output to our stdout/stderr (and stdin to the container); return the exit code.

    Raise ``Detached`` when the person typed ``detach_keys`` (None: Docker's ctrl-p,ctrl-q).
    ``streams``: the output streams shown (Docker's ``-a stdout``/``-a stderr``), None both.
    """
    keys = parse_detach_keys(detach_keys or DEFAULT_DETACH_KEYS) if stdin_open else None
    detached = threading.Event()
    restore = None
    if tty and stdin_open and sys.stdin.isatty():
        import termios
        import tty as tty_mod

        fd = sys.stdin.fileno()
        saved = termios.tcgetattr(fd)
        tty_mod.setraw(fd, termios.TCSANOW)  # keep what was typed already
        restore = lambda: termios.tcsetattr(fd, termios.TCSADRAIN, saved)  # noqa: E731
    old_handlers = {}
    if on_resize is not None and tty and sys.stdout.isatty():

        def resize(*_: object) -> None:
            size = os.get_terminal_size(sys.stdout.fileno())
            with contextlib.suppress(Exception):
                on_resize(size.lines, size.columns)

        resize()
        old_handlers[signal.SIGWINCH] = signal.signal(signal.SIGWINCH, resize)
    if on_signal is not None:
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT):
            old_handlers[sig] = signal.signal(sig, lambda s, _f: on_signal(s))
    if stdin_open:
        threading.Thread(target=_pump_stdin, args=(sock, keys, detached), daemon=True).start()
    else:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_WR)
    code = None
    out, err = sys.stdout.buffer, sys.stderr.buffer
    try:
        while True:
            try:
                frames = iter_frames(sock)
                for stream, data in frames:
                    if stream == EXIT:
                        code = int.from_bytes(data, "big")
                    elif streams is None or ("stderr" if stream == STDERR else "stdout") in streams:
                        target = err if stream == STDERR else out
                        target.write(data)
                        target.flush()
                break
            except InterruptedError:
                continue
    finally:
        sock.close()
        if restore:
            restore()
        for sig, handler in old_handlers.items():
            signal.signal(sig, handler)
    if detached.is_set():
        raise Detached
    return code


def relay_pty(
    master: int, proc: object, *, stdin_open: bool, detach_keys: str | None = None
) -> int:
    """Bridge our terminal and a process's pty master until it exits; return its exit code.

    Raise ``Detached`` when the person typed ``detach_keys`` (None: Docker's
    ctrl-p,ctrl-q): the process runs on, its pty held by a child of ours (``_hold_pty``).
    """
    import fcntl
    import select
    import struct
    import termios
    import tty as tty_mod

    stdin_fd, stdout_fd = sys.stdin.fileno(), sys.stdout.fileno()

    def resize(*_: object) -> None:
        with contextlib.suppress(OSError):
            size = os.get_terminal_size(stdout_fd)
            fcntl.ioctl(
                master, termios.TIOCSWINSZ, struct.pack("HHHH", size.lines, size.columns, 0, 0)
            )

    saved = termios.tcgetattr(stdin_fd)
    old = signal.signal(signal.SIGWINCH, resize)
    resize()
    tty_mod.setraw(stdin_fd, termios.TCSANOW)
    watch = [master, stdin_fd] if stdin_open else [master]
    escape = EscapeWatch(parse_detach_keys(detach_keys or DEFAULT_DETACH_KEYS))
    try:
        while True:
            ready, _, _ = select.select(watch, [], [])
            if master in ready:
                try:
                    data = os.read(master, 65536)
                except OSError:  # EIO: every holder of the pty's other side is gone
                    data = b""
                if not data:
                    break
                os.write(stdout_fd, data)
            if stdin_fd in ready:
                data = os.read(stdin_fd, 65536)
                if not data:
                    watch.remove(stdin_fd)
                    continue
                data, hit = escape.feed(data)
                if data:
                    os.write(master, data)
                if hit:
                    _hold_pty(master)
                    raise Detached
    finally:
        termios.tcsetattr(stdin_fd, termios.TCSADRAIN, saved)
        signal.signal(signal.SIGWINCH, old)
        os.close(master)
    return proc.wait()  # type: ignore[attr-defined]


def _hold_pty(master: int) -> None:
    """Keep a detached exec's pty open in a child of ours, read and dropped, until the
    process on it ends (closing the master would hang it up, as Docker's daemon does not)."""
    if os.fork() != 0:
        return
    try:
        os.setsid()
        null = os.open(os.devnull, os.O_RDWR)
        for fd in (0, 1, 2):
            os.dup2(null, fd)
        while os.read(master, 65536):
            pass
    except OSError:
        pass  # EIO: every holder of the pty's other side is gone
    finally:
        os._exit(0)
