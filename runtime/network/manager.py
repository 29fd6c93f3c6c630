"""Networks of one host: the records, IPAM, and each container's network namespace.

What is decided here (which subnet, which address, which host port) is decided
in one database write transaction, so concurrent creates never collide; what is
done to the host is done by the agent's netlink plumbing (``runtime.network.links``,
reached through ``self.plumbing``) and by the nftables table (``firewall``).

Tables: ``networks``; ``attachments`` (which networks a container is on: its
configuration, kept while it exists); ``sandboxes`` (a running container's
namespace); ``endpoints`` (a running container's interface on a network: its
address lease); ``published`` (its published ports). A stopped container has
attachments but no sandbox, endpoint or published row, so "nothing leaks" is a
query: after ``teardown`` those three tables hold nothing of it.
"""

from __future__ import annotations

import contextlib
import hashlib
import ipaddress
import json
import logging
import os
import re
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from runtime import db, events
from runtime.errors import (
    AmbiguousPrefix,
    Conflict,
    InvalidArgument,
    NetworkNotFound,
    WharfError,
    cleanup_step,
)
from runtime.network import etcfiles, ipam
from runtime.network.firewall import Firewall, Published
from runtime.network.ports import (
    ANY,
    PortRequest,
    host_port_free,
    parse_exposed,
    parse_publish,
    pick_host_port,
)
from runtime.timefmt import go_time

log = logging.getLogger("wharf.network")

SCHEMA = """
CREATE TABLE IF NOT EXISTS networks (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    driver TEXT NOT NULL,
    subnet TEXT NOT NULL DEFAULT '',
    gateway TEXT NOT NULL DEFAULT '',
    bridge TEXT NOT NULL DEFAULT '',
    internal INTEGER NOT NULL DEFAULT 0,
    labels TEXT NOT NULL DEFAULT '{}',
    options TEXT NOT NULL DEFAULT '{}',
    created TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS attachments (
    ctr_id TEXT NOT NULL,
    network_id TEXT NOT NULL REFERENCES networks(id),
    aliases TEXT NOT NULL DEFAULT '[]',
    ip TEXT NOT NULL DEFAULT '',
    seq INTEGER NOT NULL,
    PRIMARY KEY (ctr_id, network_id)
);
CREATE TABLE IF NOT EXISTS sandboxes (
    ctr_id TEXT PRIMARY KEY,
    mode TEXT NOT NULL,
    netns TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS endpoints (
    ctr_id TEXT NOT NULL,
    network_id TEXT NOT NULL REFERENCES networks(id),
    id TEXT NOT NULL,
    ip TEXT NOT NULL,
    mac TEXT NOT NULL,
    ifname TEXT NOT NULL,
    host_if TEXT NOT NULL,
    PRIMARY KEY (ctr_id, network_id),
    UNIQUE (network_id, ip)
);
CREATE TABLE IF NOT EXISTS published (
    ctr_id TEXT NOT NULL,
    proto TEXT NOT NULL,
    host_ip TEXT NOT NULL,
    host_port INTEGER NOT NULL,
    ctr_ip TEXT NOT NULL,
    ctr_port INTEGER NOT NULL,
    UNIQUE (proto, host_ip, host_port)
);
"""

PREDEFINED = ("bridge", "host", "none")
_NAME = re.compile(r"[a-zA-Z0-9][a-zA-Z0-9_.-]*")


@dataclass
class Network:
    id: str
    name: str
    driver: str
    subnet: str
    gateway: str
    bridge: str
    internal: bool
    labels: dict[str, str]
    options: dict[str, str]
    created: str

    @property
    def bridged(self) -> bool:
        return self.driver == "bridge"

    @property
    def user_defined(self) -> bool:
        return self.name not in PREDEFINED

    @property
    def prefixlen(self) -> int:
        return ipaddress.IPv4Network(self.subnet).prefixlen


@dataclass
class NetSetup:
    """What the containers part needs to start a container: see docs/runtime-interfaces.md."""

    netns_path: str | None  # None: the host's; "": a fresh one made by the OCI runtime
    hosts: str
    resolv_conf: str
    #: OCI hooks the start adds (a private user namespace: plug the runtime's namespace in)
    hooks: dict[str, list[dict]] = field(default_factory=dict)


class AgentPlumbing:
    """``runtime.network.links``'s functions, run by the host agent of this root."""

    def __init__(self, paths: Any) -> None:
        self.paths = paths

    def __getattr__(self, op: str) -> Any:
        from runtime.agent.client import call

        return lambda **args: call(self.paths, op, **args)


def host_tag(root: Path) -> str:
    """Four hex digits naming this root's bridges, veths and nftables table.

    Several Wharf roots (tests, benchmarks) can share a machine; the tag keeps
    their host objects apart and short enough for 15-character link names.
    """
    return hashlib.sha256(str(root).encode()).hexdigest()[:4]


def _now() -> str:
    from runtime.containers.config import now_iso

    return now_iso()


