"""The fd-relative primitives never leave their root and never write through a symlink."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from runtime.containers import inroot
from runtime.errors import HostError


@pytest.fixture(autouse=True)
def _needs_openat2() -> None:
    try:
        inroot.require_openat2()
    except HostError as exc:
        pytest.fail(f"these primitives need openat2: {exc}", pytrace=False)


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A directory next to the tree, standing for the host: nothing may touch it."""
    top = tmp_path / "outside"
    top.mkdir()
    (top / "passwd").write_text("host\n")
    return top


@pytest.fixture
def tree(tmp_path: Path, outside: Path) -> Path:
    """A container-like tree planting links to ``/``, to ``outside`` and up out of itself."""
    top = tmp_path / "tree"
    (top / "etc").mkdir(parents=True)
    (top / "etc" / "passwd").write_text("inside\n")
    (top / "root").symlink_to("/")
    (top / "up").symlink_to("../../../../../../..")
    (top / "out").symlink_to(outside)
    (top / "outfile").symlink_to(outside / "passwd")
    (top / "loop").symlink_to("loop")
    return top


def read_in(root_fd: int, path: str) -> str:
    fd = inroot.open_in_root(root_fd, path, os.O_RDONLY)
    with os.fdopen(fd) as f:
        return f.read()


def test_lookups_resolve_inside_the_root(tree, outside):
    with inroot.opened_root(tree) as root:
        for path in ("/etc/passwd", "root/etc/passwd", "/up/etc/passwd", "/../../etc/passwd"):
            assert read_in(root, path) == "inside\n", path
        # a link to the host's outside dir means the tree's own path of that name
        with pytest.raises(FileNotFoundError):
            inroot.open_in_root(root, "/out/passwd")
        with pytest.raises(OSError):
            inroot.open_in_root(root, "/loop/x")


def test_locate_holds_the_parent_and_chases_links_inside(tree, outside):
    with inroot.opened_root(tree) as root:
        with inroot.locate(root, "/outfile", follow=False) as loc:
            assert loc.name == "outfile" and loc.st is not None
            assert stat.S_ISLNK(loc.st.st_mode)
        with pytest.raises(FileNotFoundError):  # -> the tree's own outside/passwd: no such dir
            inroot.locate(root, "/outfile")
        # once the tree has that path, following leads there
        (tree / str(outside).lstrip("/")).mkdir(parents=True)
        with inroot.locate(root, "/outfile") as loc:
            assert loc.name == "passwd" and loc.st is None
            fd = inroot.create_file(loc.dir_fd, loc.name)
            os.write(fd, b"written\n")
            os.close(fd)
        assert (tree / str(outside).lstrip("/") / "passwd").read_text() == "written\n"
        assert (outside / "passwd").read_text() == "host\n"
        with inroot.locate(root, "/root/etc/.") as loc:
            assert loc.name is None and stat.S_ISDIR(loc.st.st_mode)
        with pytest.raises(FileNotFoundError):
            inroot.locate(root, "/nowhere/x")


def test_create_file_replaces_a_symlink_instead_of_writing_through_it(tree, outside):
    with inroot.opened_root(tree) as root:
        fd = inroot.create_file(root, "outfile", 0o644)
        os.write(fd, b"new\n")
        os.close(fd)
    assert (outside / "passwd").read_text() == "host\n"
    assert not (tree / "outfile").is_symlink() and (tree / "outfile").read_text() == "new\n"


def test_create_file_does_not_write_through_a_hard_link(tmp_path, outside):
    top = tmp_path / "t"
    top.mkdir()
    os.link(outside / "passwd", top / "hard")
    with inroot.opened_root(top) as root:
        fd = inroot.create_file(root, "hard")
        os.write(fd, b"new\n")
        os.close(fd)
    assert (outside / "passwd").read_text() == "host\n"


def test_make_dir_replaces_a_symlink_to_a_dir_and_writes_below_its_own_fd(tree, outside):
    """A symlink ``out`` created earlier (as a copy of container content would) and then a
    directory entry ``out/passwd``: the write goes into a new directory, not the link."""
    before = sorted(os.listdir(outside))
    with inroot.opened_root(tree) as root:
        d = inroot.make_dir(root, "out")
        try:
            fd = inroot.create_file(d, "passwd")
            os.close(fd)
            inroot.make_symlink(d, "again", "/")
        finally:
            os.close(d)
    assert sorted(os.listdir(outside)) == before and (outside / "passwd").read_text() == "host\n"
    assert (tree / "out").is_dir() and not (tree / "out").is_symlink()
    assert os.readlink(tree / "out" / "again") == "/"


def test_make_dir_reuses_a_directory_and_refuses_to_replace_one_by_a_file(tree):
    with inroot.opened_root(tree) as root:
        d = inroot.make_dir(root, "etc")
        os.close(d)
        assert (tree / "etc" / "passwd").exists()
        with pytest.raises(IsADirectoryError):
            inroot.create_file(root, "etc")
        with pytest.raises(IsADirectoryError):
            inroot.make_symlink(root, "etc", "/")


def test_make_dirs_creates_inside_the_root_and_not_through_dangling_links(tree, outside):
    with inroot.opened_root(tree) as root:
        fd = inroot.make_dirs(root, "/a/b/c")
        os.close(fd)
        assert (tree / "a" / "b" / "c").is_dir()
        fd = inroot.make_dirs(root, "/root/a/x")  # /root -> / of the tree
        os.close(fd)
        assert (tree / "a" / "x").is_dir()
        with pytest.raises(FileNotFoundError):
            inroot.make_dirs(root, "/out/new")  # the tree has no such path
    assert sorted(os.listdir(outside)) == ["passwd"]


def test_entries_are_read_without_following_or_opening_specials(tree, outside):
    os.mkfifo(tree / "fifo")
    with inroot.opened_root(tree) as root:
        fd, st = inroot.open_entry(root, "outfile")
        try:
            assert stat.S_ISLNK(st.st_mode) and inroot.read_link(fd) == str(outside / "passwd")
        finally:
            os.close(fd)
        fd, st = inroot.open_entry(root, "fifo")  # O_PATH: does not block on the FIFO
        try:
            assert stat.S_ISFIFO(st.st_mode)
            with pytest.raises(OSError):
                inroot.reopen(fd)
        finally:
            os.close(fd)
        fd, _ = inroot.open_entry(root, "etc")
        d = inroot.reopen(fd)
        os.close(fd)
        assert os.listdir(d) == ["passwd"]
        os.close(d)


def test_split():
    assert inroot.split("/a/b/") == ("/a", "b")
    assert inroot.split("/a") == ("/", "a")
    assert inroot.split("a") == (".", "a")
    assert inroot.split("/") == ("/", None)
    assert inroot.split("/a/.") == ("/a/.", None)
    assert inroot.split("/a/..") == ("/a/..", None)
