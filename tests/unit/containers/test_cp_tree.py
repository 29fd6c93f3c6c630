"""The tree copier of ``cp``: what it writes on the host side never goes through a link."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from runtime.containers import inroot
from runtime.containers.copy import HOST_MODE_MASK, copy_children
from runtime.errors import HostError


@pytest.fixture(autouse=True)
def _needs_openat2() -> None:
    try:
        inroot.require_openat2()
    except HostError as exc:
        pytest.fail(f"cp needs openat2: {exc}", pytrace=False)


def copy(src: Path, dst: Path) -> None:
    s = os.open(src, os.O_RDONLY | os.O_DIRECTORY)
    d = os.open(dst, os.O_PATH | os.O_DIRECTORY)
    try:
        copy_children(s, d, HOST_MODE_MASK)
    finally:
        os.close(s)
        os.close(d)


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    top = tmp_path / "outside"
    top.mkdir()
    (top / "passwd").write_text("host\n")
    return top


def test_symlinks_are_copied_as_symlinks_and_later_replaced_not_followed(tmp_path, outside):
    """First copy: ``a -> outside``; second copy of a tree where ``a`` is a directory
    with ``a/passwd``: the host's ``a`` (made from container content) is replaced."""
    first, second, dst = tmp_path / "first", tmp_path / "second", tmp_path / "dst"
    for p in (first, second / "a", dst):
        p.mkdir(parents=True)
    (first / "a").symlink_to(outside)
    (first / "p").symlink_to(outside / "passwd")
    (second / "a" / "passwd").write_text("from the container\n")
    (second / "p").write_text("from the container\n")
    copy(first, dst)
    assert os.readlink(dst / "a") == str(outside) and os.readlink(dst / "p").endswith("passwd")
    copy(second, dst)
    assert (outside / "passwd").read_text() == "host\n" and os.listdir(outside) == ["passwd"]
    assert (dst / "a").is_dir() and not (dst / "a").is_symlink()
    assert (dst / "a" / "passwd").read_text() == "from the container\n"
    assert not (dst / "p").is_symlink() and (dst / "p").read_text() == "from the container\n"


def test_an_existing_hard_link_is_replaced_not_written_through(tmp_path, outside):
    src, dst = tmp_path / "src", tmp_path / "dst"
    src.mkdir()
    dst.mkdir()
    (src / "passwd").write_text("new\n")
    os.link(outside / "passwd", dst / "passwd")
    copy(src, dst)
    assert (outside / "passwd").read_text() == "host\n"
    assert (dst / "passwd").read_text() == "new\n"
    assert (dst / "passwd").stat().st_nlink == 1


def test_setuid_is_dropped_and_special_files_are_skipped(tmp_path):
    src, dst = tmp_path / "src", tmp_path / "dst"
    src.mkdir()
    dst.mkdir()
    (src / "su").write_text("x")
    os.chmod(src / "su", 0o6755)
    os.mkfifo(src / "fifo")  # copying must not block on it
    (src / "d").mkdir()
    os.chmod(src / "d", 0o2775)
    copy(src, dst)
    assert sorted(os.listdir(dst)) == ["d", "su"]
    assert stat.S_IMODE((dst / "su").stat().st_mode) == 0o755
    assert stat.S_IMODE((dst / "d").stat().st_mode) == 0o775
