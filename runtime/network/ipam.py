"""Address management: which subnet a new network gets, which address a container gets.

Pure functions over ``ipaddress``; the manager calls them inside one database
write transaction, so two concurrent creates see each other's leases and the
table's unique (network, address) key refuses a double lease outright.
"""

from __future__ import annotations

import ipaddress
import socket
import struct
from collections.abc import Iterable
from pathlib import Path

from runtime.errors import Conflict, InvalidArgument

IPv4Network = ipaddress.IPv4Network
IPv4Address = ipaddress.IPv4Address


#: A pool: a base network cut into subnets of a prefix length (dockerd's base and size).
Pool = tuple[IPv4Network, int]


def default_pools() -> list[Pool]:
    """Docker's local address pools: 172.17–31.0.0/16, then 192.168.0.0/16 in /20s."""
    pools: list[Pool] = [(IPv4Network(f"172.{n}.0.0/16"), 16) for n in range(17, 32)]
    return [*pools, (IPv4Network("192.168.0.0/16"), 20)]


def host_routes(path: Path = Path("/proc/net/route")) -> list[IPv4Network]:
    """Return the destinations of the host's IPv4 routes, except the default route."""
    out = []
    try:
        lines = path.read_text().splitlines()[1:]
    except OSError:
        return out
    for line in lines:
        f = line.split()
        if len(f) < 8:
            continue
        dst = socket.inet_ntoa(struct.pack("<I", int(f[1], 16)))
        mask = socket.inet_ntoa(struct.pack("<I", int(f[7], 16)))
        net = IPv4Network(f"{dst}/{mask}", strict=False)
        if net.prefixlen:
            out.append(net)
    return out


def parse_subnet(text: str) -> IPv4Network:
    """Parse ``--subnet``: an IPv4 network in CIDR form, with room for a gateway and a host."""
    try:
        net = IPv4Network(text, strict=True)
    except ValueError as exc:
        raise InvalidArgument(f"invalid subnet {text!r}: {exc}") from None
    if net.prefixlen > 30:
        raise InvalidArgument(f"invalid subnet {text}: too small (at most /30)")
    if net.is_loopback or net.is_multicast or net.is_link_local or net.is_unspecified:
        raise InvalidArgument(f"invalid subnet {text}: not usable for a bridge network")
    return net


def parse_gateway(text: str, subnet: IPv4Network) -> IPv4Address:
    """Parse ``--gateway``: an address inside the subnet, not its network or broadcast address."""
    return host_address(text, subnet, "gateway")


def host_address(text: str, subnet: IPv4Network, what: str) -> IPv4Address:
    """Parse an address that must be a host address of ``subnet`` (``what`` names it)."""
    try:
        ip = IPv4Address(text)
    except ValueError:
        raise InvalidArgument(f"invalid {what} {text!r}: not an IPv4 address") from None
    if ip not in subnet or ip in (subnet.network_address, subnet.broadcast_address):
        raise InvalidArgument(f"{what} {ip} is not a host address of subnet {subnet}")
    return ip


def check_free(subnet: IPv4Network, taken: Iterable[tuple[str, IPv4Network]]) -> None:
    """Refuse a subnet that overlaps another network's or a host route."""
    for owner, other in taken:
        if subnet.overlaps(other):
            raise Conflict(f"subnet {subnet} overlaps {other} ({owner})")


def pick_subnet(taken: Iterable[IPv4Network], pools: Iterable[Pool] | None = None) -> IPv4Network:
    """Return the first subnet of ``pools`` (Docker's by default) that overlaps nothing taken.

    As dockerd's ``default-address-pools``: each base is cut into subnets of its
    size, the first base's first. A base is never listed whole (10.0.0.0/8 in /30s
    is four million subnets): from a subnet that overlaps a taken network the walk
    goes on at the first subnet past it, so it takes as many steps as there are
    taken networks in the way.
    """
    taken = list(taken)
    for base, size in default_pools() if pools is None else pools:
        step = 1 << (32 - size)
        at = int(base.network_address)
        end = int(base.broadcast_address)
        while at <= end:
            net = IPv4Network((at, size))
            hit = [t for t in taken if net.overlaps(t)]
            if not hit:
                return net
            past = max(int(t.broadcast_address) for t in hit) + 1
            at = max(at + step, (past + step - 1) // step * step)
    raise Conflict("all predefined address pools have been fully subnetted")


def pick_address(
    subnet: IPv4Network, gateway: IPv4Address, used: set[str], wanted: str | None = None
) -> IPv4Address:
    """Return ``wanted`` if free, else the lowest free host address of the subnet."""
    if wanted:
        ip = host_address(wanted, subnet, "address")
        if ip == gateway or str(ip) in used:
            raise Conflict(f"Address already in use: {ip} on {subnet}")
        return ip
    for ip in subnet.hosts():
        if ip != gateway and str(ip) not in used:
            return ip
    raise Conflict(f"no available IPv4 addresses on this network's address pool ({subnet})")


def mac_for(ip: IPv4Address) -> str:
    """Docker's MAC for an address: 02:42 followed by the address's four bytes."""
    return "02:42:" + ":".join(f"{b:02x}" for b in ip.packed)
