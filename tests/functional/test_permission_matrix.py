"""The permission matrix, generated: every URL pattern of the site (REST API, pages, the host
API, websockets) against six people — anonymous, a team admin of another team, a viewer, an
operator and a team admin of the owning team, a fleet admin — each with the expected outcome.

Nothing here lists endpoints by hand: each is found in the URL configuration
and classified by a rule derived from what it is (a DRF action on one object
or on the collection, a page with an object in its path, a socket with one).
An endpoint the rules cannot classify, or whose object the test cannot make,
fails ``test_every_endpoint_is_classified`` saying what to declare below.

Outcomes: ``ok`` (let through: any answer but 401, 403 and 404, and never a
5xx), ``login`` (anonymous: API 401, page 302 to sign in, socket closed
4401), ``403``, ``404``; for pages that start work, ``ok`` means a job was
recorded and ``403`` that none was.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from dataclasses import dataclass

import pytest
from asgiref.sync import async_to_sync
from channels.testing import WebsocketCommunicator
from django.db import transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from webapp.audit.models import AuditEntry
from webapp.inventory.models import Container, Image, Network, Volume
from webapp.jobs.models import Job

PEOPLE = ["anonymous", "stranger", "viewer", "operator", "team_admin", "fleet_admin"]


def _rule(**outcomes: str) -> dict[str, str]:
    out = {"anonymous": "login", **outcomes}
    return {p: out.get(p, "ok") for p in PEOPLE}


#: what each kind of endpoint lets each person do
RULES: dict[str, dict[str, str]] = {
    "public": {p: "ok" for p in PEOPLE},
    "signed_in": _rule(),
    "team_read": _rule(stranger="404"),
    "team_run": _rule(stranger="404", viewer="403"),
    # a collection's create: the stranger creates in its own team (and is told about the host)
    "create": _rule(viewer="403"),
    "fleet_admin": _rule(stranger="404", viewer="403", operator="403", team_admin="403"),
    # on a host named in the body: another team does not know it (a 400 naming the field)
    "fleet_admin_host": _rule(viewer="403", operator="403", team_admin="403"),
    "fleet_admin_list": _rule(stranger="403", viewer="403", operator="403", team_admin="403"),
    # the stranger is its own team's admin: it reads that team's part
    "team_admin_list": _rule(viewer="403", operator="403"),
    "team_admin_run": _rule(stranger="404", viewer="403", operator="403"),
    "team_admin_read": _rule(stranger="404", viewer="403", operator="403"),
    # hosts only, with their own credential: a person's session or token is not one
    "host_only": {p: "login" for p in PEOPLE},
    # a person's own object (the operator's): everyone else is told it does not exist
    "own": _rule(stranger="404", viewer="404", team_admin="404", fleet_admin="404"),
}

# --- declarations: what the rules cannot know by themselves ------------------------------

#: URL names whose rule is not the one derived from what they are
OVERRIDES: dict[str, str] = {
    "audit-list": "team_admin_list",
    "audit-detail": "team_admin_read",
    "audit": "team_admin_list",
    "login": "public",
    "logout": "public",
    # the API's description: the same for everyone, nothing of anyone's
    "schema": "public",
    "api-docs": "public",
    "api-root": "public",  # names the collections, nothing of anyone's
    "host-enroll": "public",
    "host-hold": "fleet_admin",  # drain, cordon, uncordon
    "host-admin-state": "fleet_admin",  # the same through the API
    "token-revoke": "own",
    "token-create": "signed_in",  # a token of one's own
    "team-members": "team_admin_run",  # add a member
    "team-member": "team_admin_run",  # change a role, take a member out
    # the members page: every member reads it, its admins change it
    "team-page-member-add": "team_admin_run",
    "team-page-member-role": "team_admin_run",
    "team-page-member-remove": "team_admin_run",
    # a prune takes what no container uses, whoever's it is: the host's, for fleet admins
    "container-prune": "fleet_admin_host",
    "image-prune": "fleet_admin_host",
    "volume-prune": "fleet_admin_host",
    "network-prune": "fleet_admin_host",
    "objects-prune": "fleet_admin_host",  # the operator's token: its own, nobody else's  # a new host has no credential yet: it brings a one-time token
}
#: DRF actions on one object that only fleet admins may take
FLEET_ADMIN_ACTIONS = {"adopt"}
#: where the views that answer hosts, never people, live (``webapp.fleet.hostapi``)
HOST_API = "api/host/"
#: request bodies of the endpoints that make something (a valid one: the check under test
#: comes after the input's)
BODIES: dict[str, dict] = {
    "job-list": {"kind": "host.check", "host": "hb"},
    "host-admin-state": {"action": "cordon"},
    "container-list": {"image": "busybox", "host": "hb"},
    "image-pull": {"reference": "busybox", "host": "hb"},
    "volume-list": {"host": "hb", "name": "made"},
    "network-list": {"host": "hb", "name": "made"},
    "registry-list": {"name": "made", "host": "made.example"},
    "network-connect": {"container": "{container}"},
    "network-disconnect": {"container": "{container}"},
    "container-adopt": {"team": "blue"},
    "image-adopt": {"team": "blue"},
    "volume-adopt": {"team": "blue"},
    "network-adopt": {"team": "blue"},
    "container-prune": {"host": "hb"},
    "image-prune": {"host": "hb"},
    "volume-prune": {"host": "hb"},
    "network-prune": {"host": "hb"},
    "container-commit": {},
    "container-exec-": {"command": ["true"]},
    "container-rename": {"name": "renamed"},
    "image-tag": {"target": "busybox:two"},
    "image-push": {"tag": "hub.example/busybox:latest"},
    "team-members": {"user": "fleet", "role": "viewer"},
    "team-member": {"role": "operator"},
}
#: bodies of the pages' forms, by URL name (a page and an API route may share a name)
PAGE_BODIES: dict[str, dict] = {
    "containers-bulk": {"action": "stop", "selected": "{container}"},
    "container-run": {"image": "busybox", "host": "hb"},
    "images-pull": {"reference": "busybox", "host": "hb"},
    "image-page-tag": {"target": "busybox:two"},
    "volumes-new": {"host": "hb", "name": "made"},
    "networks-new": {"host": "hb", "name": "made"},
    "objects-prune": {"host": "hb"},
    "token-create": {"name": "made"},
    "registries-new": {"name": "made", "host": "made.example"},
    # a change the audit log records (an unchanged registry writes nothing)
    "registry-page": {"name": "renamed", "host": "hub.example"},
    "team-page-member-add": {"user": "fleet", "role": "viewer"},
    "team-page-member-role": {"role": "operator"},
}
#: DRF actions whose body may be empty
BODYLESS = {"start", "stop", "restart", "kill", "pause", "unpause", "cancel", "partial_update"}
#: API routes whose input (an upload) is read before the requester's role is asked: with no
#: upload, everyone who may see the collection gets the input's 400
INPUT_FIRST = {"image-build", "image-import-", "image-load"}
#: routes this matrix does not call, each with the reason and where they are tested instead
NOT_HERE = {
    "image-page-history-result": "reads a job of its own kind (tests/functional/test_image_pages.py)",
    "volume-page-files-result": "reads a job of its own kind (tests/functional/test_volume_pages.py)",
}
#: values of path parameters, by name: an object of team blue (``world`` makes them)
PATH_VALUES: dict[str, str] = {
    "job_id": "job",
    "container_id": "container",
    "image_id": "image",
    "volume_id": "volume",
    "network_id": "network",
    "token_id": "token",
    "registry_id": "registry",
    "host_name": "host",
    "name": "host",
    "team": "team",
}
#: path parameters that name a choice, not an object: the value the matrix uses
PATH_WORDS: dict[str, str] = {
    "action": "restart",
    "hold": "cordon",
    "kind": "images",  # the prune page's list
    "stream_id": "s1",
    "username": "viewer",  # a member of blue
}
#: sockets whose rule is not "read the object in the path" (or "signed in", without one)
WS_RULES: dict[str, str] = {
    "ws/containers/<int:container_id>/exec/": "team_run",  # a shell: operators and up
    "ws/host/streams/<str:stream_id>/": "host_only",  # a host's end of a stream
}


def _post_only(view: object) -> bool:
    """Whether VIEW is wrapped in ``require_POST`` (its method list sits in a closure)."""
    while view is not None:
        for cell in getattr(view, "__closure__", None) or ():
            value = cell.cell_contents
            if isinstance(value, list) and value == ["POST"]:
                return True
        view = getattr(view, "__wrapped__", None)
    return False


@dataclass
class Endpoint:
    name: str
    path: str  # with blue's objects' values in place
    method: str
    rule: str
    kind: str  # api, page, host, ws
    body: dict | None = None


def _slot(key: str) -> str:
    """A placeholder of the path, filled with the ``world``'s value of KEY."""
    return "{" + key + "}"


