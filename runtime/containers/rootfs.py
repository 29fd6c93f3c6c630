"""The container's root filesystem: the overlay mount and safe lookups inside it.

Paths inside the container are resolved by walking them component by
component under the rootfs, following symlinks as the container would see
them (an absolute link target restarts at the rootfs), so nothing an image
ships can make Wharf touch a host path.
"""

from __future__ import annotations

import ctypes
import os
import stat
from pathlib import Path

from runtime.containers import inroot
from runtime.errors import HostError, InvalidArgument

_libc = ctypes.CDLL(None, use_errno=True)
MNT_DETACH = 2
MS_BIND, MS_REC = 0x1000, 0x4000
# Mount points every container gets; an image where one is a symlink could
# redirect the runtime's mounts onto the host (runc CVE-2019-16884 family).
GUARDED = ("proc", "sys", "dev")


def mount_overlay(lower: list[Path], upper: Path, work: Path, target: Path) -> None:
    """Mount ``lower`` (top first) + upper/work as an overlay at ``target``."""
    target.mkdir(parents=True, exist_ok=True)
    opts = f"lowerdir={':'.join(map(str, lower))},upperdir={upper},workdir={work}"
    if len(opts) > 4000:
        raise HostError(f"too many image layers to mount ({len(lower)})")
    if _libc.mount(b"overlay", str(target).encode(), b"overlay", 0, opts.encode()) != 0:
        err = ctypes.get_errno()
        raise HostError(f"mounting the container's rootfs at {target}: {os.strerror(err)}")


def bind_mount(source: str, target: Path) -> None:
    """Bind ``source`` (and the mounts below it) at ``target`` in this mount namespace."""
    if _libc.mount(source.encode(), str(target).encode(), None, MS_BIND | MS_REC, None) != 0:
        err = ctypes.get_errno()
        raise HostError(f"bind-mounting {source} at {target}: {os.strerror(err)}")


def mount_shm(target: Path, size: int) -> None:
    """Mount a container's /dev/shm tmpfs on the host at ``target`` (a shareable IPC
    donor's, which the containers joining its IPC bind too, as Docker keeps it)."""
    target.mkdir(parents=True, exist_ok=True)
    flags = 0x2 | 0x4 | 0x8  # MS_NOSUID | MS_NODEV | MS_NOEXEC, as the runtime's own
    opts = f"mode=1777,size={size // 1024 if size else 65536}k"
    if _libc.mount(b"shm", str(target).encode(), b"tmpfs", flags, opts.encode()) != 0:
        err = ctypes.get_errno()
        raise HostError(f"mounting the container's /dev/shm at {target}: {os.strerror(err)}")


def unmount(target: Path) -> None:
    """Detach a mount if one is there; nothing mounted is fine."""
    if _libc.umount2(str(target).encode(), MNT_DETACH) != 0:
        err = ctypes.get_errno()
        if err not in (22, 2):  # EINVAL: not a mount point; ENOENT: gone
            raise HostError(f"unmounting {target}: {os.strerror(err)}")


def is_mounted(target: Path) -> bool:
    text = str(target)
    with open("/proc/self/mountinfo") as f:
        return any(line.split()[4] == text for line in f)


def check_guarded(layers: list[Path]) -> None:
    """Refuse an image whose /proc, /sys or /dev is a symlink (or not a directory).

    ``layers`` are the image's layer dirs, top first; the topmost entry of a name
    is the one the image shows (a whiteout means it was deleted).
    """
    for name in GUARDED:
        for layer in layers:
            try:
                st = os.lstat(layer / name)
            except FileNotFoundError:
                continue
            if stat.S_ISCHR(st.st_mode) and st.st_rdev == 0:
                break  # a whiteout: deleted in this layer
            if stat.S_ISLNK(st.st_mode) or not stat.S_ISDIR(st.st_mode):
                kind = "a symlink" if stat.S_ISLNK(st.st_mode) else "not a directory"
                raise InvalidArgument(f"the image's /{name} is {kind}: refusing to mount over it")
            break


def resolve(rootfs: Path, path: str, follow_last: bool = True) -> Path:
    """Return the host path of a container path, never leaving the rootfs.

    Each link on the way is read inside the rootfs (``inroot``), never through a host
    path a container could have swapped a directory of for a link out of it. Only for
    a rootfs no process runs in (a start's copy-up, a build): in a running container
    the host path could be swapped after this; look up with ``stat_inside`` there.
    """
    return rootfs / container_path(rootfs, path, follow_last).lstrip("/")


# A passwd or group file larger than this is not one (Docker's reader has no cap;
# ours keeps a hostile image from making the engine read gigabytes).
MAX_DB_SIZE = 16 << 20


def _read_db(rootfs: Path, name: str) -> list[list[str]]:
    """Read the container's ``/etc/<name>`` as rows; missing or not a file: no rows.

    Opened with openat2 RESOLVE_IN_ROOT, not by walking and then opening: a
    running container can swap a directory of the path for a link between the
    two, and the open would follow it onto the host. Non-blocking, so a FIFO
    planted there cannot hang the engine; only a regular file is read.
    """
    flags = os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC
    try:
        with inroot.opened_root(rootfs) as root:
            fd = inroot.open_in_root(root, f"/etc/{name}", flags)
    except OSError:
        return []
    with os.fdopen(fd, "rb") as f:
        st = os.fstat(f.fileno())
        if not stat.S_ISREG(st.st_mode):
            return []
        if st.st_size > MAX_DB_SIZE:
            raise InvalidArgument(f"the container's /etc/{name} is larger than {MAX_DB_SIZE} bytes")
        text = f.read(MAX_DB_SIZE).decode(errors="replace")
    return [line.split(":") for line in text.splitlines() if line and not line.startswith("#")]


