"""Images to and from files: ``docker save`` archives, OCI layouts, rootfs tarballs.

``save`` writes one tar that is both a ``docker save`` archive
(``manifest.json``) and an OCI image layout (``oci-layout``, ``index.json``,
``blobs/sha256/…``), as Docker 25+ does, with plain (uncompressed) layers:
``docker load``, ``skopeo copy docker-archive:…`` and ``oci-archive:…`` read it.

``load`` reads either kind, as a tar (optionally compressed) or a directory;
every blob is checked against its digest and every layer against its diff id
before anything is published. (``import --change`` lines are applied by
``runtime.build.instructions``, the builder's own applier.)
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import tarfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import BinaryIO

from runtime.errors import ImageNotFound, InvalidArgument
from runtime.images import manifest as mf
from runtime.images.layers import HashingReader, open_decompressed
from runtime.images.progress import Progress, ProgressFn, ignore
from runtime.images.reference import DIGEST_RE, parse_reference
from runtime.images.store import (
    MEDIA_LAYER_GZIP,
    MEDIA_LAYER_TAR,
    Image,
    ImageStore,
    StagedLayer,
    Staging,
    host_platform,
)

_COMPRESSED_TYPES = {"none": MEDIA_LAYER_TAR, "gzip": MEDIA_LAYER_GZIP, "zstd": mf.OCI_LAYER_ZSTD}


# --- save --------------------------------------------------------------------------------


def _add_bytes(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size, info.mode = len(data), 0o644
    tar.addfile(info, io.BytesIO(data))


class _PlainLayer(io.RawIOBase):
    """Read a stored layer blob as plain tar, checking it against the layer's diff id."""

    def __init__(self, store: ImageStore, diff_id: str) -> None:
        blobs = store.layer_blobs(diff_id)
        if not blobs:
            raise ImageNotFound(f"layer {diff_id} has no blob in the store")
        digest, media_type, _ = blobs[-1]
        self._file = open(store.blob_path(digest), "rb")  # noqa: SIM115 - closed in close()
        plain = self._file if media_type == MEDIA_LAYER_TAR else open_decompressed(self._file)[0]
        self._reader = HashingReader(plain)
        self.diff_id = diff_id

    def readable(self) -> bool:
        return True

    def read(self, n: int = -1) -> bytes:
        return self._reader.read(n)

    def close(self) -> None:
        self._file.close()
        super().close()

    def check(self) -> None:
        if self._reader.digest != self.diff_id:
            raise InvalidArgument(
                f"stored layer {self.diff_id} is corrupt (content digest {self._reader.digest})"
            )


