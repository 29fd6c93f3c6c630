"""Serve the live streams the site asks this host for: logs, stats and exec of a container.

A thread of the worker's main process (started by ``python -m worker run``)
pops stream requests from this host's own list on the broker
(``wharf:host.<name>:streams``; its Redis user may touch nothing else), and
serves each in a thread of its own, never in the job pool, so a stream is not
held up behind a pull. A request must carry the site's signature, name this
host and still be fresh (``worker.verify.verify_stream``); anything else is
refused and reported, so nobody but the site can make this root process open
a shell. Serving one means dialling *out* to the site's
``/ws/host/streams/SID/`` with the host's credential (the site pairs it with
the browser that asked) and relaying:

- ``logs``: ``{"type": "logs", "lines": [{"stream", "time", "text"}]}`` in
  batches, the last ``tail`` lines then new ones while following;
- ``stats``: a ``{"type": "stats", "time", …}`` sample a second, the fields of
  ``runtime.containers.usage.Usage``, until the container stops;
- ``exec``: a shell on a pty; output as binary frames, input from binary
  frames, ``{"type": "resize", "cols", "rows"}``, and at the end
  ``{"type": "exit", "code"}``.

A failure is ``{"type": "error", "error", "kind"}``; the site's socket closing
ends the stream (a follow stops, the shell gets a hang-up).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import queue
import select
import struct
import termios
import threading
import time
from typing import Any

from worker.hostconfig import HostConfig
from worker.siteclient import SiteClient
from worker.verify import BadMessage, verify_stream

log = logging.getLogger(__name__)
#: log lines sent in one message at most, and how long a line may wait for company
BATCH_LINES = 500
BATCH_SECONDS = 0.1
STATS_SECONDS = 1.0
#: the shell of an exec console
SHELL = ["/bin/sh"]


def max_streams() -> int:
    """How many streams this host serves at once (each is a thread; a shell, a process)."""
    return int(os.environ.get("WHARF_MAX_STREAMS", "32"))


class StreamListener(threading.Thread):
    """Pop this host's stream requests and serve each in a thread of its own."""

    def __init__(self, cfg: HostConfig, site: SiteClient) -> None:
        super().__init__(name="wharf-streams", daemon=True)
        self.cfg = cfg
        self.site = site
        self.stopped = threading.Event()
        self.slots = threading.BoundedSemaphore(max_streams())

    def run(self) -> None:
        import redis

        client = redis.Redis.from_url(
            self.cfg.broker_url,
            socket_timeout=30,
            socket_connect_timeout=5,
            lib_name=None,
            lib_version=None,
        )
        key = f"{self.cfg.key_prefix}streams"
        while not self.stopped.is_set():
            try:
                item = client.brpop([key], timeout=5)
            except redis.RedisError as exc:
                if not self.stopped.is_set():
                    log.warning("waiting for stream requests failed (%s); trying again", exc)
                self.stopped.wait(1.0)
                continue
            if item is not None:
                self.open(item[1])

    def open(self, raw: bytes) -> None:
        try:
            envelope = json.loads(raw)
            fields = verify_stream(envelope, self.cfg.public_key, self.cfg.host_name, time.time())
        except (ValueError, BadMessage) as exc:
            log.warning("refusing a stream request: %s", exc)
            with contextlib.suppress(Exception):
                self.site.rejected(f"stream request: {exc}", raw[:2000].decode(errors="replace"))
            return
        if not self.slots.acquire(blocking=False):
            limit = max_streams()
            refuse = f"this host serves {limit} streams at once already (WHARF_MAX_STREAMS)"
            threading.Thread(
                target=serve, args=(self.cfg, fields, refuse), name="wharf-stream-refused",
                daemon=True,
            ).start()  # fmt: skip
            return
        threading.Thread(
            target=self._serve_in_slot,
            args=(fields,),
            name=f"wharf-stream-{fields['kind']}",
            daemon=True,
        ).start()

    def _serve_in_slot(self, fields: dict) -> None:
        try:
            serve(self.cfg, fields)
        finally:
            self.slots.release()

    def stop(self) -> None:
        self.stopped.set()


def stream_url(site_url: str, stream_id: str) -> str:
    base = site_url.rstrip("/")
    scheme, _, rest = base.partition("://")
    return f"{'wss' if scheme == 'https' else 'ws'}://{rest}/ws/host/streams/{stream_id}/"


def _paired(ws: Any) -> bool:
    """Wait for the site's word that this socket claimed its stream (nothing runs before)."""
    try:
        first = ws.recv(timeout=PAIRING_WAIT)
        return json.loads(first) == {"type": "paired"}
    except (TimeoutError, ValueError, TypeError):
        log.warning("the site never paired a stream it asked for; ending it")
        return False


#: how long a host waits for the site to pair a socket it dialled (seconds)
PAIRING_WAIT = 15


