"""The store: names resolve like Docker's, layers are shared and freed by reference count."""

from __future__ import annotations

import io
import os
import subprocess

import pytest
from image_helpers import make_tar, store_state

from runtime.errors import Conflict, ImageNotFound


def _layered(rt, parent, name: str, data: bytes, tmp_path):
    upper = tmp_path / f"upper-{name.replace(':', '-')}"
    upper.mkdir()
    (upper / "file").write_bytes(data)
    return rt.images.commit(
        parent, upper, {"Cmd": ["cat", "/file"]}, created_by=f"add {name}", tags=[name]
    )


def test_get_accepts_every_docker_form(rt, busybox_image):
    image_id = busybox_image.id
    for form in (
        "busybox",
        "busybox:latest",
        "docker.io/library/busybox:latest",
        "library/busybox",
        image_id,
        image_id[7:],
        image_id[7:19],
        image_id[:20],
    ):
        assert rt.images.get(form).id == image_id, form
    rt.images.add_repo_digest("busybox@sha256:" + "a" * 64, image_id)
    assert rt.images.get("busybox@sha256:" + "a" * 64).id == image_id
    with pytest.raises(ImageNotFound, match="No such image: nothere:1"):
        rt.images.get("nothere:1")


def test_the_starter_image_is_a_working_busybox(rt, busybox_image, tmp_path):
    assert busybox_image.repo_tags == ["busybox:latest"]
    assert busybox_image.container_config["Cmd"] == ["sh"]
    (layer,) = rt.images.layer_paths(busybox_image)
    assert "user:x:1000:1000" in (layer / "etc/passwd").read_text()
    assert "nobody:x:65534:65534" in (layer / "etc/passwd").read_text()
    for d in ("tmp", "proc", "sys", "dev", "etc", "root", "home"):
        assert (layer / d).is_dir(), d
    out = subprocess.run(
        ["chroot", str(layer), "/bin/sh", "-c", "echo $((6*7)); ls /usr/bin/wc"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert out.split() == ["42", "/usr/bin/wc"]


def test_layers_are_shared_and_freed_when_no_image_needs_them(rt, busybox_image, tmp_path):
    empty = store_state(rt)
    a = _layered(rt, busybox_image, "app:a", b"a", tmp_path)
    b = _layered(rt, busybox_image, "app:b", b"b", tmp_path)
    base = rt.images.layer_paths(busybox_image)[0]
    assert rt.images.layer_paths(a)[0] == base == rt.images.layer_paths(b)[0]
    assert len(os.listdir(rt.paths.root / "layers")) == 3
    rt.images.remove("busybox")
    assert base.is_dir()  # a and b still stand on it
    assert rt.images.remove("app:a") == [{"Untagged": "app:a"}, {"Deleted": a.id}]
    assert base.is_dir() and len(os.listdir(rt.paths.root / "layers")) == 2
    rt.images.remove("app:b")
    assert os.listdir(rt.paths.root / "layers") == []
    assert os.listdir(rt.paths.root / "blobs/sha256") == []
    assert store_state(rt)["rows"] == {k: [] for k in empty["rows"]}


def test_rmi_untags_first_and_refuses_images_in_use(rt, busybox_image):
    rt.images.tag("busybox", "second:1")
    assert rt.images.remove("second:1") == [{"Untagged": "second:1"}]
    rt.images.tag("busybox", "second:1")
    with pytest.raises(Conflict, match="referenced in multiple repositories"):
        rt.images.remove(busybox_image.short_id)
    rt.images.untag("second:1")
    from runtime.containers.model import ContainerSpec

    rt.containers.create(ContainerSpec(image="busybox", cmd=["true"]))  # a user of the image
    with pytest.raises(Conflict, match="is using its referenced image"):
        rt.images.remove("busybox")
    with pytest.raises(Conflict, match="being used by container"):
        rt.images.remove(busybox_image.id)
    assert rt.images.remove("busybox", force=True) == [{"Untagged": "busybox:latest"}]
    assert rt.images.get(busybox_image.id).repo_tags == []  # kept for the container
    assert rt.images.prune(all=True) == {"ImagesDeleted": [], "SpaceReclaimed": 0}


def test_tag_moves_a_name_and_prune_removes_dangling(rt, busybox_image, tmp_path):
    one = _layered(rt, busybox_image, "moving:1", b"1", tmp_path)
    two = _layered(rt, busybox_image, "other:1", b"2", tmp_path)
    rt.images.tag(two.id, "moving:1")
    assert rt.images.get("moving:1").id == two.id
    assert [i.id for i in rt.images.list(dangling=True)] == [one.id]
    assert rt.images.prune() == {"ImagesDeleted": [{"Deleted": one.id}], "SpaceReclaimed": 1}
    with pytest.raises(ImageNotFound):
        rt.images.get(one.id)
    pruned = rt.images.prune(all=True)
    deleted = {e["Deleted"] for e in pruned["ImagesDeleted"] if "Deleted" in e}
    assert deleted == {two.id, busybox_image.id}
    assert pruned["SpaceReclaimed"] == busybox_image.size + 1
    assert rt.images.list(all=True) == []


def test_history_and_inspect_have_dockers_shape(rt, busybox_image, tmp_path):
    child = _layered(rt, busybox_image, "hist:1", b"hello", tmp_path)
    meta = rt.images.commit(
        child, None, {"Cmd": ["true"]}, created_by='CMD ["true"]', tags=["hist:2"]
    )
    history = rt.images.history("hist:2")
    assert [h["CreatedBy"] for h in history][:2] == ['CMD ["true"]', "add hist:1"]
    assert history[0]["Id"] == meta.id and history[0]["Size"] == 0 and history[1]["Size"] > 0
    data = rt.images.inspect("hist:2")
    assert data["Id"] == meta.id and data["RepoTags"] == ["hist:2"]
    assert data["RootFS"]["Layers"] == child.diff_ids and data["Os"] == "linux"
    assert data["Config"]["Cmd"] == ["true"] and data["Size"] == child.size


def test_two_imports_of_the_same_rootfs_store_one_layer(rt):
    layer = make_tar([("same", "file", {"data": b"x" * 1000})])
    a = rt.images.import_rootfs(io.BytesIO(layer), "same:a", created="2020-01-01T00:00:00Z")
    b = rt.images.import_rootfs(io.BytesIO(layer), "same:b", created="2020-01-01T00:00:00Z")
    assert a.id == b.id and sorted(rt.images.get(a.id).repo_tags) == ["same:a", "same:b"]
    assert len(os.listdir(rt.paths.root / "layers")) == 1
