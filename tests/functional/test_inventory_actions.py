"""The inventory's actions beyond start and stop: rename, exec, commit, tag, push, prune.

Each is a job on the object's host, checked at enqueue (a field error and no
job), scoped to the object's team (another team's is a 404). A push's
registry credentials travel only in the answer to its host's claim.
"""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet
from rest_framework.test import APIClient

from webapp.fleet import credentials as host_credentials
from webapp.inventory import services
from webapp.inventory.models import Container, Image
from webapp.jobs.models import Job
from webapp.registries import crypto
from webapp.registries.models import Registry

SECRET = "s3cret-registry-password-77"


@pytest.fixture(autouse=True)
def quiet_site(monkeypatch, settings, tmp_path):
    settings.WHARF_SIGNING_KEY_FILE = str(tmp_path / "signing.key")
    settings.WHARF_CREDENTIALS_KEY = Fernet.generate_key().decode()
    from webapp.jobs import signing

    signing._private_key.cache_clear()
    crypto._fernet.cache_clear()
    monkeypatch.setattr("webapp.fleet.broker.grant_host", lambda name: "broker-pw")
    monkeypatch.setattr("webapp.fleet.broker.send_job", lambda *a: None)


def enrol(name: str) -> APIClient:
    token = host_credentials.issue_enrollment_token(name)
    r = APIClient().post(
        "/api/host/v1/enroll/", {"token": token, "name": name, "facts": {}}, format="json"
    )
    assert r.status_code == 201, r.content
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Host {r.json()['credential']}")
    return client


@pytest.fixture
def fleet(make_team, make_user, api_client, grant):
    from webapp.fleet.models import Host

    host_api = enrol("h1")
    host = Host.objects.get(name="h1")
    blue = make_team("blue")
    grant(blue, host)
    image = Image.objects.create(
        host=host, team=blue, engine_id="sha256:" + "a" * 64, tags=["app:1"]
    )
    container = Container.objects.create(
        host=host, team=blue, engine_id="c" * 64, name="web", image="app:1", state="running"
    )
    registry = Registry(team=blue, name="mine", host="127.0.0.1:5000")
    registry.set_credentials("alice", SECRET)
    registry.save()
    return {
        "host": host,
        "host_api": host_api,
        "team": blue,
        "image": image,
        "container": container,
        "registry": registry,
        "member": api_client(make_user(team=blue)),
    }


def _accepted(r) -> Job:
    assert r.status_code == 202, r.content
    return Job.objects.get(pk=r.json()["job"]["id"])


def test_a_push_carries_the_registry_id_and_its_claim_the_credentials(fleet):
    client, image = fleet["member"], fleet["image"]
    job = _accepted(
        client.post(
            f"/api/v1/images/{image.pk}/push/",
            {"tag": "team/app:1", "registry": fleet["registry"].pk},
            format="json",
        )
    )
    assert job.kind == "image.push"
    assert job.params == {
        "image": image.engine_id,
        "target": "127.0.0.1:5000/team/app:1",
        "registry": fleet["registry"].pk,
    }
    shown = client.get(f"/api/v1/jobs/{job.pk}/").content.decode()
    assert SECRET not in shown and "alice" not in shown
    other = enrol("h2")
    assert (
        other.post(
            f"/api/host/v1/jobs/{job.pk}/claim/", {"message": job.message_id}, format="json"
        ).status_code
        == 404
    )
    claim = fleet["host_api"].post(
        f"/api/host/v1/jobs/{job.pk}/claim/", {"message": job.message_id}, format="json"
    )
    assert claim.status_code == 200
    assert claim.json()["credentials"] == {"username": "alice", "password": SECRET}
    assert SECRET not in str(Job.objects.get(pk=job.pk).params)
    again = fleet["host_api"].post(
        f"/api/host/v1/jobs/{job.pk}/claim/", {"message": job.message_id}, format="json"
    )
    assert again.status_code == 409 and SECRET not in again.content.decode()


def test_a_push_finds_the_teams_registry_for_the_tags_host(fleet):
    job = _accepted(
        fleet["member"].post(
            f"/api/v1/images/{fleet['image'].pk}/push/",
            {"tag": "127.0.0.1:5000/app:2"},
            format="json",
        )
    )
    assert job.params["registry"] == fleet["registry"].pk
    anonymous = _accepted(
        fleet["member"].post(
            f"/api/v1/images/{fleet['image'].pk}/push/",
            {"tag": "other.example:1/app"},
            format="json",
        )
    )
    assert "registry" not in anonymous.params


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"tag": "Bad//Tag"}, "tag"),
        ({"tag": "elsewhere.example/app:1", "registry": "REG"}, "tag"),
        ({"registry": 999999}, "registry"),
        ({"registry": "THEIRS"}, "registry"),
    ],
)
def test_a_bad_push_is_a_field_error_and_no_job(fleet, make_team, body, field):
    theirs = Registry.objects.create(team=make_team("red"), name="theirs", host="r.example")
    body = {
        k: {"REG": fleet["registry"].pk, "THEIRS": theirs.pk}.get(v, v) for k, v in body.items()
    }
    r = fleet["member"].post(f"/api/v1/images/{fleet['image'].pk}/push/", body, format="json")
    assert r.status_code == 400 and field in r.json(), r.json()
    assert not Job.objects.exists()


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("containers/{c}/rename/", {"name": "bad name!"}, "name"),
        ("containers/{c}/rename/", {}, "name"),
        ("containers/{c}/exec/", {"command": []}, "command"),
        ("containers/{c}/exec/", {"command": ["ls"], "env": {"BAD KEY": "1"}}, "env"),
        ("containers/{c}/exec/", {"command": ["ls"], "workdir": "relative"}, "workdir"),
        ("containers/{c}/commit/", {"reference": "app:bad tag"}, "reference"),
        ("images/{i}/tag/", {"target": "bad//ref"}, "target"),
        ("images/{i}/tag/", {}, "target"),
        ("images/prune/", {"host": "no-such-host"}, "host"),
    ],
)
def test_bad_input_is_a_field_error_and_no_job(fleet, path, body, field):
    url = "/api/v1/" + path.format(c=fleet["container"].pk, i=fleet["image"].pk)
    r = fleet["member"].post(url, body, format="json")
    assert r.status_code == 400 and field in r.json(), r.json()
    assert not Job.objects.exists()


