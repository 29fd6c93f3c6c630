"""Pull and push against Debian's docker-registry (open, basic auth, bearer tokens) and a liar."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from image_helpers import make_tar, store_state
from image_registries import FakeRegistry

from runtime import Runtime
from runtime.errors import (
    AuthenticationError,
    HostError,
    ImageNotFound,
    InvalidArgument,
    RegistryError,
)
from runtime.images import registry as reg
from runtime.images.auth import CredentialStore
from runtime.images.progress import Progress

REPO = Path(__file__).resolve().parents[3]


def _events() -> tuple[list[Progress], object]:
    seen: list[Progress] = []
    return seen, seen.append


def test_push_then_pull_gives_the_same_image_and_files(rt, other_rt, busybox_image, registry):
    events, record = _events()
    name = f"{registry.host}/tests/busybox:1"
    digest = reg.push(rt.images, "busybox", name, progress=record)
    assert digest.startswith("sha256:")
    assert any(e.status == "Pushed" for e in events)
    assert any(e.status.startswith("1: digest: " + digest) for e in events)

    events.clear()
    pulled = reg.pull(other_rt.images, name, progress=record)
    assert pulled.id == busybox_image.id
    assert pulled.repo_tags == [name]
    assert pulled.repo_digests == [f"{registry.host}/tests/busybox@{digest}"]
    assert {e.status for e in events} >= {"Downloading", "Download complete", "Pull complete"}
    (mine,) = rt.images.layer_paths(busybox_image)
    (theirs,) = other_rt.images.layer_paths(pulled)
    assert (theirs / "bin/busybox").read_bytes() == (mine / "bin/busybox").read_bytes()
    assert os.readlink(theirs / "bin/sh") == "/bin/busybox"

    # by digest, and again: the layer is already there
    events.clear()
    again = reg.pull(other_rt.images, f"{registry.host}/tests/busybox@{digest}", progress=record)
    assert again.id == pulled.id
    assert [e.status for e in events if e.id] == ["Already exists"]

    # pushing again finds the blobs; pushing to another repository mounts them
    events.clear()
    reg.push(rt.images, "busybox", name, progress=record)
    assert "Layer already exists" in {e.status for e in events}
    events.clear()
    reg.push(rt.images, "busybox", f"{registry.host}/elsewhere/bb:2", progress=record)
    assert any(e.status == "Mounted from tests/busybox" for e in events)


def test_pull_of_an_unknown_tag_names_it_and_changes_nothing(rt, registry):
    before = store_state(rt)
    with pytest.raises(ImageNotFound, match="nope:missing.*not found") as err:
        reg.pull(rt.images, f"{registry.host}/nope:missing")
    assert isinstance(err.value, RegistryError)
    assert store_state(rt) == before


def test_basic_auth_login_push_pull_logout(rt, other_rt, busybox_image, htpasswd_registry):
    host = htpasswd_registry.host
    name = f"{host}/private/bb:1"
    before = store_state(other_rt)
    with pytest.raises(AuthenticationError, match="authentication required"):
        reg.pull(other_rt.images, name)
    with pytest.raises(AuthenticationError, match="login to .* failed"):
        reg.login(rt.paths, host, "alice", "wrong")
    creds = CredentialStore(rt.paths)
    assert creds.get(host) is None
    reg.login(rt.paths, host, "alice", "s3cret")
    assert stat.S_IMODE(creds.path.stat().st_mode) == 0o600
    assert creds.get(host) == ("alice", "s3cret")
    reg.push(rt.images, "busybox", name)
    assert store_state(other_rt) == before
    pulled = reg.pull(other_rt.images, name, credentials=("alice", "s3cret"))
    assert pulled.id == busybox_image.id
    assert creds.remove(host) and creds.get(host) is None


def test_bearer_token_flow(rt, other_rt, busybox_image, token_registry):
    host = token_registry.host
    name = f"{host}/team/bb:1"
    with pytest.raises(AuthenticationError):
        reg.push(rt.images, "busybox", name)  # anonymous tokens only grant pull
    reg.push(rt.images, "busybox", name, credentials=("alice", "s3cret"))
    pulled = reg.pull(other_rt.images, name)  # anonymous pull with a pull-only token
    assert pulled.id == busybox_image.id
    asked = token_registry.token_server.requests
    assert {
        "service": ["wharf-test"],
        "scope": ["repository:team/bb:pull,push"],
        "user": "alice",
    } in asked
    assert any(r["user"] is None and r["scope"] == ["repository:team/bb:pull"] for r in asked)
    with pytest.raises(AuthenticationError, match="bad credentials"):
        reg.pull(other_rt.images, name, credentials=("alice", "wrong"))
    with pytest.raises(AuthenticationError, match="login to .* failed"):
        reg.login(rt.paths, host, "alice", "wrong")
    reg.login(rt.paths, host, "alice", "s3cret")  # stored, then used without being passed
    reg.push(rt.images, "busybox", f"{host}/team/bb:2")


def test_tls_registry_is_verified_against_a_ca_from_certs_d(rt, other_rt, busybox_image, tmp_path):
    import shutil
    import socket

    from image_registries import RealRegistry, make_tls

    hostname = socket.gethostname()
    if not socket.gethostbyname(hostname).startswith("127."):
        pytest.fail(f"this test needs the host name {hostname!r} to resolve to 127.0.0.0/8")
    workdir = tmp_path / "tls-registry"
    workdir.mkdir()
    ca, cert, key = make_tls(workdir, hostname)
    server = RealRegistry(workdir, tls=(cert, key))
    try:
        host = f"{hostname}:{server.port}"
        name = f"{host}/secure/bb:1"
        assert not reg.is_insecure(host, rt.paths)
        with pytest.raises(RegistryError, match="CERTIFICATE_VERIFY_FAILED"):
            reg.push(rt.images, "busybox", name)
        for runtime in (rt, other_rt):
            folder = runtime.paths.root / "certs.d" / host
            folder.mkdir(parents=True)
            shutil.copy(ca, folder / "ca.crt")
        digest = reg.push(rt.images, "busybox", name)
        pulled = reg.pull(other_rt.images, name)
        assert pulled.id == busybox_image.id and pulled.repo_digests[0].endswith(digest)
    finally:
        server.stop()


# --- a registry that lies ----------------------------------------------------------------


@pytest.fixture
def fake():
    layers = [
        gzip.compress(make_tar([(f"f{i}", "file", {"data": os.urandom(200_000)})]))
        for i in range(3)
    ]
    server = FakeRegistry.for_layers(layers)
    yield server
    server.close()


def _layer_digest(fake: FakeRegistry, n: int) -> str:
    return json.loads(fake.manifest)["layers"][n]["digest"]


def test_pull_of_oci_zstd_gzip_and_plain_layers(rt):
    layers = [
        (make_tar([(name, "file", {"data": name.encode() * 1000})]), name)
        for name in ("zstd", "gzip", "none")
    ]
    server = FakeRegistry.for_oci(layers)
    try:
        image = reg.pull(rt.images, f"{server.host}/oci/mixed:1")
    finally:
        server.close()
    paths = rt.images.layer_paths(image)
    for path, (_, name) in zip(paths, layers, strict=True):
        assert (path / name).read_bytes() == name.encode() * 1000
    types = {b[1] for d in image.diff_ids for b in rt.images.layer_blobs(d)}
    assert types == {"application/vnd.oci.image.layer.v1.tar" + s for s in ("", "+gzip", "+zstd")}


def test_fake_registry_baseline_pull_works(rt, fake):
    image = reg.pull(rt.images, f"{fake.host}/x:1")
    assert len(rt.images.layer_paths(image)) == 3


@pytest.mark.parametrize(
    "fault,error,match",
    [
        ("wrong-bytes", RegistryError, "digest mismatch"),
        ("truncate", RegistryError, "download failed after 3 attempts"),
    ],
)
def test_a_bad_blob_is_refused_and_nothing_is_kept(rt, fake, fault, error, match):
    fake.faults[_layer_digest(fake, 1)] = fault
    before = store_state(rt)
    with pytest.raises(error, match=match):
        reg.pull(rt.images, f"{fake.host}/x:1")
    assert store_state(rt) == before


def test_a_transient_error_is_retried(rt, fake):
    fake.faults["manifest"] = "flaky"
    fake.faults[_layer_digest(fake, 0)] = "flaky"
    image = reg.pull(rt.images, f"{fake.host}/x:1")
    assert len(image.diff_ids) == 3 and fake.hits["manifest"] == 2


@pytest.mark.parametrize(
    "body,match",
    [
        (b"{not json", "malformed manifest"),
        (
            json.dumps(
                {
                    "schemaVersion": 2,
                    "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
                    "config": {"digest": "sha256:" + "0" * 64, "size": 2},
                }
            ).encode(),
            "no layers",
        ),
        (json.dumps({"schemaVersion": 1, "fsLayers": []}).encode(), "schema 1"),
    ],
)
def test_a_malformed_manifest_is_refused(rt, fake, body, match):
    fake.faults["manifest"] = body
    before = store_state(rt)
    with pytest.raises(InvalidArgument, match=match):
        reg.pull(rt.images, f"{fake.host}/x:1")
    assert store_state(rt) == before


def test_an_unsupported_layer_media_type_is_refused(rt, fake):
    doc = json.loads(fake.manifest)
    doc["layers"][2]["mediaType"] = "application/vnd.example.weird+tar"
    fake.faults["manifest"] = json.dumps(doc).encode()
    before = store_state(rt)
    with pytest.raises(InvalidArgument, match="unsupported layer media type"):
        reg.pull(rt.images, f"{fake.host}/x:1")
    assert store_state(rt) == before


def test_a_config_that_lies_about_diff_ids_is_refused(rt, fake):
    doc = json.loads(fake.manifest)
    config = json.loads(fake.blobs[doc["config"]["digest"]])
    config["rootfs"]["diff_ids"][1] = "sha256:" + "1" * 64
    data = json.dumps(config).encode()
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    fake.blobs[digest] = data
    doc["config"] = {**doc["config"], "digest": digest, "size": len(data)}
    fake.faults["manifest"] = json.dumps(doc).encode()
    before = store_state(rt)
    with pytest.raises(InvalidArgument, match="does not match the image config"):
        reg.pull(rt.images, f"{fake.host}/x:1")
    assert store_state(rt) == before


# --- platforms, concurrency, a full disk -------------------------------------------------


def test_manifest_list_picks_this_platform_or_the_asked_one(
    rt, other_rt, busybox_image, registry, tmp_path
):
    from runtime.images import archive

    host = registry.host
    amd = reg.push(rt.images, "busybox", f"{host}/multi:amd64")
    arm_layer = make_tar([("arch", "file", {"data": b"arm64\n"})])
    arc = tmp_path / "arm"
    arc.mkdir()
    (arc / "layer.tar").write_bytes(arm_layer)
    (arc / "config.json").write_text(
        json.dumps(
            {
                "architecture": "arm64",
                "os": "linux",
                "config": {},
                "rootfs": {
                    "type": "layers",
                    "diff_ids": ["sha256:" + hashlib.sha256(arm_layer).hexdigest()],
                },
            }
        )
    )
    (arc / "manifest.json").write_text(
        json.dumps([{"Config": "config.json", "RepoTags": ["armimg:1"], "Layers": ["layer.tar"]}])
    )
    archive.load(rt.images, arc)
    arm = reg.push(rt.images, "armimg:1", f"{host}/multi:arm64")

    def desc(digest: str, arch: str) -> dict:
        r = httpx.get(
            f"http://{host}/v2/multi/manifests/{digest}",
            headers={"Accept": "application/vnd.docker.distribution.manifest.v2+json"},
        )
        return {
            "mediaType": r.headers["content-type"],
            "digest": digest,
            "size": len(r.content),
            "platform": {"os": "linux", "architecture": arch},
        }

    index = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": [desc(arm, "arm64"), desc(amd, "amd64")],
    }
    r = httpx.put(
        f"http://{host}/v2/multi/manifests/latest",
        content=json.dumps(index),
        headers={"Content-Type": "application/vnd.oci.image.index.v1+json"},
    )
    assert r.status_code == 201, r.text
    assert reg.pull(other_rt.images, f"{host}/multi").id == busybox_image.id
    picked = reg.pull(other_rt.images, f"{host}/multi", platform="linux/arm64")
    assert picked.config["architecture"] == "arm64"
    with pytest.raises(InvalidArgument, match="no matching manifest for linux/s390x"):
        reg.pull(other_rt.images, f"{host}/multi", platform="linux/s390x")


def test_two_processes_pulling_at_once_both_succeed_with_one_copy(
    rt, busybox_image, registry, tmp_path
):
    big = make_tar([(f"d{i}", "file", {"data": os.urandom(2_000_000)}) for i in range(4)], "gzip")
    rt.images.import_rootfs(io.BytesIO(big), "big:1")
    name = f"{registry.host}/race/big:1"
    reg.push(rt.images, "big:1", name)
    root = tmp_path / "race-root"
    env = {
        **os.environ,
        "WHARF_ROOT": str(root),
        "WHARF_RUN": str(tmp_path / "race-run"),
        "PYTHONPATH": str(REPO),
    }
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "runtime.cli.main", "pull", "-q", name],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for _ in range(2)
    ]
    outs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outs
    with Runtime(root, tmp_path / "race-run") as race:
        state = store_state(race)
        assert len(state["rows"]["images"]) == 1 and len(state["rows"]["layers"]) == 1
        assert state["staging"] == []
        assert len(os.listdir(root / "layers")) == 1
        # the compressed blob, the config: one copy each
        assert len(os.listdir(root / "blobs/sha256")) == 2


def test_a_full_disk_mid_pull_leaves_nothing(rt, registry, tmp_path):
    data = make_tar([("noise", "file", {"data": os.urandom(6_000_000)})], "gzip")
    rt.images.import_rootfs(io.BytesIO(data), "noise:1")
    name = f"{registry.host}/noise:1"
    reg.push(rt.images, "noise:1", name)
    small = tmp_path / "small"
    small.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(small)], check=True)
    try:
        with Runtime(small / "root", small / "run") as tiny:
            before = store_state(tiny)
            with pytest.raises(HostError, match="no space left"):
                reg.pull(tiny.images, name)
            assert store_state(tiny) == before
    finally:
        subprocess.run(["umount", str(small)], check=True)
