"""``POST /build``: Docker's classic builder protocol on Wharf's own builder.

The body is the build context as a tar (maybe compressed). It is written to
the builder's work directory as it arrives, up to ``max_build_context`` bytes
(host config, default ``DEFAULT_MAX_CONTEXT``), and handed to
``runtime.build`` as ``wharf build`` hands it an archive: unpacked with
tarfile's ``data`` filter (no absolute names, no ``..``, no link out of the
context), within half the free space, ``.dockerignore`` applied. The reply is
Docker's JSON stream: ``{"stream": "Step 1/3 : FROM busybox\\n"}`` …,
``{"aux": {"ID": "sha256:…"}}``; a failing step ends it with ``errorDetail``.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import lzma
import os
import tarfile
import tempfile
import threading
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from runtime.engineapi.containers import open_runtime
from runtime.engineapi.http import HTTPError, Reply, Request, Router
from runtime.engineapi.images import json_stream, registry_credentials

router = Router()

#: the largest context upload accepted unless the host config says otherwise
DEFAULT_MAX_CONTEXT = 2 << 30


def _json_object(request: Request, name: str) -> dict[str, str]:
    """A ``buildargs``/``labels`` parameter: a JSON object of strings (null: unset)."""
    text = request.arg(name)
    if not text:
        return {}
    try:
        data = json.loads(text)
    except ValueError:
        raise HTTPError(400, f"invalid {name}: not JSON: {text!r}") from None
    if not isinstance(data, dict) or not all(
        isinstance(k, str) and (v is None or isinstance(v, str)) for k, v in data.items()
    ):
        raise HTTPError(400, f"invalid {name}: expected an object of strings")
    return {k: v for k, v in data.items() if v is not None}


def _options(request: Request) -> Any:
    """The query as ``BuildOptions`` (``context`` filled in once the body is on disk)."""
    from runtime.build.builder import BuildOptions
    from runtime.images.reference import parse_reference

    if request.arg("remote"):
        raise HTTPError(400, "remote build contexts are not supported: send the context as a tar")
    tags = [t for t in request.query.get("t", []) if t]
    for tag in tags:
        parse_reference(tag)  # a bad name is a 400 before a byte of context is read
    network = request.arg("networkmode") or "default"
    return BuildOptions(
        context="",
        context_name="(the uploaded context)",
        dockerfile=request.arg("dockerfile") or "Dockerfile",
        tags=tags,
        build_args=_json_object(request, "buildargs"),
        target=request.arg("target") or "",
        no_cache=request.flag("nocache"),
        labels=_json_object(request, "labels"),
        network="bridge" if network == "default" else network,
    )


#: the most one step of decompression may produce: a small compressed chunk of zeros can
#: stand for gigabytes, which must reach the size limit in steps, not in one allocation
_STEP = 1 << 20


class _Gunzip:
    """zlib's gzip decompressor with the interface of bz2's and lzma's (``max_length``,
    ``needs_input``, ``eof``, ``unused_data``)."""

    def __init__(self) -> None:
        self._d = zlib.decompressobj(wbits=31)
        self.needs_input = True

    @property
    def eof(self) -> bool:
        return self._d.eof

    @property
    def unused_data(self) -> bytes:
        return self._d.unused_data

    def decompress(self, data: bytes, max_length: int) -> bytes:
        out = self._d.decompress(self._d.unconsumed_tail + data, max_length)
        self.needs_input = not self._d.unconsumed_tail and len(out) < max_length
        return out


def _decompressor(head: bytes) -> Callable[[], Any] | None:
    """What makes a decompressor for the context's compression (Docker's client sends gzip;
    dockerd takes bzip2 and xz too), or None for a plain tar."""
    import bz2

    if head.startswith(b"\x1f\x8b"):
        return _Gunzip
    if head.startswith(b"BZh"):
        return bz2.BZ2Decompressor
    if head.startswith(b"\xfd7zXZ\x00"):
        return lzma.LZMADecompressor
    return None


def _plain_chunks(chunks: Iterator[bytes]) -> Iterator[bytes]:
    """The body as a plain tar: decompressed as it arrives, at most ``_STEP`` bytes at a time
    (members one after another, zero padding after the last)."""
    head = b""
    for chunk in chunks:
        head += chunk
        if len(head) >= 6:
            break
    make = _decompressor(head)
    if make is None:
        yield head
        yield from chunks
        return
    d = make()
    for data in itertools.chain([head], chunks):
        while True:
            if d.eof:
                if not data.strip(b"\0"):
                    break  # padding after the last member
                d = make()
            out = d.decompress(data, _STEP)
            data = b""
            if out:
                yield out
            if d.eof:
                data = d.unused_data
            elif d.needs_input:
                break


def _spool(request: Request, workdir: Path, limit: int) -> Path:
    """Write the body to a private file in ``workdir`` as a plain tar, as it arrives; refuse
    more than ``limit`` bytes once decompressed (the file is removed then).

    Docker's client ends a context whose Dockerfile it added (``-f`` from outside)
    without the tar's padding and end blocks, which Go's reader accepts and
    Python's does not: they are added here.
    """
    workdir.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix="api-context-", suffix=".tar", dir=workdir)
    path = Path(name)
    try:
        size = 0
        with os.fdopen(fd, "wb") as out:
            try:
                for chunk in _plain_chunks(request.body_chunks()):
                    size += len(chunk)
                    if size > limit:
                        raise HTTPError(
                            400,
                            f"the build context is larger than this host accepts ({limit} bytes)",
                        )
                    out.write(chunk)
            except (OSError, EOFError, zlib.error, lzma.LZMAError) as exc:  # bz2's is OSError
                raise HTTPError(400, f"the build context cannot be decompressed: {exc}") from None
            if size:
                out.write(bytes(-size % tarfile.BLOCKSIZE + 2 * tarfile.BLOCKSIZE))
        if size == 0:
            raise HTTPError(400, "the build context is empty: send a tar of the context")
        if not tarfile.is_tarfile(path):
            raise HTTPError(400, "the build context is not a tar archive (plain or compressed)")
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return path


def _cancel_when_gone(request: Request, builder: Any, finished: threading.Event) -> None:
    """Cancel the build when its client closes the connection (``docker build`` interrupted),
    as dockerd does; the connection's watch starts with the reply's stream."""
    while not finished.wait(0.2):
        gone = getattr(request.handler, "gone", None)
        if gone is not None and gone.is_set():
            builder.cancel()
            return


@router.route("POST", "/build")
def build(request: Request) -> Reply:
    """Build from the uploaded context with ``wharf build``'s builder; ``q`` sends only the
    image id (and the build's output if it fails, as dockerd)."""
    from runtime.build.builder import Builder, pull_bases

    opts = _options(request)
    credentials = registry_credentials(request)
    quiet = request.flag("q")
    with open_runtime(request) as rt:
        workdir = rt.paths.root / "tmp" / "build"
        limit = int(rt.paths.config.extra.get("max_build_context", DEFAULT_MAX_CONTEXT))
    context = _spool(request, workdir, limit)
    opts.context = str(context)

    def work(emit: Callable[[dict], None]) -> None:
        held: list[str] = []

        def say(line: str) -> None:
            if quiet:
                held.append(line + "\n")
            else:
                emit({"stream": line + "\n"})

        finished = threading.Event()
        try:
            with open_runtime(request) as rt:
                if request.flag("pull"):
                    pull_bases(rt, opts, credentials)
                builder = Builder(rt, opts, say, credentials)
                threading.Thread(
                    target=_cancel_when_gone,
                    args=(request, builder, finished),
                    daemon=True,
                    name="engineapi-build-watch",
                ).start()
                image = builder.build()
        except Exception:
            if quiet and held:
                emit({"stream": "".join(held)})
            raise
        finally:
            finished.set()
            with contextlib.suppress(FileNotFoundError):
                context.unlink()
        emit({"aux": {"ID": image.id}})
        if quiet:
            emit({"stream": image.id + "\n"})

    return json_stream(work)
