"""``--filter`` (``-f``) of the list verbs, with Docker's keys, matching and errors.

``parse`` turns ``key=value`` flags into a dict of value lists and refuses keys
the verb does not know (Docker: ``Invalid filter 'x'``, exit 1). The matchers
take what ``docker ps``/``docker images`` filter on: a value list of one key
matches when any of its values does; all keys must match.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache
from typing import Any

from runtime.errors import InvalidArgument, WharfError


class InvalidFilter(WharfError):
    """A filter key or value the verb does not know (Docker answers with exit 1)."""

    exit_code = 1
    kind = "invalid_argument"
    #: Docker's daemon checks filters, so its client prints "Error response from daemon: …"
    said_by = "daemon"


PS_KEYS = frozenset(
    {
        "ancestor",
        "before",
        "expose",
        "exited",
        "health",
        "id",
        "is-task",
        "isolation",
        "label",
        "name",
        "network",
        "publish",
        "since",
        "status",
        "volume",
    }
)
IMAGE_KEYS = frozenset({"before", "dangling", "label", "reference", "since"})
STATUSES = ("created", "restarting", "running", "removing", "paused", "exited", "dead")
HEALTH = ("starting", "healthy", "unhealthy", "none")


def parse(values: list[str] | None, keys: frozenset[str]) -> dict[str, list[str]]:
    """``["a=1", "a=2", "b=x"]`` → ``{"a": ["1", "2"], "b": ["x"]}``, keys checked."""
    out: dict[str, list[str]] = {}
    for item in values or []:
        key, sep, value = item.partition("=")
        if not sep:
            raise InvalidArgument("bad format of filter (expected name=value)")
        key = key.strip().lower()
        if key not in keys:
            raise InvalidFilter(f"Invalid filter '{key}'")
        out.setdefault(key, []).append(value.strip())
    return out


def label_matches(labels: dict[str, str] | None, wanted: list[str]) -> bool:
    """``label=k`` (present) or ``label=k=v`` (equal); every wanted label must match."""
    labels = labels or {}
    for item in wanted:
        key, sep, value = item.partition("=")
        if key not in labels or (sep and labels[key] != value):
            return False
    return True


@lru_cache(maxsize=64)
def _glob(pattern: str) -> re.Pattern[str]:
    """Go's ``path.Match``: ``*`` and ``?`` never cross ``/``; ``[...]`` classes."""
    out = []
    i = 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "*":
            out.append("[^/]*")
        elif ch == "?":
            out.append("[^/]")
        elif ch == "[":
            end = pattern.find("]", i + 1)
            if end < 0:
                raise InvalidArgument(
                    f"invalid reference filter {pattern!r}: syntax error in pattern"
                )
            body = pattern[i + 1 : end]
            if body.startswith("^"):
                body = "!" + body[1:]
            out.append("[" + ("^" + body[1:] if body.startswith("!") else body) + "]")
            i = end
        elif ch == "\\" and i + 1 < len(pattern):
            i += 1
            out.append(re.escape(pattern[i]))
        else:
            out.append(re.escape(ch))
        i += 1
    return re.compile("".join(out) + r"\Z")


def _familiar(ref: str) -> str:
    for prefix in ("docker.io/library/", "docker.io/", "index.docker.io/library/"):
        if ref.startswith(prefix):
            return ref[len(prefix) :]
    return ref


def reference_matches(pattern: str, tag: str) -> bool:
    """Docker's ``reference.FamiliarMatch``: the pattern matches ``name:tag`` or ``name``."""
    full = _familiar(tag)
    name = full.split("@")[0]
    last = name.rfind(":")
    if last > name.rfind("/"):
        name = name[:last]
    pattern = _familiar(pattern)
    rx = _glob(pattern)
    return bool(rx.match(full) or rx.match(name))


# --- containers (docker ps) ------------------------------------------------------------


def _search(pattern: str, text: str) -> bool:
    """Docker's name filter: a regular expression; one that does not compile matches nothing."""
    try:
        return re.search(pattern, text) is not None
    except re.error:
        return False


def _port_set(values: list[str], what: str) -> list[tuple[int, int, str]]:
    out = []
    for v in values:
        ports, _, proto = v.partition("/")
        lo, _, hi = ports.partition("-")
        try:
            start, end = int(lo), int(hi or lo)
        except ValueError:
            raise InvalidFilter(f"invalid port range for {what}: {v}") from None
        out.append((start, end, proto or "tcp"))
    return out


