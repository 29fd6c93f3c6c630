"""Lookups inside a rootfs never leave it; users resolve from the image's files."""

from __future__ import annotations

import pytest

from runtime.containers.rootfs import check_guarded, find_executable, resolve, resolve_user
from runtime.errors import InvalidArgument


@pytest.fixture
def rootfs(tmp_path):
    (tmp_path / "etc").mkdir()
    (tmp_path / "etc" / "passwd").write_text(
        "root:x:0:0:root:/root:/bin/sh\nweb:x:33:33::/var/www:/bin/sh\n"
    )
    (tmp_path / "etc" / "group").write_text("root:x:0:\nweb:x:33:\nextra:x:50:web\n")
    (tmp_path / "bin").mkdir()
    tool = tmp_path / "bin" / "tool"
    tool.write_text("#!/bin/sh\n")
    tool.chmod(0o755)
    (tmp_path / "up").symlink_to("../../../../etc")
    (tmp_path / "abs").symlink_to("/etc")
    return tmp_path


def test_symlinks_resolve_inside_the_rootfs(rootfs):
    assert resolve(rootfs, "/up/passwd") == rootfs / "etc" / "passwd"
    assert resolve(rootfs, "/abs/group") == rootfs / "etc" / "group"
    assert resolve(rootfs, "/../../etc/passwd") == rootfs / "etc" / "passwd"


def test_users_by_name_uid_and_group(rootfs):
    # the groups are what id shows under Docker: the primary one, then the user's
    assert resolve_user(rootfs, "web") == (33, 33, [33, 50], "/var/www")
    assert resolve_user(rootfs, "1234") == (1234, 0, [0], "/")
    assert resolve_user(rootfs, "web:root")[2] == [0]  # a named group: no others
    assert resolve_user(rootfs, "web:root")[:2] == (33, 0)
    assert resolve_user(rootfs, "")[:2] == (0, 0)
    with pytest.raises(InvalidArgument, match="unable to find user ghost"):
        resolve_user(rootfs, "ghost")
    with pytest.raises(InvalidArgument, match="unable to find group nogroup"):
        resolve_user(rootfs, "web:nogroup")


def test_group_add_takes_numbers_and_the_images_group_names(rootfs):
    assert resolve_user(rootfs, "web", ["root", "4000", "33"])[2] == [33, 50, 0, 4000]
    with pytest.raises(InvalidArgument, match="Unable to find group ghosts"):
        resolve_user(rootfs, "web", ["ghosts"])


def test_commands_are_found_on_the_path(rootfs):
    found = find_executable(rootfs, "tool", ["PATH=/usr/bin:/bin"], "/")
    assert found is not None and found.st_ino == (rootfs / "bin" / "tool").stat().st_ino
    assert find_executable(rootfs, "missing", ["PATH=/bin"], "/") is None


def test_a_symlinked_proc_is_refused(rootfs):
    (rootfs / "proc").symlink_to("/tmp")
    with pytest.raises(InvalidArgument, match="/proc is a symlink"):
        check_guarded([rootfs])
    upper = rootfs.parent / "upper"
    (upper / "proc").mkdir(parents=True)
    check_guarded([upper, rootfs])  # a later layer made it a directory again


def test_a_workdir_reaching_proc_through_a_symlink_is_refused(rootfs):
    from runtime.containers.rootfs import make_workdir

    (rootfs / "proc").mkdir()
    (rootfs / "x").symlink_to("/proc/self/fd/7")
    with pytest.raises(InvalidArgument, match="inside /proc"):
        make_workdir(rootfs, "/x", 0, 0)
    with pytest.raises(InvalidArgument, match="inside /proc"):
        make_workdir(rootfs, "/proc/self/fd/7", 0, 0)
    make_workdir(rootfs, "/app/sub", 0, 0)
    assert (rootfs / "app" / "sub").is_dir()
