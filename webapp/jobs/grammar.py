"""Docker's grammar for what a job asks of a host, checked by the site at enqueue.

A bad image reference, port, size, environment key or mount must be a field
error when the job is asked for, never a failure later on the host. The site
does not load the engine (``webapp`` imports no ``runtime``: the boundary test
in tests/unit/test_import_rules.py), so the grammar is written here again;
tests/unit/test_site_grammar.py runs both over the same inputs so the two
cannot drift apart. Each checker returns the normalised value or raises
``ValueError`` with one line saying what is wrong.
"""

from __future__ import annotations

import ipaddress
import posixpath
import re

_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_PATH = re.compile(rf"{_COMPONENT}(?:/{_COMPONENT})*", re.ASCII)
_DOMAIN = re.compile(
    r"(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*"
    r"|\[[0-9a-fA-F:]+\])(?::(?P<port>[0-9]+))?",
    re.ASCII,
)
_TAG = re.compile(r"[\w][\w.-]{0,127}", re.ASCII)
_DIGEST = re.compile(r"sha256:[0-9a-f]{64}", re.ASCII)
_IMAGE_ID = re.compile(r"(?:sha256:)?[0-9a-f]{3,64}", re.ASCII)
REFERENCE_MAX = 255

#: container, network and volume names (Docker's ``[a-zA-Z0-9][a-zA-Z0-9_.-]``)
_OBJECT_NAME = re.compile(r"[a-zA-Z0-9][a-zA-Z0-9_.-]*", re.ASCII)
_VOLUME_NAME = re.compile(r"[a-zA-Z0-9][a-zA-Z0-9_.-]+", re.ASCII)
_ENV_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]*", re.ASCII)
_SIZE = re.compile(r"(\d+(?:\.\d+)?)([bkmgt]?)i?b?", re.ASCII | re.IGNORECASE)
_UNITS = {"": 1, "b": 1, "k": 1024, "m": 1024**2, "g": 1024**3, "t": 1024**4}
_PORT_RANGE = re.compile(r"(\d{1,5})(?:-(\d{1,5}))?", re.ASCII)
_RESTART = re.compile(r"no|always|unless-stopped|on-failure(?::(\d{1,4}))?", re.ASCII)
_SIGNAL = re.compile(r"(?:SIG)?[A-Z][A-Z0-9+-]*|\d{1,2}", re.ASCII)
NAME_MAX = 128


def image_reference(text: str) -> str:
    """``[registry/]path[:tag][@digest]`` as the distribution project's grammar has it."""
    original = text
    if not text or text != text.strip() or not text.isascii():
        raise ValueError(f"invalid reference format: {original!r}")
    if "@" in text:
        text, digest = text.split("@", 1)
        if not _DIGEST.fullmatch(digest):
            raise ValueError(f"invalid reference format: bad digest in {original!r}")
    slash, colon = text.rfind("/"), text.rfind(":")
    if colon > slash:
        text, tag = text[:colon], text[colon + 1 :]
        if not _TAG.fullmatch(tag):
            raise ValueError(f"invalid reference format: bad tag in {original!r}")
    first, _, rest = text.partition("/")
    if rest and ("." in first or ":" in first or first == "localhost" or first != first.lower()):
        m = _DOMAIN.fullmatch(first)
        if not m or (m["port"] and not 0 < int(m["port"]) <= 65535):
            raise ValueError(f"invalid reference format: bad registry in {original!r}")
        path = rest
    else:
        path = text
    if not _PATH.fullmatch(path):
        if path.lower() != path:
            raise ValueError(
                f"invalid reference format: repository name must be lowercase: {original!r}"
            )
        raise ValueError(f"invalid reference format: {original!r}")
    if len(text) > REFERENCE_MAX:
        raise ValueError(
            f"invalid reference format: repository name must not be more than "
            f"{REFERENCE_MAX} characters"
        )
    return original


def registry_host(text: str) -> str:
    """A registry as references name it: ``host[:port]`` (``registry.example.com:5000``)."""
    m = _DOMAIN.fullmatch(text or "")
    if not m or len(text) > 255 or (m["port"] and not 0 < int(m["port"]) <= 65535):
        raise ValueError(
            f"invalid registry {text!r}: a host name or address with an optional :port"
        )
    return text


def reference_registry(text: str) -> str:
    """The registry part of a valid reference, or "" when it names none (Docker Hub)."""
    first, _, rest = text.partition("/")
    if rest and ("." in first or ":" in first or first == "localhost" or first != first.lower()):
        return first
    return ""


def image_ref_or_id(text: str) -> str:
    """What names an image already on a host: a reference or an (abbreviated) id."""
    if _IMAGE_ID.fullmatch(text or ""):
        return text
    return image_reference(text)


