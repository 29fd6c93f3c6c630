"""Volumes with real containers: data that outlives containers, Docker's copy-up,
read-only and tmpfs mounts, the bind-mount policy, and in-use protection.
Each result is read from inside a container or from the host's mount table."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from runtime.containers.model import ContainerSpec
from runtime.errors import Conflict, InvalidArgument


def run(rt, *cmd: str, remove: bool = True, **spec) -> tuple[int, str, str]:
    """Run a busybox container to its end; return exit code, stdout, stderr."""
    c = rt.containers.create(ContainerSpec(image="busybox", cmd=list(cmd), **spec))
    try:
        rt.containers.start(c.id)
        code = rt.containers.wait(c.id, timeout=60)
        logs = list(rt.containers.logs(c.id))
    finally:
        if remove:
            rt.containers.remove(c.id, force=True)
    out = "".join(r["log"] for r in logs if r["stream"] == "stdout")
    err = "".join(r["log"] for r in logs if r["stream"] == "stderr")
    return code, out, err


def rows(rt) -> int:
    return rt.volumes.conn.execute("SELECT COUNT(*) FROM container_mounts").fetchone()[0]


def test_named_volume_data_outlives_its_container(rt, busybox_image):
    assert run(rt, "sh", "-c", "echo kept > /data/f", volumes=["store:/data"])[0] == 0
    code, out, _ = run(rt, "cat", "/data/f", volumes=["store:/data"])
    assert (code, out) == (0, "kept\n")
    assert (rt.volumes.get("store").mountpoint / "f").read_text() == "kept\n"


def test_first_mount_copies_the_images_content_into_an_empty_volume(rt, busybox_image):
    code, out, _ = run(rt, "cat", "/etc/passwd", volumes=["etcvol:/etc"])
    assert code == 0 and out.startswith("root:")
    data = rt.volumes.get("etcvol").mountpoint
    assert (data / "passwd").read_text() == out
    # a later change in the volume is kept: copy-up happens once, never over data
    (data / "passwd").write_text("changed\n")
    assert run(rt, "cat", "/etc/passwd", volumes=["etcvol:/etc"])[1] == "changed\n"


def test_read_only_volume_refuses_writes(rt, busybox_image):
    run(rt, "true", volumes=["rov:/data"])
    code, _, err = run(rt, "sh", "-c", "echo x > /data/f", volumes=["rov:/data:ro"])
    assert code != 0 and "Read-only file system" in err


def test_tmpfs_is_empty_tmpfs_on_every_start(rt, busybox_image):
    c = rt.containers.create(
        ContainerSpec(
            image="busybox",
            cmd=[
                "sh",
                "-c",
                "ls -A /scratch | wc -l; grep ' /scratch ' /proc/mounts; touch /scratch/x",
            ],
            tmpfs=["/scratch:size=1m"],
        )
    )
    try:
        for _ in range(2):
            rt.containers.start(c.id)
            assert rt.containers.wait(c.id, timeout=30) == 0
        lines = [r["log"] for r in rt.containers.logs(c.id)]
    finally:
        rt.containers.remove(c.id, force=True)
    assert lines[0].strip() == "0" and lines[2].strip() == "0", "empty at each start"
    assert lines[1].startswith("tmpfs /scratch tmpfs") and "size=1024k" in lines[1]


def test_bind_mount_below_the_allowed_area_reads_and_writes(rt, busybox_image):
    host = rt.paths.root / "binds" / "site"
    host.mkdir(parents=True)
    (host / "index.html").write_text("hello\n")
    code, out, _ = run(
        rt, "sh", "-c", "cat /srv/index.html; echo new > /srv/new", volumes=[f"{host}:/srv"]
    )
    assert (code, out) == (0, "hello\n")
    assert (host / "new").read_text() == "new\n"
    code, _, err = run(rt, "sh", "-c", "echo y > /srv/new", volumes=[f"{host}:/srv:ro"])
    assert code != 0 and "Read-only" in err


@pytest.mark.parametrize("source", ["/etc", "/", "/usr/lib", "/proc", "/run", "/dev"])
def test_sensitive_host_paths_are_always_refused(rt, busybox_image, source):
    with pytest.raises(InvalidArgument, match="never allowed"):
        rt.containers.create(
            ContainerSpec(image="busybox", cmd=["true"], volumes=[f"{source}:/host"])
        )
    assert rt.containers.list(all=True) == [] and rows(rt) == 0


def test_paths_outside_the_allowed_area_are_refused_even_through_a_symlink(
    rt, busybox_image, tmp_path
):
    outside = tmp_path / "secret"
    outside.mkdir()
    link = rt.paths.root / "binds" / "sneaky"
    link.parent.mkdir(parents=True, exist_ok=True)
    link.symlink_to(outside)
    for spec in ([f"{outside}:/x"], [f"{link}:/x"]):
        with pytest.raises(InvalidArgument, match="outside the host paths"):
            rt.containers.create(ContainerSpec(image="busybox", cmd=["true"], volumes=spec))
    assert rt.containers.list(all=True) == [] and rows(rt) == 0


def test_the_host_config_widens_the_allowed_paths(wharf_paths, busybox_image, tmp_path):
    from runtime import Runtime

    allowed = tmp_path / "shared"
    allowed.mkdir()
    (allowed / "f").write_text("shared\n")
    wharf_paths.config_file.write_text(json.dumps({"allowed_bind_paths": [str(allowed)]}))
    with Runtime(wharf_paths.root, wharf_paths.run) as rt:
        assert run(rt, "cat", "/mnt/f", volumes=[f"{allowed}:/mnt"])[1] == "shared\n"


def test_a_failed_create_leaves_no_volume_behind(rt, busybox_image):
    with pytest.raises(InvalidArgument):
        rt.containers.create(
            ContainerSpec(image="busybox", cmd=["true"], volumes=["fresh:/data", "/etc:/host"])
        )
    assert rt.volumes.list() == [] and rows(rt) == 0
    assert not (rt.paths.root / "volumes" / "fresh").exists()
    with pytest.raises(InvalidArgument, match="Duplicate mount point"):
        rt.containers.create(
            ContainerSpec(image="busybox", cmd=["true"], volumes=["va:/d", "vb:/d"])
        )
    assert rt.volumes.list() == []


def test_a_volume_in_use_cannot_be_removed(rt, busybox_image):
    c = rt.containers.create(ContainerSpec(image="busybox", cmd=["true"], volumes=["busy:/data"]))
    with pytest.raises(Conflict, match="volume is in use"):
        rt.volumes.remove("busy")
    with pytest.raises(Conflict):
        rt.volumes.remove("busy", force=True)
    rt.containers.remove(c.id)
    rt.volumes.remove("busy")
    assert not (rt.paths.root / "volumes" / "busy").exists()


def test_image_volumes_are_anonymous_and_go_with_rm_v(rt, busybox_image):
    base = rt.images.get("busybox")
    cfg = dict(base.container_config, Volumes={"/cache": {}})
    rt.images.commit(base, None, cfg, created_by="VOLUME /cache", tags=["withvol:latest"])
    c = rt.containers.create(ContainerSpec(image="withvol", cmd=["sh", "-c", "echo x > /cache/f"]))
    rt.containers.start(c.id)
    assert rt.containers.wait(c.id, timeout=30) == 0
    (anon,) = rt.volumes.list()
    assert anon.anonymous and len(anon.name) == 64
    mounts = rt.containers.inspect(c.id)["Mounts"]
    assert [(m["Type"], m["Name"], m["Destination"]) for m in mounts] == [
        ("volume", anon.name, "/cache")
    ]
    rt.containers.remove(c.id, volumes=True)
    assert rt.volumes.list() == []


def test_an_anonymous_volume_stays_without_rm_v_and_prune_takes_it(rt, busybox_image):
    run(rt, "true", volumes=["/scratch"])
    assert len(rt.volumes.list()) == 1
    rt.volumes.create("named")
    report = rt.volumes.prune()
    assert len(report["VolumesDeleted"]) == 1 and [v.name for v in rt.volumes.list()] == ["named"]
    assert rt.volumes.prune(all=True)["VolumesDeleted"] == ["named"]


def test_volumes_from_shares_another_containers_volumes(rt, busybox_image):
    src = rt.containers.create(
        ContainerSpec(
            image="busybox",
            cmd=["sh", "-c", "echo hi > /shared/f"],
            volumes=["sharedvol:/shared"],
            name="source",
        )
    )
    rt.containers.start(src.id)
    rt.containers.wait(src.id, timeout=30)
    code, out, _ = run(rt, "cat", "/shared/f", volumes_from=["source:ro"])
    assert (code, out) == (0, "hi\n")
    code, _, err = run(rt, "sh", "-c", "echo no > /shared/g", volumes_from=["source:ro"])
    assert code != 0 and "Read-only" in err
    rt.containers.remove(src.id)


def test_the_mount_leaves_the_host_mount_table_as_it_was(rt, busybox_image):
    def ours() -> list[str]:
        # only this test's host: other hosts on the machine may mount meanwhile
        return [
            line
            for line in Path("/proc/self/mountinfo").read_text().splitlines()
            if str(rt.paths.root) in line or str(rt.paths.run) in line
        ]

    before = ours()
    for _ in range(3):
        run(rt, "true", volumes=["leak:/d", "/anon"], tmpfs=["/t"])
    assert ours() == before
    assert os.path.isdir(rt.volumes.get("leak").mountpoint)
