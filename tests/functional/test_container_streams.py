"""The site's two ends of a container's stream: who may open one, and how the host's socket is
paired with the browser's (the host's side is played here; the real one is in
tests/e2e/test_container_streams_e2e.py). The request to the host is caught at the broker."""

from __future__ import annotations

import json

import pytest
from asgiref.sync import async_to_sync
from channels.testing import WebsocketCommunicator
from django.test import Client

from webapp.asgi import application
from webapp.audit.models import AuditEntry
from webapp.fleet import broker, credentials
from webapp.inventory.models import Container

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def sent(monkeypatch):
    """The stream requests the site pushed to hosts' lists, in order."""
    requests: list[tuple[str, dict]] = []
    monkeypatch.setattr(broker, "send_stream", lambda host, env: requests.append((host, env)))
    return requests


@pytest.fixture
def blue(make_team, make_user, make_host, grant):
    team = make_team("blue")
    token = credentials.issue_enrollment_token("h1")
    host, credential = credentials.enroll(token, "h1", {"kernel": "test"})
    grant(team, host)
    box = Container.objects.create(host=host, team=team, engine_id="e" * 64, name="web")
    return {
        "team": team,
        "host": host,
        "credential": credential,
        "container": box,
        "operator": make_user("op", team=team),
        "viewer": make_user("viewer", team=team, role="viewer"),
    }


def _cookie(user) -> bytes:
    client = Client()
    client.force_login(user)
    return f"sessionid={client.cookies['sessionid'].value}".encode()


def _browser(path: str, cookie: bytes | None = None) -> WebsocketCommunicator:
    headers = [(b"origin", b"http://127.0.0.1"), (b"host", b"127.0.0.1")]
    if cookie is not None:
        headers.append((b"cookie", cookie))
    return WebsocketCommunicator(application, path, headers=headers)


def _host(stream_id: str, credential: str) -> WebsocketCommunicator:
    headers = [(b"host", b"127.0.0.1"), (b"authorization", f"Host {credential}".encode())]
    return WebsocketCommunicator(application, f"/ws/host/streams/{stream_id}/", headers=headers)


async def _closed_with(comm: WebsocketCommunicator) -> int:
    """The close code of a socket (text messages before it skipped)."""
    while True:
        out = await comm.receive_output(timeout=5)
        if out["type"] == "websocket.close":
            return out.get("code", 1000)  # a close without a code is a normal one


def _refused(path: str, user=None) -> int:
    cookie = _cookie(user) if user is not None else None

    async def go() -> int:
        comm = _browser(path, cookie)
        connected, _ = await comm.connect()
        assert connected
        return await _closed_with(comm)

    return async_to_sync(go)()


def test_who_may_open_which_stream(blue, make_user, make_team, sent):
    pk = blue["container"].pk
    stranger = make_user("stranger", team=make_team("red"))
    for kind in ("logs", "stats", "exec"):
        assert _refused(f"/ws/containers/{pk}/{kind}/") == 4401
        assert _refused(f"/ws/containers/{pk}/{kind}/", stranger) == 4404
        assert _refused(f"/ws/containers/999999/{kind}/", blue["operator"]) == 4404
    assert _refused(f"/ws/containers/{pk}/exec/", blue["viewer"]) == 4403
    assert _refused(f"/ws/containers/{pk}/logs/?tail=1e5", blue["viewer"]) == 4400
    assert _refused(f"/ws/containers/{pk}/exec/?cols=0", blue["operator"]) == 4400
    Container.objects.filter(pk=pk).update(engine_id="pending-7")
    assert _refused(f"/ws/containers/{pk}/logs/", blue["operator"]) == 4409
    assert sent == [], "no refused socket asked a host for anything"


