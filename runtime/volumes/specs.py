"""Parse Docker's storage flags into mount requests: ``-v``, ``--mount``, ``--tmpfs``.

Parsing is pure (no filesystem access) so every malformed flag is refused
before anything is created.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass, field

from runtime.errors import InvalidArgument

NAME_RE = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9_.-]+$")
PROPAGATIONS = {"private", "rprivate", "shared", "rshared", "slave", "rslave"}
FORBIDDEN_DESTINATIONS = ("/proc", "/sys")


@dataclass
class MountRequest:
    """One mount a container asked for, before volumes exist or paths are checked."""

    type: str  # "volume" | "bind" | "tmpfs"
    destination: str
    source: str = ""  # volume name ("" = anonymous) or host path
    readonly: bool = False
    propagation: str = ""
    nocopy: bool = False
    create_host_path: bool = False  # -v creates a missing host dir; --mount does not
    tmpfs_options: list[str] = field(default_factory=list)


def check_volume_name(name: str) -> str:
    if not NAME_RE.match(name):
        raise InvalidArgument(
            f'"{name}" includes invalid characters for a local volume name, only '
            '"[a-zA-Z0-9][a-zA-Z0-9_.-]" are allowed'
        )
    return name


def check_destination(dest: str, flag: str) -> str:
    """Return a clean absolute container path; refuse relative ones and /proc, /sys."""
    if not dest.startswith("/"):
        raise InvalidArgument(f"invalid {flag}: mount destination {dest!r} is not an absolute path")
    clean = posixpath.normpath(dest)
    if clean.startswith("//"):
        clean = "/" + clean.lstrip("/")
    if clean == "/":
        raise InvalidArgument(f"invalid {flag}: cannot mount over the container's root /")
    for forbidden in FORBIDDEN_DESTINATIONS:
        if clean == forbidden or clean.startswith(forbidden + "/"):
            raise InvalidArgument(
                f"invalid {flag}: mounts into {forbidden} of a container are not allowed"
            )
    return clean


def parse_volume_flag(text: str) -> MountRequest:
    """Parse ``-v [SRC:]DST[:OPTS]`` (SRC a volume name or an absolute host path)."""
    flag = f"-v {text}"
    parts = text.split(":")
    if len(parts) == 1:
        return MountRequest("volume", check_destination(parts[0], flag))
    if len(parts) > 3:
        raise InvalidArgument(f"invalid {flag}: too many colons")
    src, dst = parts[0], parts[1]
    opts = parts[2].split(",") if len(parts) == 3 else []
    if not src:
        raise InvalidArgument(f"invalid {flag}: empty source")
    req = MountRequest("volume", check_destination(dst, flag))
    if src.startswith("/"):
        req.type, req.source, req.create_host_path = "bind", src, True
    elif src.startswith(".") or "/" in src:
        raise InvalidArgument(
            f"invalid {flag}: {src!r} is a relative host path; bind mounts need an absolute path"
        )
    else:
        req.source = check_volume_name(src)
    for opt in opts:
        if opt in ("ro", "rw"):
            req.readonly = opt == "ro"
        elif opt in PROPAGATIONS and req.type == "bind":
            req.propagation = opt
        elif opt == "nocopy" and req.type == "volume":
            req.nocopy = True
        elif opt in ("z", "Z", ""):
            continue  # SELinux relabelling: nothing to do on this host
        else:
            raise InvalidArgument(f"invalid {flag}: unknown option {opt!r}")
    return req


def parse_mount_flag(text: str) -> MountRequest:
    """Parse ``--mount type=volume|bind|tmpfs,source=…,target=…,readonly,…``."""
    flag = f"--mount {text}"
    fields_: dict[str, str] = {}
    flags: set[str] = set()
    for item in text.split(","):
        item = item.strip()
        if not item:
            continue
        key, eq, value = item.partition("=")
        key = key.lower()
        if not eq:
            flags.add(key)
        else:
            fields_[key] = value
    kind = fields_.pop("type", "volume")
    if kind not in ("volume", "bind", "tmpfs"):
        raise InvalidArgument(f"invalid {flag}: unknown mount type {kind!r}")
    target = (
        fields_.pop("target", None) or fields_.pop("destination", None) or fields_.pop("dst", None)
    )
    if not target:
        raise InvalidArgument(f"invalid {flag}: target is required")
    source = fields_.pop("source", None) or fields_.pop("src", None) or ""
    req = MountRequest(kind, check_destination(target, flag), source)
    readonly = fields_.pop("readonly", None) or fields_.pop("ro", None)
    if "readonly" in flags or "ro" in flags or (readonly or "").lower() in ("1", "true"):
        req.readonly = True
    if kind == "bind":
        if not source.startswith("/"):
            raise InvalidArgument(f"invalid {flag}: bind source must be an absolute host path")
        prop = fields_.pop("bind-propagation", "")
        if prop and prop not in PROPAGATIONS:
            raise InvalidArgument(f"invalid {flag}: unknown bind-propagation {prop!r}")
        req.propagation = prop
    elif kind == "volume":
        if source:
            check_volume_name(source)
        nocopy = fields_.pop("volume-nocopy", None)
        req.nocopy = "volume-nocopy" in flags or (nocopy or "").lower() in ("1", "true")
    else:
        if source:
            raise InvalidArgument(f"invalid {flag}: a tmpfs mount takes no source")
        req.tmpfs_options = _tmpfs_opts(
            fields_.pop("tmpfs-size", ""), fields_.pop("tmpfs-mode", ""), flag
        )
    if fields_:
        raise InvalidArgument(f"invalid {flag}: unknown field {sorted(fields_)[0]!r}")
    return req


def parse_tmpfs_flag(text: str) -> MountRequest:
    """Parse ``--tmpfs DST[:OPTS]`` (OPTS as mount(8) options: size=64m,mode=1777,…)."""
    dst, _, opts = text.partition(":")
    flag = f"--tmpfs {text}"
    req = MountRequest("tmpfs", check_destination(dst, flag))
    for opt in filter(None, opts.split(",")):
        if opt == "ro":
            req.readonly = True
        elif opt == "rw":
            req.readonly = False
        elif re.match(
            r"^(size=\d+[kmgKMG%]?|mode=[0-7]{3,4}|uid=\d+|gid=\d+|nr_inodes=\d+[kmg]?|"
            r"exec|noexec|suid|nosuid|dev|nodev)$",
            opt,
        ):
            req.tmpfs_options.append(opt)
        else:
            raise InvalidArgument(f"invalid {flag}: unknown tmpfs option {opt!r}")
    return req


def _tmpfs_opts(size: str, mode: str, flag: str) -> list[str]:
    opts = []
    if size:
        if not re.match(r"^\d+[kmgKMG]?$", size):
            raise InvalidArgument(f"invalid {flag}: tmpfs-size {size!r} is not a size")
        opts.append(f"size={size}")
    if mode:
        if not re.match(r"^[0-7]{3,4}$", mode):
            raise InvalidArgument(f"invalid {flag}: tmpfs-mode {mode!r} is not an octal mode")
        opts.append(f"mode={mode}")
    return opts
