"""Where a Wharf host keeps its state, and the host's configuration.

Everything lives under one root (``WHARF_ROOT``, default ``/var/lib/wharf``) and
one volatile directory (``WHARF_RUN``, default ``/run/wharf``), so tests and
benchmarks can run several isolated "hosts" on one machine by pointing these
at temporary directories.

The host configuration is a small JSON file (``WHARF_CONFIG``, default
``$WHARF_ROOT/config.json``): insecure registries, bind-mount policy, the
default bridge subnet, the OCI runtime to prefer, the resolvers the networks'
DNS forwards to (default: the host's own), the Engine API socket's group and,
only when asked for, an Engine API TCP listener (``api_tcp``: ``listen``,
``tls_ca``, ``tls_cert``, ``tls_key``; TLS with client certificates or none at
all), and how long the Engine API keeps an ended exec's record
(``api_exec_retention``, seconds, default 300). A missing file means defaults.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from functools import cached_property
from ipaddress import IPv4Network
from pathlib import Path
from typing import Any

from runtime.errors import InvalidArgument


@dataclass(frozen=True)
class ApiTcp:
    """The Engine API on TCP: where it listens, and the TLS files that guard it.

    A client certificate signed by ``tls_ca`` is root on this host, as the unix
    socket's group is; there is no way to ask for TCP without client
    certificates (dockerd's plain ``-H tcp://`` is the hole this closes).
    """

    host: str
    port: int
    tls_ca: str
    tls_cert: str
    tls_key: str

    @classmethod
    def parse(cls, data: Any, where: str) -> ApiTcp:
        if not isinstance(data, dict):
            raise InvalidArgument(f"{where}: api_tcp must be an object")
        missing = [k for k in ("listen", "tls_ca", "tls_cert", "tls_key") if not data.get(k)]
        if missing:
            raise InvalidArgument(
                f"{where}: api_tcp needs {', '.join(missing)}: the Engine API is served on "
                "TCP only with TLS and client certificates"
            )
        host, sep, port = str(data["listen"]).rpartition(":")
        if not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise InvalidArgument(f"{where}: api_tcp listen {data['listen']!r} is not HOST:PORT")
        return cls(
            host=host.strip("[]"),
            port=int(port),
            tls_ca=str(data["tls_ca"]),
            tls_cert=str(data["tls_cert"]),
            tls_key=str(data["tls_key"]),
        )


@dataclass(frozen=True)
class HostConfig:
    """The admin's choices for this host; see the module docstring for the file."""

    insecure_registries: tuple[str, ...] = ()
    allowed_bind_paths: tuple[str, ...] = ()
    default_bridge_subnet: str | None = None
    # (base, prefix length of each subnet cut from it); empty: Docker's own pools
    default_address_pools: tuple[tuple[IPv4Network, int], ...] = ()
    oci_runtime: str | None = None
    dns_upstreams: tuple[str, ...] = ()  # "IP" or "IP:PORT"; empty: /etc/resolv.conf's
    api_socket_group: str | None = None  # the Engine API socket's group (root's alone if none)
    api_tcp: ApiTcp | None = None  # the Engine API on TCP with client certificates; none if unset
    api_exec_retention: float = 300.0  # seconds an exec's record outlives its end (or creation)
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path) -> HostConfig:
        """Read the config file; absent means all defaults, malformed is an error."""
        try:
            data = json.loads(path.read_text())
        except FileNotFoundError:
            return cls()
        except (OSError, ValueError) as exc:
            raise InvalidArgument(f"host configuration {path}: {exc}") from exc
        if not isinstance(data, dict):
            raise InvalidArgument(f"host configuration {path}: expected a JSON object")
        known = {
            "insecure_registries",
            "allowed_bind_paths",
            "default_bridge_subnet",
            "default_address_pools",
            "oci_runtime",
            "dns_upstreams",
            "api_socket_group",
            "api_tcp",
            "api_exec_retention",
        }
        retention = data.get("api_exec_retention", 300.0)
        if not isinstance(retention, (int, float)) or isinstance(retention, bool) or retention < 0:
            raise InvalidArgument(
                f"host configuration {path}: api_exec_retention must be a number of seconds"
            )
        return cls(
            insecure_registries=tuple(data.get("insecure_registries", ())),
            allowed_bind_paths=tuple(data.get("allowed_bind_paths", ())),
            default_bridge_subnet=data.get("default_bridge_subnet"),
            default_address_pools=_address_pools(
                data.get("default_address_pools", []), f"host configuration {path}"
            ),
            oci_runtime=data.get("oci_runtime"),
            dns_upstreams=tuple(data.get("dns_upstreams", ())),
            api_socket_group=data.get("api_socket_group"),
            api_tcp=ApiTcp.parse(data["api_tcp"], f"host configuration {path}")
            if data.get("api_tcp")
            else None,
            api_exec_retention=float(retention),
            extra={k: v for k, v in data.items() if k not in known},
        )


def _address_pools(data: Any, where: str) -> tuple[tuple[IPv4Network, int], ...]:
    """Check ``default_address_pools`` as dockerd does: each base a network, each size
    no shorter than its base's prefix and at most 30 bits (a subnet needs a gateway
    and a host)."""
    if not isinstance(data, list):
        raise InvalidArgument(f"{where}: default_address_pools must be a list")
    pools = []
    for item in data:
        if not isinstance(item, dict) or set(item) != {"base", "size"}:
            raise InvalidArgument(
                f"{where}: each of default_address_pools is {{'base': CIDR, 'size': PREFIX}}"
            )
        try:
            base = IPv4Network(str(item["base"]))
        except ValueError as exc:
            raise InvalidArgument(f"{where}: address pool base {item['base']!r}: {exc}") from exc
        size = item["size"]
        if isinstance(size, bool) or not isinstance(size, int) or not base.prefixlen <= size <= 30:
            raise InvalidArgument(
                f"{where}: address pool {base} size {size!r} must be a prefix length "
                f"from {base.prefixlen} to 30"
            )
        pools.append((base, size))
    return tuple(pools)


@dataclass(frozen=True)
class Paths:
    """The directories of one Wharf host."""

    root: Path
    run: Path

    @classmethod
    def from_env(
        cls, root: str | os.PathLike[str] | None = None, run: str | os.PathLike[str] | None = None
    ) -> Paths:
        """Resolve the root and run directories: explicit argument, then env, then default."""
        root = Path(root or os.environ.get("WHARF_ROOT") or "/var/lib/wharf")
        run = Path(run or os.environ.get("WHARF_RUN") or "/run/wharf")
        return cls(root=root.absolute(), run=run.absolute())

    @property
    def db(self) -> Path:
        return self.root / "wharf.db"

    @property
    def config_file(self) -> Path:
        env = os.environ.get("WHARF_CONFIG")
        return Path(env) if env else self.root / "config.json"

    @cached_property
    def config(self) -> HostConfig:
        return HostConfig.load(self.config_file)

    def ensure(self) -> None:
        """Create the root and run directories (private to root) if missing."""
        for d in (self.root, self.run):
            d.mkdir(parents=True, exist_ok=True, mode=0o711)
