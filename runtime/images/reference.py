"""Parse image references the way Docker does.

``busybox`` means ``docker.io/library/busybox:latest``; a first component with a
dot, a colon or equal to ``localhost`` names a registry. The store keeps the
*familiar* form Docker shows in ``RepoTags`` (``busybox:latest``,
``127.0.0.1:5000/app:1``) so lookups and listings agree with ``docker images``.

The grammar is the distribution project's, in ASCII only (Python's word
class would otherwise take a Cyrillic "е", so ``busybox:latеst`` would look
like ``latest`` and be accepted), whole-string
matches only (``$`` also matches before a final new line), and a registry port
must be a TCP port.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from runtime.errors import InvalidArgument

DEFAULT_DOMAIN = "docker.io"
DEFAULT_TAG = "latest"

_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_PATH_RE = re.compile(rf"{_COMPONENT}(?:/{_COMPONENT})*", re.ASCII)
_DOMAIN_RE = re.compile(
    r"(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*"
    r"|\[[0-9a-fA-F:]+\])(?::(?P<port>[0-9]+))?",
    re.ASCII,
)
_TAG_RE = re.compile(r"[\w][\w.-]{0,127}", re.ASCII)
DIGEST_RE = re.compile(r"sha256:[0-9a-f]{64}", re.ASCII)
NAME_MAX = 255


@dataclass(frozen=True)
class Reference:
    """A parsed reference: registry domain, repository path, tag and/or digest."""

    domain: str
    path: str
    tag: str | None = None
    digest: str | None = None

    @property
    def name(self) -> str:
        """Return the familiar repository name (``busybox``, ``127.0.0.1:5000/app``)."""
        if self.domain == DEFAULT_DOMAIN:
            return self.path.removeprefix("library/")
        return f"{self.domain}/{self.path}"

    @property
    def full_name(self) -> str:
        return f"{self.domain}/{self.path}"

    @property
    def registry_host(self) -> str:
        """Return the host:port to talk to (Docker Hub's API lives on registry-1)."""
        return "registry-1.docker.io" if self.domain == DEFAULT_DOMAIN else self.domain

    @property
    def tagged(self) -> str:
        """Return ``name:tag`` (tag defaulting to latest)."""
        return f"{self.name}:{self.tag or DEFAULT_TAG}"

    def with_digest(self, digest: str) -> Reference:
        return Reference(self.domain, self.path, None, digest)

    def __str__(self) -> str:
        if self.digest:
            return f"{self.name}@{self.digest}"
        return self.tagged


def parse_reference(text: str, *, default_tag: bool = True) -> Reference:
    """Parse ``[domain/]path[:tag][@digest]``; raise InvalidArgument naming the bad part."""
    original = text
    if not text or text != text.strip():
        raise InvalidArgument(f"invalid reference format: {original!r}")
    digest = None
    if "@" in text:
        text, digest = text.split("@", 1)
        if not DIGEST_RE.fullmatch(digest):
            raise InvalidArgument(f"invalid reference format: bad digest in {original!r}")
    tag = None
    slash = text.rfind("/")
    colon = text.rfind(":")
    if colon > slash:
        text, tag = text[:colon], text[colon + 1 :]
        if not _TAG_RE.fullmatch(tag):
            raise InvalidArgument(f"invalid reference format: bad tag in {original!r}")
    first, _, rest = text.partition("/")
    if rest and ("." in first or ":" in first or first == "localhost" or first != first.lower()):
        domain, path = first, rest
        m = _DOMAIN_RE.fullmatch(domain)
        if not m or (m["port"] and not 0 < int(m["port"]) <= 65535):
            raise InvalidArgument(f"invalid reference format: bad registry in {original!r}")
    else:
        domain, path = DEFAULT_DOMAIN, text
    if domain in ("index.docker.io", "registry-1.docker.io"):
        domain = DEFAULT_DOMAIN
    if not _PATH_RE.fullmatch(path):
        if path.lower() != path:
            raise InvalidArgument(
                f"invalid reference format: repository name must be lowercase: {original!r}"
            )
        raise InvalidArgument(f"invalid reference format: {original!r}")
    if len(text) > NAME_MAX:
        raise InvalidArgument(
            f"invalid reference format: repository name must not be more than {NAME_MAX} characters"
        )
    if domain == DEFAULT_DOMAIN and "/" not in path:
        path = f"library/{path}"
    if tag is None and digest is None and default_tag:
        tag = DEFAULT_TAG
    return Reference(domain, path, tag, digest)


def is_image_id(text: str) -> bool:
    """Tell whether text looks like a (possibly short, possibly prefixed) image id."""
    hexpart = text.removeprefix("sha256:")
    return 3 <= len(hexpart) <= 64 and all(c in "0123456789abcdef" for c in hexpart)
