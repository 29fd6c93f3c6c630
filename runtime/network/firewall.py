"""Wharf's nftables table: forwarding, isolation, masquerade and published ports.

One table per Wharf root (``ip wharf_<tag>``) holds fixed rules that read named
sets and maps, so adding a network or publishing a port only adds elements, and
removing them deletes exactly those elements: no rule handles to track, nothing
to leak. Rules are loaded through libnftables (no ``nft`` process per call).

Docker sets the iptables FORWARD policy to DROP, and in nftables a drop in any
base chain of a hook wins; so when the ``ip filter FORWARD`` chain of
iptables-nft exists, Wharf also puts accept rules for its bridges there (as
Podman's netavark does), marked with a comment so they can be found again.
"""

from __future__ import annotations

import ctypes
import json
from dataclasses import dataclass

from runtime.errors import HostError
from runtime.network.ports import ANY

NFT_CTX_OUTPUT_HANDLE = 1 << 3
NFT_CTX_OUTPUT_JSON = 1 << 4

_TABLE = """
table ip {table} {{
  set bridges {{ type ifname; }}
  set internal {{ type ifname; }}
  set pairs {{ type ifname . ifname; }}
  set masq {{ type ipv4_addr; flags interval; }}
  map pub_tcp {{ type inet_service : ipv4_addr . inet_service; }}
  map pub_udp {{ type inet_service : ipv4_addr . inet_service; }}
  map pub_ip_tcp {{ type ipv4_addr . inet_service : ipv4_addr . inet_service; }}
  map pub_ip_udp {{ type ipv4_addr . inet_service : ipv4_addr . inet_service; }}
  chain forward {{
    type filter hook forward priority filter; policy accept;
    iifname . oifname @pairs accept
    iifname @bridges oifname @bridges drop
    iifname @internal drop
    oifname @internal drop
    oifname @bridges ct state established,related accept
    oifname @bridges ct status dnat accept
    iifname @bridges accept
    oifname @bridges drop
  }}
  chain publish {{
    dnat ip to ip daddr . tcp dport map @pub_ip_tcp
    dnat ip to ip daddr . udp dport map @pub_ip_udp
    dnat ip to tcp dport map @pub_tcp
    dnat ip to udp dport map @pub_udp
  }}
  chain prerouting {{
    type nat hook prerouting priority dstnat; policy accept;
    fib daddr type local jump publish
  }}
  chain output {{
    type nat hook output priority -100; policy accept;
    fib daddr type local jump publish
  }}
  chain postrouting {{
    type nat hook postrouting priority srcnat; policy accept;
    ip saddr @masq oifname != @bridges masquerade
    ip saddr 127.0.0.0/8 oifname @bridges masquerade
    ct status dnat iifname . oifname @pairs masquerade
  }}
}}
"""


@dataclass(frozen=True)
class Published:
    """One published port: host side (``host_ip`` "" = every local address) to container side."""

    proto: str
    host_ip: str
    host_port: int
    ctr_ip: str
    ctr_port: int

    def element(self) -> tuple[str, str]:
        """Return the map this mapping lives in and its element text."""
        value = f"{self.ctr_ip} . {self.ctr_port}"
        if self.host_ip in ("", ANY):
            return f"pub_{self.proto}", f"{self.host_port} : {value}"
        return f"pub_ip_{self.proto}", f"{self.host_ip} . {self.host_port} : {value}"


class Nft:
    """A libnftables context: run nft commands in-process."""

    def __init__(self) -> None:
        try:
            lib = ctypes.CDLL("libnftables.so.1")
        except OSError as exc:
            raise HostError(f"libnftables is not installed (Debian: libnftables1): {exc}") from exc
        lib.nft_ctx_new.restype = ctypes.c_void_p
        lib.nft_ctx_new.argtypes = [ctypes.c_uint32]
        for fn in ("nft_ctx_buffer_output", "nft_ctx_buffer_error", "nft_ctx_free"):
            getattr(lib, fn).argtypes = [ctypes.c_void_p]
        lib.nft_ctx_get_output_buffer.restype = ctypes.c_char_p
        lib.nft_ctx_get_output_buffer.argtypes = [ctypes.c_void_p]
        lib.nft_ctx_get_error_buffer.restype = ctypes.c_char_p
        lib.nft_ctx_get_error_buffer.argtypes = [ctypes.c_void_p]
        lib.nft_ctx_output_set_flags.argtypes = [ctypes.c_void_p, ctypes.c_uint32]
        lib.nft_run_cmd_from_buffer.argtypes = [ctypes.c_void_p, ctypes.c_char_p]
        self._lib = lib
        self._ctx = lib.nft_ctx_new(0)
        lib.nft_ctx_buffer_output(self._ctx)
        lib.nft_ctx_buffer_error(self._ctx)

    def run(self, commands: str, json_output: bool = False) -> str:
        """Run nft commands (one transaction); return the output, raise HostError with nft's words."""
        flags = (NFT_CTX_OUTPUT_JSON | NFT_CTX_OUTPUT_HANDLE) if json_output else 0
        self._lib.nft_ctx_output_set_flags(self._ctx, flags)
        rc = self._lib.nft_run_cmd_from_buffer(self._ctx, commands.encode())
        out = (self._lib.nft_ctx_get_output_buffer(self._ctx) or b"").decode()
        err = (self._lib.nft_ctx_get_error_buffer(self._ctx) or b"").decode()
        if rc != 0:
            first = next((line for line in err.splitlines() if line.strip()), "failed")
            raise HostError(f"nftables: {first.strip()}")
        return out

    def close(self) -> None:
        if self._ctx:
            self._lib.nft_ctx_free(self._ctx)
            self._ctx = None


