"""Wharf's engine for one host: images, containers, networks, volumes, builds.

This package never imports Django. Use it through ``Runtime``::

    with Runtime() as rt:
        image = rt.images.pull("busybox")

Parts are loaded lazily so a command pays only for the imports it uses (see
docs/architecture.md, and the benchmarks in bench/).
"""

from __future__ import annotations

import os

# Importing this package must stay nearly free: ``runtime.cli.entry`` (every
# ``wharf`` call) imports it before handing the command to the fork server.
# So no ``typing`` here, and Paths/WharfError are loaded on first use.
TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover - for type checkers only
    from typing import Any

    from runtime.config import Paths
    from runtime.errors import WharfError

__all__ = ["Runtime", "Paths", "WharfError"]


def __getattr__(name: str) -> object:
    if name == "Paths":
        from runtime.config import Paths

        return Paths
    if name == "WharfError":
        from runtime.errors import WharfError

        return WharfError
    raise AttributeError(f"module 'runtime' has no attribute {name!r}")


class Runtime:
    """One host's engine: the entry point to images, containers, networks and volumes."""

    def __init__(
        self, root: str | os.PathLike[str] | None = None, run: str | os.PathLike[str] | None = None
    ) -> None:
        from runtime.config import Paths

        self.paths = Paths.from_env(root, run)
        self._parts: dict[str, Any] = {}

    def __enter__(self) -> Runtime:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Release what the parts hold open (database connections, netlink sockets)."""
        for part in self._parts.values():
            close = getattr(part, "close", None)
            if close:
                close()
        self._parts.clear()

    def _part(self, name: str, factory: Any) -> Any:
        if name not in self._parts:
            self._parts[name] = factory()
        return self._parts[name]

    @property
    def images(self) -> Any:
        """The image store (``runtime.images``)."""

        def make() -> Any:
            from runtime.images.service import ImageService

            # the containers part answers which containers use an image (asked lazily:
            # a command about images alone does not open the containers' table)
            return ImageService(self.paths, lambda image_id: self.containers.using_image(image_id))

        return self._part("images", make)

    @property
    def containers(self) -> Any:
        """Containers on this host (``runtime.containers``)."""

        def make() -> Any:
            from runtime.containers.manager import ContainerManager

            return ContainerManager(self)

        return self._part("containers", make)

    @property
    def events(self) -> Any:
        """The host's durable event stream (``runtime.events``)."""

        def make() -> Any:
            from runtime.events import EventLog

            return EventLog(self.paths)

        return self._part("events", make)

    @property
    def networks(self) -> Any:
        """Bridge networks on this host (``runtime.network``)."""

        def make() -> Any:
            from runtime.network.manager import NetworkManager

            return NetworkManager(self)

        return self._part("networks", make)

    @property
    def volumes(self) -> Any:
        """Named and anonymous volumes on this host (``runtime.volumes``)."""

        def make() -> Any:
            from runtime.volumes import VolumeManager

            return VolumeManager(self)

        return self._part("volumes", make)
