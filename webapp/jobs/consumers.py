"""Websocket of one job's output: authenticate, check access, then only relay."""

from __future__ import annotations

import json
from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer

from webapp.api.params import BadParameter, parse_int
from webapp.jobs.models import Job, visible_jobs


class JobOutputConsumer(AsyncWebsocketConsumer):
    """Send a job's stored lines after ``?after=SEQ``, then its live lines and state changes."""

    async def connect(self) -> None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=4401)
            return
        job_id = int(self.scope["url_route"]["kwargs"]["job_id"])
        try:
            after = self._after()
        except BadParameter:
            await self.close(code=4400)
            return
        job = await self._visible_job(user, job_id)
        if job is None:
            await self.close(code=4403)
            return
        self.group = job.group
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()
        # Joined first, then the backlog, so no line falls in between; a line that
        # comes both ways is sent once, because relay() skips seqs already sent.
        self.last_seq = after
        for text in await self._backlog(job_id, self.last_seq):
            await self._send_once(text)

    async def disconnect(self, code: int) -> None:
        group = getattr(self, "group", None)
        if group:
            await self.channel_layer.group_discard(group, self.channel_name)

    async def relay(self, event: dict) -> None:
        await self._send_once(event["text"])

    async def _send_once(self, text: str) -> None:
        seq = json.loads(text).get("seq")
        if seq is not None:
            if seq <= self.last_seq:
                return
            self.last_seq = seq
        await self.send(text_data=text)

    def _after(self) -> int:
        """``?after=SEQ`` read like the REST API reads it; a bad value raises ``BadParameter``."""
        query = parse_qs(self.scope.get("query_string", b"").decode(errors="replace"))
        raw = query.get("after", [""])[0]
        return parse_int(raw, "after") if raw else 0

    @database_sync_to_async
    def _visible_job(self, user: object, job_id: int) -> Job | None:
        return visible_jobs(user).filter(pk=job_id).first()

    @database_sync_to_async
    def _backlog(self, job_id: int, after: int) -> list[str]:
        job = Job.objects.get(pk=job_id)
        texts = [json.dumps(line.as_message()) for line in job.lines.filter(seq__gt=after)]
        texts.append(json.dumps({"type": "state", "state": job.state, "error": job.error}))
        return texts
