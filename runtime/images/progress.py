"""Report per-layer progress of pull, push and load to whoever is watching.

The runtime calls a plain callback with ``Progress`` records; the worker turns
them into job output, the CLI draws bars on a terminal (``TerminalProgress``)
and prints one line per status change otherwise (``LineProgress``), the way
``docker pull`` does.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import TextIO


@dataclass(frozen=True)
class Progress:
    """One step of one item: ``id`` is a short layer/blob id, or "" for the whole image."""

    id: str
    status: str
    current: int = 0
    total: int | None = None

    def as_dict(self) -> dict:
        return asdict(self)


ProgressFn = Callable[[Progress], None]


def ignore(_: Progress) -> None:
    """Drop progress (the default when nobody watches)."""


def throttled(fn: ProgressFn, interval: float = 0.1) -> ProgressFn:
    """Pass status changes at once, byte-count updates of one item at most every ``interval``."""
    last: dict[str, tuple[str, float]] = {}
    lock = threading.Lock()

    def report(p: Progress) -> None:
        now = time.monotonic()
        with lock:
            status, when = last.get(p.id, ("", 0.0))
            if status == p.status and now - when < interval and p.current != p.total:
                return
            last[p.id] = (p.status, now)
        fn(p)

    return report


def human_size(n: float, precision: int = 3) -> str:
    """Format a byte count like Docker (``3.2MB``, decimal units, ``precision`` digits)."""
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if abs(n) < 1000 or unit == "TB":
            return f"{n:.{precision}g}{unit}" if unit != "B" else f"{int(n)}B"
        n /= 1000
    return f"{n}B"  # pragma: no cover


def binary_size(n: float) -> str:
    """Format a byte count in binary units as Docker's ``units.BytesSize`` (``64MiB``)."""
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(n) < 1024 or unit == "TiB":
            return f"{n:.4g}{unit}"
        n /= 1024
    return f"{n}B"  # pragma: no cover


class LineProgress:
    """Print one line whenever an item's status changes (logs, pipes, job output)."""

    def __init__(self, out: TextIO | None = None) -> None:
        self.out = out or sys.stdout
        self._last: dict[str, str] = {}
        self._lock = threading.Lock()

    def __call__(self, p: Progress) -> None:
        with self._lock:
            if self._last.get(p.id) == p.status:
                return
            self._last[p.id] = p.status
            print(f"{p.id}: {p.status}" if p.id else p.status, file=self.out, flush=True)


class TerminalProgress:
    """Redraw one line per item with a bar, as ``docker pull`` does on a TTY."""

    def __init__(self, out: TextIO | None = None) -> None:
        self.out = out or sys.stdout
        self._items: dict[str, Progress] = {}
        self._order: list[str] = []
        self._drawn = 0
        self._lock = threading.Lock()
        self._last_draw = 0.0

    def __call__(self, p: Progress) -> None:
        with self._lock:
            if not p.id:
                self._draw(force=True)
                print(p.status, file=self.out, flush=True)
                self._drawn = 0
                self._items.clear()
                self._order.clear()
                return
            previous = self._items.get(p.id)
            if previous is None:
                self._order.append(p.id)
            self._items[p.id] = p
            changed = previous is None or previous.status != p.status
            self._draw(force=changed or p.current == p.total)

    def _line(self, p: Progress) -> str:
        if p.total:
            width = 40
            done = min(width, int(width * p.current / p.total))
            bar = "=" * max(0, done - 1) + (">" if done < width else "=") + " " * (width - done)
            return f"{p.id}: {p.status:<12} [{bar}] {human_size(p.current)}/{human_size(p.total)}"
        if p.current:
            return f"{p.id}: {p.status:<12} {human_size(p.current)}"
        return f"{p.id}: {p.status}"

    def _draw(self, force: bool) -> None:
        now = time.monotonic()
        if not force and now - self._last_draw < 0.1:
            return
        self._last_draw = now
        if self._drawn:
            self.out.write(f"\x1b[{self._drawn}A")
        for item_id in self._order:
            self.out.write("\x1b[2K" + self._line(self._items[item_id]) + "\n")
        self._drawn = len(self._order)
        self.out.flush()


def for_stream(out: TextIO | None = None, quiet: bool = False) -> ProgressFn:
    """Pick the renderer for a stream: bars on a terminal, lines otherwise."""
    out = out or sys.stdout
    if quiet:
        return ignore
    return TerminalProgress(out) if out.isatty() else LineProgress(out)
