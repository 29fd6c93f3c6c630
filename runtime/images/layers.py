"""Turn layer tarballs into overlay lower dirs, and overlay upper dirs into layer tarballs.

``apply_layer`` unpacks one layer (gzip, zstd, xz, bzip2 or plain) into an
empty directory exactly: files, dirs, symlinks, hardlinks, devices, fifos,
ownership, modes, mtimes, xattrs. Whiteouts become what OverlayFS reads:
``.wh.NAME`` a 0/0 character device, ``.wh..wh..opq`` the opaque xattr on the
directory. Nothing may land outside the directory: absolute names, ``..``,
names through a symlink, hardlinks to outside and whiteouts of ``.``/``..``
are refused with an error naming the entry. The caller unpacks into a
temporary directory and renames it into place only after this returns, so a
refused layer leaves nothing behind.

``write_layer_from_upper`` does the reverse for commit: an overlay upper dir
becomes a deterministic tar with Docker's whiteout files.
"""

from __future__ import annotations

import bz2
import errno
import hashlib
import io
import lzma
import os
import shutil
import stat
import tarfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from runtime.errors import InvalidArgument

WHITEOUT_PREFIX = ".wh."
WHITEOUT_META_PREFIX = ".wh..wh."
WHITEOUT_OPAQUE = ".wh..wh..opq"
OPAQUE_XATTR = "trusted.overlay.opaque"
_XATTR_PAX = "SCHILY.xattr."
_CHUNK = 1 << 20

DEFAULT_MAX_LAYER_SIZE = 64 << 30  # decompressed bytes per layer; stops gzip bombs


# --- compression -------------------------------------------------------------------------


class _GzipReader(io.RawIOBase):
    """Decompress (multi-member) gzip with zlib directly: GzipFile is slow per call."""

    def __init__(self, raw: BinaryIO) -> None:
        self._raw = raw
        self._d = zlib.decompressobj(31)
        self._buf = b""
        self._pos = 0
        self._eof = False

    def readable(self) -> bool:
        return True

    def read(self, n: int = -1) -> bytes:
        if n is None or n < 0:
            n = 1 << 62
        while self._pos >= len(self._buf) and not self._eof:
            if self._d.eof:  # a member ended: another may follow (multi-member gzip)
                data = self._d.unused_data or self._raw.read(_CHUNK)
                if not data.strip(b"\0"):
                    self._eof = True
                    break
                self._d = zlib.decompressobj(31)
            else:
                data = self._d.unconsumed_tail or self._raw.read(_CHUNK)
                if not data:
                    raise InvalidArgument("layer data is truncated (gzip stream ends early)")
            try:
                self._buf, self._pos = self._d.decompress(data, _CHUNK), 0
            except zlib.error as exc:
                raise InvalidArgument(f"layer data is not valid gzip: {exc}") from exc
        out = self._buf[self._pos : self._pos + n]
        self._pos += len(out)
        return out


class _ZstdReader(io.RawIOBase):
    """Decompress zstd frames, reporting corrupt data as InvalidArgument."""

    def __init__(self, zstandard: Any, raw: BinaryIO) -> None:
        self._error = zstandard.ZstdError
        self._reader = zstandard.ZstdDecompressor().stream_reader(raw, read_across_frames=True)

    def readable(self) -> bool:
        return True

    def read(self, n: int = -1) -> bytes:
        try:
            return self._reader.read(n)
        except self._error as exc:
            raise InvalidArgument(f"layer data is not valid zstd: {exc}") from exc


def open_decompressed(raw: BinaryIO) -> tuple[BinaryIO, str]:
    """Detect the compression by magic bytes; return a reader of the plain tar and its name."""
    buffered = raw if hasattr(raw, "peek") else io.BufferedReader(raw)  # type: ignore[arg-type]
    head = buffered.peek(6)[:6]  # type: ignore[union-attr]
    if head[:2] == b"\x1f\x8b":
        return _GzipReader(buffered), "gzip"  # type: ignore[return-value]
    if head[:4] == b"\x28\xb5\x2f\xfd":
        import zstandard

        return _ZstdReader(zstandard, buffered), "zstd"  # type: ignore[return-value]
    if head[:6] == b"\xfd7zXZ\x00":
        return lzma.LZMAFile(buffered), "xz"  # type: ignore[return-value]
    if head[:3] == b"BZh":
        return bz2.BZ2File(buffered), "bzip2"  # type: ignore[return-value]
    return buffered, "none"  # type: ignore[return-value]