def test_the_host_is_paired_with_the_browser_once_and_relays_both_ways(blue, sent):
    pk = blue["container"].pk
    other_credential = credentials.enroll(credentials.issue_enrollment_token("h2"), "h2", {})[1]
    cookie = _cookie(blue["operator"])

    async def scenario() -> None:
        browser = _browser(f"/ws/containers/{pk}/exec/?cols=100&rows=30", cookie)
        assert (await browser.connect())[0]
        await browser.send_to(bytes_data=b"early keys\n")  # before the host dialled in: kept
        for _ in range(50):
            if sent:
                break
            await browser.receive_nothing(timeout=0.05)
        assert sent, await browser.receive_output(timeout=1)
        (host_name, request) = sent[0]
        assert host_name == "h1"
        assert (request["kind"], request["container"], request["params"]) == (
            "exec",
            "e" * 64,
            {"cols": 100, "rows": 30},
        )
        assert request["type"] == "stream" and request["sig"]

        intruder = _host(request["stream"], other_credential)
        assert (await intruder.connect())[0]
        assert await _closed_with(intruder) == 4404, "another host's credential claims nothing"

        host = _host(request["stream"], blue["credential"])
        assert (await host.connect())[0]
        assert json.loads(await host.receive_from(timeout=5)) == {"type": "paired"}, (
            "the host is told it holds the stream before anything is relayed"
        )
        assert await host.receive_from(timeout=5) == b"early keys\n"
        again = _host(request["stream"], blue["credential"])
        assert (await again.connect())[0]
        assert await _closed_with(again) == 4404, "a stream id is claimed once"

        await host.send_to(bytes_data=b"/ # ")
        assert await browser.receive_from(timeout=5) == b"/ # "
        await browser.send_to(text_data=json.dumps({"type": "resize", "cols": 120, "rows": 40}))
        assert json.loads(await host.receive_from(timeout=5)) == {
            "type": "resize",
            "cols": 120,
            "rows": 40,
        }
        await browser.send_to(text_data=json.dumps({"type": "resize", "cols": 10**6, "rows": 1}))
        assert await _closed_with(browser) == 4400
        await browser.disconnect()  # what the server tells the app once the socket closed
        assert await _closed_with(host) == 1000, "the browser gone, the host's socket ends"

    async_to_sync(scenario)()
    entry = AuditEntry.objects.get(action="container.exec")
    assert (entry.actor_name, entry.object_id) == ("op", str(pk))


def test_the_hosts_normal_end_closes_the_browsers_socket_normally(blue, sent):
    pk = blue["container"].pk
    cookie = _cookie(blue["viewer"])

    async def scenario() -> None:
        browser = _browser(f"/ws/containers/{pk}/logs/?tail=5", cookie)
        assert (await browser.connect())[0]
        for _ in range(50):
            if sent:
                break
            await browser.receive_nothing(timeout=0.05)
        assert sent[0][1]["params"] == {"tail": 5, "follow": True}
        host = _host(sent[0][1]["stream"], blue["credential"])
        assert (await host.connect())[0]
        lines = {"type": "logs", "lines": [{"stream": "stdout", "time": "t", "text": "a\n"}]}
        await host.send_to(text_data=json.dumps(lines))
        assert json.loads(await browser.receive_from(timeout=5)) == lines
        await host.disconnect(code=1000)
        assert await _closed_with(browser) == 1000

    async_to_sync(scenario)()


def test_a_host_that_does_not_dial_in_is_told_of_within_the_wait(
    blue, sent, monkeypatch, api_client
):
    from webapp.streams import requests as stream_requests

    monkeypatch.setattr(stream_requests, "STREAM_WAIT", 1)
    pk = blue["container"].pk
    assert _refused(f"/ws/containers/{pk}/stats/", blue["viewer"]) == 4503
    r = api_client(blue["viewer"]).get(f"/api/v1/containers/{pk}/logs/?tail=3")
    assert r.status_code == 503 and r.json()["kind"] == "host_unavailable", r.content
    assert [env["kind"] for _, env in sent] == ["stats", "logs"]
    assert sent[1][1]["params"] == {"tail": 3, "follow": False}
