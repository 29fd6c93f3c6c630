"""Build, load and import take uploads: on disk in chunks, bounded, nothing kept on refusal,
handed only to the host running the job, removed when the job ends."""

from __future__ import annotations

import io
import tarfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from tests.functional.test_inventory_actions import enrol, quiet_site  # noqa: F401
from webapp.fleet.models import Host
from webapp.inventory import uploads
from webapp.jobs.choices import JobState
from webapp.jobs.models import Job
from webapp.jobs.services import finish_job, sweep


@pytest.fixture(autouse=True)
def upload_dir(settings, tmp_path):
    settings.WHARF_UPLOAD_DIR = str(tmp_path / "uploads")
    settings.WHARF_UPLOAD_MAX_BYTES = 64 * 1024
    return tmp_path / "uploads"


@pytest.fixture
def site(make_team, make_user, api_client, grant):
    host_api = enrol("h1")
    blue = make_team("blue")
    grant(blue, Host.objects.get(name="h1"))
    return {"host_api": host_api, "member": api_client(make_user(team=blue)), "team": blue}


def context_tar(files: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return out.getvalue()


def _left(upload_dir) -> list[str]:
    return sorted(p.name for p in upload_dir.iterdir()) if upload_dir.exists() else []


def test_a_build_keeps_the_context_for_its_hosts_run_only(site, upload_dir):
    tar = context_tar({"Dockerfile": b"FROM busybox\nCOPY a /a\n", "a": b"hello"})
    r = site["member"].post(
        "/api/v1/images/build/",
        {
            "host": "h1",
            "context": SimpleUploadedFile("ctx.tar", tar),
            "tag": ["app:1", "app:latest"],
            "build_args": ["A=1", "B=two=2"],
        },
        format="multipart",
    )
    assert r.status_code == 202, r.content
    job = Job.objects.get(pk=r.json()["job"]["id"])
    assert job.kind == "image.build"
    assert job.params["tags"] == ["app:1", "app:latest"]
    assert job.params["build_args"] == {"A": "1", "B": "two=2"}
    assert job.params["upload"] is True
    assert _left(upload_dir) == [f"job-{job.pk}"]

    url = f"/api/host/v1/jobs/{job.pk}/upload/"
    assert site["host_api"].get(url).status_code == 409, "not before its host claimed it"
    other = enrol("h2")
    assert other.get(url).status_code == 404
    claim = site["host_api"].post(
        f"/api/host/v1/jobs/{job.pk}/claim/", {"message": job.message_id}, format="json"
    )
    assert claim.status_code == 200
    got = site["host_api"].get(url)
    assert got.status_code == 200 and b"".join(got.streaming_content) == tar
    assert other.get(url).status_code == 404
    assert site["member"].get(url).status_code in (401, 403)

    finish_job(Host.objects.get(name="h1"), job.pk, JobState.SUCCEEDED, {}, "", "")
    assert _left(upload_dir) == []


def test_a_dockerfile_text_alone_builds_without_an_upload(site, upload_dir):
    r = site["member"].post(
        "/api/v1/images/build/",
        {"host": "h1", "dockerfile": "FROM busybox\nRUN echo hi\n"},
        format="multipart",
    )
    assert r.status_code == 202, r.content
    job = Job.objects.get()
    assert job.params["upload"] is False and job.params["dockerfile"].startswith("FROM")
    assert _left(upload_dir) == []


def test_a_too_big_upload_is_a_413_and_leaves_nothing(site, upload_dir):
    big = SimpleUploadedFile("ctx.tar", b"x" * (200 * 1024))
    r = site["member"].post(
        "/api/v1/images/build/", {"host": "h1", "context": big}, format="multipart"
    )
    assert r.status_code == 413, r.content
    assert "larger than" in r.json()["detail"]
    assert not Job.objects.exists() and _left(upload_dir) == []


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("build", {"host": "h1"}, "dockerfile"),
        ("build", {"host": "h1", "dockerfile": "FROM x", "tag": ["Bad//Ref"]}, "tag"),
        ("build", {"host": "h1", "dockerfile": "FROM x", "build_args": ["1BAD=x"]}, "build_args"),
        ("build", {"host": "no-such", "dockerfile": "FROM x"}, "host"),
        ("build", {"dockerfile": "FROM x", "context": "TAR"}, "host"),
        ("build", {"host": "h1", "context": "NOT-A-TAR"}, "context"),
        ("build", {"host": "h1", "dockerfile": "FROM x", "context": "EMPTY"}, "context"),
        ("load", {"host": "h1"}, "archive"),
        ("import", {"host": "h1", "archive": "TAR", "reference": "bad//ref"}, "reference"),
        ("import", {"host": "h1", "archive": "TAR", "team": "red"}, "team"),
    ],
)
def test_bad_input_is_a_field_error_and_leaves_nothing(
    site, upload_dir, make_team, path, body, field
):
    make_team("red")
    files = {
        "TAR": context_tar({"f": b"1"}),
        "NOT-A-TAR": b"this is no tar archive\n" * 50,
        "EMPTY": b"",
    }
    body = {
        k: SimpleUploadedFile("a.tar", files[v]) if isinstance(v, str) and v in files else v
        for k, v in body.items()
    }
    r = site["member"].post(f"/api/v1/images/{path}/", body, format="multipart")
    assert r.status_code == 400 and field in r.json(), r.json()
    assert not Job.objects.exists() and _left(upload_dir) == []


