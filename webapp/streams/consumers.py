"""The two ends of a stream on the site: the browser's socket and the host's.

``/ws/containers/ID/logs/?tail=N``, ``/ws/containers/ID/stats/`` and
``/ws/containers/ID/exec/?cols=C&rows=R`` authenticate the person, find the
container among those they may see (exec: act on), then ask its host for the
stream and relay what comes back. The host dials ``/ws/host/streams/SID/``
with its credential; that consumer claims the one-time id and pairs with the
browser's consumer through the channel layer.

What the browser gets is the host's: JSON text messages (``logs`` with
``lines``, ``stats`` samples, ``exit`` with the code, ``error``) and, for
exec, the terminal's output as binary frames. What it sends (exec only):
keystrokes as binary frames, or JSON ``{"type": "input", "data": …}`` and
``{"type": "resize", "cols", "rows"}``, checked here before they go on.

Close codes as the other sockets': 4401 not signed in (or not a host), 4404
no such container or not yours (or an unknown stream id), 4403 may see but
not run a shell in it, 4400 a bad parameter or message, 4409 the container
is not made yet, 4503 its host is unreachable, did not answer in time or
broke off. The stream's normal end (the container stopped, the shell exited)
is a 1000. A quiet socket gets ``{"type": "keepalive"}`` now and then, as the
other sockets do.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from channels.exceptions import ChannelFull
from channels.generic.websocket import AsyncWebsocketConsumer

from webapp.accounts.access_watch import FollowsAccess, fresh_user
from webapp.api.params import BadParameter, parse_int
from webapp.audit.services import record
from webapp.fleet.choices import HostState
from webapp.inventory.models import Container
from webapp.inventory.services import PENDING
from webapp.jobs.consumers import (
    CLOSE_BAD_REQUEST,
    CLOSE_NOT_FOUND,
    CLOSE_UNAUTHENTICATED,
    KEEPALIVE_SECONDS,
)
from webapp.permissions import RUN, VIEW, permits
from webapp.streams import requests

log = logging.getLogger(__name__)
CLOSE_FORBIDDEN = 4403
CLOSE_CONFLICT = 4409
CLOSE_UNAVAILABLE = 4503
#: the most a browser may type in one message, and buffer before its host dials in
MAX_INPUT = 64 * 1024
#: a terminal's largest side, in cells
MAX_CELLS = 1000
#: what an exec console runs (the host's ``worker.streams.SHELL``; recorded in the audit log)
SHELL = ["/bin/sh"]


async def send_to(layer: object, channel: str, message: dict, tries: int = 200) -> None:
    """Send MESSAGE to CHANNEL, waiting while it is full: a slow reader slows the writer
    (the host's socket is not read meanwhile) rather than losing output."""
    for _ in range(tries):
        try:
            await layer.send(channel, message)  # type: ignore[attr-defined]
            return
        except ChannelFull:
            await asyncio.sleep(0.05)
    raise ChannelFull(channel)


def query(scope: dict) -> dict[str, str]:
    raw = parse_qs(scope.get("query_string", b"").decode(errors="replace"))
    return {k: v[0] for k, v in raw.items()}


def parse_tail(raw: str | None) -> int | None:
    """``tail`` as ``docker logs --tail`` takes it: a whole number, or ``all`` (None)."""
    if raw in (None, "", "all"):
        return None
    return parse_int(raw, "tail")


class ContainerStreamConsumer(FollowsAccess, AsyncWebsocketConsumer):
    """The browser's end: check, ask the host, relay. Subclasses name the kind."""

    kind = ""
    action = VIEW
    peer: str | None = None
    ended = False
    _waiting: asyncio.Task | None = None
    _keepalive: asyncio.Task | None = None
    last_sent = 0.0

    async def connect(self) -> None:
        self.buffered: list[dict] = []
        await self.accept()
        self.last_sent = time.monotonic()
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        try:
            params = self.params(query(self.scope))
        except BadParameter as exc:
            await self._fail(CLOSE_BAD_REQUEST, str(exc))
            return
        pk = int(self.scope["url_route"]["kwargs"]["container_id"])
        container, code = await self._container(user, pk)
        if container is None:
            await self._fail(code, "")
            return
        self.container_pk = pk
        await self.follow_access(user)
        try:
            await database_sync_to_async(requests.request_stream)(
                container.host, container.engine_id, self.kind, params, self.channel_name
            )
        except Exception as exc:  # noqa: BLE001 - the broker is away: say so, keep serving
            log.warning("asking host %s for a stream failed", container.host.name, exc_info=True)
            await self._fail(CLOSE_UNAVAILABLE, f"the host cannot be asked now: {exc}")
            return
        self._waiting = asyncio.ensure_future(self._wait_for_host())
        self._keepalive = asyncio.ensure_future(self._keep_alive())

    def params(self, q: dict[str, str]) -> dict:
        """What the host is asked with, from the query; a bad value raises BadParameter."""
        return {}

    async def _fail(self, code: int, error: str) -> None:
        if error:
            await self.send(text_data=json.dumps({"type": "error", "error": error}))
        await self.close(code=code)

    async def send(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        self.last_sent = time.monotonic()
        await super().send(text_data=text_data, bytes_data=bytes_data)

    async def _keep_alive(self) -> None:
        while True:
            await asyncio.sleep(max(0.0, self.last_sent + KEEPALIVE_SECONDS - time.monotonic()))
            if time.monotonic() - self.last_sent >= KEEPALIVE_SECONDS:
                await self.send(text_data=json.dumps({"type": "keepalive"}))

    async def _wait_for_host(self) -> None:
        await asyncio.sleep(requests.STREAM_WAIT)
        if self.peer is None:
            await self._fail(CLOSE_UNAVAILABLE, "the host did not answer in time")

    async def access_changed(self, event: dict) -> None:
        """The user's access changed (``webapp.accounts.access_watch``): a container no
        longer theirs (or an action no longer allowed) ends the stream, the host's end too."""
        code = await self._recheck()
        if code:
            await self._fail(code, "")

    @database_sync_to_async
    def _recheck(self) -> int:
        user = fresh_user(self.scope)
        if user is None:
            return CLOSE_NOT_FOUND
        code = self._allowed(user, self.container_pk)[1]
        return code if code in (CLOSE_NOT_FOUND, CLOSE_FORBIDDEN) else 0  # not an access matter

    @database_sync_to_async
    def _container(self, user: object, pk: int) -> tuple[Container | None, int]:
        found, code = self._allowed(user, pk)
        if found is not None and self.kind == "exec":
            record("container.exec", found, actor=user, after={"command": SHELL})
        return found, code

    def _allowed(self, user: object, pk: int) -> tuple[Container | None, int]:
        """The container when USER may still do this stream's action on it, else a close code."""
        found = Container.objects.for_user(user, VIEW).select_related("host").filter(pk=pk).first()
        if found is None:
            return None, CLOSE_NOT_FOUND
        if self.action != VIEW and not permits(user, found, self.action):
            return None, CLOSE_FORBIDDEN
        if found.engine_id.startswith(PENDING):
            return None, CLOSE_CONFLICT
        if found.host.state == HostState.UNREACHABLE:
            return None, CLOSE_UNAVAILABLE
        return found, 0

    # --- from the host's consumer -------------------------------------------------------

    async def stream_attached(self, event: dict) -> None:
        self.peer = event["channel"]
        if self._waiting is not None:
            self._waiting.cancel()
        for message in self.buffered:
            await send_to(self.channel_layer, self.peer, message)
        self.buffered = []

    async def stream_data(self, event: dict) -> None:
        await self.send(text_data=event.get("text"), bytes_data=event.get("bytes"))

    async def stream_end(self, event: dict) -> None:
        self.ended = True
        if event.get("code", 1000) == 1000:
            await self.close()
        else:
            await self._fail(CLOSE_UNAVAILABLE, "the host's stream broke off")

    # --- to the host ------------------------------------------------------------------

    async def to_host(self, message: dict) -> None:
        if self.peer is not None:
            await send_to(self.channel_layer, self.peer, message)
            return
        if sum(len(m.get("bytes") or b"") for m in self.buffered) > MAX_INPUT:
            await self._fail(CLOSE_BAD_REQUEST, "too much input before the host answered")
            return
        self.buffered.append(message)

    async def disconnect(self, code: int) -> None:
        await self.unfollow_access()
        for task in (self._waiting, self._keepalive):
            if task is not None:
                task.cancel()
        if self.peer is not None and not self.ended:
            # if its channel is full, the host's socket ends with the stream's reader anyway
            with contextlib.suppress(ChannelFull):
                await send_to(self.channel_layer, self.peer, {"type": "stream.close"}, tries=1)


class LogsConsumer(ContainerStreamConsumer):
    """``/ws/containers/ID/logs/?tail=N``: the last N lines (all by default), then new ones."""

    kind = "logs"

    def params(self, q: dict[str, str]) -> dict:
        return {"tail": parse_tail(q.get("tail")), "follow": True}


class StatsConsumer(ContainerStreamConsumer):
    """``/ws/containers/ID/stats/``: a sample a second, as ``wharf stats`` computes it."""

    kind = "stats"


class ExecConsumer(ContainerStreamConsumer):
    """``/ws/containers/ID/exec/?cols=C&rows=R``: a shell on a terminal of its own."""

    kind = "exec"
    action = RUN

    def params(self, q: dict[str, str]) -> dict:
        cols = parse_int(q.get("cols") or "80", "cols", minimum=1, maximum=MAX_CELLS)
        rows = parse_int(q.get("rows") or "24", "rows", minimum=1, maximum=MAX_CELLS)
        return {"cols": cols, "rows": rows}

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if bytes_data is not None:
            if len(bytes_data) > MAX_INPUT:
                await self._fail(CLOSE_BAD_REQUEST, "an input message is too large")
                return
            await self.to_host({"type": "stream.input", "bytes": bytes_data})
            return
        message = self._checked(text_data or "")
        if message is None:
            await self._fail(CLOSE_BAD_REQUEST, "messages are input or resize")
            return
        if message["type"] == "input":
            await self.to_host({"type": "stream.input", "bytes": message["data"].encode()})
        else:
            await self.to_host({"type": "stream.input", "text": json.dumps(message)})

    @staticmethod
    def _checked(text: str) -> dict | None:
        if len(text) > MAX_INPUT:
            return None
        try:
            message = json.loads(text)
        except ValueError:
            return None
        if not isinstance(message, dict):
            return None
        if message.get("type") == "input" and isinstance(message.get("data"), str):
            return {"type": "input", "data": message["data"]}
        if message.get("type") == "resize":
            cols, rows = message.get("cols"), message.get("rows")
            if all(type(n) is int and 1 <= n <= MAX_CELLS for n in (cols, rows)):
                return {"type": "resize", "cols": cols, "rows": rows}
        return None


class HostStreamConsumer(AsyncWebsocketConsumer):
    """The host's end, ``/ws/host/streams/SID/``: its credential, a stream asked of it, once."""

    peer: str | None = None
    ended = False

    async def connect(self) -> None:
        await self.accept()
        host = await self._host()
        if host is None:
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        stream_id = self.scope["url_route"]["kwargs"]["stream_id"]
        self.peer = await database_sync_to_async(requests.claim)(stream_id, host)
        if self.peer is None:
            await self.close(code=CLOSE_NOT_FOUND)
            return
        # the host starts nothing (a shell is a process in the container) before this word:
        # a request replayed or not claimed ends at the 4404 above with nothing run
        await self.send(text_data=json.dumps({"type": "paired"}))
        await send_to(
            self.channel_layer, self.peer, {"type": "stream.attached", "channel": self.channel_name}
        )

    @database_sync_to_async
    def _host(self) -> object:
        from webapp.fleet.credentials import authenticate

        headers = dict(self.scope.get("headers", []))
        scheme, _, credential = (
            headers.get(b"authorization", b"").decode(errors="replace").partition(" ")
        )
        if scheme != "Host" or not credential:
            return None
        return authenticate(credential.strip())

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if self.peer is not None:
            await send_to(
                self.channel_layer,
                self.peer,
                {"type": "stream.data", "text": text_data, "bytes": bytes_data},
            )

    async def stream_input(self, event: dict) -> None:
        await self.send(text_data=event.get("text"), bytes_data=event.get("bytes"))

    async def stream_close(self, event: dict) -> None:
        self.ended = True
        await self.close()

    async def disconnect(self, code: int) -> None:
        if self.peer is not None and not self.ended:
            with contextlib.suppress(ChannelFull):
                await send_to(
                    self.channel_layer, self.peer, {"type": "stream.end", "code": code}, tries=20
                )
