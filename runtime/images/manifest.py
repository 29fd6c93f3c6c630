"""Image manifests and indexes: Docker schema 2 and OCI, parsed strictly, built plainly.

A registry, an OCI layout or a ``docker save`` archive all hand us JSON that
names a config and layers by digest. ``parse`` checks the shape and the media
types before anything is downloaded; ``choose_platform`` picks this host's
entry from a manifest list / OCI index.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from runtime.errors import InvalidArgument
from runtime.images.reference import DIGEST_RE

DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json"
DOCKER_LAYER_GZIP = "application/vnd.docker.image.rootfs.diff.tar.gzip"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar"
OCI_LAYER_GZIP = OCI_LAYER + "+gzip"
OCI_LAYER_ZSTD = OCI_LAYER + "+zstd"

MANIFEST_TYPES = (DOCKER_MANIFEST, OCI_MANIFEST)
INDEX_TYPES = (DOCKER_LIST, OCI_INDEX)
# Largest manifest and image config read, from a registry or an archive: they are read
# whole into memory, so a bigger one (a sparse or compressed file can declare gigabytes)
# is refused rather than read.
MAX_MANIFEST = 4 << 20
MAX_CONFIG = 16 << 20
ACCEPT = ", ".join((OCI_INDEX, DOCKER_LIST, OCI_MANIFEST, DOCKER_MANIFEST))
LAYER_TYPES = {
    DOCKER_LAYER_GZIP: "gzip",
    "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip": "gzip",
    "application/vnd.docker.image.rootfs.diff.tar": "none",
    OCI_LAYER: "none",
    OCI_LAYER_GZIP: "gzip",
    OCI_LAYER_ZSTD: "zstd",
    "application/vnd.oci.image.layer.nondistributable.v1.tar": "none",
    "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip": "gzip",
    "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd": "zstd",
}
CONFIG_TYPES = (DOCKER_CONFIG, OCI_CONFIG)


@dataclass(frozen=True)
class Descriptor:
    """A content descriptor: what a manifest says about one blob."""

    media_type: str
    digest: str
    size: int
    platform: dict | None = None
    annotations: dict | None = None

    def as_json(self) -> dict:
        out: dict = {"mediaType": self.media_type, "digest": self.digest, "size": self.size}
        if self.platform:
            out["platform"] = self.platform
        if self.annotations:
            out["annotations"] = self.annotations
        return out


@dataclass(frozen=True)
class Manifest:
    media_type: str
    config: Descriptor
    layers: list[Descriptor]


@dataclass(frozen=True)
class Index:
    media_type: str
    manifests: list[Descriptor]


def _descriptor(obj: object, where: str) -> Descriptor:
    if not isinstance(obj, dict):
        raise InvalidArgument(f"malformed manifest: {where} is not an object")
    digest, size = obj.get("digest"), obj.get("size")
    if not isinstance(digest, str) or not DIGEST_RE.fullmatch(digest):
        raise InvalidArgument(
            f"malformed manifest: {where} has a bad or unsupported digest {digest!r}"
        )
    if not isinstance(size, int) or size < 0:
        raise InvalidArgument(f"malformed manifest: {where} has a bad size {size!r}")
    platform = obj.get("platform")
    return Descriptor(
        str(obj.get("mediaType") or ""),
        digest,
        size,
        platform if isinstance(platform, dict) else None,
        obj.get("annotations") if isinstance(obj.get("annotations"), dict) else None,
    )


def parse(data: bytes, media_type: str = "") -> Manifest | Index:
    """Parse a manifest or index; raise InvalidArgument for bad JSON or unsupported types."""
    try:
        doc = json.loads(data)
    except ValueError as exc:
        raise InvalidArgument(f"malformed manifest: {exc}") from exc
    if not isinstance(doc, dict):
        raise InvalidArgument("malformed manifest: not a JSON object")
    kind = doc.get("mediaType") or media_type.split(";")[0].strip()
    if not kind:  # OCI makes mediaType optional: tell by shape
        kind = OCI_INDEX if "manifests" in doc else OCI_MANIFEST
    if doc.get("schemaVersion") == 1 or "signatures" in doc or "fsLayers" in doc:
        raise InvalidArgument("unsupported manifest: Docker schema 1 (long deprecated)")
    if doc.get("schemaVersion") != 2:
        raise InvalidArgument(f"malformed manifest: schemaVersion {doc.get('schemaVersion')!r}")
    if kind in INDEX_TYPES:
        entries = doc.get("manifests")
        if not isinstance(entries, list):
            raise InvalidArgument("malformed manifest: index without a manifests list")
        return Index(kind, [_descriptor(e, f"manifests[{i}]") for i, e in enumerate(entries)])
    if kind not in MANIFEST_TYPES:
        raise InvalidArgument(f"unsupported manifest media type {kind!r}")
    config = _descriptor(doc.get("config"), "config")
    if config.media_type and config.media_type not in CONFIG_TYPES:
        raise InvalidArgument(
            f"unsupported image config media type {config.media_type!r} (not a container image)"
        )
    layers_json = doc.get("layers")
    if not isinstance(layers_json, list):
        raise InvalidArgument("malformed manifest: no layers list")
    layers = [_descriptor(e, f"layers[{i}]") for i, e in enumerate(layers_json)]
    for layer in layers:
        if layer.media_type not in LAYER_TYPES:
            raise InvalidArgument(
                f"unsupported layer media type {layer.media_type!r} (layer {layer.digest})"
            )
    return Manifest(kind, config, layers)


def choose_platform(index: Index, os_name: str, arch: str, variant: str = "") -> Descriptor:
    """Pick the manifest for os/arch[/variant] from an index, as Docker does."""
    candidates = [d for d in index.manifests if d.media_type in MANIFEST_TYPES or not d.media_type]
    matches = [
        d
        for d in candidates
        if d.platform and d.platform.get("os") == os_name and d.platform.get("architecture") == arch
    ]
    if variant:
        exact = [d for d in matches if d.platform and d.platform.get("variant") == variant]
        matches = exact or matches
    if not matches:
        have = sorted({_platform_text(d.platform or {}) for d in candidates})
        want = "/".join(filter(None, (os_name, arch, variant)))
        raise InvalidArgument(
            f"no matching manifest for {want} in the manifest list "
            f"(it has: {', '.join(have) or 'nothing'})"
        )
    return matches[0]


def _platform_text(p: dict) -> str:
    return "/".join(str(p[k]) for k in ("os", "architecture", "variant") if p.get(k))


def parse_platform(text: str) -> tuple[str, str, str]:
    """Parse ``--platform os/arch[/variant]``."""
    parts = text.split("/")
    if len(parts) not in (2, 3) or not all(parts):
        raise InvalidArgument(f"invalid platform {text!r}: expected os/arch[/variant]")
    return parts[0], parts[1], parts[2] if len(parts) == 3 else ""


def build(config: Descriptor, layers: list[Descriptor], media_type: str) -> bytes:
    """Serialise a manifest (Docker schema 2 or OCI) for push or save."""
    doc = {
        "schemaVersion": 2,
        "mediaType": media_type,
        "config": config.as_json(),
        "layers": [d.as_json() for d in layers],
    }
    return json.dumps(doc, indent=3).encode()
