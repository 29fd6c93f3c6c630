"""The job-output websocket: signed-in users of the job's team only, same-origin only."""

import json

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.test import Client

from webapp.asgi import application
from webapp.jobs.models import Job
from webapp.jobs.publish import publish

pytestmark = pytest.mark.django_db(transaction=True)


def _session_cookie(user) -> bytes:
    client = Client()
    client.force_login(user)
    return f"sessionid={client.cookies['sessionid'].value}".encode()


def _communicator(
    job_id: int,
    *,
    cookie: bytes | None = None,
    origin: bytes = b"http://127.0.0.1",
    headers: list | None = None,
    after: int = 0,
) -> WebsocketCommunicator:
    hdrs = [(b"origin", origin), (b"host", b"127.0.0.1")]
    if cookie:
        hdrs.append((b"cookie", cookie))
    hdrs += headers or []
    return WebsocketCommunicator(application, f"/ws/jobs/{job_id}/?after={after}", headers=hdrs)


@pytest.fixture
def job_of_blue(make_team, make_user, make_host):
    blue = make_team("blue")
    alice = make_user("alice", team=blue)
    job = Job.objects.create(kind="host.check", host=make_host(), team=blue, requester=alice)
    job.log("first line")
    return job, alice


async def _close_code(comm: WebsocketCommunicator) -> int:
    """The code a refused socket is closed with (accepted first, so a real client sees it)."""
    connected, _ = await comm.connect()
    assert connected
    out = await comm.receive_output(timeout=5)
    assert out["type"] == "websocket.close", out
    return out["code"]


def _run(coro):
    from asgiref.sync import async_to_sync

    return async_to_sync(coro)()


def test_a_team_member_gets_the_backlog_then_live_lines(job_of_blue):
    job, alice = job_of_blue
    cookie = _session_cookie(alice)

    async def scenario():
        comm = _communicator(job.pk, cookie=cookie)
        connected, _ = await comm.connect()
        assert connected
        first = json.loads(await comm.receive_from())
        assert (first["type"], first["seq"], first["text"]) == ("line", 1, "first line")
        state = json.loads(await comm.receive_from())
        assert state == {"type": "state", "state": "queued", "error": "", "error_kind": ""}

        @database_sync_to_async
        def produce():
            line = job.log("live line")
            publish(job.group, line.as_message())

        await produce()
        live = json.loads(await comm.receive_from(timeout=5))
        assert (live["seq"], live["text"]) == (2, "live line")
        await comm.disconnect()

    _run(scenario)


def test_a_reconnecting_client_gets_only_what_it_missed(job_of_blue):
    job, alice = job_of_blue
    job.log("second")
    cookie = _session_cookie(alice)

    async def scenario():
        comm = _communicator(job.pk, cookie=cookie, after=1)
        assert (await comm.connect())[0]
        msg = json.loads(await comm.receive_from())
        assert (msg["seq"], msg["text"]) == (2, "second")
        await comm.disconnect()

    _run(scenario)


def test_an_anonymous_user_is_refused(job_of_blue):
    job, _ = job_of_blue

    async def scenario():
        assert await _close_code(_communicator(job.pk)) == 4401

    _run(scenario)


def test_another_teams_job_looks_exactly_like_a_missing_one(job_of_blue, make_team, make_user):
    job, _ = job_of_blue
    mallory = make_user("mallory", team=make_team("red"))
    cookie = _session_cookie(mallory)

    async def scenario():
        assert await _close_code(_communicator(job.pk, cookie=cookie)) == 4404
        assert await _close_code(_communicator(job.pk + 1000, cookie=cookie)) == 4404

    _run(scenario)


def test_a_foreign_origin_is_refused_even_with_a_valid_session(job_of_blue):
    job, alice = job_of_blue
    cookie = _session_cookie(alice)

    async def scenario():
        comm = _communicator(job.pk, cookie=cookie, origin=b"https://evil.example")
        connected, _ = await comm.connect()
        assert not connected

    _run(scenario)


def test_an_api_token_in_the_header_authenticates(job_of_blue):
    from webapp.accounts.tokens import ApiToken

    job, alice = job_of_blue
    _token, text = ApiToken.issue(alice)

    async def scenario():
        comm = _communicator(job.pk, headers=[(b"authorization", f"Token {text}".encode())])
        assert (await comm.connect())[0]
        assert json.loads(await comm.receive_from())["text"] == "first line"
        await comm.disconnect()

    _run(scenario)


def test_a_wrong_token_is_anonymous(job_of_blue):
    job, _ = job_of_blue

    async def scenario():
        comm = _communicator(job.pk, headers=[(b"authorization", b"Token not-a-token")])
        assert await _close_code(comm) == 4401

    _run(scenario)


@pytest.mark.parametrize("after", ["1e5", "0x10", "9" * 5000, "-1"])
def test_a_hostile_after_is_refused_with_4400(job_of_blue, after):
    job, alice = job_of_blue
    cookie = _session_cookie(alice)

    async def scenario():
        comm = WebsocketCommunicator(
            application,
            f"/ws/jobs/{job.pk}/?after={after}",
            headers=[
                (b"origin", b"http://127.0.0.1"),
                (b"host", b"127.0.0.1"),
                (b"cookie", cookie),
            ],
        )
        assert await _close_code(comm) == 4400

    _run(scenario)


def test_a_batch_is_relayed_line_by_line_and_a_skipped_seq_comes_from_the_database(job_of_blue):
    job, alice = job_of_blue
    cookie = _session_cookie(alice)

    async def scenario():
        comm = _communicator(job.pk, cookie=cookie, after=1)
        assert (await comm.connect())[0]
        assert json.loads(await comm.receive_from())["type"] == "state"

        @database_sync_to_async
        def produce():
            job.log("stored, its message lost")  # seq 2: in the database, never published
            stored = job.append_lines(
                [{"seq": s, "stream": "stdout", "text": f"batch {s}"} for s in (3, 4)]
            )
            publish(job.group, {"type": "lines", "lines": [x.as_message() for x in stored]})

        await produce()
        got = [json.loads(await comm.receive_from(timeout=5)) for _ in range(3)]
        assert [(m["seq"], m["text"]) for m in got] == [
            (2, "stored, its message lost"),
            (3, "batch 3"),
            (4, "batch 4"),
        ]
        await comm.disconnect()

    _run(scenario)


def test_a_state_change_comes_after_every_line_stored_before_it(job_of_blue):
    job, alice = job_of_blue
    cookie = _session_cookie(alice)

    async def scenario():
        comm = _communicator(job.pk, cookie=cookie, after=1)
        assert (await comm.connect())[0]
        await comm.receive_from()

        @database_sync_to_async
        def finish():
            job.log("last words")
            publish(job.group, {"type": "state", "state": "succeeded"})

        await finish()
        line = json.loads(await comm.receive_from(timeout=5))
        state = json.loads(await comm.receive_from(timeout=5))
        assert (line["text"], state["state"]) == ("last words", "succeeded")
        await comm.disconnect()

    _run(scenario)


def test_a_quiet_socket_gets_keepalives(job_of_blue, monkeypatch):
    from webapp.jobs import consumers

    monkeypatch.setattr(consumers, "KEEPALIVE_SECONDS", 0.2)
    job, alice = job_of_blue
    cookie = _session_cookie(alice)

    async def scenario():
        comm = _communicator(job.pk, cookie=cookie, after=1)
        assert (await comm.connect())[0]
        assert json.loads(await comm.receive_from())["type"] == "state"
        assert json.loads(await comm.receive_from(timeout=5)) == {"type": "keepalive"}
        await comm.disconnect()

    _run(scenario)
