"""The files a container's network gives it: /etc/hosts and /etc/resolv.conf, as Docker writes them."""

from __future__ import annotations

import ipaddress
import re
from pathlib import Path
from typing import Any

from runtime.errors import InvalidArgument

LOCALHOST = (
    "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n"
    "fe00::0\tip6-localnet\nff00::0\tip6-mcastprefix\n"
)


def read(path: Path, default: str) -> str:
    try:
        return path.read_text()
    except OSError:
        return default


def host_resolv_conf() -> str:
    """Return the host's resolv.conf without loopback resolvers (unreachable from a netns)."""
    try:
        lines = Path("/etc/resolv.conf").read_text().splitlines()
    except OSError:
        lines = []
    kept = [
        ln for ln in lines if not (ln.startswith("nameserver") and (" 127." in ln or " ::1" in ln))
    ]
    if not any(ln.startswith("nameserver") for ln in kept):
        kept += ["nameserver 8.8.8.8", "nameserver 8.8.4.4"]
    return "\n".join(kept) + "\n"


def parse_add_host(entry: str, gateway: str) -> str:
    """Turn ``--add-host NAME:IP`` (or ``NAME=IP``, IP ``host-gateway``) into a hosts line."""
    sep = "=" if "=" in entry else ":"
    host, _, ip = entry.partition(sep)
    if ip == "host-gateway":
        ip = gateway
    try:
        # no IPv6 zone (fe80::1%eth0): its text is free-form, so a new line could ride in it
        if "%" in ip:
            raise ValueError(ip)
        ipaddress.ip_address(ip.strip("[]"))
    except ValueError:
        raise InvalidArgument(f"invalid IP address in add-host: {ip!r}") from None
    if not host or not re.fullmatch(r"[A-Za-z0-9_.-]+", host):
        raise InvalidArgument(f"bad format for add-host: {entry!r}")
    return f"{ip.strip('[]')}\t{host}\n"


def extra_hosts(spec: Any, gateway: str) -> str:
    return "".join(parse_add_host(e, gateway) for e in spec.add_hosts)


def host_resolv(spec: Any) -> str:
    """The host's resolv.conf (no loopback servers), with ``--dns*`` applied as Docker does."""
    lines = host_resolv_conf().splitlines()
    if spec.dns:
        lines = [ln for ln in lines if not ln.startswith("nameserver")]
        lines += [f"nameserver {s}" for s in spec.dns]
    return apply_search(lines, spec)


def network_resolv(spec: Any, gateway: str) -> str:
    """resolv.conf of a user-defined network: the resolver on its gateway first."""
    lines = [ln for ln in host_resolv_conf().splitlines() if not ln.startswith("nameserver")]
    lines.insert(0, f"nameserver {gateway}")
    if spec.dns:
        lines.append(f"# ExtServers: [{' '.join(spec.dns)}]")
    return apply_search(lines, spec)


def apply_search(lines: list[str], spec: Any) -> str:
    if spec.dns_search:
        lines = [ln for ln in lines if not ln.startswith(("search", "domain"))]
        lines.append("search " + " ".join(spec.dns_search))
    if spec.dns_options:
        lines = [ln for ln in lines if not ln.startswith("options")]
        lines.append("options " + " ".join(spec.dns_options))
    return "\n".join(lines) + "\n"
