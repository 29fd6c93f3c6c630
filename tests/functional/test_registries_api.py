"""Registries through the REST API: team-scoped, fleet-wide for admins, credentials sealed.

The password goes in and never comes out: not in any answer, not in the
database's row as text; only the key outside the database opens it.
"""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet

from webapp.registries import crypto
from webapp.registries.models import Registry

SECRET = "correct-horse-battery-staple-42"


@pytest.fixture(autouse=True)
def credentials_key(settings):
    settings.WHARF_CREDENTIALS_KEY = Fernet.generate_key().decode()
    crypto._fernet.cache_clear()
    yield settings.WHARF_CREDENTIALS_KEY
    crypto._fernet.cache_clear()


@pytest.fixture
def blue(make_team):
    return make_team("blue")


def _add(client, **body):
    return client.post(
        "/api/v1/registries/",
        {"name": "hub", "host": "registry.example.com:5000", **body},
        format="json",
    )


def test_it_seals_the_password_and_never_shows_it(blue, make_user, api_client):
    client = api_client(make_user(team=blue))
    r = _add(client, username="alice", password=SECRET)
    assert r.status_code == 201, r.json()
    assert SECRET not in r.content.decode() and "alice" not in r.content.decode()
    assert r.json()["team"] == "blue" and r.json()["authenticated"] is True
    for answer in (
        client.get("/api/v1/registries/"),
        client.get(f"/api/v1/registries/{r.json()['id']}/"),
        client.patch(f"/api/v1/registries/{r.json()['id']}/", {"name": "hub2"}, format="json"),
        client.get("/api/schema/?format=json"),
    ):
        assert answer.status_code == 200
        assert SECRET not in answer.content.decode()
    row = Registry.objects.get()
    assert SECRET not in row.credentials and "alice" not in row.credentials
    assert row.open_credentials() == ("alice", SECRET)


def test_a_row_copied_without_the_key_opens_nothing(blue, make_user, api_client, settings):
    client = api_client(make_user(team=blue))
    assert _add(client, username="alice", password=SECRET).status_code == 201
    settings.WHARF_CREDENTIALS_KEY = Fernet.generate_key().decode()
    crypto._fernet.cache_clear()
    with pytest.raises(ValueError, match="no longer has"):
        Registry.objects.get().open_credentials()


def test_a_new_key_first_still_opens_what_the_old_one_sealed(blue, credentials_key, settings):
    registry = Registry(team=blue, name="r", host="r.example.com")
    registry.set_credentials("bob", SECRET)
    registry.save()
    settings.WHARF_CREDENTIALS_KEY = f"{Fernet.generate_key().decode()},{credentials_key}"
    crypto._fernet.cache_clear()
    assert Registry.objects.get().open_credentials() == ("bob", SECRET)


def test_a_patch_of_the_password_keeps_the_username(blue, make_user, api_client):
    client = api_client(make_user(team=blue))
    rid = _add(client, username="alice", password="old").json()["id"]
    r = client.patch(f"/api/v1/registries/{rid}/", {"password": SECRET}, format="json")
    assert r.status_code == 200
    assert Registry.objects.get().open_credentials() == ("alice", SECRET)


def test_it_scopes_registries_to_teams(blue, make_team, make_user, api_client):
    red = make_team("red")
    mine = api_client(make_user(team=blue))
    theirs = api_client(make_user(team=red))
    rid = _add(mine, username="a", password=SECRET).json()["id"]
    assert theirs.get(f"/api/v1/registries/{rid}/").status_code == 404
    assert (
        theirs.patch(f"/api/v1/registries/{rid}/", {"name": "x"}, format="json").status_code == 404
    )
    assert theirs.delete(f"/api/v1/registries/{rid}/").status_code == 404
    assert theirs.get("/api/v1/registries/").json()["count"] == 0
    r = _add(theirs, team="blue")
    assert r.status_code == 400 and "team" in r.json()


