"""Which host paths a bind mount may expose: the admin's allow-list, minus what is never safe.

Teams share hosts, so a bind mount is a way out of the container: by default
only a Wharf-owned area (``$WHARF_ROOT/binds``) may be bound, the host config's
``allowed_bind_paths`` widens that, and the system's own directories, the
Wharf state and the sockets under /run are refused whatever the config says.
Paths are checked after resolving symlinks, and the resolved path is what gets
mounted, so a symlink swapped in later changes nothing.
"""

from __future__ import annotations

import os
from pathlib import Path

from runtime.config import Paths
from runtime.errors import InvalidArgument

#: Never bound, nor anything below them.
SENSITIVE = ("/boot", "/dev", "/etc", "/lib", "/lib32", "/lib64", "/libx32", "/proc", "/sys", "/usr",
             "/bin", "/sbin", "/run", "/var/run", "/root")


def default_allowed(paths: Paths) -> list[Path]:
    return [paths.root / "binds"]


def check_bind_source(paths: Paths, source: str, create: bool) -> Path:
    """Return the resolved host path to bind, or raise naming why it is refused."""
    if not source.startswith("/"):
        raise InvalidArgument(f"bind source {source!r} is not an absolute path")
    allowed = [Path(p) for p in paths.config.allowed_bind_paths] or default_allowed(paths)
    allowed = [Path(os.path.realpath(p)) for p in allowed]
    resolved = Path(os.path.realpath(source))
    _refuse_sensitive(paths, source, resolved)
    if not any(resolved == a or resolved.is_relative_to(a) for a in allowed):
        places = ", ".join(str(a) for a in allowed)
        raise InvalidArgument(
            f"bind source {source} is outside the host paths this host allows for bind mounts ({places})"
        )
    if not resolved.exists():
        if not create:
            raise InvalidArgument(f"invalid mount config: bind source path does not exist: {source}")
        resolved.mkdir(parents=True, mode=0o755)
    return resolved


def _refuse_sensitive(paths: Paths, source: str, resolved: Path) -> None:
    if resolved == Path("/"):
        raise InvalidArgument(f"bind source {source} is the host's root and is never allowed")
    for s in SENSITIVE:
        sp = Path(s)
        if resolved == sp or resolved.is_relative_to(sp):
            raise InvalidArgument(f"bind source {source} is below {s}, which is never allowed")
    for state in (paths.root, paths.run):
        state = Path(os.path.realpath(state))
        if state.is_relative_to(resolved) or (
            resolved.is_relative_to(state) and not resolved.is_relative_to(state / "binds")
        ):
            raise InvalidArgument(f"bind source {source} would expose Wharf's own state ({state})")
