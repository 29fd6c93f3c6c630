"""The registries pages: a team's registries and the fleet-wide ones, changed through the API's
own checks; the credentials write-only (never in a page), kept when a change leaves them blank;
another team's registry is a 404, a viewer reads and may not change, each change audited."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet
from django.test import Client

from webapp.audit.models import AuditEntry
from webapp.registries import crypto
from webapp.registries.models import Registry

SECRET = "correct-horse-battery-staple-42"


@pytest.fixture(autouse=True)
def credentials_key(settings):
    settings.WHARF_CREDENTIALS_KEY = Fernet.generate_key().decode()
    crypto._fernet.cache_clear()
    yield
    crypto._fernet.cache_clear()


@pytest.fixture
def teams(make_team, make_user):
    blue, red = make_team("blue"), make_team("red")
    people = {
        "operator": make_user("op", team=blue),
        "viewer": make_user("watcher", team=blue, role="viewer"),
        "stranger": make_user("mallory", team=red, role="admin"),
        "admin": make_user("root", staff=True),
    }
    return blue, red, people


def _client(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


def _add(client: Client, **form):
    body = {"name": "hub", "host": "registry.example.com:5000", "team": "blue", **form}
    return client.post("/registries/new/", body)


def test_it_adds_lists_and_never_shows_the_password(teams):
    _, _, people = teams
    c = _client(people["operator"])
    r = _add(c, username="alice", password=SECRET)
    assert r.status_code == 302 and r["Location"] == "/registries/"
    registry = Registry.objects.get()
    assert registry.team.slug == "blue" and registry.open_credentials() == ("alice", SECRET)
    listing = c.get("/registries/").content.decode()
    assert 'data-name="hub"' in listing and "registry.example.com:5000" in listing
    page = c.get(f"/registries/{registry.pk}/").content.decode()
    assert SECRET not in page and "alice" not in page
    assert 'id="id_password" value=""' in page and 'id="id_username" value=""' in page
    entry = AuditEntry.objects.get(action="registry.create")
    assert entry.actor == people["operator"] and SECRET not in str(entry.after)


def test_a_change_with_blank_credentials_keeps_them(teams):
    _, _, people = teams
    c = _client(people["operator"])
    _add(c, username="alice", password=SECRET)
    registry = Registry.objects.get()
    r = c.post(f"/registries/{registry.pk}/", {"name": "hub2", "host": registry.host})
    assert r.status_code == 302
    registry.refresh_from_db()
    assert registry.name == "hub2" and registry.open_credentials() == ("alice", SECRET)
    c.post(
        f"/registries/{registry.pk}/", {"name": "hub2", "host": registry.host, "password": "new"}
    )
    registry.refresh_from_db()
    assert registry.open_credentials() == ("alice", "new")
    c.post(f"/registries/{registry.pk}/", {"name": "hub2", "host": registry.host, "forget": "1"})
    registry.refresh_from_db()
    assert registry.open_credentials() is None
    assert AuditEntry.objects.filter(action="registry.update").count() == 3


def test_field_errors_come_from_the_apis_checks(teams):
    _, _, people = teams
    c = _client(people["operator"])
    r = _add(c, host="not a host!")
    assert r.status_code == 400
    page = r.content.decode()
    assert 'id="error-host"' in page and 'aria-invalid="true"' in page
    assert 'value="hub"' in page, "what was typed stays in the form"
    _add(c)
    r = _add(c)
    assert r.status_code == 400 and "there is a registry named" in r.content.decode()
    r = _add(c, name="")
    assert r.status_code == 400 and 'id="error-name"' in r.content.decode()
    r = _add(c, name="other", team="red")
    assert r.status_code == 400 and 'id="error-team"' in r.content.decode()
    r = _add(c, name="other", team="")
    assert r.status_code == 400 and "only fleet admins" in r.content.decode()
    assert Registry.objects.count() == 1


def test_another_teams_registry_is_not_found_and_a_viewer_cannot_change(teams):
    blue, _, people = teams
    theirs = Registry.objects.create(team=blue, name="hub", host="hub.example")
    stranger = _client(people["stranger"])
    assert stranger.get(f"/registries/{theirs.pk}/").status_code == 404
    assert (
        stranger.post(f"/registries/{theirs.pk}/", {"name": "x", "host": "x.example"}).status_code
        == 404
    )
    assert stranger.post(f"/registries/{theirs.pk}/remove/").status_code == 404
    assert 'data-name="hub"' not in stranger.get("/registries/").content.decode()

    viewer = _client(people["viewer"])
    page = viewer.get(f"/registries/{theirs.pk}/").content.decode()
    assert 'id="read-only-note"' in page and 'id="registry-form"' not in page
    assert 'id="registry-form"' not in viewer.get("/registries/").content.decode()
    r = viewer.post(f"/registries/{theirs.pk}/", {"name": "x", "host": "x.example"})
    assert r.status_code == 403 and "may not change" in r.content.decode()
    viewer.post(f"/registries/{theirs.pk}/remove/")
    assert _add(viewer, name="mine").status_code == 400, "no team where the viewer may add"
    r = viewer.post("/registries/new/", {"name": "mine", "host": "hub.example"})
    assert r.status_code == 403 and "viewers may only watch" in r.content.decode()
    theirs.refresh_from_db()
    assert theirs.name == "hub" and Registry.objects.count() == 1


def test_fleet_wide_registries_are_the_fleet_admins(teams):
    _, _, people = teams
    admin = _client(people["admin"])
    assert _add(admin, name="shared", team="").status_code == 302
    shared = Registry.objects.get(name="shared")
    assert shared.fleet_wide
    operator = _client(people["operator"])
    page = operator.get(f"/registries/{shared.pk}/").content.decode()
    assert "fleet admins" in page and 'id="registry-form"' not in page
    operator.post(f"/registries/{shared.pk}/remove/")
    assert Registry.objects.filter(pk=shared.pk).exists()
    r = admin.post(f"/registries/{shared.pk}/remove/")
    assert r.status_code == 302 and not Registry.objects.filter(pk=shared.pk).exists()
    assert AuditEntry.objects.filter(action="registry.delete").count() == 1


def test_the_forms_need_the_csrf_token(teams):
    _, _, people = teams
    c = Client(enforce_csrf_checks=True)
    c.force_login(people["operator"])
    r = c.post("/registries/new/", {"name": "hub", "host": "hub.example", "team": "blue"})
    assert r.status_code == 403 and not Registry.objects.exists()


def test_the_nav_links_to_the_registries(teams):
    _, _, people = teams
    assert 'href="/registries/"' in _client(people["viewer"]).get("/").content.decode()