class HashingReader(io.RawIOBase):
    """Hash and count what passes through; refuse to read more than ``limit`` bytes."""

    def __init__(
        self,
        inner: BinaryIO,
        limit: int | None = None,
        on_read: Callable[[int], None] | None = None,
    ) -> None:
        self._inner = inner
        self.limit = limit
        self.size = 0
        self.sha = hashlib.sha256()
        self._on_read = on_read

    def readable(self) -> bool:
        return True

    def read(self, n: int = -1) -> bytes:
        try:
            data = self._inner.read(n)
        except (EOFError, lzma.LZMAError, OSError, zlib.error) as exc:
            if isinstance(exc, OSError) and exc.errno is not None:
                raise
            raise InvalidArgument(f"layer data is corrupt or truncated: {exc}") from exc
        self.size += len(data)
        if self.limit is not None and self.size > self.limit:
            raise InvalidArgument(
                f"layer is larger than the decompressed size limit ({self.limit} bytes)"
            )
        self.sha.update(data)
        if self._on_read and data:
            self._on_read(len(data))
        return data

    def readinto(self, buf: bytearray | memoryview) -> int:  # type: ignore[override]
        data = self.read(len(buf))
        buf[: len(data)] = data
        return len(data)

    def drain(self) -> None:
        while self.read(_CHUNK):
            pass

    @property
    def digest(self) -> str:
        return "sha256:" + self.sha.hexdigest()


# --- apply -------------------------------------------------------------------------------


@dataclass
class AppliedLayer:
    """What unpacking a layer found: diff id (digest of the plain tar), tar and content sizes."""

    diff_id: str
    size: int
    compression: str
    content_size: int = 0  # bytes of regular files, what Docker reports as a layer's size


def _entry_parts(name: str, entry: str) -> list[str]:
    if name.startswith("/"):
        raise InvalidArgument(f"layer entry {entry!r}: absolute path is not allowed")
    parts = [p for p in name.split("/") if p not in ("", ".")]
    if ".." in parts:
        raise InvalidArgument(f"layer entry {entry!r}: path escapes the layer (..)")
    return parts


def _walk_parent(root: Path, parts: list[str], entry: str, *, create: bool) -> Path:
    """Return the real directory holding parts[-1], refusing symlinks on the way."""
    cur = root
    for i, part in enumerate(parts[:-1]):
        cur = cur / part
        try:
            st = os.lstat(cur)
        except FileNotFoundError:
            if not create:
                raise InvalidArgument(
                    f"layer entry {entry!r}: {'/'.join(parts[: i + 1])} does not exist"
                ) from None
            os.mkdir(cur, 0o755)
            continue
        if stat.S_ISLNK(st.st_mode):
            raise InvalidArgument(
                f"layer entry {entry!r}: path goes through symlink {'/'.join(parts[: i + 1])}"
            )
        if not stat.S_ISDIR(st.st_mode):
            raise InvalidArgument(
                f"layer entry {entry!r}: {'/'.join(parts[: i + 1])} is not a directory"
            )
    return cur


def _remove(path: Path, keep_dir: bool = False) -> None:
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return
    if stat.S_ISDIR(st.st_mode):
        if keep_dir:
            return
        shutil.rmtree(path)
    else:
        os.unlink(path)


def _set_xattrs(path: Path, member: tarfile.TarInfo) -> None:
    for key, value in member.pax_headers.items():
        if not key.startswith(_XATTR_PAX):
            continue
        attr = key[len(_XATTR_PAX) :]
        if attr.startswith("trusted.overlay."):
            continue  # only whiteout files may make overlay metadata
        raw = value.encode("utf-8", "surrogateescape")
        try:
            os.setxattr(path, attr, raw, follow_symlinks=False)
        except OSError as exc:
            if exc.errno not in (errno.ENOTSUP, errno.EPERM):
                raise InvalidArgument(f"layer entry {member.name!r}: xattr {attr}: {exc}") from exc