class NetworkManager:
    """All networks of one host and every container's place on them."""

    def __init__(self, rt: Any) -> None:
        self.rt = rt
        self.paths = rt.paths
        self.conn = db.connect(self.paths.db)
        db.ensure_schema(self.conn, "networks", SCHEMA)
        events.ensure_schema(self.conn)
        self.tag = host_tag(self.paths.root)
        self.firewall = Firewall(self.tag)
        self.plumbing: Any = AgentPlumbing(self.paths)
        self._ensure_predefined()

    def close(self) -> None:
        self.firewall.close()
        self.conn.close()

    # --- records --------------------------------------------------------------------

    def _row(self, r: sqlite3.Row) -> Network:
        return Network(
            id=r["id"],
            name=r["name"],
            driver=r["driver"],
            subnet=r["subnet"],
            gateway=r["gateway"],
            bridge=r["bridge"],
            internal=bool(r["internal"]),
            labels=json.loads(r["labels"]),
            options=json.loads(r["options"]),
            created=r["created"],
        )

    def list(self) -> list[Network]:
        rows = self.conn.execute("SELECT * FROM networks ORDER BY created, name")
        return [self._row(r) for r in rows]

    def get(self, ref: str) -> Network:
        """Find a network by name, full id or unique id prefix."""
        r = self.conn.execute("SELECT * FROM networks WHERE name=? OR id=?", (ref, ref)).fetchone()
        if r is None and len(ref) >= 1 and ref.isalnum():
            rows = self.conn.execute(
                "SELECT * FROM networks WHERE id LIKE ?", (ref.lower() + "%",)
            ).fetchall()
            if len(rows) > 1:
                raise AmbiguousPrefix(f"network {ref} is ambiguous ({len(rows)} matches found)")
            r = rows[0] if rows else None
        if r is None:
            raise NetworkNotFound(f"network {ref} not found")
        return self._row(r)

    def _bridge_name(self, net_id: str, default: bool = False) -> str:
        return f"wh{self.tag}-{'bridge' if default else net_id[:8]}"

    def _taken_subnets(self) -> list[tuple[str, ipaddress.IPv4Network]]:
        ours = {n.subnet for n in self.list() if n.subnet}
        taken = [
            (f"network {n.name}", ipaddress.IPv4Network(n.subnet)) for n in self.list() if n.subnet
        ]
        taken += [("a host route", r) for r in ipam.host_routes() if str(r) not in ours]
        return taken

    def _pools(self) -> tuple[ipam.Pool, ...] | None:
        """The admin's address pools (host config), or None for Docker's own."""
        return self.paths.config.default_address_pools or None

    def _ensure_predefined(self) -> None:
        if self.conn.execute("SELECT 1 FROM networks WHERE name='bridge'").fetchone():
            return
        configured = self.paths.config.default_bridge_subnet
        with db.transaction(self.conn):
            if self.conn.execute("SELECT 1 FROM networks WHERE name='bridge'").fetchone():
                return
            taken = self._taken_subnets()
            if configured:
                subnet = ipam.parse_subnet(configured)
                ipam.check_free(subnet, taken)
            else:
                subnet = ipam.pick_subnet((t for _, t in taken), self._pools())
            for name, driver in (("bridge", "bridge"), ("host", "host"), ("none", "null")):
                net_id = os.urandom(32).hex()
                is_bridge = driver == "bridge"
                self.conn.execute(
                    "INSERT INTO networks (id, name, driver, subnet, gateway, bridge, created) "
                    "VALUES (?,?,?,?,?,?,?)",
                    (
                        net_id,
                        name,
                        driver,
                        str(subnet) if is_bridge else "",
                        str(next(subnet.hosts())) if is_bridge else "",
                        self._bridge_name(net_id, default=True) if is_bridge else "",
                        _now(),
                    ),
                )

    # --- networks -------------------------------------------------------------------

    def create(
        self,
        name: str,
        *,
        driver: str = "bridge",
        subnet: str | None = None,
        gateway: str | None = None,
        internal: bool = False,
        labels: dict[str, str] | None = None,
        options: dict[str, str] | None = None,
    ) -> Network:
        """Create a user-defined bridge network: its record, bridge and firewall elements."""
        if not _NAME.fullmatch(name or ""):
            raise InvalidArgument(
                f"invalid network name {name!r}: only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed"
            )
        if driver != "bridge":
            raise InvalidArgument(
                f"plugin {driver!r} not found: only the bridge driver is supported"
            )
        if gateway and not subnet:
            raise InvalidArgument("--gateway needs --subnet")
        wanted = ipam.parse_subnet(subnet) if subnet else None
        gw = ipam.parse_gateway(gateway, wanted) if gateway and wanted else None
        net_id = os.urandom(32).hex()
        with db.transaction(self.conn):
            if self.conn.execute("SELECT 1 FROM networks WHERE name=?", (name,)).fetchone():
                raise Conflict(f"network with name {name} already exists")
            taken = self._taken_subnets()
            if wanted:
                ipam.check_free(wanted, taken)
                net = wanted
            else:
                net = ipam.pick_subnet((t for _, t in taken), self._pools())
            gw = gw or next(net.hosts())
            self.conn.execute(
                "INSERT INTO networks (id, name, driver, subnet, gateway, bridge, internal, labels, "
                "options, created) VALUES (?,?,?,?,?,?,?,?,?,?)",
                (
                    net_id,
                    name,
                    driver,
                    str(net),
                    str(gw),
                    self._bridge_name(net_id),
                    int(internal),
                    json.dumps(labels or {}),
                    json.dumps(options or {}),
                    _now(),
                ),
            )
            events.record(self.conn, "network", "create", net_id, name=name, type=driver)
        network = self.get(net_id)
        try:
            self._ensure_firewall()
            self.firewall.add_network(network.bridge, network.subnet, network.internal)
            self.plumbing.ensure_bridge(
                name=network.bridge, address=f"{network.gateway}/{network.prefixlen}"
            )
        except BaseException:
            self._drop_network(network)
            raise
        return network

    def _drop_network(self, n: Network) -> None:
        """Remove a network's bridge, firewall elements and record (each step idempotent)."""
        if n.bridge:
            self.plumbing.remove_link(name=n.bridge)
            if self.firewall.exists():
                self.firewall.remove_network(n.bridge, n.subnet, n.internal)
        with db.transaction(self.conn):
            if self.conn.execute("DELETE FROM networks WHERE id=?", (n.id,)).rowcount:
                events.record(self.conn, "network", "destroy", n.id, name=n.name, type=n.driver)

    def remove(self, ref: str) -> Network:
        """Remove a user-defined network no container is attached to."""
        n = self.get(ref)
        if not n.user_defined:
            raise Conflict(f"{n.name} is a pre-defined network and cannot be removed")
        users = self._container_names(
            r[0]
            for r in self.conn.execute("SELECT ctr_id FROM attachments WHERE network_id=?", (n.id,))
        )
        if users:
            raise Conflict(
                f"error while removing network: network {n.name} id {n.id} has active endpoints "
                f"({', '.join(sorted(users))})"
            )
        self._drop_network(n)
        return n

    def prune(self, filters: Any = None) -> list[str]:
        """Remove every user-defined network no container is attached to (that ``filters``,
        a runtime.prunefilter.PruneFilter, let through); return their names."""
        used = {r[0] for r in self.conn.execute("SELECT DISTINCT network_id FROM attachments")}
        removed = []
        for n in self.list():
            if filters and not filters.matches(n.created, n.labels):
                continue
            if n.user_defined and n.id not in used:
                self._drop_network(n)
                removed.append(n.name)
        return removed

    def _container_names(self, ids: Any) -> list[str]:
        ids = list(ids)
        names = self.rt.containers.names(ids)
        return [names.get(ctr_id, ctr_id[:12]) for ctr_id in ids]

    def inspect(self, ref: str) -> dict:
        """Return Docker's ``network inspect`` JSON."""
        n = self.get(ref)
        containers = {}
        endpoints = self.conn.execute("SELECT * FROM endpoints WHERE network_id=?", (n.id,))
        endpoints = endpoints.fetchall()
        names = self.rt.containers.names(e["ctr_id"] for e in endpoints)
        for e in endpoints:
            containers[e["ctr_id"]] = {
                "Name": names.get(e["ctr_id"], ""),
                "EndpointID": e["id"],
                "MacAddress": e["mac"],
                "IPv4Address": f"{e['ip']}/{n.prefixlen}",
                "IPv6Address": "",
            }
        options = dict(n.options)
        if n.bridge:
            options.setdefault("com.docker.network.bridge.name", n.bridge)
        if n.name == "bridge" and not n.user_defined:
            # Docker's default bridge shows its driver's settings
            prefix = "com.docker.network."
            options = {
                prefix + "bridge.default_bridge": "true",
                prefix + "bridge.enable_icc": "true",
                prefix + "bridge.enable_ip_masquerade": "true",
                prefix + "bridge.host_binding_ipv4": ANY,
                **options,
            }
            options.setdefault(prefix + "driver.mtu", "1500")
        return {
            "Name": n.name,
            "Id": n.id,
            "Created": go_time(n.created),
            "Scope": "local",
            "Driver": n.driver,
            "EnableIPv6": False,
            "IPAM": {
                "Driver": "default",
                # as Docker: null for the default bridge, {} for a network made by a person
                "Options": {} if n.user_defined else None,
                "Config": [{"Subnet": n.subnet, "Gateway": n.gateway}] if n.subnet else [],
            },
            "Internal": n.internal,
            "Attachable": False,
            "Ingress": False,
            "ConfigFrom": {"Network": ""},
            "ConfigOnly": False,
            "Containers": containers,
            "Options": options,
            "Labels": n.labels,
        }

    # --- a container's place on the networks -----------------------------------------

    def _netns_path(self, ctr_id: str) -> str:
        return str(self.paths.run / "netns" / ctr_id)

    def plan(self, ctr_id: str, spec: Any) -> None:
        """Check a new container's network options and record its networks (at create)."""
        mode = spec.network or "bridge"
        for flag in spec.ports:
            parse_publish(flag)
        for key in spec.expose:
            parse_exposed(key)
        for entry in spec.add_hosts:
            etcfiles.parse_add_host(entry, ANY)
        for server in spec.dns:
            try:
                ipaddress.ip_address(server)
            except ValueError:
                raise InvalidArgument(f"{server} is not an ip address") from None
        if _own_userns(spec) and mode.startswith("container:"):
            raise InvalidArgument(
                "a container with --userns private cannot join another container's network "
                "namespace: use --userns host"
            )
        if mode.startswith("container:") or mode in ("host", "none"):
            if mode != "host" and (spec.ports or spec.publish_all):
                raise InvalidArgument(
                    "conflicting options: port publishing and the container type network mode"
                )
            if mode.startswith("container:"):
                if spec.hostname:
                    raise InvalidArgument("conflicting options: hostname and the network mode")
                if spec.dns or spec.add_hosts:
                    raise InvalidArgument("conflicting options: dns and the network mode")
                self.rt.containers.get(mode.split(":", 1)[1])
            if spec.ip or spec.network_aliases:
                raise InvalidArgument(
                    "network-scoped aliases and --ip are supported only for containers in "
                    "user defined networks"
                )
            return
        net = self.get(mode)
        if not net.bridged:
            raise InvalidArgument(
                f"network {net.name} cannot be joined by name (use --network {net.name})"
            )
        if (spec.ip or spec.network_aliases) and not net.user_defined:
            raise InvalidArgument(
                "user specified IP address and network-scoped aliases are supported on user "
                "defined networks only"
            )
        if spec.ip:
            ipam.pick_address(
                ipaddress.IPv4Network(net.subnet),
                ipaddress.IPv4Address(net.gateway),
                set(),
                spec.ip,
            )
        with db.transaction(self.conn):
            self.conn.execute(
                "INSERT OR REPLACE INTO attachments (ctr_id, network_id, aliases, ip, seq) "
                "VALUES (?,?,?,?,0)",
                (ctr_id, net.id, json.dumps(spec.network_aliases), spec.ip or ""),
            )

    def _attachments(self, ctr_id: str, spec: Any) -> list[sqlite3.Row]:
        """The networks a container is on, first one first (recorded now if it has none yet)."""
        query = "SELECT network_id, ip FROM attachments WHERE ctr_id=? ORDER BY seq"
        rows = self.conn.execute(query, (ctr_id,)).fetchall()
        if not rows:
            self.plan(ctr_id, spec)
            rows = self.conn.execute(query, (ctr_id,)).fetchall()
        return rows

    def release(self, ctr_id: str) -> None:
        """Forget a removed container: its namespace, leases, ports and attachments."""
        self.teardown(ctr_id)
        with db.transaction(self.conn):
            self.conn.execute("DELETE FROM attachments WHERE ctr_id=?", (ctr_id,))

    def setup(self, ctr_id: str, spec: Any, name: str, exposed: list[str]) -> NetSetup:
        """Give a starting container its network namespace, addresses and ports."""
        mode = spec.network or "bridge"
        self.teardown(ctr_id)  # leftovers of a start that crashed
        hostname = spec.hostname or ctr_id[:12]

        def without_bridge(netns: str | None, hosts: str = etcfiles.LOCALHOST) -> NetSetup:
            # --add-host's host-gateway is the default bridge's gateway, as in Docker
            extra = etcfiles.extra_hosts(spec, self.get("bridge").gateway)
            return NetSetup(netns, hosts + extra, etcfiles.host_resolv(spec))

        try:
            if mode == "host":
                self._record_sandbox(ctr_id, "host", "")
                return without_bridge(None, etcfiles.read(Path("/etc/hosts"), etcfiles.LOCALHOST))
            if mode.startswith("container:"):
                other = self.rt.containers.get(mode.split(":", 1)[1])
                row = self.conn.execute(
                    "SELECT netns FROM sandboxes WHERE ctr_id=?", (other.id,)
                ).fetchone()
                if not other.running or row is None:
                    raise Conflict(f"cannot join network of a non running container: {other.id}")
                self._record_sandbox(ctr_id, "container", row[0])
                base = self.rt.containers.dir(other.id)
                return NetSetup(  # the other container's files (plan refused --add-host/--dns)
                    row[0] or None,
                    etcfiles.read(base / "hosts", etcfiles.LOCALHOST),
                    etcfiles.read(base / "resolv.conf", etcfiles.host_resolv(spec)),
                )
            if _own_userns(spec) and mode == "none":
                # the OCI runtime makes it inside the user namespace (see _own_userns)
                return without_bridge("")
            netns = self._netns_path(ctr_id)
            self._record_sandbox(ctr_id, mode if mode == "none" else "bridge", netns)
            if mode == "none":
                self.plumbing.sandbox(path=netns, interfaces=[])
                return without_bridge(netns)
            self._ensure_firewall()
            leases = [
                (self.get(att["network_id"]), att["ip"] or None)
                for att in self._attachments(ctr_id, spec)
            ]
            if not leases:
                raise InvalidArgument("the container is on no network")
            interfaces = [
                # --mac-address is the first network's, as Docker's
                self._lease(
                    ctr_id, net, wanted, gateway=i == 0, mac=spec.mac_address if i == 0 else ""
                )
                for i, (net, wanted) in enumerate(leases)
            ]
            hooks: dict[str, list[dict]] = {}
            if _own_userns(spec):
                hooks = self._plug_hook(ctr_id, interfaces)
            else:
                # one agent call makes the namespace and plugs in every interface
                self.plumbing.sandbox(path=netns, interfaces=interfaces)
            net, ip = leases[0][0], interfaces[0]["address"].split("/")[0]
            self._publish(ctr_id, spec, ip, exposed)
            hosts = (
                etcfiles.LOCALHOST + f"{ip}\t{hostname}\n" + etcfiles.extra_hosts(spec, net.gateway)
            )
            resolv = (
                etcfiles.network_resolv(spec, net.gateway)
                if net.user_defined
                else etcfiles.host_resolv(spec)
            )
            return NetSetup("" if hooks else netns, hosts, resolv, hooks)
        except BaseException:
            with cleanup_step(log, f"{ctr_id[:12]}: freeing a failed network set-up"):
                self.teardown(ctr_id)
            raise

    def _plug_hook(self, ctr_id: str, interfaces: list[dict]) -> dict[str, list[dict]]:
        """Plan the interfaces of a container in its own user namespace; return the OCI hook
        that has the host agent plug them in once the runtime has made its namespace."""
        from runtime.agent import client
        from runtime.agent.protocol import socket_path
        from runtime.oci.shim import shim_binary

        plan = plan_path(self.paths, ctr_id)
        plan.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        tmp = plan.with_name(f".{plan.name}.tmp")
        tmp.write_text(json.dumps(interfaces))
        tmp.replace(plan)
        client.call(self.paths, "ping")  # the hook asks the agent: it must run
        argv = ["wharf-shim", "plug-netns", str(socket_path(self.paths)), ctr_id]
        return {"createRuntime": [{"path": str(shim_binary()), "args": argv, "timeout": 60}]}

    def _record_sandbox(self, ctr_id: str, mode: str, netns: str) -> None:
        with db.transaction(self.conn):
            self.conn.execute(
                "INSERT OR REPLACE INTO sandboxes (ctr_id, mode, netns) VALUES (?,?,?)",
                (ctr_id, mode, netns),
            )

    def _attach(self, ctr_id: str, net: Network, wanted: str | None, gateway: bool) -> str:
        """Lease an address on ``net`` and plug the container's namespace into its bridge."""
        link = self._lease(ctr_id, net, wanted, gateway)
        self.plumbing.attach(**link)
        return link["address"].split("/")[0]

    def _lease(
        self, ctr_id: str, net: Network, wanted: str | None, gateway: bool, mac: str = ""
    ) -> dict:
        """Record an endpoint on ``net`` (address, names, ``mac`` or one made from the
        address); return what plugging it in takes."""
        subnet = ipaddress.IPv4Network(net.subnet)
        with db.transaction(self.conn):
            used = {
                r[0]
                for r in self.conn.execute("SELECT ip FROM endpoints WHERE network_id=?", (net.id,))
            }
            ifnames = {
                r[0]
                for r in self.conn.execute("SELECT ifname FROM endpoints WHERE ctr_id=?", (ctr_id,))
            }
            ip = ipam.pick_address(subnet, ipaddress.IPv4Address(net.gateway), used, wanted)
            mac = mac.lower() or ipam.mac_for(ip)
            ifname = next(f"eth{i}" for i in range(64) if f"eth{i}" not in ifnames)
            host_if = "wv" + self.tag + hashlib.sha256((ctr_id + net.id).encode()).hexdigest()[:9]
            self.conn.execute(
                "INSERT INTO endpoints (ctr_id, network_id, id, ip, mac, ifname, host_if) "
                "VALUES (?,?,?,?,?,?,?)",
                (ctr_id, net.id, os.urandom(32).hex(), str(ip), mac, ifname, host_if),
            )
            self._endpoint_event("connect", ctr_id, net.id)
        return {
            "netns": self._netns_path(ctr_id),
            "bridge": net.bridge,
            "bridge_address": f"{net.gateway}/{subnet.prefixlen}",
            "host_if": host_if,
            "ifname": ifname,
            "address": f"{ip}/{subnet.prefixlen}",
            "gateway": net.gateway if gateway and not net.internal else None,
            "mac": mac,
        }

    def _publish(self, ctr_id: str, spec: Any, ctr_ip: str, exposed: list[str]) -> None:
        requests: list[PortRequest] = []
        for flag in spec.ports:
            requests += parse_publish(flag)
        if spec.publish_all:
            asked = {(r.proto, r.ctr_port) for r in requests}
            for key in [*exposed, *spec.expose]:
                port, proto = parse_exposed(key)
                if (proto, port) not in asked:
                    requests.append(PortRequest(proto, port))
                    asked.add((proto, port))
        if not requests:
            return
        done: list[Published] = []
        with db.transaction(self.conn):
            rows = self.conn.execute("SELECT proto, host_ip, host_port FROM published").fetchall()
            taken = {(r[0], r[2]): r[1] for r in rows}
            for r in requests:
                port = r.host_port or pick_host_port(r.proto, r.host_ip, set(taken))
                other = taken.get((r.proto, port))
                if other is not None and (other in ("", r.host_ip) or not r.host_ip):
                    raise Conflict(
                        f"Bind for {r.host_ip or ANY}:{port} failed: port is already allocated"
                    )
                if r.host_port and not host_port_free(r.proto, r.host_ip, port):
                    raise Conflict(
                        f"Bind for {r.host_ip or ANY}:{port} failed: "
                        "address already in use on the host"
                    )
                taken[(r.proto, port)] = r.host_ip
                p = Published(r.proto, r.host_ip, port, ctr_ip, r.ctr_port)
                self.conn.execute(
                    "INSERT INTO published (ctr_id, proto, host_ip, host_port, ctr_ip, ctr_port) "
                    "VALUES (?,?,?,?,?,?)",
                    (ctr_id, p.proto, p.host_ip, p.host_port, p.ctr_ip, p.ctr_port),
                )
                done.append(p)
            self.firewall.publish(done)  # inside the transaction: both or neither

    def teardown(self, ctr_id: str) -> None:
        """Free all a running container holds on the networks (idempotent)."""
        ports = self._published(ctr_id)
        if ports and self.firewall.exists():
            self.firewall.unpublish(ports)
        sandbox = self.conn.execute(
            "SELECT mode, netns FROM sandboxes WHERE ctr_id=?", (ctr_id,)
        ).fetchone()
        endpoints = self.conn.execute(
            "SELECT ifname, host_if, network_id FROM endpoints WHERE ctr_id=?", (ctr_id,)
        ).fetchall()
        plan_path(self.paths, ctr_id).unlink(missing_ok=True)
        if sandbox is None and not endpoints and not ports:
            return
        netns = self._netns_path(ctr_id)
        if sandbox is not None and sandbox["mode"] in ("bridge", "none"):
            # The veths go with the namespace: the kernel removes them once its last
            # process is gone, off this path (an explicit delete waits ~20 ms on RCU).
            self.plumbing.remove_netns(path=netns)
        else:
            for e in endpoints:
                self.plumbing.detach(netns=netns, ifname=e["ifname"], host_if=e["host_if"])
        with db.transaction(self.conn):
            for e in endpoints:
                self._endpoint_event("disconnect", ctr_id, e["network_id"])
            for table in ("published", "endpoints", "sandboxes"):
                self.conn.execute(f"DELETE FROM {table} WHERE ctr_id=?", (ctr_id,))  # noqa: S608

    def _published(self, ctr_id: str) -> list[Published]:
        return [
            Published(r[0], r[1], r[2], r[3], r[4])
            for r in self.conn.execute(
                "SELECT proto, host_ip, host_port, ctr_ip, ctr_port FROM published WHERE ctr_id=?",
                (ctr_id,),
            )
        ]

    # --- connect / disconnect -------------------------------------------------------

    def connect(
        self, ref: str, ctr_ref: str, aliases: list[str] | None = None, ip: str | None = None
    ) -> None:
        """Put a container on a network; a running one gets its interface at once."""
        net = self.get(ref)
        c = self.rt.containers.get(ctr_ref)
        mode = c.spec.network or "bridge"
        if not net.bridged or mode == "host" or mode == "none" or mode.startswith("container:"):
            raise Conflict(
                "container sharing network namespace with another container or host cannot be "
                "connected to any other network"
                if net.bridged
                else f"container cannot be disconnected from host network or connected to {net.name} network"
            )
        if (aliases or ip) and not net.user_defined:
            raise InvalidArgument(
                "network-scoped aliases and --ip are supported only for containers in user "
                "defined networks"
            )
        with db.transaction(self.conn):
            if self.conn.execute(
                "SELECT 1 FROM attachments WHERE ctr_id=? AND network_id=?", (c.id, net.id)
            ).fetchone():
                raise Conflict(f"endpoint with name {c.name} already exists in network {net.name}")
            (seq,) = self.conn.execute(
                "SELECT COALESCE(MAX(seq), -1) + 1 FROM attachments WHERE ctr_id=?", (c.id,)
            ).fetchone()
            self.conn.execute(
                "INSERT INTO attachments (ctr_id, network_id, aliases, ip, seq) VALUES (?,?,?,?,?)",
                (c.id, net.id, json.dumps(aliases or []), ip or "", seq),
            )
        if self._has_sandbox(c.id):
            try:
                self._ensure_firewall()
                self._attach(c.id, net, ip, gateway=False)
            except BaseException:
                self._drop_endpoint(c.id, net.id)
                with db.transaction(self.conn):
                    self.conn.execute(
                        "DELETE FROM attachments WHERE ctr_id=? AND network_id=?", (c.id, net.id)
                    )
                raise

    def disconnect(self, ref: str, ctr_ref: str, force: bool = False) -> None:
        """Take a container off a network; a running one loses the interface at once."""
        net = self.get(ref)
        c = self.rt.containers.get(ctr_ref)
        if not self.conn.execute(
            "SELECT 1 FROM attachments WHERE ctr_id=? AND network_id=?", (c.id, net.id)
        ).fetchone():
            raise Conflict(f"container {c.id[:12]} is not connected to network {net.name}")
        self._drop_endpoint(c.id, net.id)
        with db.transaction(self.conn):
            self.conn.execute(
                "DELETE FROM attachments WHERE ctr_id=? AND network_id=?", (c.id, net.id)
            )

    def _endpoint_event(self, action: str, ctr_id: str, net_id: str) -> None:
        """Record Docker's ``network connect``/``disconnect`` inside the endpoint's transaction
        (a start plugs a container in, its exit or ``network disconnect`` unplugs it)."""
        row = self.conn.execute(
            "SELECT name, driver FROM networks WHERE id=?", (net_id,)
        ).fetchone()
        name, driver = (row[0], row[1]) if row else ("", "bridge")
        events.record(
            self.conn, "network", action, net_id, container=ctr_id, name=name, type=driver
        )

    def _has_sandbox(self, ctr_id: str) -> bool:
        return bool(
            self.conn.execute(
                "SELECT 1 FROM sandboxes WHERE ctr_id=? AND mode='bridge'", (ctr_id,)
            ).fetchone()
        )

    def _drop_endpoint(self, ctr_id: str, net_id: str) -> None:
        e = self.conn.execute(
            "SELECT ifname, host_if, ip FROM endpoints WHERE ctr_id=? AND network_id=?",
            (ctr_id, net_id),
        ).fetchone()
        if e is None:
            return
        ports = [p for p in self._published(ctr_id) if p.ctr_ip == e["ip"]]
        if ports and self.firewall.exists():
            self.firewall.unpublish(ports)
        self.plumbing.detach(
            netns=self._netns_path(ctr_id), ifname=e["ifname"], host_if=e["host_if"]
        )
        with db.transaction(self.conn):
            self._endpoint_event("disconnect", ctr_id, net_id)
            self.conn.execute(
                "DELETE FROM endpoints WHERE ctr_id=? AND network_id=?", (ctr_id, net_id)
            )
            self.conn.execute(
                "DELETE FROM published WHERE ctr_id=? AND ctr_ip=?", (ctr_id, e["ip"])
            )

    # --- what inspect and the DNS resolver read -------------------------------------

    def settings(self, ctr_id: str) -> dict:
        """Return Docker's NetworkSettings of a container."""
        sandbox = self.conn.execute(
            "SELECT mode, netns FROM sandboxes WHERE ctr_id=?", (ctr_id,)
        ).fetchone()
        ports: dict[str, list | None] = {}
        for p in self._published(ctr_id):
            ports.setdefault(f"{p.ctr_port}/{p.proto}", []).append(  # type: ignore[union-attr]
                {"HostIp": p.host_ip or ANY, "HostPort": str(p.host_port)}
            )
        networks: dict[str, dict] = {}
        top = {"IPAddress": "", "IPPrefixLen": 0, "Gateway": "", "MacAddress": "", "EndpointID": ""}
        name = self.rt.containers.names([ctr_id]).get(ctr_id)
        for a in self.conn.execute(
            "SELECT a.aliases, a.ip AS wanted, n.*, e.id AS eid, e.ip, e.mac FROM attachments a "
            "JOIN networks n ON n.id=a.network_id LEFT JOIN endpoints e "
            "ON e.ctr_id=a.ctr_id AND e.network_id=a.network_id WHERE a.ctr_id=? ORDER BY a.seq",
            (ctr_id,),
        ):
            n = self._row(a)
            entry = {
                "IPAMConfig": {"IPv4Address": a["wanted"]} if a["wanted"] else None,
                "Links": None,
                "Aliases": json.loads(a["aliases"]) or None,
                "MacAddress": a["mac"] or "",
                "NetworkID": n.id,
                "EndpointID": a["eid"] or "",
                "Gateway": n.gateway if a["ip"] else "",
                "IPAddress": a["ip"] or "",
                "IPPrefixLen": n.prefixlen if a["ip"] else 0,
                "IPv6Gateway": "",
                "GlobalIPv6Address": "",
                "GlobalIPv6PrefixLen": 0,
                "DriverOpts": None,
                "DNSNames": (
                    [name, ctr_id[:12], *json.loads(a["aliases"])]
                    if n.user_defined and name and a["ip"]
                    else None
                ),
            }
            networks[n.name] = entry
            if n.name == "bridge" and a["ip"]:
                top = {
                    "IPAddress": a["ip"],
                    "IPPrefixLen": n.prefixlen,
                    "Gateway": n.gateway,
                    "MacAddress": a["mac"],
                    "EndpointID": a["eid"],
                }
        if sandbox is not None and sandbox["mode"] in ("host", "none"):
            networks[sandbox["mode"]] = {"NetworkID": self.get(sandbox["mode"]).id}
        return {
            "Bridge": "",
            "SandboxID": ctr_id if sandbox is not None else "",
            "SandboxKey": sandbox["netns"] if sandbox is not None else "",
            "HairpinMode": False,
            "Ports": ports,
            "Networks": networks,
            **top,
        }

    def dns_addresses(self) -> list[tuple[str, str]]:
        """Return (gateway, bridge) of every user-defined network: where the resolver listens."""
        return [(n.gateway, n.bridge) for n in self.list() if n.bridged and n.user_defined]

    def client_dns(self, gateway: str, client_ip: str) -> list[str]:
        """The ``--dns`` servers of the container at ``client_ip`` on the network of ``gateway``."""
        r = self.conn.execute(
            "SELECT e.ctr_id FROM endpoints e JOIN networks n ON n.id=e.network_id "
            "WHERE n.gateway=? AND e.ip=?",
            (gateway, client_ip),
        ).fetchone()
        return self.rt.containers.dns_servers(r[0]) if r else []

    def resolve(self, gateway: str, name: str, client_ip: str = "") -> list[str] | None:
        """Return the addresses of a name on the network of ``gateway``, or None.

        A name is a container's name, one of its aliases on that network or its
        short id; for the container asking (``client_ip``) also the alias of
        each of its ``--link``s, as Docker's resolver answers legacy links on a
        user-defined network: only to the linking container.
        """
        name = name.lower().rstrip(".")
        found = []
        endpoints = self.conn.execute(
            "SELECT e.ip, e.ctr_id, a.aliases FROM endpoints e "
            "JOIN networks n ON n.id=e.network_id "
            "JOIN attachments a ON a.ctr_id=e.ctr_id AND a.network_id=e.network_id "
            "WHERE n.gateway=? AND n.name NOT IN ('bridge','host','none')",
            (gateway,),
        ).fetchall()
        container_names = self.rt.containers.names(e["ctr_id"] for e in endpoints)
        linked = self._linked_as(endpoints, client_ip, name)
        for e in endpoints:
            names = {container_names.get(e["ctr_id"], "").lower(), e["ctr_id"][:12]}
            names |= {a.lower() for a in json.loads(e["aliases"])}
            if name in names or e["ctr_id"] in linked:
                found.append(e["ip"])
        return found or None

    def _linked_as(self, endpoints: list, client_ip: str, name: str) -> set[str]:
        """The ids of the containers the client at ``client_ip`` links to under ``name``."""
        client = next((e["ctr_id"] for e in endpoints if client_ip and e["ip"] == client_ip), None)
        if client is None:
            return set()
        return {
            child
            for child, _, alias in (
                entry.partition(":") for entry in self.rt.containers.links(client)
            )
            if alias.lower() == name
        }

    # --- firewall and repair --------------------------------------------------------

    def _ensure_firewall(self) -> None:
        """Load the nftables table if this boot has not (the run dir's marker says)."""
        marker = self.paths.run / "network" / f"{self.firewall.table}.loaded"
        if marker.exists() and self.firewall.exists():
            return
        self._load_firewall()
        marker.parent.mkdir(parents=True, exist_ok=True)
        marker.touch()

    def _load_firewall(self) -> None:
        nets = [(n.bridge, n.subnet, n.internal) for n in self.list() if n.bridged]
        ports = [
            Published(r[0], r[1], r[2], r[3], r[4])
            for r in self.conn.execute(
                "SELECT proto, host_ip, host_port, ctr_ip, ctr_port FROM published"
            )
        ]
        self.firewall.load(nets, ports)

    def repair(self) -> list[str]:
        """Free what crashed or stopped containers left on the networks; reload the firewall."""
        done: list[str] = []
        running = self.rt.containers.live_ids()
        stale = {
            r[0]
            for t in ("sandboxes", "endpoints", "published")
            for r in self.conn.execute(f"SELECT DISTINCT ctr_id FROM {t}")  # noqa: S608
        } - running
        if self.firewall.exists():
            self._load_firewall()  # as the records say (else loaded on first use)
        for ctr_id in sorted(stale):
            try:
                self.teardown(ctr_id)
                done.append(f"{ctr_id[:12]}: released its network namespace, addresses and ports")
            except WharfError as exc:
                done.append(f"{ctr_id[:12]}: could not release its network: {exc}")
        known = {r[0] for r in self.conn.execute("SELECT host_if FROM endpoints")}
        bridges = {n.bridge for n in self.list() if n.bridge}
        for link in host_links():
            if link.startswith(f"wv{self.tag}") and link not in known:
                self.plumbing.remove_link(name=link)
                done.append(f"removed stray veth {link}")
            elif link.startswith(f"wh{self.tag}-") and link not in bridges:
                self.plumbing.remove_link(name=link)
                done.append(f"removed stray bridge {link}")
        netns_dir = self.paths.run / "netns"
        if netns_dir.is_dir():
            pinned = {r[0] for r in self.conn.execute("SELECT netns FROM sandboxes")}
            for f in netns_dir.iterdir():
                if str(f) not in pinned:
                    self.plumbing.remove_netns(path=str(f))
                    done.append(f"removed stray network namespace {f.name[:12]}")
        with db.transaction(self.conn):
            # asked under this write lock: a create's row and its attachments come after it
            known = self.rt.containers.ids()
            attached = {r[0] for r in self.conn.execute("SELECT DISTINCT ctr_id FROM attachments")}
            gone = 0
            for ctr_id in attached - known:
                gone += self.conn.execute(
                    "DELETE FROM attachments WHERE ctr_id=?", (ctr_id,)
                ).rowcount
        if gone:
            done.append(f"forgot {gone} network attachment(s) of containers that no longer exist")
        return done

    def reset(self) -> None:
        """Remove every bridge, namespace and firewall rule of this root (for tests, uninstall)."""
        for ctr_id in {r[0] for r in self.conn.execute("SELECT ctr_id FROM sandboxes")}:
            with cleanup_step(log, f"{ctr_id[:12]}: freeing its network"):
                self.teardown(ctr_id)
        for n in self.list():
            if n.bridge:
                with cleanup_step(log, f"removing bridge {n.bridge}"):
                    self.plumbing.remove_link(name=n.bridge)
        self.firewall.remove_table()
        with contextlib.suppress(OSError):
            (self.paths.run / "network" / f"{self.firewall.table}.loaded").unlink()


def _own_userns(spec: Any) -> bool:
    """Whether the container's network namespace must be made by the OCI runtime.

    A namespace Wharf makes beforehand belongs to the host's user namespace, and a
    container in a private user namespace cannot then enter it (``exec`` fails)
    nor mount its sysfs; so the runtime makes it inside the container's user
    namespace, and its createRuntime hook (``wharf-shim plug-netns``) has the
    host agent pin it and plug in the interfaces before the process starts.
    """
    return getattr(spec, "userns", "") == "private" and (spec.network or "bridge") != "host"


def plan_path(paths: Any, ctr_id: str) -> Path:
    """Where a container's planned interfaces wait for its createRuntime hook (``_plug_hook``)."""
    return paths.run / "netplans" / f"{ctr_id}.json"


def host_links() -> list[str]:
    """The names of the host's network links (sysfs: no netlink, no pyroute2 import)."""
    try:
        return os.listdir("/sys/class/net")
    except OSError:
        return []