def save(
    store: ImageStore, names: Iterable[str], out: BinaryIO, progress: ProgressFn = ignore
) -> None:
    """Write the named images (refs or ids) as one docker-save + OCI-layout tar."""
    images: dict[str, tuple[Image, list[str]]] = {}
    for name in names:
        image = store.get(name)
        tags = images.setdefault(image.id, (image, []))[1]
        key = store._name_key(name)  # noqa: SLF001 - same package
        if key and key in image.repo_tags and key not in tags:
            tags.append(key)
    written: set[str] = set()
    docker_manifest = []
    index = []
    with tarfile.open(fileobj=out, mode="w|", format=tarfile.PAX_FORMAT) as tar:
        for image, tags in images.values():
            config_bytes = store.read_blob(image.id)
            hexid = image.id.removeprefix("sha256:")
            if image.id not in written:
                _add_bytes(tar, f"blobs/sha256/{hexid}", config_bytes)
                written.add(image.id)
            sizes = dict(
                store.conn.execute(
                    "SELECT diff_id, size FROM layers WHERE chain_id IN "
                    "(SELECT chain_id FROM image_chain WHERE image_id=?)",
                    (image.id,),
                ).fetchall()
            )
            layer_descs = []
            for diff_id in image.diff_ids:
                size = sizes[diff_id]
                layer_descs.append(mf.Descriptor(mf.OCI_LAYER, diff_id, size))
                if diff_id in written:
                    continue
                progress(Progress(diff_id.removeprefix("sha256:")[:12], "Saving layer"))
                info = tarfile.TarInfo(f"blobs/sha256/{diff_id.removeprefix('sha256:')}")
                info.size, info.mode = size, 0o644
                src = _PlainLayer(store, diff_id)
                try:
                    tar.addfile(info, src)
                    src.check()
                finally:
                    src.close()
                written.add(diff_id)
            oci_manifest = mf.build(
                mf.Descriptor(mf.OCI_CONFIG, image.id, len(config_bytes)),
                layer_descs,
                mf.OCI_MANIFEST,
            )
            mdigest = "sha256:" + hashlib.sha256(oci_manifest).hexdigest()
            if mdigest not in written:
                _add_bytes(tar, f"blobs/sha256/{mdigest.removeprefix('sha256:')}", oci_manifest)
                written.add(mdigest)
            docker_manifest.append(
                {
                    "Config": f"blobs/sha256/{hexid}",
                    "RepoTags": tags or None,
                    "Layers": [f"blobs/sha256/{d.removeprefix('sha256:')}" for d in image.diff_ids],
                }
            )
            for tag in tags or [None]:
                annotations = {}
                if tag:
                    ref = parse_reference(tag)
                    annotations = {
                        "io.containerd.image.name": ref.full_name + f":{ref.tag}",
                        "org.opencontainers.image.ref.name": ref.tag,
                    }
                index.append(
                    mf.Descriptor(
                        mf.OCI_MANIFEST, mdigest, len(oci_manifest), annotations=annotations or None
                    ).as_json()
                )
        _add_bytes(tar, "oci-layout", b'{"imageLayoutVersion":"1.0.0"}')
        _add_bytes(
            tar,
            "index.json",
            json.dumps(
                {"schemaVersion": 2, "mediaType": mf.OCI_INDEX, "manifests": index}
            ).encode(),
        )
        _add_bytes(tar, "manifest.json", json.dumps(docker_manifest).encode())


# --- load --------------------------------------------------------------------------------


def _archive_filter(limit: int) -> Callable[[tarfile.TarInfo, str], tarfile.TarInfo | None]:
    """tarfile's ``data`` filter, no sparse files and at most ``limit`` bytes of files.

    ``docker save`` never writes a sparse file, and a few bytes of sparse map can
    declare terabytes that are then read back; a compressed archive can unpack a
    thousand times its size, so the files' sizes are counted before each is written.
    """
    total = 0

    def check(member: tarfile.TarInfo, dest: str) -> tarfile.TarInfo | None:
        nonlocal total
        if member.sparse is not None or member.type == tarfile.GNUTYPE_SPARSE:
            raise InvalidArgument(f"image archive: entry {member.name!r} is a sparse file")
        total += member.size
        if total > limit:
            raise InvalidArgument(f"image archive: larger than {limit} bytes unpacked")
        return tarfile.data_filter(member, dest)

    return check


def _unpack_archive(source: BinaryIO, dest: Path, limit: int) -> None:
    """Extract an archive tar (maybe compressed) safely: no links or names out of ``dest``."""
    try:
        with tarfile.open(fileobj=source, mode="r|*") as tar:
            tar.extractall(dest, filter=_archive_filter(limit))  # noqa: S202 - it confines
    except (tarfile.TarError, EOFError, OSError) as exc:
        raise InvalidArgument(f"not a valid image archive: {exc}") from exc


def _read_small(path: Path, what: str, limit: int = mf.MAX_CONFIG) -> bytes:
    """Read a JSON document of the archive whole, refusing one larger than ``limit``."""
    with open(path, "rb") as f:
        if os.fstat(f.fileno()).st_size > limit:
            raise InvalidArgument(f"image archive: {what} is larger than {limit} bytes")
        return f.read()


def _read_json(path: Path, what: str) -> object:
    try:
        return json.loads(_read_small(path, what))
    except FileNotFoundError:
        raise InvalidArgument(f"image archive: {what} is missing") from None
    except ValueError as exc:
        raise InvalidArgument(f"image archive: {what} is malformed: {exc}") from exc


def _inside(root: Path, rel: str, what: str) -> Path:
    path = (root / rel).resolve()
    if not path.is_relative_to(root.resolve()):
        raise InvalidArgument(f"image archive: {what} {rel!r} points outside the archive")
    if not path.is_file():
        raise InvalidArgument(f"image archive: {what} {rel!r} is missing")
    return path


