"""save/load round trips between hosts; bad archives are refused without leaving anything."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import tarfile
from pathlib import Path

import pytest
from image_helpers import make_tar, store_state

from runtime.errors import InvalidArgument
from runtime.images import archive


def _save(rt, names, path: Path) -> Path:
    with open(path, "wb") as out:
        archive.save(rt.images, names, out)
    return path


def test_save_and_load_move_images_between_hosts(rt, other_rt, busybox_image, tmp_path):
    upper = tmp_path / "upper"
    upper.mkdir()
    (upper / "app").write_text("app")
    child = rt.images.commit(busybox_image, upper, {"Cmd": ["cat", "/app"]}, tags=["child:1"])
    rt.images.tag("child:1", "child:alias")
    saved = _save(rt, ["busybox", "child:1", "child:alias"], tmp_path / "two.tar")
    with tarfile.open(saved) as tar:
        names = tar.getnames()
    # the base layer is written once although both images have it
    assert names.count(f"blobs/sha256/{busybox_image.diff_ids[0][7:]}") == 1
    loaded = archive.load(other_rt.images, saved)
    assert {i.id for i in loaded} == {busybox_image.id, child.id}
    again = other_rt.images.get("child:alias")
    assert again.id == child.id and sorted(again.repo_tags) == ["child:1", "child:alias"]
    top = other_rt.images.layer_paths(again)[-1]
    assert (top / "app").read_text() == "app"


def test_load_reads_a_compressed_archive_from_a_stream(rt, other_rt, busybox_image, tmp_path):
    saved = _save(rt, ["busybox"], tmp_path / "bb.tar")
    (image,) = archive.load(other_rt.images, io.BytesIO(gzip.compress(saved.read_bytes())))
    assert image.id == busybox_image.id and image.repo_tags == ["busybox:latest"]


def _archive_with(
    tmp_path: Path, layer: bytes, diff_id: str | None = None, layer_name: str = "layer.tar"
) -> Path:
    config = json.dumps(
        {
            "architecture": "amd64",
            "os": "linux",
            "config": {},
            "rootfs": {
                "type": "layers",
                "diff_ids": [diff_id or "sha256:" + hashlib.sha256(layer).hexdigest()],
            },
        }
    )
    root = tmp_path / "bad"
    root.mkdir()
    (root / "layer.tar").write_bytes(layer)
    (root / "config.json").write_text(config)
    (root / "manifest.json").write_text(
        json.dumps([{"Config": "config.json", "RepoTags": ["bad:1"], "Layers": [layer_name]}])
    )
    return root


@pytest.mark.parametrize("case", ["escaping-entry", "wrong-diff-id", "layer-outside", "not-json"])
def test_a_bad_archive_is_refused_and_nothing_is_kept(rt, busybox_image, tmp_path, case):
    good = make_tar([("fine", "file", {"data": b"ok"})])
    if case == "escaping-entry":
        root, match = _archive_with(tmp_path, make_tar([("../../x", "file")])), "'../../x'"
    elif case == "wrong-diff-id":
        root, match = _archive_with(tmp_path, good, "sha256:" + "2" * 64), "does not match"
    elif case == "layer-outside":
        root, match = _archive_with(tmp_path, good, layer_name="../../etc/passwd"), "outside"
    else:
        root = _archive_with(tmp_path, good)
        (root / "manifest.json").write_text("[{")
        match = "malformed"
    before = store_state(rt)
    with pytest.raises(InvalidArgument, match=match):
        archive.load(rt.images, root)
    assert store_state(rt) == before