@pytest.mark.parametrize(
    ("path", "body", "kind", "params"),
    [
        ("containers/{c}/rename/", {"name": "web2"}, "container.rename", {"name": "web2"}),
        (
            "containers/{c}/exec/",
            {"command": ["sh", "-c", "echo hi"], "env": {"A": "1"}},
            "container.exec",
            {"command": ["sh", "-c", "echo hi"], "env": {"A": "1"}},
        ),
        ("containers/{c}/commit/", {"reference": "snap:1"}, "container.commit", {}),
        ("images/{i}/tag/", {"target": "app:2"}, "image.tag", {"target": "app:2"}),
    ],
)
def test_each_action_is_a_job_of_the_objects_team(fleet, path, body, kind, params):
    url = "/api/v1/" + path.format(c=fleet["container"].pk, i=fleet["image"].pk)
    job = _accepted(fleet["member"].post(url, body, format="json"))
    assert (job.kind, job.team, job.host) == (kind, fleet["team"], fleet["host"])
    assert params.items() <= job.params.items()


def test_another_teams_objects_are_not_found(fleet, make_team, make_user, api_client):
    stranger = api_client(make_user(team=make_team("red")))
    for url, body in [
        (f"containers/{fleet['container'].pk}/rename/", {"name": "x"}),
        (f"containers/{fleet['container'].pk}/exec/", {"command": ["ls"]}),
        (f"containers/{fleet['container'].pk}/commit/", {}),
        (f"images/{fleet['image'].pk}/tag/", {"target": "x:1"}),
        (f"images/{fleet['image'].pk}/push/", {}),
    ]:
        assert stranger.post(f"/api/v1/{url}", body, format="json").status_code == 404, url
    assert not Job.objects.exists()


@pytest.mark.parametrize("kind", ["containers", "images", "volumes", "networks"])
def test_a_prune_is_for_fleet_admins(fleet, make_user, api_client, kind):
    r = fleet["member"].post(f"/api/v1/{kind}/prune/", {"host": "h1"}, format="json")
    assert r.status_code == 403 and not Job.objects.exists()
    admin = api_client(make_user(staff=True))
    job = _accepted(admin.post(f"/api/v1/{kind}/prune/", {"host": "h1"}, format="json"))
    assert job.kind == f"{kind[:-1]}.prune"


def test_an_image_a_job_made_is_its_teams(fleet):
    job = Job.objects.create(
        kind="image.pull",
        host=fleet["host"],
        team=fleet["team"],
        state="succeeded",
        result={"image": "sha256:" + "b" * 64},
    )
    services.apply_changes(
        fleet["host"],
        0,
        1,
        [
            {
                "kind": "image",
                "engine_id": "sha256:" + "b" * 64,
                "object": {"engine_id": "sha256:" + "b" * 64, "tags": ["busybox:latest"]},
            }
        ],
    )
    assert Image.objects.get(engine_id="sha256:" + "b" * 64).team == job.team
    early = Image.objects.create(host=fleet["host"], engine_id="sha256:" + "d" * 64)
    late = Job.objects.create(
        kind="container.commit",
        host=fleet["host"],
        team=fleet["team"],
        state="succeeded",
        result={"image": early.engine_id},
    )
    services.settle_job(late)
    early.refresh_from_db()
    assert early.team == fleet["team"]


@pytest.mark.django_db(transaction=True)
def test_an_image_reported_while_its_job_ends_is_the_jobs_teams(fleet):
    """The host's report of a built image and the build's end, at once: the report looked
    for the image's job while it still ran (so stores it unmanaged) and commits after the
    end looked for unmanaged images. The end waits for the report in flight (the host's
    row, which reports hold too) and then sees the image."""
    import threading

    from django.db import connection, transaction

    from webapp.jobs.services import finish_job

    image = "sha256:" + "e" * 64
    job = Job.objects.create(
        kind="image.build", host=fleet["host"], team=fleet["team"], state="running"
    )
    if not connection.features.has_select_for_update:
        # SQLite: every writer takes the one database lock in turn (IMMEDIATE), so the two
        # cannot overlap there; the report first, then the end, is what can happen
        Image.objects.create(host=fleet["host"], engine_id=image)
        finish_job(fleet["host"], job.pk, "succeeded", {"image": image}, "", "")
        assert Image.objects.get(engine_id=image).team == fleet["team"]
        return
    reporting, failures = threading.Event(), []

    def report() -> None:
        try:
            with transaction.atomic():
                services._cursor(fleet["host"])
                assert services.image_job(fleet["host"], image) is None  # the job still runs
                Image.objects.create(host=fleet["host"], engine_id=image)
                reporting.set()
                threading.Event().wait(1.0)  # the end comes now
        except BaseException as exc:  # noqa: BLE001 - shown by the test's thread
            failures.append(exc)
            reporting.set()
        finally:
            connection.close()

    thread = threading.Thread(target=report)
    thread.start()
    assert reporting.wait(10) and not failures, failures
    finish_job(fleet["host"], job.pk, "succeeded", {"image": image}, "", "")
    thread.join(10)
    assert not failures, failures
    assert Image.objects.get(engine_id=image).team == fleet["team"]