def test_fleet_wide_registries_are_set_by_admins_and_used_by_all(blue, make_user, api_client):
    admin = api_client(make_user(staff=True))
    member = api_client(make_user(team=blue))
    r = _add(admin, team=None, username="ci", password=SECRET)
    assert r.status_code == 201 and r.json()["fleet_wide"] is True
    rid = r.json()["id"]
    assert [x["id"] for x in member.get("/api/v1/registries/").json()["results"]] == [rid]
    assert (
        member.patch(f"/api/v1/registries/{rid}/", {"name": "x"}, format="json").status_code == 403
    )
    assert member.delete(f"/api/v1/registries/{rid}/").status_code == 403
    refused = _add(member, team=None)
    assert refused.status_code == 400 and "team" in refused.json()
    assert admin.delete(f"/api/v1/registries/{rid}/").status_code == 204
    assert not Registry.objects.exists()


def test_a_viewer_may_read_but_not_add(blue, make_user, api_client):
    viewer = api_client(make_user(team=blue, role="viewer"))
    assert _add(viewer).status_code == 403
    assert viewer.get("/api/v1/registries/").status_code == 200


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"host": "not a host"}, "host"),
        ({"host": "r.example.com:99999"}, "host"),
        ({"name": ""}, "name"),
        ({"password": "x" * 5000}, "password"),
    ],
)
def test_bad_input_is_a_field_error_and_leaves_nothing(blue, make_user, api_client, body, field):
    client = api_client(make_user(team=blue))
    r = _add(client, **body)
    assert r.status_code == 400 and field in r.json(), r.json()
    assert not Registry.objects.exists()


def test_a_second_registry_of_the_same_name_is_a_field_error(blue, make_user, api_client):
    client = api_client(make_user(team=blue))
    assert _add(client).status_code == 201
    r = _add(client)
    assert r.status_code == 400 and "name" in r.json()
    assert Registry.objects.count() == 1


def test_the_admin_takes_credentials_and_never_shows_them(blue, client, django_user_model):
    client.force_login(django_user_model.objects.create_superuser("boss", password="pw-x"))
    r = client.post(
        "/admin/registries/registry/add/",
        {
            "team": blue.pk,
            "name": "r",
            "host": "r.example.com",
            "username": "alice",
            "password": SECRET,
        },
    )
    assert r.status_code == 302, r.content.decode()[-2000:]
    row = Registry.objects.get()
    assert row.open_credentials() == ("alice", SECRET)
    page = client.get(f"/admin/registries/registry/{row.pk}/change/").content.decode()
    assert SECRET not in page and "alice" not in page and row.credentials not in page
    r = client.post(
        f"/admin/registries/registry/{row.pk}/change/",
        {"team": blue.pk, "name": "r", "host": "r.example.com", "username": "", "password": ""},
    )
    assert r.status_code == 302
    assert Registry.objects.get().open_credentials() == ("alice", SECRET), "blank keeps them"


def test_a_registry_moved_to_another_host_forgets_its_credentials(blue, make_user, api_client):
    """Else a member could point the team's registry at a server of theirs and push there."""
    client = api_client(make_user(team=blue))
    rid = _add(client, username="alice", password=SECRET).json()["id"]
    r = client.patch(f"/api/v1/registries/{rid}/", {"host": "evil.example"}, format="json")
    assert r.status_code == 200
    assert Registry.objects.get().open_credentials() is None
    r = client.patch(
        f"/api/v1/registries/{rid}/",
        {"host": "other.example", "username": "bob", "password": SECRET},
        format="json",
    )
    assert Registry.objects.get().open_credentials() == ("bob", SECRET)


def test_a_push_job_gets_credentials_only_for_its_registrys_host(blue, make_host):
    from webapp.jobs.models import Job
    from webapp.registries.services import credentials_for_job

    registry = Registry(team=blue, name="hub", host="registry.example.com:5000")
    registry.set_credentials("alice", SECRET)
    registry.save()
    host = make_host("h1")

    def job(target: str) -> Job:
        params = {"image": "app", "target": target, "registry": registry.pk}
        return Job.objects.create(kind="image.push", host=host, team=blue, params=params)

    assert credentials_for_job(job("registry.example.com:5000/app:1")) == {
        "username": "alice",
        "password": SECRET,
    }
    assert credentials_for_job(job("evil.example/app:1")) is None
    assert credentials_for_job(job("app:1")) is None  # Docker Hub is not this registry
