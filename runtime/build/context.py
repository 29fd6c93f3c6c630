"""The build context: a directory, a tar archive, or just a Dockerfile from stdin.

Only what ``.dockerignore`` lets through may be copied, and nothing outside
the context (``..``, absolute paths, symlinks pointing out) is ever read.
"""

from __future__ import annotations

import glob
import hashlib
import os
import shutil
import tarfile
import tempfile
from pathlib import Path

from runtime.build.dockerignore import Pattern, is_ignored, parse_dockerignore
from runtime.build.errors import BuildError


class Context:
    """A directory of files the Dockerfile's COPY and ADD may read."""

    def __init__(self, root: Path, patterns: list[Pattern], cleanup: Path | None = None) -> None:
        self.root = root.resolve()
        self.patterns = patterns
        self._cleanup = cleanup

    @classmethod
    def open(cls, source: str, workdir: Path, name: str | None = None) -> Context:
        """Open a directory, or unpack a tar archive (``-`` reads none: an empty context).

        ``name`` is how messages call an archive (the Engine API's upload is a temp file
        whose host path is nobody's business).
        """
        name = name or source
        if source == "-":
            empty = Path(tempfile.mkdtemp(prefix="ctx-", dir=workdir))
            return cls(empty, [], cleanup=empty)
        path = Path(source)
        if path.is_dir():
            return cls(path, _patterns(path))
        if path.is_file() and tarfile.is_tarfile(path):
            unpacked = Path(tempfile.mkdtemp(prefix="ctx-", dir=workdir))
            try:
                with tarfile.open(path) as tar:
                    _check_room(tar, unpacked, name)
                    tar.extractall(unpacked, filter="data")
            except tarfile.FilterError as exc:
                # an absolute name, a "..", or a link (or a file under one) pointing out
                shutil.rmtree(unpacked, ignore_errors=True)
                raise BuildError(
                    f"the context archive {name} holds {exc.tarinfo.name!r}, "
                    "which points outside the context: refused"
                ) from exc
            except (tarfile.TarError, OSError) as exc:
                shutil.rmtree(unpacked, ignore_errors=True)
                raise BuildError(f"cannot read the context archive {name}: {exc}") from exc
            except BuildError:
                shutil.rmtree(unpacked, ignore_errors=True)
                raise
            return cls(unpacked, _patterns(unpacked), cleanup=unpacked)
        raise BuildError(f"unable to prepare context: path {source!r} not found")

    def close(self) -> None:
        if self._cleanup is not None:
            shutil.rmtree(self._cleanup, ignore_errors=True)

    def dockerfile(self, name: str) -> str:
        path = self._inside(name, line=None)
        try:
            return path.read_text()
        except OSError as exc:
            raise BuildError(f"cannot read the Dockerfile {name}: {exc.strerror}") from exc

    def sources(self, pattern: str, line: int) -> list[Path]:
        """Return the context paths a COPY source names (globs allowed), refusing escapes."""
        rel = pattern.lstrip("/")
        base = self._inside(rel or ".", line, must_exist=False)
        if glob.has_magic(rel):
            found = sorted(Path(p) for p in glob.glob(str(self.root / rel)))
            found = [p for p in found if not is_ignored(self.rel(p), self.patterns)]
            if not found:
                raise BuildError(
                    f"COPY failed: no source files were specified by {pattern!r}", line
                )
            return [self._inside(self.rel(p), line) for p in found]
        if not os.path.lexists(base):
            raise BuildError(f"COPY failed: file not found in build context: {pattern}", line)
        if rel and is_ignored(rel, self.patterns) and not self._reincluded(base):
            raise BuildError(f"COPY failed: {pattern} is excluded by .dockerignore", line)
        return [base]

    def _reincluded(self, top: Path) -> bool:
        """Whether an excluded directory holds a file a ``!`` exception lets through.

        Docker sends such a directory with just the re-included files, so
        ``COPY dir/ …`` copies them.
        """
        if not top.is_dir() or top.is_symlink():
            return False
        return any(self.included(p) for p in top.rglob("*"))

    def included(self, path: Path) -> bool:
        return not is_ignored(self.rel(path), self.patterns)

    def rel(self, path: Path) -> str:
        return os.path.relpath(path, self.root)

    def digest(self, paths: list[Path]) -> str:
        """Hash the content, names and modes of the given files and trees (the cache key)."""
        h = hashlib.sha256()
        for top in paths:
            for p in (
                [top, *sorted(top.rglob("*"))] if top.is_dir() and not top.is_symlink() else [top]
            ):
                if not self.included(p):
                    continue
                st = p.lstat()
                h.update(f"{self.rel(p)}\0{st.st_mode}\0".encode())
                if p.is_symlink():
                    h.update(os.readlink(p).encode())
                elif p.is_file():
                    with open(p, "rb") as f:
                        for chunk in iter(lambda f=f: f.read(1 << 20), b""):
                            h.update(chunk)
        return h.hexdigest()

    def _inside(self, rel: str, line: int | None, must_exist: bool = True) -> Path:
        candidate = Path(os.path.normpath(self.root / rel))
        resolved = candidate.resolve() if os.path.lexists(candidate) else candidate
        if not (resolved == self.root or resolved.is_relative_to(self.root)):
            raise BuildError(f"forbidden path outside the build context: {rel}", line)
        return candidate


def _patterns(root: Path) -> list[Pattern]:
    ignore = root / ".dockerignore"
    return parse_dockerignore(ignore.read_text()) if ignore.is_file() else []


#: the share of the free space an unpacked context may take: a context is unpacked on
#: the host's disk, which every team's containers and images share
CONTEXT_SHARE_OF_FREE = 0.5


def _check_room(tar: tarfile.TarFile, where: Path, source: str) -> None:
    """Refuse an archive that would unpack to more than its share of the free space.

    A small compressed upload can unpack to terabytes of zeros; the headers say how
    much each member holds (and tarfile holds a member to its header while reading),
    so the sum is known before a byte is written.
    """
    total = sum(m.size for m in tar.getmembers() if m.isreg())
    room = int(shutil.disk_usage(where).free * CONTEXT_SHARE_OF_FREE)
    if total > room:
        raise BuildError(
            f"the context archive {source} unpacks to {total} bytes; "
            f"only {room} may be used on this host (half its free space)"
        )
