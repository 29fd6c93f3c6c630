"""``cp`` between the host and a container's filesystem, as ``docker cp`` does.

The container side is resolved inside its rootfs (symlinks followed as the
container sees them), so a path can never reach outside it.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

from runtime.containers import rootfs as rootfs_mod
from runtime.errors import InvalidArgument, NotFound


def _copy(src: Path, dst: Path) -> None:
    """Copy a file or a tree to ``dst``; into it when ``dst`` is an existing directory."""
    if dst.is_dir() and not dst.is_symlink():
        dst = dst / src.name
    if src.is_dir() and not src.is_symlink():
        shutil.copytree(src, dst, symlinks=True, dirs_exist_ok=True)
    else:
        shutil.copy2(src, dst, follow_symlinks=False)


def copy_from(manager: Any, ctr: str, path: str, dest: str) -> None:
    """Copy a container path to a host path."""
    with manager.mounted_rootfs(ctr) as rootfs:
        src = rootfs_mod.resolve(
            rootfs, path if path.startswith("/") else "/" + path, follow_last=False
        )
        if not os.path.lexists(src):
            raise NotFound(f"Could not find the file {path} in container {ctr}")
        target = Path(dest)
        if dest.endswith("/") and not target.is_dir():
            raise InvalidArgument(f"destination directory {dest} does not exist")
        _copy(src, target)


def copy_to(manager: Any, src: str, ctr: str, path: str) -> None:
    """Copy a host path into a container."""
    source = Path(src)
    if not os.path.lexists(source):
        raise NotFound(f"could not find the file {src} on the host")
    with manager.mounted_rootfs(ctr) as rootfs:
        dst = rootfs_mod.resolve(rootfs, path if path.startswith("/") else "/" + path)
        if not dst.parent.is_dir():
            raise InvalidArgument(
                f"could not find the directory {os.path.dirname(path)} in container {ctr}"
            )
        _copy(source, dst)


def tar_from(manager: Any, ctr: str, path: str, out: Any) -> None:
    """Write a container path as a tar stream (``docker cp CTR:PATH -``)."""
    import tarfile

    with manager.mounted_rootfs(ctr) as rootfs:
        src = rootfs_mod.resolve(
            rootfs, path if path.startswith("/") else "/" + path, follow_last=False
        )
        if not os.path.lexists(src):
            raise NotFound(f"Could not find the file {path} in container {ctr}")
        with tarfile.open(fileobj=out, mode="w|") as tar:
            tar.add(src, arcname=src.name or ".")


def untar_to(manager: Any, source: Any, ctr: str, path: str) -> None:
    """Extract a tar stream into a container directory (``docker cp - CTR:DIR``).

    Python's "data" filter refuses absolute names, ``..`` and links leading
    outside the target, so the archive cannot reach beyond the container.
    """
    import tarfile

    with manager.mounted_rootfs(ctr) as rootfs:
        dst = rootfs_mod.resolve(rootfs, path if path.startswith("/") else "/" + path)
        if not dst.is_dir():
            raise InvalidArgument(f"destination {path} in container {ctr} must be a directory")
        with tarfile.open(fileobj=source, mode="r|*") as tar:
            try:
                tar.extractall(dst, filter="data")
            except tarfile.FilterError as exc:
                raise InvalidArgument(f"refusing an archive entry: {exc}") from None