@pytest.mark.parametrize("compression", ["", "gz", "bz2", "xz"])
def test_a_compressed_context_is_taken(site, upload_dir, compression):
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode=f"w:{compression}") as tar:
        info = tarfile.TarInfo("Dockerfile")
        info.size = len(b"FROM busybox\n")
        tar.addfile(info, io.BytesIO(b"FROM busybox\n"))
    r = site["member"].post(
        "/api/v1/images/build/",
        {"host": "h1", "context": SimpleUploadedFile("ctx.tar", out.getvalue())},
        format="multipart",
    )
    assert r.status_code == 202, r.content


def test_load_and_import_are_jobs_with_their_upload(site, upload_dir):
    tar = context_tar({"bin/true": b""})
    for path, extra, kind in [
        ("load", {}, "image.load"),
        ("import", {"reference": "rootfs:1", "message": "hi"}, "image.import"),
    ]:
        r = site["member"].post(
            f"/api/v1/images/{path}/",
            {"host": "h1", "archive": SimpleUploadedFile("a.tar", tar), **extra},
            format="multipart",
        )
        assert r.status_code == 202, r.content
        job = Job.objects.get(pk=r.json()["job"]["id"])
        assert job.kind == kind and extra.items() <= job.params.items()
        assert uploads.path_for(job.pk).read_bytes() == tar


def test_the_sweeper_removes_uploads_of_jobs_ended_without_a_signal(site, upload_dir):
    r = site["member"].post(
        "/api/v1/images/load/",
        {"host": "h1", "archive": SimpleUploadedFile("a.tar", b"x")},
        format="multipart",
    )
    job_id = r.json()["job"]["id"]
    assert site["member"].post(f"/api/v1/jobs/{job_id}/cancel/").status_code == 202
    assert _left(upload_dir) == [f"job-{job_id}"]
    assert sweep()["uploads_removed"] == [job_id]
    assert _left(upload_dir) == []


def test_an_upload_whose_job_is_not_seen_yet_stays_until_it_is_an_orphan(site, upload_dir):
    """The upload is renamed to its job's id inside the transaction recording the job: a
    sweeper that looks between the rename and the commit sees the file and no job, and
    must not take the upload from the job about to run (it did: "job N has no upload")."""
    import os
    import time

    upload_dir.mkdir(exist_ok=True)
    unseen = uploads.path_for(999_999)
    unseen.write_bytes(b"context")
    part = upload_dir / "part-abc"
    part.write_bytes(b"half")
    assert sweep()["uploads_removed"] == []
    assert _left(upload_dir) == ["job-999999", "part-abc"]
    # left alone past the grace: a job rolled back after the rename, a killed request
    old = time.time() - uploads.ORPHAN_SECONDS - 1
    for entry in (unseen, part):
        os.utime(entry, (old, old))
    assert sweep()["uploads_removed"] == [999_999]
    assert _left(upload_dir) == []