def serve(cfg: HostConfig, fields: dict, refuse: str = "") -> None:
    """Dial the site for one stream and serve it to its end (or tell it REFUSE, and end)."""
    from websockets.exceptions import ConnectionClosed
    from websockets.sync.client import connect

    from runtime import Runtime
    from runtime.errors import WharfError

    log.info("serving a %s stream of container %s", fields["kind"], fields["container"][:12])
    try:
        with connect(
            stream_url(cfg.site_url, fields["stream"]),
            additional_headers={"Authorization": f"Host {cfg.credential}"},
            open_timeout=10,
            max_size=2**20,
        ) as ws:
            try:
                if not _paired(ws):
                    return
                if refuse:
                    ws.send(json.dumps({"type": "error", "error": refuse, "kind": "conflict"}))
                    return
                with Runtime() as rt:
                    SERVERS[fields["kind"]](rt, ws, fields["container"], fields["params"])
            except WharfError as exc:
                message = {"type": "error", "error": str(exc), "kind": exc.kind}
                with contextlib.suppress(ConnectionClosed):
                    ws.send(json.dumps(message))
    except ConnectionClosed:
        pass  # the site or its browser went away: nothing left to serve
    except Exception:  # noqa: BLE001 - one stream's failure must not end the listener
        log.exception("serving a %s stream failed", fields["kind"])
    log.info("the %s stream of container %s ended", fields["kind"], fields["container"][:12])


def _watch_close(ws: Any) -> threading.Event:
    """An event set once the site closes the socket (what it sends is not read here)."""
    closed = threading.Event()

    def watch() -> None:
        with contextlib.suppress(Exception):
            for _ in ws:
                pass
        closed.set()

    threading.Thread(target=watch, daemon=True).start()
    return closed


def serve_logs(rt: Any, ws: Any, container: str, params: dict) -> None:
    tail, follow = params.get("tail"), bool(params.get("follow"))
    if tail is not None and (type(tail) is not int or tail < 0):
        tail = None
    closed = _watch_close(ws)
    records = rt.containers.logs(container, follow=follow, tail=tail, stopped=closed.is_set)
    # The reader blocks while a followed container is quiet; a thread of its own lets a
    # lone line go out within BATCH_SECONDS instead of waiting for the next one.
    lines: queue.Queue = queue.Queue(maxsize=10 * BATCH_LINES)
    done = object()
    failure: list[BaseException] = []

    def read() -> None:
        try:
            for rec in records:
                lines.put({"stream": rec["stream"], "time": rec["time"], "text": rec["log"]})
        except BaseException as exc:  # noqa: BLE001 - handed to the sending thread
            failure.append(exc)
        finally:
            lines.put(done)

    threading.Thread(target=read, daemon=True).start()
    batch: list[dict] = []
    while True:
        try:
            item = lines.get(timeout=BATCH_SECONDS)
        except queue.Empty:
            item = None
        if item is not None and item is not done:
            batch.append(item)
        if batch and (item is None or item is done or len(batch) >= BATCH_LINES):
            ws.send(json.dumps({"type": "logs", "lines": batch}))
            batch = []
        if item is done:
            break
    if failure:
        raise failure[0]


def serve_stats(rt: Any, ws: Any, container: str, params: dict) -> None:
    from runtime.containers.usage import UsageSampler
    from runtime.errors import Conflict

    closed = _watch_close(ws)
    sampler = UsageSampler()
    c = rt.containers.get(container)
    while True:
        try:
            counters = rt.containers.stats(c.id)
        except Conflict:
            ws.send(json.dumps({"type": "end", "reason": "the container is not running"}))
            return
        usage = sampler.sample(c.id, counters)
        ws.send(json.dumps({"type": "stats", "time": time.time(), **usage.as_dict()}))
        if closed.wait(STATS_SECONDS):
            return


def _resize(fd: int, cols: int, rows: int) -> None:
    with contextlib.suppress(OSError):
        fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))


def _cells(value: Any, default: int) -> int:
    return value if type(value) is int and 1 <= value <= 1000 else default


def serve_exec(rt: Any, ws: Any, container: str, params: dict) -> None:
    handle = rt.containers.exec_tty(container, SHELL, env=["TERM=xterm-256color"])
    master = handle.master
    _resize(master, _cells(params.get("cols"), 80), _cells(params.get("rows"), 24))
    wake_r, wake_w = os.pipe()
    exit_code: list[int] = []

    def pump() -> None:
        """The shell's output to the site; at its exit (EIO) the code, and the socket closed."""
        try:
            while True:
                ready, _, _ = select.select([master, wake_r], [], [])
                if wake_r in ready:
                    return  # the site went away first
                try:
                    data = os.read(master, 65536)
                except OSError:  # EIO: every holder of the pty's other side is gone
                    data = b""
                if not data:
                    break
                ws.send(data)
        except Exception:  # noqa: BLE001 - the site's socket closed under us
            return
        exit_code.append(handle.wait(timeout=30))
        with contextlib.suppress(Exception):
            ws.send(json.dumps({"type": "exit", "code": exit_code[0]}))
            ws.close()

    out = threading.Thread(target=pump, daemon=True)
    out.start()
    try:
        for message in ws:
            if isinstance(message, bytes):
                os.write(master, message)
                continue
            with contextlib.suppress(ValueError, TypeError, AttributeError):
                m = json.loads(message)
                if m.get("type") == "resize":
                    _resize(master, _cells(m.get("cols"), 80), _cells(m.get("rows"), 24))
    except Exception:  # noqa: BLE001 - the site closed: the shell is hung up below
        log.debug("the site closed the exec stream", exc_info=True)
    finally:
        os.write(wake_w, b"x")
        out.join()
        os.close(master)  # the shell's terminal hangs up, if it still runs
        os.close(wake_r)
        os.close(wake_w)
    if not exit_code:
        with contextlib.suppress(OSError):
            handle.wait(timeout=30)


SERVERS = {"logs": serve_logs, "stats": serve_stats, "exec": serve_exec}
