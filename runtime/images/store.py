"""The content-addressed image store of one host.

Layout under the Wharf root::

    blobs/sha256/<hex>        image configs and layer blobs (as pulled, or plain tar)
    layers/<chain-id-hex>/diff each distinct layer unpacked once, an overlay lowerdir
    l/<24 hex>                 short symlinks to those dirs (``layer_links``) for deep stacks
    tmp/images/<pid>-<rand>/   staging of one operation; removed whatever happens
    images.lock                shared by operations that add, exclusive for removal

Metadata lives in the shared ``wharf.db`` (tables ``images``, ``image_refs``,
``image_chain``, ``layers``, ``layer_blobs``), changed in one transaction per
operation. Everything an operation adds is staged first and renamed into place
only when complete and verified, so a failure leaves the store exactly as it
was; two operations adding the same content race harmlessly (rename is atomic,
rows are ``INSERT OR IGNORE``), so both succeed and one copy stays.
"""

from __future__ import annotations

import contextlib
import copy
import datetime as dt
import errno
import fcntl
import hashlib
import json
import os
import platform
import secrets
import shutil
import sqlite3
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from runtime import db, events
from runtime.config import Paths
from runtime.errors import (
    AmbiguousPrefix,
    Conflict,
    HostError,
    ImageNotFound,
    InvalidArgument,
    WharfError,
)
from runtime.images.layers import (
    DEFAULT_MAX_LAYER_SIZE,
    AppliedLayer,
    HashingReader,
    apply_layer,
    gzip_file,
    write_layer_from_upper,
)
from runtime.images.reference import DIGEST_RE, Reference, is_image_id, parse_reference
from runtime.prunefilter import PruneFilter
from runtime.timefmt import go_time

MEDIA_LAYER_TAR = "application/vnd.oci.image.layer.v1.tar"
MEDIA_LAYER_GZIP = "application/vnd.docker.image.rootfs.diff.tar.gzip"

SCHEMA_VERSION = "1"
SCHEMA = """
CREATE TABLE IF NOT EXISTS image_store_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
INSERT OR IGNORE INTO image_store_meta VALUES ('schema', '1');
CREATE TABLE IF NOT EXISTS images (
    id TEXT PRIMARY KEY,            -- sha256:<hex> of the config blob
    created TEXT NOT NULL,
    size INTEGER NOT NULL,          -- sum of the layers' content sizes (Docker's Size)
    parent TEXT,                    -- the local image this one was committed on
    added TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS image_refs (
    ref TEXT PRIMARY KEY,           -- familiar "name:tag" or "name@sha256:..."
    repo TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('tag', 'digest')),
    image_id TEXT NOT NULL REFERENCES images(id) ON DELETE CASCADE
);
CREATE INDEX IF NOT EXISTS image_refs_image ON image_refs(image_id);
CREATE TABLE IF NOT EXISTS layers (
    chain_id TEXT PRIMARY KEY,
    diff_id TEXT NOT NULL,
    parent TEXT,
    size INTEGER NOT NULL,          -- bytes of the plain tar (the diff)
    content_size INTEGER NOT NULL   -- bytes of its regular files
);
CREATE TABLE IF NOT EXISTS image_chain (
    image_id TEXT NOT NULL REFERENCES images(id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    chain_id TEXT NOT NULL REFERENCES layers(chain_id),
    PRIMARY KEY (image_id, position)
);
CREATE INDEX IF NOT EXISTS image_chain_layer ON image_chain(chain_id);
-- Docker's Metadata.LastTagTime: when a tag, commit, import or build last named the image
-- (a pull or a load does not: their images keep Go's zero time)
CREATE TABLE IF NOT EXISTS image_tag_times (
    image_id TEXT PRIMARY KEY REFERENCES images(id) ON DELETE CASCADE,
    time TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS layer_blobs (
    diff_id TEXT NOT NULL,          -- a blob whose content decompresses to this layer
    digest TEXT NOT NULL,
    media_type TEXT NOT NULL,
    size INTEGER NOT NULL,
    PRIMARY KEY (diff_id, digest)
);
"""


def now_iso() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def host_platform() -> tuple[str, str, str]:
    """Return this host's (os, architecture, variant) in OCI terms."""
    machine = platform.machine().lower()
    arch = {
        "x86_64": "amd64",
        "amd64": "amd64",
        "aarch64": "arm64",
        "arm64": "arm64",
        "i386": "386",
        "i686": "386",
        "armv7l": "arm",
        "armv6l": "arm",
        "ppc64le": "ppc64le",
        "s390x": "s390x",
        "riscv64": "riscv64",
    }.get(machine, machine)
    variant = {"armv7l": "v7", "armv6l": "v6", "aarch64": "v8"}.get(machine, "")
    return "linux", arch, variant


def chain_ids(diff_ids: Iterable[str]) -> list[str]:
    """Return the chain id of each layer: the id of the stack up to and including it."""
    out: list[str] = []
    for diff_id in diff_ids:
        if not out:
            out.append(diff_id)
        else:
            out.append("sha256:" + hashlib.sha256(f"{out[-1]} {diff_id}".encode()).hexdigest())
    return out


