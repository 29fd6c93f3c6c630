"""A minimal inotify binding (ctypes): wake a waiter when a file changes instead of polling.

The events stream and the host agent wait on files other processes write (the
database's write-ahead log, a shim's exit file). Python has no inotify in its
standard library, and polling either wastes CPU or adds latency; the three
system calls here are all that is needed. Every user keeps a timeout fallback,
so a failed watch (a file system without inotify) only costs latency.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import select
import struct

IN_MODIFY = 0x00000002
IN_CLOSE_WRITE = 0x00000008
IN_MOVED_TO = 0x00000080
IN_CREATE = 0x00000100
IN_DELETE_SELF = 0x00000400
IN_IGNORED = 0x00008000
IN_NONBLOCK = os.O_NONBLOCK
IN_CLOEXEC = os.O_CLOEXEC

_HEADER = struct.Struct("iIII")  # wd, mask, cookie, len
_libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)


class Inotify:
    """One inotify instance: add watches, then ``wait`` for what changed."""

    def __init__(self) -> None:
        fd = _libc.inotify_init1(IN_NONBLOCK | IN_CLOEXEC)
        if fd < 0:
            err = ctypes.get_errno()
            raise OSError(err, os.strerror(err))
        self.fd: int = fd
        self._paths: dict[int, str] = {}

    def add(self, path: str | os.PathLike[str], mask: int) -> int:
        """Watch ``path`` for the events in ``mask``; return the watch descriptor."""
        wd = _libc.inotify_add_watch(self.fd, os.fsencode(path), mask)
        if wd < 0:
            err = ctypes.get_errno()
            raise OSError(err, os.strerror(err), str(path))
        self._paths[wd] = os.fspath(path)
        return wd

    def remove(self, wd: int) -> None:
        """Stop a watch (harmless if the kernel already dropped it)."""
        if self._paths.pop(wd, None) is not None:
            _libc.inotify_rm_watch(self.fd, wd)

    def read(self) -> list[tuple[str, int, str]]:
        """Return the pending events as (watched path, mask, name), without blocking."""
        out: list[tuple[str, int, str]] = []
        while True:
            try:
                data = os.read(self.fd, 65536)
            except BlockingIOError:
                return out
            pos = 0
            while pos + _HEADER.size <= len(data):
                wd, mask, _cookie, length = _HEADER.unpack_from(data, pos)
                raw = data[pos + _HEADER.size : pos + _HEADER.size + length]
                pos += _HEADER.size + length
                name = os.fsdecode(raw.rstrip(b"\0"))
                path = self._paths.get(wd, "")
                if mask & IN_IGNORED:
                    self._paths.pop(wd, None)
                out.append((path, mask, name))

    def wait(self, timeout: float | None) -> list[tuple[str, int, str]]:
        """Block until an event arrives or ``timeout`` seconds pass; return the events."""
        ready, _, _ = select.select([self.fd], [], [], timeout)
        return self.read() if ready else []

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1

    def __enter__(self) -> Inotify:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
