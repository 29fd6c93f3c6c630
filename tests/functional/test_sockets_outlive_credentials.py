"""An open socket does not outlive the credential it opened with.

The attack: someone holds a stolen session or token and keeps a socket open (the
lists, a job's output, a console). The owner or an admin answers the way Django
answers: the password is reset (every other session is signed out), the token
revoked, the session signed out. HTTP requests stop at once; the sockets opened
with that credential must close too, while the user's other sockets stay open.
"""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta

import pytest
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.contrib.sessions.models import Session
from django.test import Client
from django.utils import timezone

from webapp.accounts.tokens import ApiToken
from webapp.asgi import application
from webapp.jobs.services import do_create_job

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def world(make_team, make_user, make_host, grant, monkeypatch):
    monkeypatch.setattr("webapp.jobs.services.enqueue", lambda job: None)
    a = make_team("a")
    ha = make_host("ha")
    grant(a, ha)
    alice, root = make_user("alice", team=a), make_user("root", staff=True)
    job = do_create_job(root, "host.check", ha, a)
    return alice, job


def _signed_in(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


def _cookie_socket(client: Client, path: str) -> WebsocketCommunicator:
    cookie = f"sessionid={client.cookies['sessionid'].value}".encode()
    headers = [(b"origin", b"http://127.0.0.1"), (b"host", b"127.0.0.1"), (b"cookie", cookie)]
    return WebsocketCommunicator(application, path, headers=headers)


def _token_socket(text: str, path: str) -> WebsocketCommunicator:
    headers = [(b"host", b"127.0.0.1"), (b"authorization", f"Token {text}".encode())]
    return WebsocketCommunicator(application, path, headers=headers)


async def _open(comm: WebsocketCommunicator) -> None:
    assert (await comm.connect())[0]
    first = json.loads(await comm.receive_from())
    assert first["type"] in ("subscribed", "state"), first


async def _closed_with(comm: WebsocketCommunicator) -> int | None:
    """The close code the socket got, or None while it stays open."""
    while not await comm.receive_nothing(timeout=1):
        out = await comm.receive_output(timeout=1)
        if out["type"] == "websocket.close":
            return out.get("code", 1000)
    return None


async def _closes_within(comm: WebsocketCommunicator, seconds: float) -> int | None:
    """The close code the socket gets within SECONDS (other messages passed over)."""
    deadline = asyncio.get_running_loop().time() + seconds
    while (left := deadline - asyncio.get_running_loop().time()) > 0:
        try:
            out = await comm.receive_output(timeout=left)
        except TimeoutError:
            return None
        if out["type"] == "websocket.close":
            return out.get("code", 1000)
    return None


def test_a_password_reset_closes_the_sockets_of_the_stolen_session(world):
    alice, job = world
    thief = _signed_in(alice)
    sockets = [
        _cookie_socket(thief, "/ws/inventory/"),
        _cookie_socket(thief, f"/ws/jobs/{job.pk}/"),
    ]

    @database_sync_to_async
    def reset() -> None:  # as the admin's password form and manage.py changepassword do
        alice.set_password("a-new-password-for-alice")
        alice.save()

    async def scenario() -> list[int | None]:
        for comm in sockets:
            await _open(comm)
        await reset()
        return [await _closed_with(comm) for comm in sockets]

    assert async_to_sync(scenario)() == [4404, 4404]
    assert thief.get("/api/v1/jobs/").status_code in (401, 403)  # HTTP agrees


def test_a_revoked_token_closes_its_socket_and_spares_the_session(world):
    alice, job = world
    _, text = ApiToken.issue(alice, "leaked")
    browser = _signed_in(alice)
    by_token = _token_socket(text, "/ws/inventory/")
    by_cookie = _cookie_socket(browser, "/ws/inventory/")

    async def scenario() -> tuple[int | None, int | None]:
        await _open(by_token)
        await _open(by_cookie)
        await database_sync_to_async(lambda: ApiToken.objects.filter(user=alice).delete())()
        closed = await _closed_with(by_token), await _closed_with(by_cookie)
        await by_cookie.disconnect()
        return closed

    assert async_to_sync(scenario)() == (4404, None)


def test_signing_out_closes_that_sessions_sockets_only(world):
    alice, job = world
    left, kept = _signed_in(alice), _signed_in(alice)
    gone = _cookie_socket(left, f"/ws/jobs/{job.pk}/")
    stays = _cookie_socket(kept, f"/ws/jobs/{job.pk}/")

    async def scenario() -> tuple[int | None, int | None]:
        await _open(gone)
        await _open(stays)
        await database_sync_to_async(lambda: left.post("/logout/"))()
        closed = await _closed_with(gone), await _closed_with(stays)
        await stays.disconnect()
        return closed

    assert async_to_sync(scenario)() == (4404, None)


def test_a_token_running_out_closes_its_socket_at_its_expiry(world):
    """No signal marks a token's expiry: the socket watches the time itself."""
    alice, job = world
    token, text = ApiToken.issue(alice, "short")
    ApiToken.objects.filter(pk=token.pk).update(expires=timezone.now() + timedelta(seconds=5))
    comm = _token_socket(text, f"/ws/jobs/{job.pk}/")

    async def scenario() -> tuple[int | None, int | None]:
        await _open(comm)
        before = await _closed_with(comm)  # a second of the five: still open
        return before, await _closes_within(comm, 15)

    assert async_to_sync(scenario)() == (None, 4404)


def test_a_session_past_its_age_closes_its_sockets(world):
    """An expired session still in the store (until clearsessions) is no credential."""
    alice, job = world
    browser = _signed_in(alice)
    key = browser.cookies["sessionid"].value
    Session.objects.filter(session_key=key).update(
        expire_date=timezone.now() + timedelta(seconds=5)
    )
    comm = _cookie_socket(browser, "/ws/inventory/")

    async def scenario() -> tuple[int | None, int | None]:
        await _open(comm)
        before = await _closed_with(comm)
        return before, await _closes_within(comm, 15)

    assert async_to_sync(scenario)() == (None, 4404)
    assert Session.objects.filter(session_key=key).exists()  # expired, not removed


def test_a_token_made_longer_keeps_its_socket_open(world):
    alice, job = world
    token, text = ApiToken.issue(alice, "extended")
    ApiToken.objects.filter(pk=token.pk).update(expires=timezone.now() + timedelta(seconds=5))
    comm = _token_socket(text, f"/ws/jobs/{job.pk}/")

    @database_sync_to_async
    def extend() -> None:
        ApiToken.objects.filter(pk=token.pk).update(expires=timezone.now() + timedelta(days=1))

    async def scenario() -> int | None:
        await _open(comm)
        await extend()
        await asyncio.sleep(5)  # past the first expiry
        closed = await _closed_with(comm)
        await comm.disconnect()
        return closed

    assert async_to_sync(scenario)() is None


class _Watcher:
    """The expiry watch of a socket alone: what it would send, and no socket around it."""

    def __init__(self) -> None:
        from webapp.accounts.access_watch import FollowsAccess

        class Consumer(FollowsAccess):
            scope: dict = {}
            channel_name = "test.watch"

        self.sent: list[dict] = []
        self.consumer = Consumer()
        outer = self

        class Layer:
            async def group_add(self, group: str, channel: str) -> None:
                pass

            async def group_discard(self, group: str, channel: str) -> None:
                pass

            async def send(self, channel: str, message: dict) -> None:
                outer.sent.append(message)

        self.consumer.channel_layer = Layer()  # type: ignore[attr-defined]


class _User:
    pk = 1


def _expiries(monkeypatch, *answers):
    """Make ``credential_expiry`` give ANSWERS in turn (a callable is called; an exception
    raised); the last is given again. Returns the list of calls made."""
    calls: list[int] = []

    def fake(scope: dict):
        calls.append(1)
        answer = answers[min(len(calls), len(answers)) - 1]
        if isinstance(answer, Exception):
            raise answer
        return answer() if callable(answer) else answer

    monkeypatch.setattr("webapp.accounts.access_watch.credential_expiry", fake)
    return calls


def test_a_socket_gone_while_its_expiry_is_checked_arms_nothing_more(monkeypatch):
    """The check runs in a thread: a socket that closes meanwhile must not be watched
    again when it returns (a made-longer expiry would have re-armed the timer)."""
    import threading

    entered, release = threading.Event(), threading.Event()

    def slow_and_longer():
        entered.set()
        release.wait(10)
        return timezone.now() + timedelta(seconds=0.2)

    calls = _expiries(
        monkeypatch, lambda: timezone.now() + timedelta(seconds=0.05), slow_and_longer
    )
    watcher = _Watcher()

    async def scenario() -> None:
        await watcher.consumer.follow_access(_User())
        while not entered.is_set():
            await asyncio.sleep(0.02)
        await watcher.consumer.unfollow_access()
        release.set()
        await asyncio.sleep(1.5)

    async_to_sync(scenario)()
    assert len(calls) == 2 and watcher.sent == []


def test_an_expiry_that_cannot_be_read_at_the_expiry_closes_and_on_the_way_waits(monkeypatch):
    """The database away: a step towards a far expiry asks again later (the socket
    stays); at the expiry itself the socket is told to check its access (fails closed)."""
    from django.db import OperationalError

    monkeypatch.setattr("webapp.accounts.access_watch.MAX_TIMER", 0.1)
    monkeypatch.setattr("webapp.accounts.access_watch.EXPIRY_SLACK", 0.05)
    far = timezone.now() + timedelta(seconds=3)
    calls = _expiries(monkeypatch, far, OperationalError("database away"))
    watcher = _Watcher()

    async def scenario() -> tuple[int, list[dict], list[dict]]:
        await watcher.consumer.follow_access(_User())
        await asyncio.sleep(1.0)  # steps of 0.1 s before the expiry: each failed, none closed
        before = list(watcher.sent)
        steps = len(calls)
        deadline = asyncio.get_running_loop().time() + 15
        while not watcher.sent and asyncio.get_running_loop().time() < deadline:
            await asyncio.sleep(0.05)  # past the expiry: still unreadable
        after = list(watcher.sent)
        await watcher.consumer.unfollow_access()
        return steps, before, after

    steps, before, after = async_to_sync(scenario)()
    assert steps >= 3 and before == []
    assert after == [{"type": "access.changed"}]
