"""``GET /api/v1/containers/ID/logs/?tail=N``: a container's logs, fetched from its host now.

The same path as the live socket's (``webapp.streams.consumers``), without
following: the request's thread asks the host for a stream on a channel of
its own and reads it to its end. ``?download=1`` answers the lines as a text
file, as ``docker logs`` prints them.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import time

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.http import HttpResponse
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from webapp.api.params import BadParameter, query_bool
from webapp.api.schema import errors
from webapp.errors import Conflict, NotFound, Unavailable
from webapp.fleet.choices import HostState
from webapp.inventory.models import Container
from webapp.inventory.services import PENDING
from webapp.streams import requests
from webapp.streams.consumers import parse_tail, send_to

#: the most a logs answer holds; past it the answer says it was cut
MAX_BYTES = 16 * 1024 * 1024
#: how long the host may take to send everything once it answered
READ_SECONDS = 60

LogLine = inline_serializer(
    "LogLine",
    {
        "stream": serializers.ChoiceField(["stdout", "stderr"]),
        "time": serializers.CharField(help_text="when it was written, RFC 3339"),
        "text": serializers.CharField(help_text="the line, with its newline"),
    },
    many=True,
)
Logs = inline_serializer(
    "ContainerLogs",
    {
        "container": serializers.IntegerField(),
        "lines": LogLine,
        "truncated": serializers.BooleanField(help_text=f"cut at {MAX_BYTES} bytes"),
    },
)


def fetch_logs(container: Container, tail: int | None) -> tuple[list[dict], bool]:
    """The container's log lines (the last TAIL, or all) as its host has them now."""
    if container.engine_id.startswith(PENDING):
        raise Conflict("the container is not made yet")
    if container.host.state == HostState.UNREACHABLE:
        raise Unavailable(f"host {container.host.name} is unreachable")
    return async_to_sync(_read)(container, tail)


async def _read(container: Container, tail: int | None) -> tuple[list[dict], bool]:
    layer = get_channel_layer()
    # A plain channel of its own, read with one blocking pop: a process-specific one
    # (new_channel) would be read through the receive loop this process's sockets share.
    channel = f"streams.read.{secrets.token_hex(16)}"
    await asyncio.to_thread(
        requests.request_stream,
        container.host,
        container.engine_id,
        "logs",
        {"tail": tail, "follow": False},
        channel,
    )
    lines: list[dict] = []
    size, peer = 0, None
    deadline = time.monotonic() + requests.STREAM_WAIT
    try:
        while True:
            try:
                event = await asyncio.wait_for(
                    layer.receive(channel), max(0.1, deadline - time.monotonic())
                )
            except TimeoutError:
                raise Unavailable(f"host {container.host.name} did not answer in time") from None
            if event["type"] == "stream.attached":
                peer = event["channel"]
                deadline = time.monotonic() + READ_SECONDS
            elif event["type"] == "stream.end":
                peer = None
                return lines, False
            elif event["type"] == "stream.data" and event.get("text"):
                message = json.loads(event["text"])
                if message.get("type") == "error":
                    error = NotFound if message.get("kind") == "not_found" else Conflict
                    raise error(message.get("error") or "the host could not read the logs")
                for line in message.get("lines") or []:
                    size += len(line.get("text") or "")
                    if size > MAX_BYTES:
                        return lines, True
                    lines.append(line)
    finally:
        if peer is not None:  # cut short: the host's reader stops
            await send_to(layer, peer, {"type": "stream.close"}, tries=1)


class ContainerLogs:
    """The logs action of the containers' viewset (``get_object`` is the viewset's)."""

    @extend_schema(
        parameters=[
            OpenApiParameter("tail", str, description="the last N lines, or all (default)"),
            OpenApiParameter("download", bool, description="answer as a text file"),
        ],
        responses={200: Logs, **errors(400, 401, 404, 409, 503)},
    )
    @action(detail=True, methods=["get"], filter_backends=[])
    def logs(self, request: Request, pk: str | None = None) -> Response | HttpResponse:
        """The container's logs as its host has them now (``docker logs --tail N``)."""
        container = self.get_object()  # type: ignore[attr-defined]
        try:
            tail = parse_tail(request.query_params.get("tail"))
        except BadParameter as exc:
            raise ValidationError({"tail": [str(exc)]}) from exc
        lines, truncated = fetch_logs(container, tail)
        if query_bool(request, "download"):
            answer = HttpResponse(
                "".join(line.get("text") or "" for line in lines),
                content_type="text/plain; charset=utf-8",
            )
            answer["Content-Disposition"] = f'attachment; filename="{container.name}.log"'
            return answer
        return Response({"container": container.pk, "lines": lines, "truncated": truncated})
