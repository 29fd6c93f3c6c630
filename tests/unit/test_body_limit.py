"""The ASGI body limit: a body over the largest upload is refused before the app reads it."""

from __future__ import annotations

import asyncio

import pytest

from webapp import body_limit


@pytest.fixture(autouse=True)
def small_limit(settings, monkeypatch):
    settings.WHARF_UPLOAD_MAX_BYTES = 1000
    monkeypatch.setattr(body_limit, "FORM_SLACK", 0)


def run(headers: list, chunks: list[bytes]) -> tuple[list[dict], dict]:
    sent: list[dict] = []
    seen = {"called": False, "body": b"", "disconnected": False}
    queue = [
        {"type": "http.request", "body": c, "more_body": i < len(chunks) - 1}
        for i, c in enumerate(chunks)
    ]

    async def receive() -> dict:
        return queue.pop(0) if queue else {"type": "http.disconnect"}

    async def send(message: dict) -> None:
        sent.append(message)

    async def app(scope, receive, send) -> None:
        seen["called"] = True
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                seen["disconnected"] = True
                return
            seen["body"] += message["body"]
            if not message.get("more_body"):
                break
        await send({"type": "http.response.start", "status": 202, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    scope = {"type": "http", "path": "/api/v1/images/build/", "headers": headers}
    asyncio.run(body_limit.BodyLimit(app)(scope, receive, send))
    return sent, seen


def test_a_declared_length_over_the_limit_is_refused_unread():
    sent, seen = run([(b"content-length", b"5000")], [b"x" * 5000])
    assert sent[0]["status"] == 413 and not seen["called"]
    assert b"larger than 1000 bytes" in sent[1]["body"]


def test_a_body_without_a_length_is_cut_off_past_the_limit():
    sent, seen = run([], [b"x" * 600, b"x" * 600, b"x" * 600])
    assert [m["status"] for m in sent if "status" in m] == [413]
    assert seen["disconnected"] and len(seen["body"]) == 600


def test_a_body_within_the_limit_reaches_the_app():
    sent, seen = run([(b"content-length", b"900")], [b"x" * 500, b"x" * 400])
    assert sent[0]["status"] == 202 and len(seen["body"]) == 900
