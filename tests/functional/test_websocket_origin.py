"""The websocket Origin rule in the ASGI application: the site's own scheme, host and port
(Host in ALLOWED_HOSTS), or a configured trusted origin; no Origin only without cookies."""

import pytest
from asgiref.sync import async_to_sync
from channels.testing import WebsocketCommunicator
from django.test import Client

from webapp.asgi import application
from webapp.jobs.models import Job

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def job_and_cookie(make_team, make_user, make_host):
    team = make_team("blue")
    alice = make_user("alice", team=team)
    job = Job.objects.create(kind="host.check", host=make_host(), team=team, requester=alice)
    job.log("first line")
    client = Client()
    client.force_login(alice)
    return job, f"sessionid={client.cookies['sessionid'].value}".encode()


def _connects(job, headers: list, scheme: str = "ws") -> bool:
    async def attempt() -> bool:
        comm = WebsocketCommunicator(application, f"/ws/jobs/{job.pk}/", headers=headers)
        comm.scope["scheme"] = scheme
        connected, _ = await comm.connect()
        if connected:
            await comm.disconnect()
        return connected

    return async_to_sync(attempt)()


@pytest.mark.parametrize(
    ("host", "origin", "scheme", "ok"),
    [
        ("127.0.0.1:8000", "http://127.0.0.1:8000", "ws", True),
        ("127.0.0.1:8000", "http://127.0.0.1:8001", "ws", False),
        ("127.0.0.1:8000", "http://127.0.0.1", "ws", False),
        ("127.0.0.1:8000", "http://localhost:8000", "ws", False),
        ("127.0.0.1:8000", "https://127.0.0.1:8000", "ws", False),
        ("127.0.0.1", "http://127.0.0.1:80", "ws", True),
        ("localhost:8443", "https://localhost:8443", "wss", True),
        ("localhost:8443", "http://localhost:8443", "wss", False),
        # a DNS name rebound to 127.0.0.1: same-origin to itself, but not a host we serve
        ("evil.example:8000", "http://evil.example:8000", "ws", False),
        ("127.0.0.1:8000", "http://127.0.0.1:8000/path", "ws", False),
        ("127.0.0.1:8000", "http://user@127.0.0.1:8000", "ws", False),
        ("127.0.0.1:8000", "http://127.0.0.1:notaport", "ws", False),
    ],
)
def test_only_the_exact_own_origin_passes(job_and_cookie, host, origin, scheme, ok):
    job, cookie = job_and_cookie
    headers = [(b"host", host.encode()), (b"origin", origin.encode()), (b"cookie", cookie)]
    assert _connects(job, headers, scheme) is ok


def test_two_origin_headers_are_refused(job_and_cookie):
    job, cookie = job_and_cookie
    headers = [
        (b"host", b"127.0.0.1"),
        (b"origin", b"http://127.0.0.1"),
        (b"origin", b"http://evil.example"),
        (b"cookie", cookie),
    ]
    assert not _connects(job, headers)


def test_no_origin_passes_only_without_cookies(job_and_cookie):
    job, cookie = job_and_cookie
    from webapp.accounts.tokens import ApiToken

    _token, text = ApiToken.issue(job.requester)
    assert not _connects(job, [(b"host", b"127.0.0.1"), (b"cookie", cookie)])
    assert _connects(job, [(b"host", b"127.0.0.1"), (b"authorization", f"Token {text}".encode())])


def test_configured_trusted_origins_pass_with_their_port(job_and_cookie, settings):
    """Behind a proxy that rewrites Host, the public origin is a CSRF trusted origin."""
    settings.CSRF_TRUSTED_ORIGINS = [
        "https://wharf.example.org",
        "https://*.fleet.example.org:8443",
    ]
    job, cookie = job_and_cookie

    def via_proxy(origin: str) -> bool:
        return _connects(
            job, [(b"host", b"127.0.0.1:8000"), (b"origin", origin.encode()), (b"cookie", cookie)]
        )

    assert via_proxy("https://wharf.example.org")
    assert via_proxy("https://wharf.example.org:443")
    assert via_proxy("https://a.fleet.example.org:8443")
    assert not via_proxy("http://wharf.example.org")
    assert not via_proxy("https://wharf.example.org:8443")
    assert not via_proxy("https://a.fleet.example.org")
    assert not via_proxy("https://evilwharf.example.org")


def test_the_proxy_ssl_header_makes_the_own_origin_https(job_and_cookie, settings):
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    job, cookie = job_and_cookie
    headers = [(b"host", b"localhost"), (b"x-forwarded-proto", b"https"), (b"cookie", cookie)]
    assert _connects(job, [*headers, (b"origin", b"https://localhost")])
    assert not _connects(job, [*headers, (b"origin", b"http://localhost")])
