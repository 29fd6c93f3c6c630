"""The fleet's other operations for real: exec, commit, tag, rename and push through the REST
API, checked in the host's runtime, in the API, and at a real registry with htpasswd auth.

The registry's password is given to the site once; it must reach the registry (the push
succeeds where an anonymous one is refused) and appear in no answer, job output or log.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import httpx
import pytest
from e2e_stack import REPO, accepted, wait_for

sys.path.insert(0, str(REPO / "tests" / "integration" / "images"))
from image_registries import RealRegistry  # noqa: E402

SECRET = "pw-" + "9f3c1e7a5b2d4c6e8a0b"


@pytest.fixture(scope="module")
def registry(tmp_path_factory):
    reg = RealRegistry(
        tmp_path_factory.mktemp("registry"), auth="htpasswd", users={"alice": SECRET}
    )
    yield reg
    reg.stop()


def succeeded(stack, r) -> dict:
    body = accepted(r)
    job = stack.ended(body["job"])
    assert job["state"] == "succeeded", (job, stack.output(body["job"]))
    return job


def test_exec_commit_tag_rename_and_push(stack, host_rt, registry):
    api = stack.api()
    made = accepted(
        api.post(
            "/api/v1/containers/",
            json={
                "host": stack.host_name,
                "image": "busybox",
                "name": "ops1",
                "command": ["sleep", "300"],
            },
        )
    )
    assert stack.ended(made["job"])["state"] == "succeeded"
    path = f"/api/v1/containers/{made['container']['id']}/"

    ran = accepted(
        api.post(
            path + "exec/",
            json={"command": ["sh", "-c", "echo made > /made.txt; echo to-out; echo to-err >&2"]},
        )
    )
    assert stack.ended(ran["job"])["state"] == "succeeded"
    text = stack.output(ran["job"])
    assert "to-out" in text and "to-err" in text
    failing = accepted(api.post(path + "exec/", json={"command": ["sh", "-c", "exit 3"]}))
    job = stack.ended(failing["job"])
    assert (job["state"], job["result"].get("exit_code")) == ("failed", 3), job

    committed = succeeded(stack, api.post(path + "commit/", json={"reference": "ops/snap:1"}))
    image_id = committed["result"]["image"]
    assert host_rt.images.get("ops/snap:1").id == image_id

    def image_record():
        found = api.get(f"/api/v1/images/?host={stack.host_name}").json()["results"]
        return next((i for i in found if i["engine_id"] == image_id and i["team"]), None)

    image = wait_for(image_record, 30, "the committed image in the API, the job's team's")
    assert image["team"] == "admins"

    succeeded(stack, api.post(f"/api/v1/images/{image['id']}/tag/", json={"target": "ops/snap:2"}))
    assert host_rt.images.get("ops/snap:2").id == image_id

    succeeded(stack, api.post(path + "rename/", json={"name": "ops1-renamed"}))
    assert host_rt.containers.get("ops1-renamed").running
    wait_for(
        lambda: api.get(path).json()["name"] == "ops1-renamed", 30, "the API to show the new name"
    )

    # anonymous: the registry refuses it, so the push below is the credentials' doing
    anonymous = accepted(
        api.post(f"/api/v1/images/{image['id']}/push/", json={"tag": f"{registry.host}/ops/snap:0"})
    )
    assert stack.ended(anonymous["job"])["state"] == "failed"

    r = api.post(
        "/api/v1/registries/",
        json={"name": "local", "host": registry.host, "username": "alice", "password": SECRET},
    )
    assert r.status_code == 201, r.text
    reg_id = r.json()["id"]
    pushed = accepted(
        api.post(
            f"/api/v1/images/{image['id']}/push/", json={"tag": "ops/snap:1", "registry": reg_id}
        )
    )
    job = stack.ended(pushed["job"])
    assert job["state"] == "succeeded", (job, stack.output(pushed["job"]))
    tags = httpx.get(
        f"http://{registry.host}/v2/ops/snap/tags/list", auth=("alice", SECRET), timeout=10
    ).json()
    assert "1" in tags["tags"]

    seen = [
        api.get(pushed["job"]["url"]).text,
        stack.output(pushed["job"]),
        stack.output(anonymous["job"]),
        api.get(f"/api/v1/registries/{reg_id}/").text,
        api.get("/api/v1/jobs/?limit=500").text,
        stack.log("worker"),
        stack.log("web"),
        stack.log("sweeper"),
    ]
    for text in seen:
        assert SECRET not in text
    api.delete(path + "?force=1")
    api.close()


def test_a_push_of_another_registrys_tag_is_a_field_error_and_no_job(stack, registry):
    with stack.api() as api:
        images = api.get("/api/v1/images/").json()["results"]
        owned = next((i for i in images if i["team"]), None)
        assert owned, "the test above leaves a team's image"
        reg = next(r for r in api.get("/api/v1/registries/").json()["results"])
        jobs = api.get("/api/v1/jobs/").json()["count"]
        r = api.post(
            f"/api/v1/images/{owned['id']}/push/",
            json={"tag": "elsewhere.example/x:1", "registry": reg["id"]},
        )
        assert r.status_code == 400 and "tag" in r.json(), r.text
        assert api.get("/api/v1/jobs/").json()["count"] == jobs


def _tar(files: dict[str, bytes]) -> bytes:
    import io
    import tarfile

    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w:gz") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mode = 0o755
            tar.addfile(info, io.BytesIO(data))
    return out.getvalue()


def _team_image(stack, engine_id: str) -> dict:
    with stack.api() as api:

        def found():
            images = api.get(f"/api/v1/images/?host={stack.host_name}").json()["results"]
            return next((i for i in images if i["engine_id"] == engine_id and i["team"]), None)

        return wait_for(found, 90, f"image {engine_id} in the API, the job's team's")


def test_a_build_from_an_uploaded_context_streams_its_steps(stack, host_rt):
    context = _tar(
        {
            "Dockerfile": b"FROM busybox\nARG GREETING\nCOPY hello.txt /hello.txt\n"
            b'RUN cat /hello.txt && echo "arg=$GREETING"\n',
            "hello.txt": b"hello from the context\n",
        }
    )
    with stack.api() as api:
        r = api.post(
            "/api/v1/images/build/",
            data={"host": stack.host_name, "tag": "ops/built:1", "build_args": "GREETING=hi"},
            files={"context": ("ctx.tar.gz", context, "application/gzip")},
        )
    job = stack.ended(accepted(r)["job"])
    text = stack.output(accepted(r)["job"])
    assert job["state"] == "succeeded", (job, text)
    assert "hello from the context" in text and "arg=hi" in text and "Step" in text
    image = host_rt.images.get("ops/built:1")
    assert image.id == job["result"]["image"]
    assert _team_image(stack, image.id)["tags"] == ["ops/built:1"]
    uploads = Path(stack.env["WHARF_UPLOAD_DIR"])
    assert not list(uploads.glob("job-*")), "the context goes when its job ends"


def test_a_build_from_a_dockerfile_text_alone(stack, host_rt):
    with stack.api() as api:
        r = api.post(
            "/api/v1/images/build/",
            data={
                "host": stack.host_name,
                "tag": "ops/text:1",
                "dockerfile": "FROM busybox\nRUN echo built > /built\n",
            },
        )
    job = stack.ended(accepted(r)["job"])
    assert job["state"] == "succeeded", stack.output(accepted(r)["job"])
    assert host_rt.images.get("ops/text:1").id == job["result"]["image"]


def test_import_and_load_uploaded_archives(stack, host_rt, tmp_path):
    with stack.api() as api:
        r = api.post(
            "/api/v1/images/import/",
            data={"host": stack.host_name, "reference": "ops/rootfs:1", "message": "from a tar"},
            files={"archive": ("rootfs.tar.gz", _tar({"etc/motd": b"imported\n"}), "x")},
        )
        imported = stack.ended(accepted(r)["job"])
        assert imported["state"] == "succeeded", stack.output(accepted(r)["job"])
        assert host_rt.images.get("ops/rootfs:1").id == imported["result"]["image"]
        _team_image(stack, imported["result"]["image"])

        saved = tmp_path / "saved.tar"
        with open(saved, "wb") as out:
            host_rt.images.save(["ops/rootfs:1"], out)
        host_rt.images.remove("ops/rootfs:1")
        assert not host_rt.images.exists("ops/rootfs:1")
        with open(saved, "rb") as archive:
            r = api.post(
                "/api/v1/images/load/",
                data={"host": stack.host_name},
                files={"archive": ("saved.tar", archive, "application/x-tar")},
            )
        loaded = stack.ended(accepted(r)["job"])
        assert loaded["state"] == "succeeded", stack.output(accepted(r)["job"])
        assert host_rt.images.get("ops/rootfs:1").id == imported["result"]["image"]
        assert "Loaded image: ops/rootfs:1" in stack.output(accepted(r)["job"])


@pytest.fixture
def only_this_host(stack):
    """The stack's host alone takes new work (other tests enrolled more hosts in the stack)."""
    held = stack.manage(
        "shell", "-c",
        "import json; from webapp.fleet.models import Host;"
        f"others = Host.objects.exclude(name={stack.host_name!r});"
        "print(json.dumps(dict(others.values_list('name', 'state'))));"
        "others.update(state='cordoned')",
    ).splitlines()[-1]  # fmt: skip
    yield
    stack.manage(
        "shell", "-c",
        "from webapp.fleet.models import Host;"
        f"[Host.objects.filter(name=n).update(state=s) for n, s in {json.loads(held)!r}.items()]",
    )  # fmt: skip