def resolve_user(
    rootfs: Path, user: str, group_add: list[str] | tuple[str, ...] = ()
) -> tuple[int, int, list[int], str]:
    """Resolve ``name|uid[:group|gid]`` as Docker does; return uid, gid, the groups, home.

    The groups are what the process's ``id`` shows, as under Docker: the primary
    group, the image's ``/etc/group`` groups that list the user (unless a group
    was named), then ``--group-add``'s (names looked up in the image's group file).
    """
    user = user or "0"
    name, _, group = user.partition(":")
    passwd = _read_db(rootfs, "passwd")
    groups = _read_db(rootfs, "group")
    entry = None
    for row in passwd:
        if len(row) >= 7 and (row[0] == name or (name.isdigit() and row[2] == name)):
            entry = row
            break
    if entry is None and not name.isdigit():
        raise InvalidArgument(f"unable to find user {name}: no matching entries in passwd file")
    uid = int(entry[2]) if entry else int(name)
    gid = int(entry[3]) if entry else 0
    home = entry[5] if entry else "/"
    if group:
        if group.isdigit():
            gid = int(group)
        else:
            found = [g for g in groups if len(g) >= 3 and g[0] == group]
            if not found:
                raise InvalidArgument(
                    f"unable to find group {group}: no matching entries in group file"
                )
            gid = int(found[0][2])
    extra = [gid]
    if entry and not group:
        for g in groups:
            if len(g) >= 4 and entry[0] in g[3].split(",") and int(g[2]) not in extra:
                extra.append(int(g[2]))
    for added in group_add:
        if added.isdigit():
            number = int(added)
        else:
            found = [g for g in groups if len(g) >= 3 and g[0] == added]
            if not found:
                raise InvalidArgument(
                    f"Unable to find group {added}: no matching entries in group file"
                )
            number = int(found[0][2])
        if number not in extra:
            extra.append(number)
    return uid, gid, extra, home


def check_workdir(rootfs: Path, workdir: str) -> str:
    """Return the container path a working directory leads to, its links followed inside
    the rootfs, refusing one a process must not use."""
    if not workdir.startswith("/"):
        raise InvalidArgument(
            f"the working directory {workdir!r} is invalid, it needs to be an absolute path"
        )
    found = container_path(rootfs, workdir)
    # Judge the path the container will really use, symlinks followed: a cwd in
    # /proc could be a leaked host fd (runc CVE-2024-21626).
    parts = [p for p in found.split("/") if p]
    if parts and parts[0] in ("proc", "sys", "dev"):
        raise InvalidArgument(f"working directory {workdir} is inside /{parts[0]}: refused")
    return found


def container_path(rootfs: Path, path: str, follow_last: bool = True) -> str:
    """The container path ``path`` leads to, each link on the way read inside the rootfs."""
    with inroot.opened_root(rootfs) as root:
        found = inroot.follow_links(path, lambda p: inroot.link_at(root, p), follow_last)
    if found is None:
        raise InvalidArgument(f"too many levels of symbolic links in {path}")
    return found


def stat_inside(rootfs: Path, path: str) -> os.stat_result | None:
    """The stat of what a container path leads to, looked up inside the rootfs (never a
    host path a running container could swap a directory of for a link), or None."""
    try:
        with inroot.opened_root(rootfs) as root:
            fd = inroot.open_in_root(root, path, os.O_PATH)
    except OSError:
        return None
    try:
        return os.fstat(fd)
    finally:
        os.close(fd)


def make_workdir(rootfs: Path, workdir: str, uid: int, gid: int) -> None:
    """Create the WORKDIR inside the rootfs if missing, as Docker does (the new directory
    the user's; parents missing too, root's)."""
    target = check_workdir(rootfs, workdir)
    st = stat_inside(rootfs, target)
    if st is not None:
        if not stat.S_ISDIR(st.st_mode):
            raise InvalidArgument(f"working directory {workdir} is not a directory")
        return
    try:
        with inroot.opened_root(rootfs) as root:
            fd = inroot.make_dirs(root, target)
            try:
                os.chown(f"/proc/self/fd/{fd}", uid, gid)
            finally:
                os.close(fd)
    except OSError as exc:  # a path the container changed while it was made
        raise InvalidArgument(
            f"working directory {workdir} could not be made: {exc.strerror or exc}"
        ) from None


def find_executable(rootfs: Path, cmd: str, env: list[str], cwd: str) -> os.stat_result | None:
    """Find a command as the container's exec would (PATH search for a bare name); return
    the stat of what it runs, None when there is none."""
    if "/" in cmd:
        return stat_inside(rootfs, cmd if cmd.startswith("/") else os.path.join(cwd, cmd))
    search = next((e[5:] for e in env if e.startswith("PATH=")), "/usr/bin:/bin")
    for d in search.split(":"):
        st = stat_inside(rootfs, os.path.join(d or "/", cmd))
        if st is not None and stat.S_ISREG(st.st_mode):
            return st
    return None