#: Docker's container.Config keys in its order; True: left out of the JSON when empty
_CONFIG_KEYS: tuple[tuple[str, Any, bool], ...] = (
    ("Hostname", "", False),
    ("Domainname", "", False),
    ("User", "", False),
    ("AttachStdin", False, False),
    ("AttachStdout", False, False),
    ("AttachStderr", False, False),
    ("ExposedPorts", None, True),
    ("Tty", False, False),
    ("OpenStdin", False, False),
    ("StdinOnce", False, False),
    ("Env", None, False),
    ("Cmd", None, False),
    ("Healthcheck", None, True),
    ("ArgsEscaped", False, True),
    ("Image", "", False),
    ("Volumes", None, False),
    ("WorkingDir", "", False),
    ("Entrypoint", None, False),
    ("NetworkDisabled", False, True),
    ("MacAddress", "", True),
    ("OnBuild", None, False),
    ("Labels", None, False),
    ("StopSignal", "", True),
    ("StopTimeout", None, True),
    ("Shell", None, True),
)


def go_config(config: dict) -> dict:
    """An image's runtime config as Docker prints it: its container.Config struct, every
    key that is not ``omitempty`` present (zero values for what the image does not set)."""
    out: dict[str, Any] = {}
    for key, zero, omit_empty in _CONFIG_KEYS:
        value = config.get(key, zero)
        if not (omit_empty and not value):
            out[key] = value
    return out


def encode_config(config: dict) -> bytes:
    return json.dumps(config, separators=(",", ":")).encode()


@dataclass
class Image:
    """One local image: its id (digest of its config), config JSON and names."""

    id: str
    config: dict
    repo_tags: list[str] = field(default_factory=list)
    repo_digests: list[str] = field(default_factory=list)
    created: str = ""
    size: int = 0
    parent: str = ""

    @property
    def short_id(self) -> str:
        return self.id.removeprefix("sha256:")[:12]

    @property
    def diff_ids(self) -> list[str]:
        return list(self.config.get("rootfs", {}).get("diff_ids", []))

    @property
    def chain_ids(self) -> list[str]:
        return chain_ids(self.diff_ids)

    @property
    def container_config(self) -> dict:
        """Return the runtime defaults (Env, Cmd, Entrypoint, ...) of the image."""
        return self.config.get("config") or {}


@dataclass
class StagedLayer:
    """A layer unpacked into staging, waiting to be published."""

    chain_id: str
    diff_id: str
    parent: str | None
    size: int
    staged_dir: Path | None  # None: the layer is already in the store
    blob: tuple[str, str, int] | None = None  # (digest, media type, size) of a blob for it
    content_size: int = 0


class Staging:
    """Everything one operation adds, held in a private directory until ``publish``."""

    def __init__(self, store: ImageStore) -> None:
        self.store = store
        store.tmp_dir.mkdir(parents=True, exist_ok=True)
        self.dir = store.tmp_dir / f"{os.getpid()}-{secrets.token_hex(6)}"
        self.dir.mkdir(mode=0o700)
        self.blobs: dict[str, Path] = {}
        self.layers: dict[str, StagedLayer] = {}
        self._n = 0
        self._lock = threading.Lock()  # pulls unpack layers from several threads

    def path(self, prefix: str) -> Path:
        with self._lock:
            self._n += 1
            return self.dir / f"{prefix}{self._n}"

    def add_blob_file(self, src: Path, digest: str) -> None:
        """Take a verified file as the blob ``digest`` (moved, not copied)."""
        with self._lock:
            self._add_blob_file(src, digest)

    def _add_blob_file(self, src: Path, digest: str) -> None:
        if digest in self.blobs or self.store.has_blob(digest):
            src.unlink(missing_ok=True)
            return
        dest = self.dir / ("blob-" + digest.removeprefix("sha256:"))
        os.rename(src, dest)
        self.blobs[digest] = dest

    def add_blob_bytes(self, data: bytes) -> str:
        digest = "sha256:" + hashlib.sha256(data).hexdigest()
        tmp = self.path("bytes-")
        tmp.write_bytes(data)
        self.add_blob_file(tmp, digest)
        return digest

    def unpack(
        self,
        raw: BinaryIO,
        parent_chain: str | None,
        *,
        expected_diff_id: str | None = None,
        on_read: Any = None,
    ) -> StagedLayer:
        """Unpack a layer stream on top of ``parent_chain`` (by chain id) into staging."""
        layer_dir = self.path("layer-")
        (layer_dir / "diff").mkdir(parents=True)
        try:
            applied: AppliedLayer = apply_layer(
                raw, layer_dir / "diff", limit=self.store.max_layer_size, on_read=on_read
            )
        except BaseException:
            shutil.rmtree(layer_dir, ignore_errors=True)
            raise
        if expected_diff_id and applied.diff_id != expected_diff_id:
            shutil.rmtree(layer_dir, ignore_errors=True)
            raise InvalidArgument(
                f"layer content {applied.diff_id} does not match the image config's "
                f"diff id {expected_diff_id}"
            )
        chain = chain_ids([parent_chain, applied.diff_id])[1] if parent_chain else applied.diff_id
        return self.add_layer(
            chain, applied.diff_id, parent_chain, applied.size, layer_dir, applied.content_size
        )

    def add_layer(
        self,
        chain_id: str,
        diff_id: str,
        parent: str | None,
        size: int,
        layer_dir: Path | None,
        content_size: int = 0,
    ) -> StagedLayer:
        if chain_id in self.layers or self.store.has_layer(chain_id):
            if layer_dir is not None:
                shutil.rmtree(layer_dir, ignore_errors=True)
            existing = self.layers.get(chain_id)
            if existing:
                return existing
            layer_dir = None
        staged = StagedLayer(chain_id, diff_id, parent, size, layer_dir, None, content_size)
        self.layers[chain_id] = staged
        return staged

    def cleanup(self) -> None:
        shutil.rmtree(self.dir, ignore_errors=True)