def object_name(text: str, what: str = "name") -> str:
    """A container or network name (Docker's grammar, at most 128 characters)."""
    if not _OBJECT_NAME.fullmatch(text or "") or len(text) > NAME_MAX:
        raise ValueError(f"invalid {what} {text!r}: only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed")
    return text


def volume_name(text: str) -> str:
    if not _VOLUME_NAME.fullmatch(text or "") or len(text) > NAME_MAX:
        raise ValueError(f"invalid volume name {text!r}: at least two of [a-zA-Z0-9][a-zA-Z0-9_.-]")
    return text


def env_key(text: str) -> str:
    if not _ENV_KEY.fullmatch(text or ""):
        raise ValueError(f"invalid environment variable name {text!r}")
    return text


def size(text: str | int, what: str = "size") -> int:
    """Docker's sizes (``512m``, ``1g``, ``1024``) in bytes."""
    if isinstance(text, int) and not isinstance(text, bool):
        value = text
    else:
        m = _SIZE.fullmatch(str(text).strip())
        if not m:
            raise ValueError(f"invalid {what} {text!r}: expected a size such as 512m or 1g")
        value = int(float(m.group(1)) * _UNITS[m.group(2).lower()])
    if value < 0:
        raise ValueError(f"invalid {what} {text!r}: must not be negative")
    return value


def _ports(text: str, what: str) -> tuple[int, int]:
    m = _PORT_RANGE.fullmatch(text)
    if not m:
        raise ValueError(f"invalid {what} {text!r}: expected 1-65535")
    low = int(m.group(1))
    high = int(m.group(2) or low)
    if not (1 <= low <= high <= 65535):
        raise ValueError(f"invalid {what} {text!r}: ports are 1 to 65535")
    return low, high


def port_spec(text: str) -> str:
    """``[IPv4:][host_port[-end]:]container_port[-end][/tcp|udp]`` as ``-p`` takes it."""
    spec, _, proto = text.partition("/")
    if proto.lower() not in ("", "tcp", "udp"):
        raise ValueError(f"invalid protocol {proto!r} in {text!r}: use tcp or udp")
    parts = spec.split(":")
    if len(parts) == 3:
        ip, host, container = parts
    elif len(parts) == 2:
        ip, (host, container) = "", parts
    elif len(parts) == 1:
        ip, host, container = "", "", parts[0]
    else:
        raise ValueError(f"invalid port specification {text!r}: [IP:][HOSTPORT:]PORT[/PROTO]")
    if ip:
        try:
            ipaddress.IPv4Address(ip)
        except ValueError:
            raise ValueError(f"invalid host IP {ip!r} in {text!r}") from None
    c_low, c_high = _ports(container, "container port")
    if host:
        h_low, h_high = _ports(host, "host port")
        if h_high - h_low != c_high - c_low:
            raise ValueError(f"invalid port range {text!r}: host and container ranges differ")
    return text


def mount_spec(text: str) -> str:
    """``VOLUME:/path[:ro|rw]`` (or just ``/path``, an anonymous volume).

    A host path as the source is a bind mount: a way onto the host that the
    site does not hand to teams (bind mounts are for fleet admins, later).
    """
    parts = text.split(":")
    if len(parts) == 1:
        source, target, mode = "", parts[0], ""
    elif len(parts) == 2:
        source, target, mode = parts[0], parts[1], ""
    elif len(parts) == 3:
        source, target, mode = parts
    else:
        raise ValueError(f"invalid volume specification {text!r}")
    if source.startswith(("/", ".", "~")):
        raise ValueError(f"{text!r} mounts a host path: only named volumes may be mounted")
    if source:
        volume_name(source)
    clean = posixpath.normpath(target) if target.startswith("/") else ""
    if not clean or "\0" in target or clean in ("/", "//"):
        raise ValueError(f"invalid mount target {target!r}: an absolute path inside the container")
    if any(clean == p or clean.startswith(p + "/") for p in ("/proc", "/sys")):
        raise ValueError(f"invalid mount target {target!r}: not into /proc or /sys")
    if mode and mode not in ("ro", "rw"):
        raise ValueError(f"invalid mode {mode!r} in {text!r}: ro or rw")
    return text


def restart_policy(text: str) -> str:
    m = _RESTART.fullmatch(text or "")
    if not m:
        raise ValueError(
            f"invalid restart policy {text!r}: no, always, unless-stopped or on-failure[:N]"
        )
    return text


def signal_name(text: str) -> str:
    if not _SIGNAL.fullmatch(text or ""):
        raise ValueError(f"invalid signal {text!r}")
    return text
