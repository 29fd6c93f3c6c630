"""A context archive that would unpack to more than its share of the host's disk is refused.

A few kilobytes of gzip can hold gigabytes of zeros; the host's disk is every
team's. The refusal comes before a byte is written, and leaves no directory behind.
"""

from __future__ import annotations

import io
import shutil
import tarfile
from collections import namedtuple

import pytest

from runtime.build import context as context_mod
from runtime.build.errors import BuildError


def _tar(path, files: dict[str, bytes]) -> None:
    with tarfile.open(path, "w:gz") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))


def test_an_archive_larger_than_the_room_is_refused_and_leaves_nothing(tmp_path, monkeypatch):
    archive = tmp_path / "ctx.tar.gz"
    _tar(archive, {"Dockerfile": b"FROM busybox\n", "zeros": bytes(1 << 20)})
    work = tmp_path / "work"
    work.mkdir()
    usage = namedtuple("usage", "total used free")
    monkeypatch.setattr(shutil, "disk_usage", lambda p: usage(1 << 30, 0, 1 << 20))
    with pytest.raises(BuildError, match=r"unpacks to 1048589 bytes; only 524288 may be used"):
        context_mod.Context.open(str(archive), work)
    assert list(work.iterdir()) == []


def test_an_archive_that_fits_unpacks(tmp_path):
    archive = tmp_path / "ctx.tar.gz"
    _tar(archive, {"Dockerfile": b"FROM busybox\n"})
    work = tmp_path / "work"
    work.mkdir()
    ctx = context_mod.Context.open(str(archive), work)
    try:
        assert ctx.dockerfile("Dockerfile") == "FROM busybox\n"
    finally:
        ctx.close()
    assert list(work.iterdir()) == []