def apply_layer(
    raw: BinaryIO,
    dest: Path,
    *,
    limit: int = DEFAULT_MAX_LAYER_SIZE,
    on_read: Callable[[int], None] | None = None,
) -> AppliedLayer:
    """Unpack one layer stream into the empty directory ``dest`` (see the module docstring)."""
    plain, compression = open_decompressed(raw)
    reader = HashingReader(plain, limit, on_read)
    dir_times: list[tuple[Path, int]] = []
    content_size = 0
    try:
        with tarfile.open(fileobj=reader, mode="r|", bufsize=_CHUNK, errorlevel=2) as tar:  # type: ignore[call-overload]
            for member in tar:
                _apply_member(tar, member, dest, dir_times)
                if member.isreg():
                    content_size += member.size
    except tarfile.TarError as exc:
        raise InvalidArgument(f"layer is not a valid tar archive: {exc}") from exc
    reader.drain()  # the diff id covers the whole stream, padding included
    for path, mtime in reversed(dir_times):
        os.utime(path, ns=(mtime, mtime), follow_symlinks=False)
    return AppliedLayer(reader.digest, reader.size, compression, content_size)


def _apply_member(
    tar: tarfile.TarFile, member: tarfile.TarInfo, dest: Path, dir_times: list[tuple[Path, int]]
) -> None:
    entry = member.name
    parts = _entry_parts(entry, entry)
    if not parts:  # the layer root itself ("./")
        if member.isdir():
            _set_meta(dest, member, dir_times)
        return
    parent = _walk_parent(dest, parts, entry, create=True)
    base = parts[-1]
    if base.startswith(WHITEOUT_PREFIX):
        _apply_whiteout(parent, base, member)
        return
    path = parent / base
    if member.isdir():
        _remove(path, keep_dir=True)
        if not path.is_dir():
            os.mkdir(path, 0o700)
    elif member.isreg():
        if member.sparse is not None:  # a few bytes of map could declare terabytes of disk
            raise InvalidArgument(f"layer entry {entry!r}: sparse files are not supported")
        _remove(path)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        with os.fdopen(fd, "wb") as out:
            src = tar.extractfile(member)
            if src is not None:
                shutil.copyfileobj(src, out, _CHUNK)
    elif member.issym():
        _remove(path)
        os.symlink(member.linkname, path)
    elif member.islnk():
        target_parts = _entry_parts(member.linkname, entry)
        if not target_parts:
            raise InvalidArgument(f"layer entry {entry!r}: hardlink to the layer root")
        target = _walk_parent(dest, target_parts, entry, create=False) / target_parts[-1]
        try:
            tst = os.lstat(target)
        except FileNotFoundError:
            raise InvalidArgument(
                f"layer entry {entry!r}: hardlink target {member.linkname!r} is not in the layer"
            ) from None
        if stat.S_ISDIR(tst.st_mode):
            raise InvalidArgument(f"layer entry {entry!r}: hardlink to a directory")
        if target != path:
            _remove(path)
            os.link(target, path, follow_symlinks=False)
        return  # a hardlink shares the target's inode and metadata
    elif member.ischr() or member.isblk():
        _remove(path)
        kind = stat.S_IFCHR if member.ischr() else stat.S_IFBLK
        os.mknod(path, kind | 0o600, os.makedev(member.devmajor, member.devminor))
    elif member.isfifo():
        _remove(path)
        os.mkfifo(path, 0o600)
    else:
        raise InvalidArgument(f"layer entry {entry!r}: unsupported tar entry type {member.type!r}")
    _set_meta(path, member, dir_times)


def _apply_whiteout(parent: Path, base: str, member: tarfile.TarInfo) -> None:
    if base == WHITEOUT_OPAQUE:
        os.setxattr(parent, OPAQUE_XATTR, b"y")
        return
    if base.startswith(WHITEOUT_META_PREFIX):
        return  # aufs hardlink bookkeeping and the like: nothing for overlay
    name = base[len(WHITEOUT_PREFIX) :]
    if name in ("", ".", ".."):
        raise InvalidArgument(f"layer entry {member.name!r}: whiteout of {name or 'nothing'!r}")
    path = parent / name
    _remove(path)
    os.mknod(path, stat.S_IFCHR | 0o000, 0)
    os.lchown(path, member.uid, member.gid)


def _set_meta(path: Path, member: tarfile.TarInfo, dir_times: list[tuple[Path, int]]) -> None:
    os.lchown(path, member.uid, member.gid)
    if not member.issym():
        os.chmod(path, member.mode & 0o7777)  # after chown, which clears setuid bits
    _set_xattrs(path, member)
    mtime = int(member.mtime * 1_000_000_000)
    if member.isdir():
        dir_times.append((path, mtime))
    else:
        os.utime(path, ns=(mtime, mtime), follow_symlinks=False)


# --- diff from an overlay upper dir --------------------------------------------------------


def _is_whiteout(st: os.stat_result) -> bool:
    return stat.S_ISCHR(st.st_mode) and st.st_rdev == 0