def _stage_layer_file(
    staging: Staging,
    path: Path,
    below: StagedLayer | None,
    diff_id: str,
    expected_digest: str | None,
) -> StagedLayer:
    """Unpack a layer file from an archive, verify it, keep the file as the layer's blob."""
    with open(path, "rb") as f:
        hashed = HashingReader(f)  # type: ignore[arg-type]
        raw = io.BufferedReader(hashed, 1 << 20)
        layer = staging.unpack(raw, below.chain_id if below else None, expected_diff_id=diff_id)
        hashed.drain()
    digest = hashed.digest
    if expected_digest and digest != expected_digest:
        raise InvalidArgument(f"image archive: blob {expected_digest} has digest {digest}")
    with open(path, "rb") as f:
        _, compression = open_decompressed(f)
    if layer.staged_dir is None:
        return layer  # already in the store or staged by an earlier image of the archive
    kept = staging.path("keep-")
    media_type = _COMPRESSED_TYPES.get(compression)
    if media_type is None:  # xz/bzip2 are not registry types: keep it as a plain tar
        with open(path, "rb") as f, open(kept, "wb") as out:
            shutil.copyfileobj(open_decompressed(f)[0], out, 1 << 20)
        digest, media_type = layer.diff_id, MEDIA_LAYER_TAR
    elif path.is_relative_to(staging.dir):
        os.link(path, kept)  # extracted by us: no copy (another image may share the file)
    else:
        shutil.copyfile(path, kept)
    layer.blob = (digest, media_type, kept.stat().st_size)
    staging.add_blob_file(kept, digest)
    return layer


def _config_from(path: Path, what: str, expected_digest: str | None = None) -> bytes:
    data = _read_small(path, what)
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    if expected_digest and digest != expected_digest:
        raise InvalidArgument(f"image archive: {what} has digest {digest}, not {expected_digest}")
    return data


def _diff_ids(config_bytes: bytes, what: str) -> list[str]:
    try:
        ids = json.loads(config_bytes)["rootfs"]["diff_ids"]
        assert isinstance(ids, list) and all(
            isinstance(i, str) and DIGEST_RE.fullmatch(i) for i in ids
        )
    except (ValueError, KeyError, TypeError, AssertionError):
        raise InvalidArgument(f"image archive: {what} is not a valid image config") from None
    return ids


def _load_one(
    store: ImageStore,
    staging: Staging,
    root: Path,
    config_rel: str,
    layer_paths: list[str],
    layer_digests: list[str | None],
    refs: list[str],
    progress: ProgressFn,
    config_digest: str | None = None,
) -> Image:
    config_bytes = _config_from(_inside(root, config_rel, "config"), config_rel, config_digest)
    diff_ids = _diff_ids(config_bytes, config_rel)
    if len(diff_ids) != len(layer_paths):
        raise InvalidArgument(
            f"image archive: {config_rel} lists {len(diff_ids)} layers, "
            f"the manifest {len(layer_paths)}"
        )
    from runtime.images.store import chain_ids

    chains = chain_ids(diff_ids)
    layers: list[StagedLayer] = []
    for i, (path, digest) in enumerate(zip(layer_paths, layer_digests, strict=True)):
        short = diff_ids[i].removeprefix("sha256:")[:12]
        existing = store.existing_layer(staging, chains[i])
        if existing is not None:
            layers.append(existing)
            continue
        progress(Progress(short, "Loading layer"))
        layers.append(
            _stage_layer_file(
                staging,
                _inside(root, path, "layer"),
                layers[-1] if layers else None,
                diff_ids[i],
                digest,
            )
        )
    return store.publish(staging, config_bytes, layers, refs=refs)


