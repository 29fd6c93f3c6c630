"""``exec -u NAME`` reads the container's passwd and group files, never the host's.

The container runs as the attacker: its ``/etc/passwd`` is a link to
``/x/passwd`` and it keeps swapping ``/x`` between its own directory and a
symlink to a host directory holding a passwd file with a user only the host has
(``/etc`` itself holds bind mounts and cannot be renamed). A lookup that checks the path and then opens it (a
check-then-use walk) reads the host file in the gap and finds that user; the
lookup must resolve every component inside the container's root at the moment
of the open (openat2 RESOLVE_IN_ROOT), so the host user is never found.
"""

from __future__ import annotations

import contextlib
import time
from pathlib import Path

import pytest

from runtime.containers import rootfs as rootfs_mod
from runtime.errors import InvalidArgument

SWAPPER = """
mkdir /x; cp /etc/passwd /etc/group /x/
ln -sf /x/passwd /etc/passwd; ln -sf /x/group /etc/group
ln -s {host_etc} /hostlink
while true; do
  mv /x /x.real; mv /hostlink /x
  mv /x /hostlink; mv /x.real /x
done
"""


def _swapping(rt, wharf, name: str, script: str) -> Path:
    """Run SCRIPT in a container NAME; return its rootfs once the swap has begun."""
    wharf("run", "-d", "--name", name, "busybox", "sh", "-c", script)
    rootfs = rt.containers.run_dir(rt.containers.get(name).id) / "rootfs"
    deadline = time.monotonic() + 60
    while not (rootfs / "hostlink").is_symlink():
        assert time.monotonic() < deadline, "the container never began its swap"
        time.sleep(0.05)
    return rootfs


@pytest.mark.root
def test_a_container_swapping_its_passwd_dir_for_a_host_link_never_shows_host_users(
    rt, wharf, tmp_path: Path
) -> None:
    host_etc = tmp_path / "host-etc"
    host_etc.mkdir()
    (host_etc / "passwd").write_text("hostonly:x:4242:4242::/:/bin/sh\n")
    (host_etc / "group").write_text("hostonly:x:4242:\n")
    name = f"swapper-{tmp_path.name[-8:]}"
    try:
        rootfs = _swapping(rt, wharf, name, SWAPPER.format(host_etc=host_etc))
        refused = found = 0
        deadline = time.monotonic() + 8
        while time.monotonic() < deadline:
            try:
                uid, _gid, _extra, _home = rootfs_mod.resolve_user(rootfs, "hostonly")
            except InvalidArgument:
                refused += 1
            else:
                found += 1
                assert uid != 4242, "the host's passwd file was read through the container's link"
        assert refused > 100, f"only {refused} lookups ran while the container swapped /etc"
        assert found == 0, f"{found} lookups found a user the container does not have"
    finally:
        wharf("rm", "-f", name, check=False)


# mv -T never moves into a directory: a WORKDIR made at /x in a gap (the test's own
# mkdir) is put back in order instead of nesting the swap deeper every round
DIR_SWAPPER = """
mkdir /x
ln -s {host_dir} /hostlink
while true; do
  mv -T /x /x.real; mv -T /hostlink /x
  mv -T /x /hostlink; mv -T /x.real /x
  [ -L /hostlink ] || {{ rm -rf /hostlink; ln -s {host_dir} /hostlink; }}
  [ -e /x.real ] && {{ rm -rf /x; mv -T /x.real /x; }}
done 2>/dev/null
"""


@pytest.mark.root
def test_workdir_and_command_lookups_never_see_or_touch_the_host_through_a_swapped_dir(
    rt, wharf, tmp_path: Path
) -> None:
    """The same swap for ``exec -w`` and a command's lookup, and a start's WORKDIR: a
    check-then-use walk would find the host's directory and program (a leak of what
    the host holds) and make the working directory in the host's one, chowned to the
    container's user. Every lookup and the mkdir stay inside the container's root."""
    host_dir = tmp_path / "host-only"
    (host_dir / "only-here").mkdir(parents=True)
    tool = host_dir / "tool"
    tool.write_text("#!/bin/sh\n")
    tool.chmod(0o755)
    before = sorted(p.name for p in host_dir.iterdir())
    name = f"dirswap-{tmp_path.name[-8:]}"
    try:
        rootfs = _swapping(rt, wharf, name, DIR_SWAPPER.format(host_dir=host_dir))
        rounds, seen = 0, []
        deadline = time.monotonic() + 8
        while time.monotonic() < deadline:
            rounds += 1
            if rootfs_mod.stat_inside(rootfs, "/x/only-here") is not None:
                seen.append("the host's directory")
            if rootfs_mod.find_executable(rootfs, "/x/tool", [], "/") is not None:
                seen.append("the host's program")
            if rootfs_mod.find_executable(rootfs, "tool", ["PATH=/x"], "/") is not None:
                seen.append("the host's program on the PATH")
            with contextlib.suppress(InvalidArgument):  # /x was neither, for a moment
                rootfs_mod.make_workdir(rootfs, f"/x/made-{rounds}", 4242, 4242)
        assert rounds > 100, f"only {rounds} lookups ran while the container swapped /x"
        assert seen == [], f"{len(seen)} lookups saw the host: {sorted(set(seen))}"
        assert sorted(p.name for p in host_dir.iterdir()) == before
    finally:
        wharf("rm", "-f", name, check=False)