def _walk(patterns, prefix=""):
    for p in patterns:
        if isinstance(p, URLResolver):
            yield from _walk(p.url_patterns, prefix + str(p.pattern))
        elif isinstance(p, URLPattern):
            yield prefix + str(p.pattern), p


def _object_for(model: type | None) -> str | None:
    """The ``world`` key of team blue's object of MODEL (None: the test cannot make one)."""
    from webapp.registries.models import Registry

    keys = {
        Container: "container",
        Image: "image",
        Volume: "volume",
        Network: "network",
        Job: "job",
        AuditEntry: "audit",
        Registry: "registry",
    }
    from webapp.accounts.models import Team
    from webapp.fleet.models import Host

    keys[Host] = "host"
    keys[Team] = "team"
    return keys.get(model)


def endpoints() -> tuple[list[Endpoint], list[str]]:
    """Every endpoint with its rule, and what could not be classified (as instructions)."""
    found: list[Endpoint] = []
    unknown: list[str] = []
    for raw, pattern in _walk(get_resolver().url_patterns):
        if raw.startswith("admin/") or "(?P<format>" in raw or "<drf_format_suffix" in raw:
            continue  # the admin is Django's own (staff only); format suffixes are twins
        name = pattern.name or raw
        callback = pattern.callback
        cls = getattr(callback, "cls", None)
        path = "/" + raw.replace("^", "").replace("$", "")
        if raw.startswith(HOST_API):
            rule = OVERRIDES.get(name, "host_only")
            found.append(Endpoint(name, re.sub(r"<[^>]+>", "1", path), "post", rule, "host"))
            continue
        actions = getattr(callback, "actions", None)
        if actions:  # a DRF viewset route
            detail = "(?P<" in raw
            model = getattr(getattr(cls, "queryset", None), "model", None)
            key = _object_for(model) if detail else None
            if detail and key is None:
                unknown.append(
                    f"{name} ({raw}): add team blue's {model.__name__ if model else '?'} "
                    "to world() and _object_for() in tests/functional/test_permission_matrix.py"
                )
                continue
            path = re.sub(
                r"\(\?P<(\w+)>[^)]*\)",
                lambda m, key=key: PATH_WORDS.get(m[1]) or _slot(key),
                path,
            )
            for method, action in actions.items():
                if action in FLEET_ADMIN_ACTIONS:
                    rule = "fleet_admin"
                elif method == "get":
                    rule = "team_read" if detail else "signed_in"
                else:
                    rule = "team_run" if detail else "create"
                rule = OVERRIDES.get(name, rule)
                body = BODIES.get(name)
                if name in INPUT_FIRST:
                    rule = {"create": "signed_in", "team_run": "team_read"}.get(rule, rule)
                elif method in ("post", "put", "patch") and body is None and action not in BODYLESS:
                    unknown.append(
                        f"{name} ({method.upper()} {raw}): declare a request body in BODIES"
                    )
                    continue
                found.append(Endpoint(name, path, method, rule, "api", body))
            continue
        if name in NOT_HERE:
            continue
        # a page
        params = re.findall(r"<(?:\w+:)?(\w+)>", raw)
        missing = [p for p in params if p not in PATH_VALUES and p not in PATH_WORDS]
        if missing:
            unknown.append(f"{name} ({raw}): declare values for {missing} in PATH_VALUES")
            continue
        for p in params:
            value = PATH_WORDS.get(p) or _slot(PATH_VALUES[p])
            path = re.sub(rf"<(?:\w+:)?{p}>", value, path)
        has_object = any(p in PATH_VALUES for p in params)
        methods = ["post"] if _post_only(callback) else ["get"]
        if name in PAGE_BODIES and methods == ["get"]:
            methods.append("post")  # a form: GET shows it, POST sends it
        for method in methods:
            if method == "get":
                rule = "team_read" if has_object else "signed_in"
            else:
                rule = "team_run" if has_object else "create"
                if not has_object and name not in PAGE_BODIES and name not in OVERRIDES:
                    unknown.append(f"{name} (POST {raw}): declare its form in PAGE_BODIES")
                    continue
            rule = OVERRIDES.get(name, rule)
            found.append(Endpoint(name, path, method, rule, "page", PAGE_BODIES.get(name)))
    return found, unknown


