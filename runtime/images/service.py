"""The images of one host as ``rt.images``: the store, plus what reaches outside it.

``store`` keeps blobs, layers and rows and knows nothing of registries or
archives; ``registry`` (pull, push) and ``archive`` (save, load) build on the
store. This class sits above all three, so imports run one way only:
service -> registry/archive -> store.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any, BinaryIO

from runtime.images.store import Image, ImageStore


class ImageService(ImageStore):
    """The store with pull, push, save and load, each recorded as Docker's image event."""

    # --- the outside world (imported lazily: httpx only when a registry is used) ------

    def pull(
        self,
        name: str,
        *,
        platform: str | None = None,
        progress: Any = None,
        credentials: tuple[str, str] | None = None,
    ) -> Image:
        """Pull an image from its registry (see ``runtime.images.registry.pull``)."""
        from runtime.images import registry

        image = registry.pull(
            self,
            name,
            platform=platform,
            credentials=credentials,
            progress=progress or (lambda _p: None),
        )
        self._event("pull", name, name=name)
        return image

    def push(
        self,
        name: str,
        dest: str | None = None,
        *,
        progress: Any = None,
        credentials: tuple[str, str] | None = None,
    ) -> str:
        """Push an image to the registry its name points at; return the manifest digest."""
        from runtime.images import registry

        digest = registry.push(
            self, name, dest, credentials=credentials, progress=progress or (lambda _p: None)
        )
        self._event("push", dest or name, name=dest or name)
        return digest

    def save(self, names: Iterable[str], out: BinaryIO) -> None:
        """Write images as a docker-save + OCI-layout tar (see ``runtime.images.archive``)."""
        from runtime.images import archive

        names = list(names)
        archive.save(self, names, out)
        for name in names:
            self._event("save", self.resolve_id(name), name=name)

    def load(self, source: Path | BinaryIO, progress: Any = None) -> list[Image]:
        """Load a docker-save archive or OCI layout (tar, compressed tar or directory)."""
        from runtime.images import archive

        images = archive.load(self, source, progress=progress or (lambda _p: None))
        for image in images:
            self._event(
                "load", image.id, **({"name": image.repo_tags[0]} if image.repo_tags else {})
            )
        return images