class Firewall:
    """The nftables state of one Wharf root; every method is one nft transaction."""

    def __init__(self, tag: str) -> None:
        self.table = f"wharf_{tag}"
        self.bridge_glob = f"wh{tag}-*"
        self.comment = f"wharf {tag}"
        self._nft: Nft | None = None

    @property
    def nft(self) -> Nft:
        if self._nft is None:
            self._nft = Nft()
        return self._nft

    def close(self) -> None:
        if self._nft:
            self._nft.close()
            self._nft = None

    def exists(self) -> bool:
        try:
            self.nft.run(f"list table ip {self.table}")
        except HostError:
            return False
        return True

    def load(self, networks: list[tuple[str, str, bool]], published: list[Published]) -> None:
        """(Re)create the whole table with these networks (bridge, subnet, internal) and ports."""
        cmds = [f"add table ip {self.table}", f"delete table ip {self.table}"]
        cmds.append(_TABLE.format(table=self.table))
        for n in networks:
            cmds += self._network_cmds("add", *n)
        for p in published:
            cmds.append(self._port_cmd("add", p))
        self.nft.run("\n".join(cmds))
        self.docker_compat()

    def remove_table(self) -> None:
        """Drop Wharf's table and its accept rules in iptables' FORWARD chain."""
        cmds = [f"add table ip {self.table}", f"delete table ip {self.table}"]
        self.nft.run("\n".join(cmds))
        self._drop_compat_rules()

    def _network_cmds(self, verb: str, bridge: str, subnet: str, internal: bool) -> list[str]:
        t = self.table
        cmds = [
            f'{verb} element ip {t} bridges {{ "{bridge}" }}',
            f'{verb} element ip {t} pairs {{ "{bridge}" . "{bridge}" }}',
        ]
        if internal:
            cmds.append(f'{verb} element ip {t} internal {{ "{bridge}" }}')
        else:
            cmds.append(f"{verb} element ip {t} masq {{ {subnet} }}")
        return cmds

    def add_network(self, bridge: str, subnet: str, internal: bool) -> None:
        self.nft.run("\n".join(self._network_cmds("add", bridge, subnet, internal)))

    def remove_network(self, bridge: str, subnet: str, internal: bool) -> None:
        # "delete element" fails on a missing element; re-adding first makes it idempotent
        cmds = self._network_cmds("add", bridge, subnet, internal)
        cmds += self._network_cmds("delete", bridge, subnet, internal)
        self.nft.run("\n".join(cmds))

    def _port_cmd(self, verb: str, p: Published) -> str:
        name, element = p.element()
        return f"{verb} element ip {self.table} {name} {{ {element} }}"

    def publish(self, ports: list[Published]) -> None:
        if ports:
            self.nft.run("\n".join(self._port_cmd("add", p) for p in ports))

    def unpublish(self, ports: list[Published]) -> None:
        if ports:
            cmds = [self._port_cmd("add", p) for p in ports]
            cmds += [self._port_cmd("delete", p) for p in ports]
            self.nft.run("\n".join(cmds))

    # --- living beside Docker ------------------------------------------------------

    def _forward_rules(self) -> list[dict] | None:
        """Return iptables-nft's FORWARD rules (JSON), or None when that chain does not exist."""
        try:
            out = self.nft.run("list chain ip filter FORWARD", json_output=True)
        except HostError:
            return None
        return [i["rule"] for i in json.loads(out)["nftables"] if "rule" in i]

    def docker_compat(self) -> None:
        """Accept Wharf's bridges in iptables' FORWARD chain, where Docker's DROP policy lives."""
        rules = self._forward_rules()
        if rules is None or any(r.get("comment") == self.comment for r in rules):
            return
        g, c = self.bridge_glob, self.comment
        self.nft.run(
            f'insert rule ip filter FORWARD iifname "{g}" accept comment "{c}"\n'
            f'insert rule ip filter FORWARD oifname "{g}" accept comment "{c}"'
        )

    def _drop_compat_rules(self) -> None:
        rules = self._forward_rules() or []
        handles = [r["handle"] for r in rules if r.get("comment") == self.comment]
        if handles:
            self.nft.run("\n".join(f"delete rule ip filter FORWARD handle {h}" for h in handles))