def ws_endpoints() -> tuple[list[Endpoint], list[str]]:
    from webapp.routing import websocket_urlpatterns

    found, unknown = [], []
    for raw, _pattern in _walk(websocket_urlpatterns):
        params = re.findall(r"<(?:\w+:)?(\w+)>", raw)
        missing = [p for p in params if p not in PATH_VALUES and p not in PATH_WORDS]
        if missing:
            unknown.append(f"ws {raw}: declare values for {missing} in PATH_VALUES")
            continue
        path = "/" + raw
        for p in params:
            path = re.sub(rf"<(?:\w+:)?{p}>", PATH_WORDS.get(p) or _slot(PATH_VALUES[p]), path)
        rule = WS_RULES.get(raw) or ("team_read" if params else "signed_in")
        found.append(Endpoint(raw, path, "ws", rule, "ws"))
    return found, unknown


# --- the world: team blue owns one of everything; red is another team -----------------------


@pytest.fixture
def world(make_team, make_user, make_host, grant, monkeypatch):
    from webapp.audit.services import record
    from webapp.registries.models import Registry

    monkeypatch.setattr("webapp.jobs.services.enqueue", lambda job: None)
    # a stream's host is asked through the broker and never dials in here: told within 1 s
    monkeypatch.setattr("webapp.fleet.broker.send_stream", lambda host, envelope: None)
    monkeypatch.setattr("webapp.streams.requests.STREAM_WAIT", 1)
    blue, red = make_team("blue"), make_team("red")
    hb, hr = make_host("hb", cpus=8, memory_bytes=8 << 30), make_host("hr")
    grant(blue, hb)
    grant(red, hr)
    objects = {
        "host": hb,
        "container": Container.objects.create(
            host=hb, team=blue, engine_id="c" * 64, name="web", image="busybox", state="running"
        ),
        "image": Image.objects.create(
            host=hb, team=blue, engine_id="sha256:" + "d" * 64, tags=["busybox:latest"]
        ),
        "volume": Volume.objects.create(host=hb, team=blue, engine_id="data", name="data"),
        "network": Network.objects.create(
            host=hb, team=blue, engine_id="n" * 64, name="net", driver="bridge"
        ),
        "job": Job.objects.create(kind="host.check", host=hb, team=blue, params={}),
        "registry": Registry.objects.create(team=blue, name="hub", host="hub.example"),
    }
    objects["audit"] = record("test.entry", objects["container"], team=blue)
    admin = make_user("fleet", staff=True)
    admin.is_superuser = True
    admin.save()
    people = {
        "anonymous": None,
        "stranger": make_user("stranger", team=red, role="admin"),
        "viewer": make_user("viewer", team=blue, role="viewer"),
        "operator": make_user("operator", team=blue, role="operator"),
        "team_admin": make_user("teamadmin", team=blue, role="admin"),
        "fleet_admin": admin,
    }
    from webapp.accounts.tokens import ApiToken

    objects["token"] = ApiToken.issue(people["operator"], "theirs")[0]
    objects["team"] = blue
    values = {k: (v.name if k == "host" else v.pk) for k, v in objects.items()}
    values["team"] = blue.slug
    return people, values