def load(store: ImageStore, source: Path | BinaryIO, progress: ProgressFn = ignore) -> list[Image]:
    """Load every image of a docker-save archive or OCI layout (tar, compressed tar or dir)."""
    with store.staging() as staging:
        if isinstance(source, Path) and source.is_dir():
            root = source
        else:
            root = staging.path("archive-")
            root.mkdir()
            if isinstance(source, Path):
                try:
                    with open(source, "rb") as f:
                        _unpack_archive(f, root, store.max_archive_size)
                except FileNotFoundError:
                    raise InvalidArgument(f"open {source}: no such file") from None
            else:
                _unpack_archive(source, root, store.max_archive_size)
        if (root / "manifest.json").is_file():
            loaded = _load_docker(store, staging, root, progress)
        elif (root / "index.json").is_file():
            loaded = _load_oci(store, staging, root, progress)
        else:
            raise InvalidArgument("image archive has neither manifest.json nor index.json")
    for image, refs in loaded:
        # the archive's own names, not every tag the image already had here (as Docker)
        keys = {store._name_key(ref) for ref in refs}  # noqa: SLF001 - same package
        names = [tag for tag in image.repo_tags if tag in keys] or [image.id]
        for name in names:
            progress(
                Progress(
                    "",
                    f"Loaded image: {name}" if name != image.id else f"Loaded image ID: {image.id}",
                )
            )
    return [image for image, _ in loaded]


def _load_docker(
    store: ImageStore, staging: Staging, root: Path, progress: ProgressFn
) -> list[tuple[Image, list[str]]]:
    entries = _read_json(root / "manifest.json", "manifest.json")
    if not isinstance(entries, list):
        raise InvalidArgument("image archive: manifest.json is not a list")
    images = []
    for n, entry in enumerate(entries):
        if (
            not isinstance(entry, dict)
            or not isinstance(entry.get("Config"), str)
            or not isinstance(entry.get("Layers"), list)
        ):
            raise InvalidArgument(f"image archive: manifest.json entry {n} is malformed")
        tags = [str(t) for t in entry.get("RepoTags") or []]
        paths = [str(rel) for rel in entry["Layers"]]
        image = _load_one(
            store, staging, root, entry["Config"], paths, [None] * len(paths), tags, progress
        )
        images.append((image, tags))
    return images


def _blob_rel(digest: str) -> str:
    if not DIGEST_RE.fullmatch(digest):
        raise InvalidArgument(f"image archive: unsupported digest {digest!r}")
    return f"blobs/sha256/{digest.removeprefix('sha256:')}"


def _blob(root: Path, digest: str) -> Path:
    return _inside(root, _blob_rel(digest), "blob")


def _load_oci(
    store: ImageStore, staging: Staging, root: Path, progress: ProgressFn
) -> list[tuple[Image, list[str]]]:
    index = mf.parse(_read_small(root / "index.json", "index.json", mf.MAX_MANIFEST), mf.OCI_INDEX)
    if not isinstance(index, mf.Index):
        raise InvalidArgument("image archive: index.json is not an index")
    images = []
    for desc in index.manifests:
        annotations = desc.annotations or {}
        data = _read_small(_blob(root, desc.digest), desc.digest, mf.MAX_MANIFEST)
        if "sha256:" + hashlib.sha256(data).hexdigest() != desc.digest:
            raise InvalidArgument(
                f"image archive: manifest {desc.digest} does not match its digest"
            )
        parsed = mf.parse(data, desc.media_type)
        if isinstance(parsed, mf.Index):
            chosen = mf.choose_platform(parsed, *host_platform())
            parsed = mf.parse(
                _read_small(_blob(root, chosen.digest), chosen.digest, mf.MAX_MANIFEST),
                chosen.media_type,
            )
            if isinstance(parsed, mf.Index):
                raise InvalidArgument("image archive: nested index is not supported")
        name = annotations.get("io.containerd.image.name") or ""
        ref_name = annotations.get("org.opencontainers.image.ref.name") or ""
        if not name and ("/" in ref_name or ":" in ref_name):
            name = ref_name
        refs = [str(parse_reference(name))] if name else []
        paths = [_blob_rel(layer.digest) for layer in parsed.layers]
        config_rel = f"blobs/sha256/{parsed.config.digest.removeprefix('sha256:')}"
        image = _load_one(
            store,
            staging,
            root,
            config_rel,
            paths,
            [layer.digest for layer in parsed.layers],
            refs,
            progress,
            config_digest=parsed.config.digest,
        )
        images.append((image, refs))
    return images