def test_placement_passes_over_a_full_host(stack, host_rt, only_this_host):
    with stack.api() as api:
        host = api.get(f"/api/v1/hosts/{stack.host_name}/").json()
        cpus = host["facts"]["cpus"]
        hog = accepted(
            api.post(
                "/api/v1/containers/",
                json={
                    "host": stack.host_name,
                    "image": "busybox",
                    "name": "hog",
                    "command": ["sleep", "300"],
                    "cpus": cpus,
                },
            )
        )
        assert stack.ended(hog["job"])["state"] == "succeeded"
        assert host_rt.containers.inspect("hog")["HostConfig"]["NanoCpus"] == cpus * 10**9
        path = f"/api/v1/containers/{hog['container']['id']}/"
        assert api.get(path).json()["cpus"] == cpus
        # room counts what runs: the host's report of the start may come after the job's end
        wait_for(lambda: api.get(path).json()["state"] == "running", 30, "the hog to be running")

        jobs = api.get("/api/v1/jobs/").json()["count"]
        full = api.post("/api/v1/containers/", json={"image": "busybox", "cpus": 1})
        assert full.status_code == 400 and "host" in full.json(), full.text
        assert "room" in full.json()["detail"]
        assert api.get("/api/v1/jobs/").json()["count"] == jobs, "no job for a refused request"

        succeeded(stack, api.post(path + "stop/", json={"timeout": 0}))
        wait_for(lambda: api.get(path).json()["state"] == "exited", 30, "the hog to be exited")
        fits = accepted(
            api.post(
                "/api/v1/containers/",
                json={"image": "busybox", "cpus": 1, "name": "fits", "command": ["true"]},
            )
        )
        assert fits["container"]["host"] == stack.host_name
        assert stack.ended(fits["job"])["state"] == "succeeded"
    for name in ("hog", "fits"):
        host_rt.containers.remove(name, force=True)