def _fill(text: str, values: dict) -> str:
    return text.format(**values)


def _body(body: dict | None, values: dict) -> dict:
    return {k: _fill(v, values) if isinstance(v, str) else v for k, v in (body or {}).items()}


def _outcome_api(status: int) -> str:
    if status == 503:  # the host was asked (no host answers here): the request was let through
        return "ok"
    assert status < 500, f"server error {status}"
    return {401: "login", 403: "403", 404: "404"}.get(status, "ok")


def _call_api(user, e: Endpoint, values: dict) -> str:
    from rest_framework.test import APIClient

    from webapp.accounts.tokens import ApiToken

    client = APIClient()
    if user is not None:
        client.credentials(HTTP_AUTHORIZATION=f"Token {ApiToken.issue(user, 'matrix')[1]}")
    path = _fill(e.path, values)
    r = getattr(client, e.method)(path, _body(e.body, values), format="json")
    return _outcome_api(r.status_code)


def _call_page(user, e: Endpoint, values: dict) -> str:
    """A page's answer; for a POST, whether it did anything: every change writes the audit log."""
    client = Client()
    if user is not None:
        client.force_login(user)
    path = _fill(e.path, values)
    entries = AuditEntry.objects.count()
    r = getattr(client, e.method)(path, _body(e.body, values))
    assert r.status_code < 500, f"server error {r.status_code}"
    if r.status_code == 302 and "/login/?next=" in r["Location"]:
        return "login"
    if e.method == "post" and e.rule != "public":
        return "ok" if AuditEntry.objects.count() > entries else "refused"
    return str(r.status_code) if r.status_code in (403, 404) else "ok"


