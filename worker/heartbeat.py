"""The host's heartbeat: register with fresh facts, then beat until the worker stops."""

from __future__ import annotations

import logging
import os
import socket
import threading

log = logging.getLogger(__name__)


def host_name() -> str:
    """This host's name in the fleet: WHARF_HOST_NAME, else the machine's hostname."""
    return os.environ.get("WHARF_HOST_NAME") or socket.gethostname()


def beat_once(name: str) -> None:
    """Record one heartbeat with freshly gathered facts."""
    from django.db import close_old_connections

    from runtime.hostinfo import gather
    from webapp.fleet.models import Host

    close_old_connections()
    Host.beat(name, gather())


class Heartbeat(threading.Thread):
    """Beat every ``interval`` seconds in the worker's main process."""

    def __init__(self, name: str, interval: float) -> None:
        super().__init__(name="wharf-heartbeat", daemon=True)
        self.host = name
        self.interval = interval
        self.stopped = threading.Event()

    def run(self) -> None:
        while not self.stopped.wait(self.interval):
            try:
                beat_once(self.host)
            except Exception:  # noqa: BLE001 - a missed beat must not kill the worker
                log.exception("heartbeat of %s failed", self.host)

    def stop(self) -> None:
        self.stopped.set()
