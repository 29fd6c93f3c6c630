"""Websocket of one job's output: authenticate, check access, then relay lines in order.

A client opens ``/ws/jobs/ID/?after=SEQ`` and gets every stored line with a
larger sequence number, the job's state, then live lines and state changes,
each line exactly once and in order. Lines travel through the channel layer
as published, but the database is the truth: a line that skips ahead of the
last one sent (a message the layer dropped or delayed) first brings the
missing ones from the database, and every state change is preceded by what
was stored before it. A reconnecting client asks with ``after`` = the last
seq it showed, so it gets no gap and no repeat.

Refusals are told apart by close code, after the handshake (a close before
it would reach the client as a bare HTTP 403): 4401 no or bad credentials,
4404 no such job *or* another team's (the two look exactly alike), 4400 a bad
``after``. A socket quiet for ``KEEPALIVE_SECONDS`` gets a ``keepalive``
message, so proxies that close idle connections keep it open and the page
can tell a live socket from a dead one.
"""

from __future__ import annotations

import asyncio
import json
import time
from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer

from webapp.accounts.access_watch import FollowsAccess, fresh_user
from webapp.api.params import BadParameter, parse_int
from webapp.jobs.models import Job, JobLine, group_for
from webapp.permissions import VIEW

CLOSE_BAD_REQUEST = 4400
CLOSE_UNAUTHENTICATED = 4401
CLOSE_NOT_FOUND = 4404
#: silence after which a socket gets a keepalive message (under the 60 s of common proxies)
KEEPALIVE_SECONDS = 20.0
#: stored lines read from the database at a time
PAGE = 1000


class JobOutputConsumer(FollowsAccess, AsyncWebsocketConsumer):
    """Send a job's stored lines after ``?after=SEQ``, its state, then live lines and states."""

    group: str | None = None
    last_seq = 0
    _keepalive: asyncio.Task | None = None

    async def connect(self) -> None:
        await self.accept()
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        try:
            after = self._after()
        except BadParameter:
            await self.close(code=CLOSE_BAD_REQUEST)
            return
        self.job_id = int(self.scope["url_route"]["kwargs"]["job_id"])
        if not await self._may_view(user, self.job_id):
            await self.close(code=CLOSE_NOT_FOUND)
            return
        # Joined first, then the stored lines, so no line falls in between; a line
        # that comes both ways is sent once, because only seqs past last_seq are sent.
        self.group = group_for(self.job_id)
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.follow_access(user)
        self.last_seq = after
        self.last_sent = time.monotonic()
        await self._catch_up()
        await self._send_json(await self._state())
        self._keepalive = asyncio.ensure_future(self._keep_alive())

    async def disconnect(self, code: int) -> None:
        if self._keepalive is not None:
            self._keepalive.cancel()
        if self.group:
            await self.channel_layer.group_discard(self.group, self.channel_name)
        await self.unfollow_access()

    async def access_changed(self, event: dict) -> None:
        """The user's access changed (``webapp.accounts.access_watch``): still theirs?"""
        if not await self._still_visible():
            await self.close(code=CLOSE_NOT_FOUND)

    @database_sync_to_async
    def _still_visible(self) -> bool:
        user = fresh_user(self.scope)
        return user is not None and Job.objects.for_user(user, VIEW).filter(pk=self.job_id).exists()

    async def relay(self, event: dict) -> None:
        """A message published for the job's group (``webapp.jobs.publish``)."""
        message = json.loads(event["text"])
        if message.get("type") == "line":
            await self._send_line(message)
        elif message.get("type") == "lines":
            for line in message["lines"]:
                await self._send_line(line)
        else:
            await self._catch_up()  # what was stored before the state changed comes first
            await self._send_json(message)

    async def _send_line(self, line: dict) -> None:
        seq = line["seq"]
        if seq <= self.last_seq:
            return
        if seq > self.last_seq + 1:
            await self._catch_up(before=seq)
        await self._send_json(line)
        self.last_seq = seq

    async def _catch_up(self, before: int | None = None) -> None:
        """Send the stored lines after last_seq (and before BEFORE), in pages."""
        while True:
            page = await self._stored(self.last_seq, before)
            for line in page:
                await self._send_json(line)
                self.last_seq = line["seq"]
            if len(page) < PAGE:
                return

    async def _send_json(self, message: dict) -> None:
        self.last_sent = time.monotonic()
        await self.send(text_data=json.dumps(message))

    async def _keep_alive(self) -> None:
        while True:
            await asyncio.sleep(max(0.0, self.last_sent + KEEPALIVE_SECONDS - time.monotonic()))
            if time.monotonic() - self.last_sent >= KEEPALIVE_SECONDS:
                await self._send_json({"type": "keepalive"})

    def _after(self) -> int:
        """``?after=SEQ`` read like the REST API reads it; a bad value raises ``BadParameter``."""
        query = parse_qs(self.scope.get("query_string", b"").decode(errors="replace"))
        raw = query.get("after", [""])[0]
        return parse_int(raw, "after") if raw else 0

    @database_sync_to_async
    def _may_view(self, user: object, job_id: int) -> bool:
        return Job.objects.for_user(user, VIEW).filter(pk=job_id).exists()

    @database_sync_to_async
    def _stored(self, after: int, before: int | None) -> list[dict]:
        lines = JobLine.objects.filter(job_id=self.job_id, seq__gt=after)
        if before is not None:
            lines = lines.filter(seq__lt=before)
        return [line.as_message() for line in lines.order_by("seq")[:PAGE]]

    @database_sync_to_async
    def _state(self) -> dict:
        job = Job.objects.only("state", "error", "error_kind").get(pk=self.job_id)
        return {
            "type": "state",
            "state": job.state,
            "error": job.error,
            "error_kind": job.error_kind,
        }
