"""Refuse an HTTP body over the site's largest upload before Django spools it to disk.

Django's ASGI handler reads a whole request body into a temporary file before
any view runs, so a view's own limit (``webapp.inventory.uploads``) comes
after the disk has taken it all. This wrapper answers 413 at once when the
declared length is over ``WHARF_UPLOAD_MAX_BYTES`` (plus room for a
multipart form's other fields), and cuts off a body without a length as soon
as it has sent that much: Django then sees the client gone and answers nothing
more.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from django.conf import settings

#: room for a multipart form's boundaries and other fields beside its one file
FORM_SLACK = 1024 * 1024

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict]]
Send = Callable[[dict], Awaitable[None]]


def limit() -> int:
    return settings.WHARF_UPLOAD_MAX_BYTES + FORM_SLACK


async def _refuse(send: Send, most: int) -> None:
    body = json.dumps(
        {"detail": f"request body is larger than {most} bytes", "kind": "invalid"}
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class BodyLimit:
    """ASGI middleware: bodies of at most ``limit()`` bytes reach the app."""

    def __init__(self, app: Callable) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        most = limit()
        declared = dict(scope.get("headers") or []).get(b"content-length", b"")
        if declared.isdigit() and int(declared) > most:
            return await _refuse(send, most)
        received = 0
        refused = False

        async def counted() -> dict:
            nonlocal received, refused
            if refused:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > most:
                    refused = True
                    await _refuse(send, most)
                    return {"type": "http.disconnect"}
            return message

        return await self.app(scope, counted, send)
