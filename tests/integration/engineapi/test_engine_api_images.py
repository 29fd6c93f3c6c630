"""The Engine API's image verbs beyond list/inspect/pull, driven by Debian's ``docker`` CLI
and docker-py: push to Debian's docker-registry, history, save/load, prune."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "images"))
from image_registries import RealRegistry  # noqa: E402


@pytest.fixture
def registry() -> Iterator[RealRegistry]:
    workdir = Path(tempfile.mkdtemp(prefix="wharf-engineapi-push-"))
    reg = RealRegistry(workdir, "none")
    yield reg
    reg.stop()
    shutil.rmtree(workdir, ignore_errors=True)


@pytest.fixture
def auth_registry() -> Iterator[RealRegistry]:
    workdir = Path(tempfile.mkdtemp(prefix="wharf-engineapi-push-"))
    reg = RealRegistry(workdir, "htpasswd", users={"alice": "s3cret"})
    yield reg
    reg.stop()
    shutil.rmtree(workdir, ignore_errors=True)


def _image_id(wharf, ref: str) -> str:
    return wharf("image", "inspect", "-f", "{{.Id}}", ref).stdout.strip()


def test_docker_push_then_pull_back(docker, wharf, registry) -> None:
    ref = f"{registry.host}/team/box:1"
    docker("tag", "busybox", ref)
    out = docker("push", ref).stdout
    assert f"The push refers to repository [{registry.host}/team/box]" in out
    assert "Pushed" in out
    assert "1: digest: sha256:" in out
    digest = out.split("digest: ")[1].split()[0]
    docker("rmi", ref)
    assert ref not in wharf("images", "--format", "{{.Repository}}:{{.Tag}}").stdout
    docker("pull", ref)
    assert _image_id(wharf, ref) == _image_id(wharf, "busybox")
    repo_digests = docker("image", "inspect", "-f", "{{json .RepoDigests}}", ref).stdout
    assert f"{registry.host}/team/box@{digest}" in json.loads(repo_digests)
    # a second push finds every layer there already
    assert "Layer already exists" in docker("push", ref).stdout


def test_push_stream_shapes_and_all_tags(client, wharf, registry) -> None:
    repo = f"{registry.host}/team/multi"
    wharf("tag", "busybox", f"{repo}:a")
    wharf("tag", "busybox", f"{repo}:b")
    messages = list(client.api.push(repo, stream=True, decode=True))  # no tag: every tag
    assert all("error" not in m for m in messages), messages
    auxes = [m["aux"] for m in messages if "aux" in m]
    assert [a["Tag"] for a in auxes] == ["a", "b"]
    assert all(a["Digest"].startswith("sha256:") and a["Size"] > 0 for a in auxes)
    layer_ids = {m["id"] for m in messages if m.get("status") == "Preparing"}
    assert layer_ids and all(len(i) == 12 for i in layer_ids)
    pushing = [m for m in messages if m.get("status") == "Pushing"]
    assert all(m["progressDetail"]["total"] >= m["progressDetail"]["current"] for m in pushing)


def test_push_with_x_registry_auth(client, wharf, auth_registry) -> None:
    ref = f"{auth_registry.host}/team/secret"
    wharf("tag", "busybox", f"{ref}:1")
    bad = list(
        client.api.push(
            ref, "1", stream=True, decode=True, auth_config={"username": "alice", "password": "no"}
        )
    )
    assert "error" in bad[-1] and bad[-1]["errorDetail"]["message"] == bad[-1]["error"]
    good = list(
        client.api.push(
            ref,
            "1",
            stream=True,
            decode=True,
            auth_config={"username": "alice", "password": "s3cret"},
        )
    )
    assert "error" not in good[-1] and good[-1]["aux"]["Tag"] == "1", good[-1]


def test_push_errors(docker, client, registry) -> None:
    proc = docker("push", f"{registry.host}/team/nosuch:1", check=False)
    assert proc.returncode == 1
    assert "does not exist locally" in proc.stderr or "No such image" in proc.stderr
    import docker as docker_py

    with pytest.raises(docker_py.errors.NotFound):
        client.api.push(f"{registry.host}/team/nosuch", "1")
    # a registry that is not there: the failure arrives in the stream, and the CLI exits 1
    docker("tag", "busybox", "127.0.0.1:1/team/box:1")
    proc = docker("push", "127.0.0.1:1/team/box:1", check=False)
    assert proc.returncode == 1 and proc.stderr.strip(), proc


def test_history(docker, client, wharf) -> None:
    wharf("commit", "-c", "ENV X=1", wharf("create", "busybox").stdout.strip(), "hist:1")
    out = docker("history", "--no-trunc", "--format", "{{.ID}}|{{.CreatedBy}}", "hist:1").stdout
    lines = out.splitlines()
    expected = wharf(
        "history", "--no-trunc", "--format", "{{.ID}}|{{.CreatedBy}}", "hist:1"
    ).stdout.splitlines()
    assert lines == expected and len(lines) >= 2
    assert lines[0].startswith(_image_id(wharf, "hist:1") + "|")
    entries = client.api.history("hist:1")
    assert entries[0]["Tags"] == ["hist:1"]
    assert all(isinstance(e["Created"], int) and e["Created"] > 1_600_000_000 for e in entries)
    assert set(entries[0]) == {"Id", "Created", "CreatedBy", "Tags", "Size", "Comment"}
    proc = docker("history", "nosuch:1", check=False)
    assert proc.returncode == 1 and "nosuch" in proc.stderr


def _store_leftovers(rt) -> list[str]:
    """Staging directories an image operation left in the test root (none once it ended)."""
    tmp = rt.images.tmp_dir
    return [str(p) for p in tmp.iterdir()] if tmp.exists() else []


def test_save_then_load_back(docker, client, wharf, tmp_path) -> None:
    wharf("tag", "busybox", "saved:1")
    wharf("tag", "busybox", "saved:2")
    image_id = _image_id(wharf, "saved:1")
    archive = tmp_path / "saved.tar"
    docker("save", "-o", str(archive), "saved:1", "saved:2")
    import tarfile

    with tarfile.open(archive) as tar:
        manifest = json.load(tar.extractfile("manifest.json"))
    assert sorted(manifest[0]["RepoTags"]) == ["saved:1", "saved:2"]
    docker("rmi", "saved:1", "saved:2")
    out = docker("load", "-i", str(archive)).stdout
    assert "Loaded image: saved:1" in out and "Loaded image: saved:2" in out
    assert _image_id(wharf, "saved:2") == image_id
    # docker-py: one image's /images/{name}/get, and load's quiet stream
    data = b"".join(client.images.get("saved:1").save(named="saved:1"))
    docker("rmi", "saved:1")
    loaded = client.images.load(data)
    assert [i.id for i in loaded] == [image_id] and "saved:1" in loaded[0].tags
    messages = list(client.api.load_image(data, quiet=True))
    assert messages == [{"stream": "Loaded image: saved:1\n"}]


def test_save_and_load_refuse_bad_input(docker, client, wharf, rt, tmp_path) -> None:
    proc = docker("save", "-o", str(tmp_path / "x.tar"), "busybox", "nosuch:1", check=False)
    assert proc.returncode == 1 and "nosuch" in proc.stderr
    before = wharf("images", "-aq", "--no-trunc").stdout
    junk = tmp_path / "junk.tar"
    junk.write_bytes(b"this is not a tar archive" * 100)
    proc = docker("load", "-i", str(junk), check=False)
    assert proc.returncode == 1 and "archive" in proc.stderr, proc.stderr
    import docker as docker_py

    with pytest.raises(docker_py.errors.APIError) as info:
        client.images.load(junk.read_bytes())
    assert info.value.status_code == 400
    assert wharf("images", "-aq", "--no-trunc").stdout == before
    assert _store_leftovers(rt) == []


def test_image_prune_dangling_all_and_filters(docker, client, wharf) -> None:
    ctr = wharf("create", "busybox").stdout.strip()
    wharf("commit", "-c", "ENV A=1", ctr, "pr:1")
    first = _image_id(wharf, "pr:1")
    wharf("commit", "-c", "ENV A=2", ctr, "pr:1")  # the first one is dangling now
    wharf("commit", "-c", "LABEL keep=yes", ctr, "kept:1")
    # until: nothing is older than an hour
    assert (
        "Total reclaimed space: 0B" in docker("image", "prune", "-f", "--filter", "until=1h").stdout
    )
    out = docker("image", "prune", "-f").stdout
    assert f"deleted: {first}" in out
    assert "pr:1" in wharf("images", "--format", "{{.Repository}}:{{.Tag}}").stdout
    # -a with a label filter: only what carries no keep label goes; busybox is in use
    out = docker("image", "prune", "-af", "--filter", "label!=keep").stdout
    assert "untagged: pr:1" in out
    left = wharf("images", "--format", "{{.Repository}}:{{.Tag}}").stdout.split()
    assert sorted(left) == ["busybox:latest", "kept:1"]
    report = client.images.prune(filters={"dangling": False})
    assert [e for e in report["ImagesDeleted"] if "Untagged" in e] == [{"Untagged": "kept:1"}]
    assert report["SpaceReclaimed"] >= 0
    import docker as docker_py

    with pytest.raises(docker_py.errors.APIError) as info:
        client.images.prune(filters={"color": "red"})
    assert info.value.status_code == 400 and "color" in str(info.value)
    with pytest.raises(docker_py.errors.APIError) as info:
        client.images.prune(filters={"dangling": "maybe"})
    assert info.value.status_code == 400


def test_docker_login_then_push_with_the_clients_stored_login(
    docker_host, wharf, auth_registry, tmp_path
) -> None:
    """``docker login`` checks the credentials through ``/auth``; the CLI keeps them in its
    own config (the host stores nothing) and sends them with the push."""
    env = {**os.environ, "DOCKER_HOST": docker_host, "DOCKER_CONFIG": str(tmp_path / "cfg")}

    def docker(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
        return subprocess.run(
            ["docker", *args], env=env, input=stdin, capture_output=True, text=True, timeout=60
        )

    host = auth_registry.host
    bad = docker("login", host, "-u", "alice", "--password-stdin", stdin="wrong\n")
    assert bad.returncode != 0 and "login to" in bad.stderr and "failed" in bad.stderr, bad
    assert (
        not (tmp_path / "cfg" / "config.json").exists()
        or host not in (tmp_path / "cfg" / "config.json").read_text()
    )
    good = docker("login", host, "-u", "alice", "--password-stdin", stdin="s3cret\n")
    assert good.returncode == 0 and "Login Succeeded" in good.stdout, good
    assert host in (tmp_path / "cfg" / "config.json").read_text()
    ref = f"{host}/team/logged:1"
    wharf("tag", "busybox", ref)
    pushed = docker("push", ref)
    assert pushed.returncode == 0 and "digest: sha256:" in pushed.stdout, pushed
    assert not (Path(wharf.env["WHARF_ROOT"]) / "auth.json").exists(), "the host kept nothing"
