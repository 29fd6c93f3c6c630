"""Hostile values at the site's newer doors: the ``/registries/`` pages, ``POST
/api/v1/hosts/NAME/admin-state/``, the host pages and the lists' filters, and the
inventory socket ``/ws/inventory/?host=&team=``.

The values: another team's host, registry or slug; NUL bytes (PostgreSQL's text
holds none, so a lookup with one fails in the driver); 10,000 characters; unicode
and percent-escapes. A member of team A gets a 404 for team B's objects (never a
403, which would tell they exist), a viewer changes nothing, and nothing is a 500.
Run it on PostgreSQL too (``DATABASE_URL``): SQLite takes NUL bytes that
PostgreSQL refuses.
"""

from __future__ import annotations

import json
from urllib.parse import quote

import pytest
from asgiref.sync import async_to_sync
from channels.testing import WebsocketCommunicator
from django.test import Client

from webapp.asgi import application
from webapp.fleet.models import Host
from webapp.registries.models import Registry

HOSTILE = ["\x00", "ha\x00", "x" * 10_000, "hôst-é", "%2e%2e", "../ha", "ha;drop", "\u202ehb"]


@pytest.fixture
def fleet(make_team, make_user, make_host, grant):
    """Team a on host ha, team b on host hb with a registry; an operator, a viewer of a,
    and a member of b."""
    a, b = make_team("a"), make_team("b")
    ha, hb = make_host("ha"), make_host("hb")
    grant(a, ha)
    grant(b, hb)
    reg_b = Registry.objects.create(name="b-reg", host="reg.b.example", team=b)
    users = {
        "op": make_user("op", team=a),
        "viewer": make_user("viewer", team=a, role="viewer"),
        "bob": make_user("bob", team=b),
    }
    return a, b, ha, hb, reg_b, users