class ImageStore:
    """Images on this host; see the module docstring for the layout and the guarantees."""

    def __init__(
        self, paths: Paths, containers_using: Callable[[str], list[str]] | None = None
    ) -> None:
        self.paths = paths
        #: the containers part's answer to "which containers use this image?" (the store
        #: never reads their table); a store without one sees no containers
        self._containers_using_image = containers_using
        self.root = paths.root
        self.blobs_dir = self.root / "blobs" / "sha256"
        self.layers_dir = self.root / "layers"
        self.tmp_dir = self.root / "tmp" / "images"
        self.max_layer_size = int(paths.config.extra.get("max_layer_size", DEFAULT_MAX_LAYER_SIZE))
        #: bytes a loaded archive may unpack to (its files' declared sizes): stops gzip bombs
        self.max_archive_size = int(
            paths.config.extra.get("max_archive_size", DEFAULT_MAX_LAYER_SIZE)
        )
        self._conn: sqlite3.Connection | None = None

    # --- plumbing --------------------------------------------------------------------

    @property
    def conn(self) -> sqlite3.Connection:
        if self._conn is None:
            self.paths.ensure()
            self._conn = db.connect(self.paths.db)
            db.ensure_schema(self._conn, "images", SCHEMA)
            events.ensure_schema(self._conn)
            row = self._conn.execute(
                "SELECT value FROM image_store_meta WHERE key='schema'"
            ).fetchone()
            if row is None or row[0] != SCHEMA_VERSION:
                found = row[0] if row else "unknown"
                self._conn.close()
                self._conn = None
                raise HostError(
                    f"image store in {self.paths.db} has schema {found}, this wharf needs "
                    f"{SCHEMA_VERSION}"
                )
            self._remove_stale_staging()
        return self._conn

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def _remove_stale_staging(self) -> None:
        """Remove staging dirs of processes that died mid-operation."""
        if not self.tmp_dir.is_dir():
            return
        for entry in self.tmp_dir.iterdir():
            pid = entry.name.split("-", 1)[0]
            if pid.isdigit() and not Path(f"/proc/{pid}").exists():
                shutil.rmtree(entry, ignore_errors=True)

    @contextlib.contextmanager
    def _lock(self, exclusive: bool) -> Iterator[None]:
        """Hold the store lock: shared while adding, exclusive while removing content."""
        self.root.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.root / "images.lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
            yield
        finally:
            os.close(fd)

    @contextlib.contextmanager
    def staging(self) -> Iterator[Staging]:
        """Run an adding operation: staged content, published by the caller, else dropped."""
        _ = self.conn
        with self._lock(exclusive=False):
            staging = Staging(self)
            try:
                yield staging
            except OSError as exc:
                if exc.errno in (errno.ENOSPC, errno.EDQUOT):
                    raise HostError(f"no space left on the device of {self.root}: {exc}") from exc
                raise WharfError(f"image store {self.root}: {exc}") from exc
            finally:
                staging.cleanup()

    def blob_path(self, digest: str) -> Path:
        if not DIGEST_RE.fullmatch(digest):
            raise InvalidArgument(f"invalid digest {digest!r}")
        return self.blobs_dir / digest.removeprefix("sha256:")

    def has_blob(self, digest: str) -> bool:
        return self.blob_path(digest).exists()

    def layer_dir(self, chain_id: str) -> Path:
        return self.layers_dir / chain_id.removeprefix("sha256:")

    def has_layer(self, chain_id: str) -> bool:
        row = self.conn.execute("SELECT 1 FROM layers WHERE chain_id=?", (chain_id,)).fetchone()
        return row is not None and self.layer_dir(chain_id).is_dir()

    def layer_blobs(self, diff_id: str) -> list[tuple[str, str, int]]:
        """Return the stored blobs (digest, media type, size) holding a layer, plain tar last."""
        rows = self.conn.execute(
            "SELECT digest, media_type, size FROM layer_blobs WHERE diff_id=?", (diff_id,)
        ).fetchall()
        found = [(r[0], r[1], r[2]) for r in rows if self.has_blob(r[0])]
        return sorted(found, key=lambda b: b[1] == MEDIA_LAYER_TAR)

    def read_blob(self, digest: str) -> bytes:
        return self.blob_path(digest).read_bytes()

    # --- publishing ------------------------------------------------------------------

    def publish(
        self,
        staging: Staging,
        config_bytes: bytes,
        layers: list[StagedLayer],
        *,
        refs: Iterable[str] = (),
        parent: str | None = None,
        replace_refs: bool = True,
    ) -> Image:
        """Make a staged image visible: move blobs and layers into place, then one transaction."""
        image_id = "sha256:" + hashlib.sha256(config_bytes).hexdigest()
        try:
            config = json.loads(config_bytes)
        except ValueError as exc:
            raise InvalidArgument(f"image config {image_id}: malformed JSON: {exc}") from exc
        if not isinstance(config, dict):
            raise InvalidArgument(f"image config {image_id}: not a JSON object")
        diff_ids = config.get("rootfs", {}).get("diff_ids", [])
        if [layer.diff_id for layer in layers] != list(diff_ids):
            raise InvalidArgument(f"image config {image_id}: diff ids do not match its layers")
        staging.add_blob_bytes(config_bytes)
        self.layers_dir.mkdir(parents=True, exist_ok=True)
        moved: list[Path] = []
        try:
            self._move_blobs(staging, moved)
            for layer in layers:
                if layer.staged_dir is None:
                    continue
                dest = self.layer_dir(layer.chain_id)
                try:
                    os.rename(layer.staged_dir, dest)
                    moved.append(dest)
                except OSError as exc:  # another operation put the same layer there first
                    if exc.errno not in (errno.ENOTEMPTY, errno.EEXIST):
                        raise
                layer.staged_dir = None
            image = self._insert(image_id, config, layers, refs, parent, replace_refs)
        except BaseException:
            for path in moved:
                if not self._is_referenced_path(path):
                    shutil.rmtree(path) if path.is_dir() else path.unlink(missing_ok=True)
            raise
        return image

    def _move_blobs(self, staging: Staging, moved: list[Path]) -> None:
        self.blobs_dir.mkdir(parents=True, exist_ok=True)
        for digest, src in list(staging.blobs.items()):
            dest = self.blob_path(digest)
            if not dest.exists():
                os.rename(src, dest)
                moved.append(dest)
        staging.blobs.clear()

    def existing_layer(self, staging: Staging, chain_id: str) -> StagedLayer | None:
        """Return a stored layer as a StagedLayer (for a new image's list), or None."""
        row = self.conn.execute(
            "SELECT diff_id, parent, size, content_size FROM layers WHERE chain_id=?", (chain_id,)
        ).fetchone()
        if row is None or not self.layer_dir(chain_id).is_dir():
            return None
        return staging.add_layer(chain_id, row[0], row[1], row[2], None, row[3])

    def compressed_layer_blob(self, diff_id: str) -> tuple[str, str, int]:
        """Return a compressed blob (digest, media type, size) of a layer, gzipping once if needed."""
        blobs = self.layer_blobs(diff_id)
        if not blobs:
            raise ImageNotFound(f"layer {diff_id} has no blob in the store")
        if blobs[0][1] != MEDIA_LAYER_TAR:
            return blobs[0]
        with self.staging() as staging:
            tmp = staging.path("gzip-")
            digest, size = gzip_file(self.blob_path(blobs[0][0]), tmp)
            staging.add_blob_file(tmp, digest)
            self._move_blobs(staging, [])
            with db.transaction(self.conn) as conn:
                conn.execute(
                    "INSERT OR IGNORE INTO layer_blobs VALUES (?,?,?,?)",
                    (diff_id, digest, MEDIA_LAYER_GZIP, size),
                )
        return digest, MEDIA_LAYER_GZIP, size

    def add_repo_digest(self, ref: str, image_id: str) -> None:
        """Record ``name@sha256:…`` (a pushed or pulled manifest) for an image."""
        with db.transaction(self.conn) as conn:
            self._set_ref(conn, ref, image_id)

    def _is_referenced_path(self, path: Path) -> bool:
        key = "sha256:" + path.name
        conn = self.conn
        if path.parent == self.layers_dir:
            return (
                conn.execute("SELECT 1 FROM layers WHERE chain_id=?", (key,)).fetchone() is not None
            )
        return (
            conn.execute("SELECT 1 FROM images WHERE id=?", (key,)).fetchone() is not None
            or conn.execute("SELECT 1 FROM layer_blobs WHERE digest=?", (key,)).fetchone()
            is not None
        )

    def _insert(
        self,
        image_id: str,
        config: dict,
        layers: list[StagedLayer],
        refs: Iterable[str],
        parent: str | None,
        replace_refs: bool,
    ) -> Image:
        size = sum(layer.content_size for layer in layers)
        created = str(config.get("created") or "")
        with db.transaction(self.conn) as conn:
            for layer in layers:
                conn.execute(
                    "INSERT OR IGNORE INTO layers VALUES (?,?,?,?,?)",
                    (layer.chain_id, layer.diff_id, layer.parent, layer.size, layer.content_size),
                )
                if layer.blob:
                    digest, media_type, blob_size = layer.blob
                    conn.execute(
                        "INSERT OR IGNORE INTO layer_blobs VALUES (?,?,?,?)",
                        (layer.diff_id, digest, media_type, blob_size),
                    )
            existed = conn.execute("SELECT 1 FROM images WHERE id=?", (image_id,)).fetchone()
            if not existed:
                conn.execute(
                    "INSERT INTO images VALUES (?,?,?,?,?)",
                    (image_id, created, size, parent, now_iso()),
                )
                conn.executemany(
                    "INSERT INTO image_chain VALUES (?,?,?)",
                    [(image_id, i, layer.chain_id) for i, layer in enumerate(layers)],
                )
            for ref in refs:
                self._set_ref(conn, ref, image_id, replace_refs)
        return self.get(image_id)

    @staticmethod
    def _set_ref(conn: sqlite3.Connection, ref: str, image_id: str, replace: bool = True) -> None:
        parsed = parse_reference(ref)
        key, kind = (
            (f"{parsed.name}@{parsed.digest}", "digest")
            if parsed.digest
            else (parsed.tagged, "tag")
        )
        verb = "INSERT OR REPLACE" if replace else "INSERT OR IGNORE"
        conn.execute(
            f"{verb} INTO image_refs VALUES (?,?,?,?)",  # noqa: S608 - fixed verbs
            (key, parsed.name, kind, image_id),
        )

    # --- reading ---------------------------------------------------------------------

    def resolve_id(self, ref_or_id: str) -> str:
        """Return the full image id a reference or (short) id names; raise ImageNotFound."""
        conn = self.conn
        text = ref_or_id.strip()
        if text.startswith("sha256:") and len(text) == 71:
            if conn.execute("SELECT 1 FROM images WHERE id=?", (text,)).fetchone():
                return text
            raise ImageNotFound(f"No such image: {ref_or_id}")
        ref: Reference | None
        try:
            ref = parse_reference(text)
        except InvalidArgument:
            ref = None
        if ref is not None:
            key = f"{ref.name}@{ref.digest}" if ref.digest else ref.tagged
            row = conn.execute("SELECT image_id FROM image_refs WHERE ref=?", (key,)).fetchone()
            if row:
                return row[0]
        if is_image_id(text) and (text.startswith("sha256:") or ":" not in text):
            prefix = "sha256:" + text.removeprefix("sha256:")
            rows = conn.execute(
                "SELECT id FROM images WHERE id >= ? AND id < ? LIMIT 2", (prefix, prefix + "g")
            ).fetchall()
            if len(rows) == 1:
                return rows[0][0]
            if len(rows) > 1:
                raise AmbiguousPrefix(f"image id prefix {text!r} is ambiguous")
        if ref is None:
            raise InvalidArgument(f"invalid reference format: {ref_or_id!r}")
        raise ImageNotFound(f"No such image: {ref_or_id}")

    def get(self, ref_or_id: str) -> Image:
        """Return the image a reference or id names (``busybox``, ``name@sha256:…``, ``1a2b``)."""
        return self._load(self.resolve_id(ref_or_id))

    def exists(self, ref_or_id: str) -> bool:
        try:
            self.resolve_id(ref_or_id)
        except (ImageNotFound, InvalidArgument):
            return False
        return True

    def _load(self, image_id: str) -> Image:
        row = self.conn.execute("SELECT * FROM images WHERE id=?", (image_id,)).fetchone()
        if row is None:
            raise ImageNotFound(f"No such image: {image_id}")
        config = json.loads(self.read_blob(image_id))
        refs = self.conn.execute(
            "SELECT ref, kind FROM image_refs WHERE image_id=? ORDER BY ref", (image_id,)
        ).fetchall()
        return Image(
            id=image_id,
            config=config,
            repo_tags=[r[0] for r in refs if r[1] == "tag"],
            repo_digests=[r[0] for r in refs if r[1] == "digest"],
            created=row["created"],
            size=row["size"],
            parent=row["parent"] or "",
        )

    def list(
        self,
        all: bool = False,
        dangling: bool | None = None,  # noqa: A002 - docker's flag
        reference: str | None = None,
    ) -> list[Image]:
        """Return images newest first; by default hide untagged parents of other images."""
        ids = [r[0] for r in self.conn.execute("SELECT id FROM images ORDER BY created DESC, id")]
        images = [self._load(i) for i in ids]
        parents = {img.parent for img in images if img.parent}
        out = []
        for img in images:
            if dangling is not None and (not img.repo_tags) != dangling:
                continue
            if not all and not img.repo_tags and img.id in parents:
                continue
            if reference and not any(_ref_matches(reference, t) for t in img.repo_tags):
                continue
            out.append(img)
        return out

    def layer_usage(self) -> dict[str, dict[str, int]]:
        """Return every image's layers with their sizes: ``{image_id: {chain_id: bytes}}``.

        ``system df`` counts a layer shared by several images once.
        """
        out: dict[str, dict[str, int]] = {}
        for image_id, chain_id, size in self.conn.execute(
            "SELECT c.image_id, c.chain_id, l.content_size FROM image_chain c "
            "JOIN layers l USING (chain_id)"
        ):
            out.setdefault(image_id, {})[chain_id] = size
        return out

    def layer_paths(self, image: Image) -> list[Path]:
        """Return the image's unpacked layer dirs, BASE FIRST (reverse them for lowerdir)."""
        rows = self.conn.execute(
            "SELECT chain_id FROM image_chain WHERE image_id=? ORDER BY position", (image.id,)
        ).fetchall()
        return [self.layer_dir(r[0]) / "diff" for r in rows]

    def layer_links(self, image: Image) -> list[Path]:
        """Return short symlinks to the image's layer dirs (``root/l/<24 hex>``), BASE FIRST.

        Overlay mount options must fit in one page: absolute layer dirs (~90
        bytes each) fill it after ~40 layers, these links (~40 bytes) after ~95,
        and their names relative to the store root (``l/…``, for a mount made
        with the root as working directory, as Docker's overlay2 does) after ~150.
        """
        links_dir = self.root / "l"
        links_dir.mkdir(exist_ok=True)
        links = []
        for path in self.layer_paths(image):
            chain_hex = path.parent.name
            link = links_dir / chain_hex[:24]
            with contextlib.suppress(FileExistsError):
                os.symlink(f"../layers/{chain_hex}/diff", link)
            links.append(link)
        return links

    def history(self, ref_or_id: str) -> list[dict]:
        """Return the image's history newest first, with Docker's fields (Id, Size, ...)."""
        image = self.get(ref_or_id)
        sizes = dict(
            self.conn.execute(
                "SELECT l.diff_id, l.content_size FROM image_chain c JOIN layers l USING (chain_id) "
                "WHERE c.image_id=?",
                (image.id,),
            ).fetchall()
        )
        diff_ids = iter(image.diff_ids)
        entries = []
        for h in image.config.get("history") or [{} for _ in image.diff_ids]:
            size = 0 if h.get("empty_layer") else sizes.get(next(diff_ids, ""), 0)
            entries.append(
                {
                    "Id": "<missing>",
                    "Created": h.get("created", ""),
                    "CreatedBy": h.get("created_by", ""),
                    "Comment": h.get("comment", ""),
                    "Size": size,
                    "Tags": None,
                }
            )
        entries.reverse()
        if entries:
            entries[0]["Id"] = image.id
            entries[0]["Tags"] = image.repo_tags
        return entries

    def inspect(self, ref_or_id: str) -> dict:
        """Return Docker's ``image inspect`` JSON for one image (Engine API 1.41)."""
        image = self.get(ref_or_id)
        c = image.config
        out: dict = {
            "Id": image.id,
            "RepoTags": image.repo_tags,
            "RepoDigests": image.repo_digests,
            "Parent": image.parent,
            "Comment": c.get("comment", ""),
            "Created": go_time(image.created),
            "Container": c.get("container", ""),
            "ContainerConfig": go_config(c.get("container_config") or {}),
            "DockerVersion": c.get("docker_version", ""),
            "Author": c.get("author", ""),
            "Config": go_config(image.container_config),
            "Architecture": c.get("architecture", ""),
        }
        if c.get("variant"):
            out["Variant"] = c["variant"]
        out.update(
            {
                "Os": c.get("os", ""),
                "Size": image.size,
                "VirtualSize": image.size,
                "GraphDriver": {"Data": self._graph_driver_data(image), "Name": "overlay2"},
                "RootFS": {"Type": "layers", "Layers": image.diff_ids},
                "Metadata": {"LastTagTime": self._last_tag_time(image.id)},
            }
        )
        return out

    def _graph_driver_data(self, image: Image) -> dict:
        """Docker's overlay2 GraphDriver.Data: the top layer is the UpperDir, the ones
        under it (nearest first) the LowerDir."""
        paths = self.layer_paths(image)
        if not paths:
            return {}
        top = paths[-1].parent
        data = {
            "MergedDir": str(top / "merged"),
            "UpperDir": str(paths[-1]),
            "WorkDir": str(top / "work"),
        }
        if len(paths) > 1:
            data = {"LowerDir": ":".join(str(p) for p in reversed(paths[:-1])), **data}
        return data

    # --- names -----------------------------------------------------------------------

    def tag(self, image_id_or_ref: str, ref: str) -> None:
        """Point ``ref`` (``name[:tag]``) at an image, moving it from any other image."""
        image_id = self.resolve_id(image_id_or_ref)
        parsed = parse_reference(ref)
        if parsed.digest:
            raise InvalidArgument(f"refusing to create a tag with a digest reference: {ref}")
        with db.transaction(self.conn) as conn:
            self._set_ref(conn, ref, image_id)
            self._stamp_tag_time(conn, image_id)
            events.record(conn, "image", "tag", image_id, name=parsed.tagged)

    @staticmethod
    def _stamp_tag_time(conn: sqlite3.Connection, image_id: str) -> None:
        conn.execute("INSERT OR REPLACE INTO image_tag_times VALUES (?,?)", (image_id, now_iso()))

    def _last_tag_time(self, image_id: str) -> str:
        row = self.conn.execute(
            "SELECT time FROM image_tag_times WHERE image_id=?", (image_id,)
        ).fetchone()
        return go_time(row[0]) if row else "0001-01-01T00:00:00Z"

    def untag(self, ref: str) -> str:
        """Remove one name; return the image id it pointed to."""
        parsed = parse_reference(ref)
        key = f"{parsed.name}@{parsed.digest}" if parsed.digest else parsed.tagged
        with db.transaction(self.conn) as conn:
            row = conn.execute("SELECT image_id FROM image_refs WHERE ref=?", (key,)).fetchone()
            if row is None:
                raise ImageNotFound(f"No such image: {ref}")
            conn.execute("DELETE FROM image_refs WHERE ref=?", (key,))
            events.record(conn, "image", "untag", row[0], name=key)
        return row[0]

    # --- removal ---------------------------------------------------------------------

    def _containers_using(self, image_id: str) -> list[str]:
        if self._containers_using_image is None:
            return []
        return self._containers_using_image(image_id)

    def _children(self, image_id: str) -> list[str]:
        return [
            r[0] for r in self.conn.execute("SELECT id FROM images WHERE parent=?", (image_id,))
        ]

    def _name_key(self, text: str) -> str | None:
        try:
            parsed = parse_reference(text)
        except InvalidArgument:
            return None
        return f"{parsed.name}@{parsed.digest}" if parsed.digest else parsed.tagged

    def remove(self, ref_or_id: str, force: bool = False, prune_parents: bool = True) -> list[dict]:
        """Untag and/or delete an image like ``docker rmi``; return Untagged/Deleted records."""
        image = self._load(self.resolve_id(ref_or_id))
        tags, names = image.repo_tags, image.repo_tags + image.repo_digests
        users = self._containers_using(image.id)
        key = self._name_key(ref_or_id)
        if key in names:
            if (key in image.repo_digests and tags) or (key in tags and len(tags) > 1):
                self.untag(key)
                return [{"Untagged": key}]
            if users and not force:
                raise Conflict(
                    f'conflict: unable to remove repository reference "{ref_or_id}" (must force) '
                    f"- container {users[0][:12]} is using its referenced image "
                    f"{image.short_id}"
                )
        else:
            if len(tags) > 1 and not force:
                raise Conflict(
                    f"conflict: unable to delete {image.short_id} (must be forced) - image is "
                    "referenced in multiple repositories"
                )
            if self._children(image.id):
                raise Conflict(
                    f"conflict: unable to delete {image.short_id} (cannot be forced) - image has "
                    "dependent child images"
                )
            if users and not force:
                raise Conflict(
                    f"conflict: unable to delete {image.short_id} (must be forced) - image is "
                    f"being used by container {users[0][:12]}"
                )
        result: list[dict] = []
        for name in names:
            self.untag(name)
            result.append({"Untagged": name})
        if users or self._children(image.id):
            return result  # a container or a child image still needs it: now dangling
        return result + self._delete_images([image.id], prune_parents)[0]

    def _delete_images(self, image_ids: list[str], prune_parents: bool) -> tuple[list[dict], int]:
        """Delete images (and untagged parents); return the records and the bytes freed."""
        deleted: list[dict] = []
        with self._lock(exclusive=True):
            todo = list(image_ids)
            while todo:
                image_id = todo.pop()
                row = self.conn.execute(
                    "SELECT parent FROM images WHERE id=?", (image_id,)
                ).fetchone()
                if row is None:
                    continue
                with db.transaction(self.conn) as conn:
                    conn.execute("DELETE FROM image_refs WHERE image_id=?", (image_id,))
                    conn.execute("DELETE FROM image_chain WHERE image_id=?", (image_id,))
                    conn.execute("DELETE FROM images WHERE id=?", (image_id,))
                    events.record(conn, "image", "delete", image_id)
                deleted.append({"Deleted": image_id})
                parent = row[0]
                if (
                    prune_parents
                    and parent
                    and not self._children(parent)
                    and not self._containers_using(parent)
                    and not self.conn.execute(
                        "SELECT 1 FROM image_refs WHERE image_id=?", (parent,)
                    ).fetchone()
                ):
                    todo.append(parent)
            freed = self._collect_garbage()
        return deleted, freed

    def _collect_garbage(self) -> int:
        """Delete layers, blobs and rows no image needs (caller holds the exclusive lock)."""
        conn = self.conn
        with db.transaction(conn):
            (freed,) = conn.execute(
                "SELECT coalesce(sum(content_size), 0) FROM layers "
                "WHERE chain_id NOT IN (SELECT chain_id FROM image_chain)"
            ).fetchone()
            conn.execute(
                "DELETE FROM layers WHERE chain_id NOT IN (SELECT chain_id FROM image_chain)"
            )
            conn.execute(
                "DELETE FROM layer_blobs WHERE diff_id NOT IN (SELECT diff_id FROM layers)"
            )
        keep_layers = {
            r[0].removeprefix("sha256:") for r in conn.execute("SELECT chain_id FROM layers")
        }
        keep_blobs = {
            r[0].removeprefix("sha256:")
            for r in conn.execute("SELECT id FROM images UNION SELECT digest FROM layer_blobs")
        }
        if self.layers_dir.is_dir():
            for entry in self.layers_dir.iterdir():
                if entry.name not in keep_layers:
                    shutil.rmtree(entry, ignore_errors=True)
        links_dir = self.root / "l"
        if links_dir.is_dir():
            short = {name[:24] for name in keep_layers}
            for entry in links_dir.iterdir():
                if entry.name not in short:
                    entry.unlink(missing_ok=True)
        if self.blobs_dir.is_dir():
            for entry in self.blobs_dir.iterdir():
                if entry.name not in keep_blobs:
                    entry.unlink(missing_ok=True)
        return int(freed)

    def prune(self, all: bool = False, filters: PruneFilter | None = None) -> dict:  # noqa: A002
        """Delete dangling images (``all``: every image no container uses), like ``image prune``,
        those ``filters`` let through (``until=``, ``label=``).

        Returns Docker's prune report: ``{"ImagesDeleted": [...], "SpaceReclaimed": bytes}``.
        """
        result: list[dict] = []
        freed = 0
        while True:
            victims = []
            for img in self.list(all=True):
                if self._containers_using(img.id) or self._children(img.id):
                    continue
                if img.repo_tags and not all:
                    continue
                labels = (img.config.get("config") or {}).get("Labels")
                if filters and not filters.matches(img.created, labels):
                    continue
                victims.append(img)
            if not victims:
                return {"ImagesDeleted": result, "SpaceReclaimed": freed}
            for img in victims:
                for ref in img.repo_tags + img.repo_digests:
                    result.append({"Untagged": ref})
                records, size = self._delete_images([img.id], prune_parents=False)
                result += records
                freed += size

    # --- making images locally -------------------------------------------------------

    def commit(
        self,
        parent: Image | None,
        upper_dir: Path | None,
        config: dict,
        *,
        created_by: str = "",
        comment: str = "",
        author: str = "",
        tags: Iterable[str] = (),
    ) -> Image:
        """Make parent + one layer from an overlay upper dir (None: a metadata-only step).

        ``config`` is the runtime config section (Docker's ``Config``: Env, Cmd,
        Entrypoint, WorkingDir, User, ...); a full image config is accepted too
        and its ``config`` key is used.
        """
        if isinstance(config.get("config"), dict) and "rootfs" in config:
            config = config["config"]
        with self.staging() as staging:
            layers = self._parent_layers(staging, parent)
            new_diff: list[str] = []
            if upper_dir is not None:
                tar_path = staging.path("commit-")
                with open(tar_path, "wb") as out:
                    write_layer_from_upper(Path(upper_dir), out)
                layers.append(self._stage_plain_tar(staging, tar_path, layers))
                new_diff.append(layers[-1].diff_id)
            image_config = self._derive_config(
                parent, config, new_diff, created_by=created_by, comment=comment, author=author
            )
            image = self.publish(
                staging,
                encode_config(image_config),
                layers,
                refs=tags,
                parent=parent.id if parent else None,
            )
        if tags:
            with db.transaction(self.conn) as conn:
                self._stamp_tag_time(conn, image.id)
        return image

    def _parent_layers(self, staging: Staging, parent: Image | None) -> list[StagedLayer]:
        if parent is None:
            return []
        rows = self.conn.execute(
            "SELECT l.chain_id, l.diff_id, l.parent, l.size, l.content_size FROM image_chain c "
            "JOIN layers l USING (chain_id) WHERE c.image_id=? ORDER BY c.position",
            (parent.id,),
        ).fetchall()
        if len(rows) != len(parent.diff_ids):
            raise ImageNotFound(f"image {parent.short_id} is missing layers in the store")
        return [staging.add_layer(r[0], r[1], r[2], r[3], None, r[4]) for r in rows]

    def _stage_plain_tar(
        self, staging: Staging, tar_path: Path, below: list[StagedLayer]
    ) -> StagedLayer:
        """Unpack a plain layer tar from staging and keep the tar as the layer's blob."""
        with open(tar_path, "rb") as raw:
            layer = staging.unpack(raw, below[-1].chain_id if below else None)
        size = tar_path.stat().st_size
        layer.blob = (layer.diff_id, MEDIA_LAYER_TAR, size)
        staging.add_blob_file(tar_path, layer.diff_id)
        return layer

    def _derive_config(
        self,
        parent: Image | None,
        runtime_config: dict,
        new_diff_ids: list[str],
        *,
        created_by: str,
        comment: str = "",
        author: str = "",
        created: str | None = None,
    ) -> dict:
        os_name, arch, variant = host_platform()
        base: dict[str, Any] = (
            copy.deepcopy(parent.config)
            if parent
            else {
                "architecture": arch,
                "os": os_name,
                "rootfs": {"type": "layers", "diff_ids": []},
                "history": [],
            }
        )
        if variant and not parent and arch == "arm":
            base["variant"] = variant
        created = created or now_iso()
        history = list(base.get("history") or [])
        entry: dict[str, Any] = {"created": created, "created_by": created_by}
        if comment:
            entry["comment"] = comment
        if author:
            entry["author"] = author
        if not new_diff_ids:
            entry["empty_layer"] = True
        history.append(entry)
        base.pop("container", None)
        base.pop("container_config", None)
        base.update(
            {"created": created, "config": copy.deepcopy(runtime_config), "history": history}
        )
        if author:
            base["author"] = author
        else:
            base.pop("author", None)
        if comment:
            base["comment"] = comment
        else:
            base.pop("comment", None)
        base["rootfs"] = {
            "type": "layers",
            "diff_ids": list(base.get("rootfs", {}).get("diff_ids", [])) + new_diff_ids,
        }
        return base

    def _event(self, action: str, actor_id: str, **attributes: str) -> None:
        """Record an image event of an action whose state, if any, is already committed
        (a pull that found everything present changes nothing, and is still a pull)."""
        with db.transaction(self.conn) as conn:
            events.record(conn, "image", action, actor_id, **attributes)

    def import_rootfs(
        self,
        source: BinaryIO,
        ref: str | None = None,
        *,
        config: dict | None = None,
        message: str = "",
        created: str | None = None,
        created_by: str = "",
    ) -> Image:
        """Make a one-layer image from a rootfs tarball (plain or compressed), like ``docker import``."""
        with self.staging() as staging:
            tar_path = staging.path("import-")
            with open(tar_path, "wb") as out:
                from runtime.images.layers import open_decompressed

                plain, _ = open_decompressed(source)
                reader = HashingReader(plain, self.max_layer_size)
                shutil.copyfileobj(reader, out, 1 << 20)  # type: ignore[misc]
            layer = self._stage_plain_tar(staging, tar_path, [])
            image_config = self._derive_config(
                None,
                config or {},
                [layer.diff_id],
                comment=message,
                created=created,
                created_by=created_by or "Imported from -",
            )
            image = self.publish(
                staging, encode_config(image_config), [layer], refs=[ref] if ref else []
            )
        if ref:
            with db.transaction(self.conn) as conn:
                self._stamp_tag_time(conn, image.id)
        self._event("import", image.id, **({"name": ref} if ref else {}))
        return image


def _ref_matches(pattern: str, tag: str) -> bool:
    """Match ``docker images REPO[:TAG]`` filters (shell-style wildcards allowed)."""
    import fnmatch

    name, _, tagpart = tag.rpartition(":")
    if ":" in pattern.rsplit("/", 1)[-1]:
        pname, _, ptag = pattern.rpartition(":")
        return fnmatch.fnmatch(name, pname) and fnmatch.fnmatch(tagpart, ptag)
    return fnmatch.fnmatch(name, pattern)