def _port_in(keys: list[str], ranges: list[tuple[int, int, str]]) -> bool:
    for key in keys:
        port, _, proto = key.partition("/")
        for start, end, want in ranges:
            if want == (proto or "tcp") and start <= int(port) <= end:
                return True
    return False


class ContainerFilter:
    """The ``docker ps`` filters, checked once for bad values and then applied per container.

    ``inspect(c)`` gives a container's inspect document (``Mounts``,
    ``NetworkSettings``, ``State.Health``) for the keys that need it;
    ``parents`` maps image ids to their parent's, for ``ancestor=``.
    """

    def __init__(
        self,
        flt: dict[str, list[str]],
        containers: list[Any],
        inspect: Callable[[Any], dict],
        image_id: Callable[[str], str | None],
        parents: dict[str, str] | None = None,
    ) -> None:
        self.flt = flt
        self.inspect = inspect
        for value in flt.get("status", []):
            if value not in STATUSES:
                raise InvalidFilter(f"Invalid filter 'status={value}'")
        for value in flt.get("health", []):
            if value not in HEALTH:
                raise InvalidFilter(f"Unrecognised filter value for health: {value}")
        self.exited = []
        for value in flt.get("exited", []):
            try:
                self.exited.append(int(value))
            except ValueError:
                raise InvalidFilter(f'strconv.Atoi: parsing "{value}": invalid syntax') from None
        self.publish = _port_set(flt.get("publish", []), "publish")
        self.expose = _port_set(flt.get("expose", []), "expose")
        self.ancestors = {image_id(v) for v in flt.get("ancestor", [])} - {None}
        self.parents = parents
        self.before = self._created_of(flt.get("before", []), containers)
        self.since = self._created_of(flt.get("since", []), containers)

    @staticmethod
    def _created_of(refs: list[str], containers: list[Any]) -> str | None:
        if not refs:
            return None
        ref = refs[-1]
        for c in containers:
            if ref in (c.id, c.name) or (len(ref) >= 1 and c.id.startswith(ref)):
                return c.created
        raise InvalidFilter(f"No such container: {ref}")

    def _descends(self, image: str) -> bool:
        """The image is one of the ancestors or built on one (Docker follows the parents)."""
        seen = set()
        while image and image not in seen:
            if image in self.ancestors:
                return True
            seen.add(image)
            image = (self.parents or {}).get(image, "")
        return False

    @property
    def all_states(self) -> bool:
        """A ``status`` filter lists containers in every state, as ``-a`` (Docker does)."""
        return "status" in self.flt

    def __call__(self, c: Any) -> bool:
        f = self.flt
        if "status" in f and c.status not in f["status"]:
            return False
        if "id" in f and not any(c.id.startswith(v) for v in f["id"]):
            return False
        if "name" in f and not any(_search(v, c.name) for v in f["name"]):
            return False
        if "is-task" in f and "true" in f["is-task"]:
            return False  # no swarm: no container is a task
        if "label" in f and not label_matches(c.config.get("Labels"), f["label"]):
            return False
        if self.exited and (c.status != "exited" or c.exit_code not in self.exited):
            return False
        if "ancestor" in f and not self._descends(c.image_id):
            return False
        if self.before is not None and not c.created < self.before:
            return False
        if self.since is not None and not c.created > self.since:
            return False
        needs = ("health", "network", "volume", "publish", "expose")
        if not any(k in f for k in needs):
            return True
        doc = self.inspect(c)
        if "health" in f:
            health = (doc.get("State") or {}).get("Health") or {}
            if health.get("Status", "none") not in f["health"]:
                return False
        settings = doc.get("NetworkSettings") or {}
        if "network" in f:
            nets = settings.get("Networks") or {}
            names = set(nets) | {n.get("NetworkID", "") for n in nets.values() if n}
            if not any(
                v in names or any(x.startswith(v) for x in names if x) for v in f["network"]
            ):
                return False
        if "volume" in f:
            mounts = doc.get("Mounts") or []
            seen = {m.get("Name") for m in mounts} | {m.get("Destination") for m in mounts}
            if not any(v in seen for v in f["volume"]):
                return False
        if self.publish:
            published = [k for k, b in (settings.get("Ports") or {}).items() if b]
            if not _port_in(published, self.publish):
                return False
        if self.expose:
            exposed = list((doc.get("Config") or {}).get("ExposedPorts") or {})
            exposed += list(settings.get("Ports") or {})
            if not _port_in(exposed, self.expose):
                return False
        return True