def _client(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


def _states() -> list[tuple]:
    return sorted(Host.objects.values_list("name", "state"))


def test_another_teams_host_is_a_404_at_admin_state_and_its_pages(fleet, api_client) -> None:
    _, _, _, hb, _, users = fleet
    before = _states()
    for name in ("op", "viewer"):
        api = api_client(users[name])
        for action in ("drain", "cordon", "uncordon", "\x00", "x" * 5000):
            r = api.post(f"/api/v1/hosts/{hb.name}/admin-state/", {"action": action}, format="json")
            assert r.status_code == 404, (name, action, r.status_code)
        page = _client(users[name])
        assert page.get(f"/hosts/{hb.name}/").status_code == 404
        assert page.post(f"/hosts/{hb.name}/drain/").status_code == 404
        assert page.post(f"/hosts/{hb.name}/check/").status_code == 404
    assert _states() == before


def test_members_of_a_host_team_may_not_change_its_state(fleet, api_client) -> None:
    _, _, ha, _, _, users = fleet
    before = _states()
    for name in ("op", "viewer"):
        r = api_client(users[name]).post(
            f"/api/v1/hosts/{ha.name}/admin-state/", {"action": "drain"}, format="json"
        )
        assert r.status_code == 403, r.content
        assert "fleet admins" in r.json()["detail"], r.json()
        _client(users[name]).post(f"/hosts/{ha.name}/drain/")
    assert _states() == before


@pytest.mark.parametrize("value", HOSTILE, ids=range(len(HOSTILE)))
def test_hostile_names_in_host_urls_are_404s(fleet, api_client, value) -> None:
    *_, users = fleet
    before = _states()
    api = api_client(users["op"])
    page = _client(users["op"])
    q = quote(value, safe="")
    for r in (
        api.get(f"/api/v1/hosts/{q}/"),
        api.post(f"/api/v1/hosts/{q}/admin-state/", {"action": "drain"}, format="json"),
        page.get(f"/hosts/{q}/"),
        page.post(f"/hosts/{q}/drain/"),
        page.post(f"/hosts/{q}/check/"),
    ):
        # "../ha" makes /hosts/../ha/ the hold URL of a host "..", which takes only POST
        assert r.status_code in ((404, 405) if "/" in value else (404,)), (
            r.request["PATH_INFO"][:80],
            r.status_code,
        )
    assert _states() == before


@pytest.mark.parametrize("value", HOSTILE, ids=range(len(HOSTILE)))
def test_hostile_filters_on_the_lists_are_no_server_error(fleet, api_client, value) -> None:
    *_, users = fleet
    api = api_client(users["op"])
    page = _client(users["op"])
    q = quote(value, safe="")
    kinds = ("containers", "images", "volumes", "networks", "jobs", "registries", "hosts")
    for kind in kinds:
        for field in ("host", "team", "name", "state"):
            r = api.get(f"/api/v1/{kind}/?{field}={q}")
            assert r.status_code in (200, 400), (kind, field, r.status_code)
            if r.status_code == 400:
                assert set(r.json()) == {field}, r.json()  # the field at fault, by name
    for path in ("/containers/", "/images/", "/volumes/", "/networks/", "/jobs/", "/registries/"):
        for field in ("host", "team", "q", "state", "page"):
            r = page.get(f"{path}?{field}={q}")
            assert r.status_code in (200, 400), (path, field, r.status_code)


def test_another_teams_registry_is_a_404_on_every_page(fleet) -> None:
    *_, reg_b, users = fleet
    for name in ("op", "viewer"):
        page = _client(users[name])
        assert page.get(f"/registries/{reg_b.pk}/").status_code == 404
        r = page.post(f"/registries/{reg_b.pk}/", {"name": "stolen", "host": "evil.example"})
        assert r.status_code == 404
        assert page.post(f"/registries/{reg_b.pk}/remove/").status_code == 404
    reg_b.refresh_from_db()
    assert (reg_b.name, reg_b.host) == ("b-reg", "reg.b.example")


@pytest.mark.parametrize("value", HOSTILE, ids=range(len(HOSTILE)))
def test_hostile_registry_forms_are_field_errors(fleet, value) -> None:
    a, b, *_, users = fleet
    before = sorted(Registry.objects.values_list("name", "host", "team"))
    for name, team in (("op", value), ("op", b.slug), ("viewer", a.slug)):
        r = _client(users[name]).post(
            "/registries/new/",
            {"name": value[:300] or "n", "host": value[:300], "team": team, "username": value},
        )
        assert r.status_code in (400, 403, 404), (name, team[:20], r.status_code)
    assert sorted(Registry.objects.values_list("name", "host", "team")) == before


def _socket(user, query: str) -> WebsocketCommunicator:
    c = Client()
    c.force_login(user)
    cookie = f"sessionid={c.cookies['sessionid'].value}".encode()
    headers = [(b"origin", b"http://127.0.0.1"), (b"host", b"127.0.0.1"), (b"cookie", cookie)]
    return WebsocketCommunicator(application, f"/ws/inventory/?{query}", headers=headers)


# the consumer reads the database from its own thread: the rows must be committed
@pytest.mark.django_db(transaction=True)
def test_the_inventory_socket_refuses_hostile_queries(fleet) -> None:
    _, b, _, hb, _, users = fleet
    cases = {
        f"host={hb.name}": 4404,  # another team's host: not found, as a missing one
        f"team={b.slug}": 4404,  # another team's slug
        f"host=ha&team={b.slug}": 4404,
        "host=nosuch": 4404,
        "host=%00": 4400,  # a NUL byte: a bad parameter (PostgreSQL's text holds none)
        "team=a%00": 4400,
        "host=ha%00": 4400,
        "host=" + "x" * 10_000: 4400,
        "team=" + "t" * 10_000: 4400,
        "host=h%C3%B4st": 4404,
        "host=%ff%fe": 4404,  # not UTF-8: replaced, then not found
        "team=%E2%80%AEb": 4404,
    }
    sockets = {query: _socket(users["op"], query) for query in cases}
    own = _socket(users["op"], "host=ha&team=a")

    async def scenario() -> None:
        for query, comm in sockets.items():
            connected, _ = await comm.connect()
            assert connected
            out = await comm.receive_output(timeout=5)
            assert out == {"type": "websocket.close", "code": cases[query]}, (query[:40], out)
            await comm.disconnect()
        # and the user's own host and team still subscribe
        assert (await own.connect())[0]
        assert json.loads(await own.receive_from())["type"] == "subscribed"
        await own.disconnect()

    async_to_sync(scenario)()