def _call_host(user, e: Endpoint, values: dict) -> str:
    from rest_framework.test import APIClient

    from webapp.accounts.tokens import ApiToken

    client = APIClient()
    if user is not None:  # a person's token and session: neither is a host's credential
        client.force_login(user)
        client.credentials(HTTP_AUTHORIZATION=f"Token {ApiToken.issue(user, 'matrix')[1]}")
    status = client.post(e.path, {}, format="json").status_code
    return "login" if status in (401, 403) else _outcome_api(status)


def test_every_endpoint_is_classified():
    _, unknown = endpoints()
    _, ws_unknown = ws_endpoints()
    assert not unknown + ws_unknown, "declare in test_permission_matrix.py:\n" + "\n".join(
        unknown + ws_unknown
    )


def _cases():
    found, _ = endpoints()
    return [pytest.param(e, id=f"{e.method.upper()} {e.path}") for e in found]


@pytest.mark.parametrize("endpoint", _cases())
def test_matrix(world, endpoint):
    people, values = world
    call = {"api": _call_api, "page": _call_page, "host": _call_host}[endpoint.kind]
    got = {}
    for who in PEOPLE:
        with transaction.atomic():  # each person meets the world as the fixture made it
            got[who] = call(people[who], endpoint, values)
            transaction.set_rollback(True)
    expected = dict(RULES[endpoint.rule])
    if endpoint.kind == "page" and endpoint.method == "post":
        # a page that refuses says so in a message on the page it sends back to: the
        # outcome is whether the work was done; blue's host or objects are nobody else's
        expected = {k: "refused" if v in ("403", "404") else v for k, v in expected.items()}
        if any("hb" in str(v) or "{" in str(v) for v in (endpoint.body or {}).values()):
            expected["stranger"] = "refused"  # blue's host or objects: nobody else's
        got = {k: "refused" if v in ("403", "404") else v for k, v in got.items()}
    assert got == expected, f"{endpoint.name} ({endpoint.rule})"


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("endpoint", [pytest.param(e, id=e.path) for e in ws_endpoints()[0]])
def test_socket_matrix(world, endpoint):
    people, values = world
    path = _fill(endpoint.path, values)

    from webapp.asgi import application

    def headers_of(user) -> list:
        headers = [(b"origin", b"http://127.0.0.1"), (b"host", b"127.0.0.1")]
        if user is not None:
            c = Client()
            c.force_login(user)
            headers.append((b"cookie", f"sessionid={c.cookies['sessionid'].value}".encode()))
        return headers

    async def outcome(headers: list, patience: float) -> str:
        # a refusal is accepted, then closed with its code (a browser sees no code otherwise)
        comm = WebsocketCommunicator(application, path, headers=headers)
        connected, code = await comm.connect(timeout=5)
        if connected:
            try:
                first = await comm.receive_output(timeout=patience)
            except TimeoutError:
                first = {"type": "websocket.send"}  # open and quiet: a job with no output yet
            code = first.get("code") if first["type"] == "websocket.close" else None
        # a consumer still waiting for its host is cancelled: its answer is in already
        with contextlib.suppress(asyncio.CancelledError, TimeoutError):
            await comm.disconnect(timeout=1)
        if code is None:
            return "ok"
        if code == 4503:  # the host was asked and did not dial in: the socket was let through
            return "ok"
        return {4401: "login", 4403: "403", 4404: "404"}.get(code, f"closed {code}")

    expected = RULES[endpoint.rule]
    # a quiet open socket is told from a refusal by waiting: a refusal gets time enough on
    # a loaded machine, an open socket a second (its silence is the answer)
    got = {
        who: async_to_sync(outcome)(headers_of(people[who]), 1 if expected[who] == "ok" else 10)
        for who in PEOPLE
    }
    assert got == expected, endpoint.path


def test_an_endpoint_the_rules_cannot_classify_says_what_to_declare(monkeypatch):
    import sys
    import types

    from django.urls import get_resolver as real_resolver
    from django.urls import path
    from django.views.decorators.http import require_POST

    urls = types.ModuleType("matrix_extra_urls")
    urls.urlpatterns = [
        path("things/<int:thing_id>/", lambda request, thing_id: None, name="thing-page"),
        path("things/purge/", require_POST(lambda request: None), name="things-purge"),
    ]
    monkeypatch.setitem(sys.modules, "matrix_extra_urls", urls)
    monkeypatch.setattr(sys.modules[__name__], "get_resolver", lambda: real_resolver(urls))
    _, unknown = endpoints()
    assert unknown == [
        "thing-page (things/<int:thing_id>/): declare values for ['thing_id'] in PATH_VALUES",
        "things-purge (POST things/purge/): declare its form in PAGE_BODIES",
    ]