def _xattrs(path: Path) -> dict[str, str]:
    out: dict[str, str] = {}
    try:
        names = os.listxattr(path, follow_symlinks=False)
    except OSError:
        return out
    for name in sorted(names):
        if name.startswith("trusted.overlay."):
            continue
        try:
            value = os.getxattr(path, name, follow_symlinks=False)
        except OSError:
            continue
        out[_XATTR_PAX + name] = value.decode("utf-8", "surrogateescape")
    return out


def _is_opaque(path: Path) -> bool:
    try:
        return os.getxattr(path, OPAQUE_XATTR, follow_symlinks=False) == b"y"
    except OSError:
        return False


def write_layer_from_upper(upper: Path, out: BinaryIO) -> None:
    """Write the overlay upper dir as a layer tar: whiteouts become ``.wh.`` files.

    The output is deterministic (sorted names, no user/group names) so the same
    upper dir always gives the same diff id.
    """
    seen_inodes: dict[tuple[int, int], str] = {}
    with tarfile.open(fileobj=out, mode="w|", format=tarfile.PAX_FORMAT) as tar:
        _write_tree(tar, upper, "", seen_inodes)


def _header(name: str, st: os.stat_result, kind: bytes, xattrs: dict[str, str]) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.mode = stat.S_IMODE(st.st_mode)
    info.uid, info.gid = st.st_uid, st.st_gid
    info.uname = info.gname = ""
    info.mtime = int(st.st_mtime)
    info.pax_headers = dict(xattrs)
    return info


def _write_tree(
    tar: tarfile.TarFile, root: Path, rel: str, seen: dict[tuple[int, int], str]
) -> None:
    base = root / rel if rel else root
    for name in sorted(os.listdir(base)):
        path = base / name
        arc = f"{rel}/{name}" if rel else name
        st = os.lstat(path)
        if _is_whiteout(st):
            info = _header(
                f"{rel}/{WHITEOUT_PREFIX}{name}" if rel else WHITEOUT_PREFIX + name,
                st,
                tarfile.REGTYPE,
                {},
            )
            info.mode = 0o644
            tar.addfile(info)
            continue
        xattrs = _xattrs(path)
        if stat.S_ISDIR(st.st_mode):
            tar.addfile(_header(arc, st, tarfile.DIRTYPE, xattrs))
            if _is_opaque(path):
                marker = _header(f"{arc}/{WHITEOUT_OPAQUE}", st, tarfile.REGTYPE, {})
                marker.mode = 0o644
                tar.addfile(marker)
            _write_tree(tar, root, arc, seen)
        elif stat.S_ISREG(st.st_mode):
            key = (st.st_dev, st.st_ino)
            if st.st_nlink > 1 and key in seen:
                info = _header(arc, st, tarfile.LNKTYPE, xattrs)
                info.linkname = seen[key]
                tar.addfile(info)
                continue
            seen[key] = arc
            info = _header(arc, st, tarfile.REGTYPE, xattrs)
            info.size = st.st_size
            with open(path, "rb") as f:
                tar.addfile(info, f)
        elif stat.S_ISLNK(st.st_mode):
            info = _header(arc, st, tarfile.SYMTYPE, xattrs)
            info.linkname = os.readlink(path)
            tar.addfile(info)
        elif stat.S_ISCHR(st.st_mode) or stat.S_ISBLK(st.st_mode):
            kind = tarfile.CHRTYPE if stat.S_ISCHR(st.st_mode) else tarfile.BLKTYPE
            info = _header(arc, st, kind, xattrs)
            info.devmajor, info.devminor = os.major(st.st_rdev), os.minor(st.st_rdev)
            tar.addfile(info)
        elif stat.S_ISFIFO(st.st_mode):
            tar.addfile(_header(arc, st, tarfile.FIFOTYPE, xattrs))
        # sockets cannot be stored in a tar; Docker skips them too


def gzip_file(src: Path, dest: Path) -> tuple[str, int]:
    """Gzip a plain layer tar (for push); return the compressed blob's digest and size."""
    comp = zlib.compressobj(6, zlib.DEFLATED, 31)
    sha = hashlib.sha256()
    size = 0
    with open(src, "rb") as fin, open(dest, "wb") as fout:
        while chunk := fin.read(_CHUNK):
            for out in (comp.compress(chunk),):
                sha.update(out)
                size += len(out)
                fout.write(out)
        out = comp.flush()
        sha.update(out)
        size += len(out)
        fout.write(out)
    return "sha256:" + sha.hexdigest(), size
