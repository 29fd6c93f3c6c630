"""``/containers/{id}/archive`` and ``/containers/{id}/export``: a container's files as tar.

``docker cp`` asks ``HEAD .../archive?path=`` what a path is (the answer rides in
the ``X-Docker-Container-Path-Stat`` header, base64 JSON), then ``GET``s a tar of
it or ``PUT``s a tar into a directory. Every path goes through the confined copy
``wharf cp`` uses (``runtime.containers.copy``: openat2 ``RESOLVE_IN_ROOT``,
``O_NOFOLLOW`` writes), so a symlink the container planted leads only to the
container's own files, and the ``linkTarget`` a client follows next is a
container path. ``docker export`` is the same walk over the whole rootfs.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import stat
import threading
from collections.abc import Callable, Iterator
from typing import IO

from runtime.engineapi.containers import open_runtime
from runtime.engineapi.http import HTTPError, Reply, Request, Router

log = logging.getLogger("wharf.engineapi")

router = Router()

STAT_HEADER = "X-Docker-Container-Path-Stat"

# Go's os.FileMode type bits (what the client's Mode.IsDir() and ModeSymlink test)
_GO_MODE_DIR = 1 << 31
_GO_MODE_SYMLINK = 1 << 27
_GO_MODE_DEVICE = 1 << 26
_GO_MODE_NAMED_PIPE = 1 << 25
_GO_MODE_SOCKET = 1 << 24
_GO_MODE_SETUID = 1 << 23
_GO_MODE_SETGID = 1 << 22
_GO_MODE_CHAR_DEVICE = 1 << 21
_GO_MODE_STICKY = 1 << 20


def go_file_mode(mode: int) -> int:
    """A stat's ``st_mode`` as Go's ``os.FileMode`` (the type in the high bits)."""
    out = stat.S_IMODE(mode) & 0o777
    kind = stat.S_IFMT(mode)
    out |= {
        stat.S_IFDIR: _GO_MODE_DIR,
        stat.S_IFLNK: _GO_MODE_SYMLINK,
        stat.S_IFBLK: _GO_MODE_DEVICE,
        stat.S_IFCHR: _GO_MODE_DEVICE | _GO_MODE_CHAR_DEVICE,
        stat.S_IFIFO: _GO_MODE_NAMED_PIPE,
        stat.S_IFSOCK: _GO_MODE_SOCKET,
    }.get(kind, 0)
    for bit, go_bit in (
        (stat.S_ISUID, _GO_MODE_SETUID),
        (stat.S_ISGID, _GO_MODE_SETGID),
        (stat.S_ISVTX, _GO_MODE_STICKY),
    ):
        if mode & bit:
            out |= go_bit
    return out


def _path(request: Request) -> str:
    path = request.arg("path") or ""
    if not path:
        raise HTTPError(400, "path cannot be empty")
    return path


def _stat_header(request: Request, path: str) -> dict[str, str]:
    """Docker's ContainerPathStat of ``path``, encoded as its header wants."""
    from runtime.containers.copy import stat_path
    from runtime.timefmt import go_time, ns_to_rfc3339

    with open_runtime(request) as rt:
        name, st, target = stat_path(rt.containers, request.params["id"], path)
    record = {
        "name": name,
        "size": st.st_size,
        "mode": go_file_mode(st.st_mode),
        "mtime": go_time(ns_to_rfc3339(st.st_mtime_ns)),
        "linkTarget": target,
    }
    return {STAT_HEADER: base64.b64encode(json.dumps(record).encode()).decode()}


def tar_reply(write: Callable[[IO[bytes]], None], headers: dict[str, str] | None = None) -> Reply:
    """Stream what ``write(out)`` writes as an ``application/x-tar`` reply.

    The writer runs in a thread into a pipe; its first bytes (or its error) are
    awaited here, so a container or path that is not there is still an error
    status, not a 200 with an empty body. A client that leaves closes the pipe:
    the writer ends with BrokenPipeError and unmounts what it mounted.
    """
    r, w = os.pipe()
    failed: list[BaseException] = []

    def run() -> None:
        try:
            with os.fdopen(w, "wb") as out:
                write(out)
        except BrokenPipeError:
            pass
        except Exception as exc:  # noqa: BLE001 - reported below or logged
            failed.append(exc)

    worker = threading.Thread(target=run, daemon=True, name="engineapi-tar")
    worker.start()
    reader = os.fdopen(r, "rb")
    first = reader.read1(1 << 16)
    if not first:
        reader.close()
        worker.join()
        if failed:
            raise failed[0]

    def body() -> Iterator[bytes]:
        try:
            yield first
            while chunk := reader.read1(1 << 16):
                yield chunk
        finally:
            reader.close()
            worker.join()
            if failed:
                log.warning("a tar stream ended early: %s", failed[0])

    return Reply(200, stream=body(), content_type="application/x-tar", headers=headers)


@router.route("HEAD", "/containers/{id}/archive")
def stat_archive(request: Request) -> Reply:
    return Reply(200, b"", content_type="text/plain", headers=_stat_header(request, _path(request)))


@router.route("GET", "/containers/{id}/archive")
def get_archive(request: Request) -> Reply:
    """A tar of the path (a directory with its tree, a symlink as a symlink)."""
    from runtime.containers.copy import tar_from

    path = _path(request)
    headers = _stat_header(request, path)

    def write(out: IO[bytes]) -> None:
        with open_runtime(request) as rt:
            tar_from(rt.containers, request.params["id"], path, out)

    return tar_reply(write, headers)


@router.route("PUT", "/containers/{id}/archive")
def put_archive(request: Request) -> Reply:
    """Extract the body's tar into the directory at ``path``."""
    from runtime.containers.copy import untar_to

    path = _path(request)
    with open_runtime(request) as rt:
        c = rt.containers.get(request.params["id"])
        untar_to(
            rt.containers,
            request.body_file(),
            c.id,
            path,
            owners=request.flag("copyUIDGID"),
            keep_kinds=request.flag("noOverwriteDirNonDir"),
        )
    return Reply(200, b"", content_type="text/plain")


@router.route("GET", "/containers/{id}/export")
def export(request: Request) -> Reply:
    """The container's whole filesystem as ``docker export`` writes it."""
    with open_runtime(request) as rt:
        ctr_id = rt.containers.get(request.params["id"]).id

    def write(out: IO[bytes]) -> None:
        with open_runtime(request) as rt:
            rt.containers.export(ctr_id, out)

    return tar_reply(write)
