"""``wharf network …`` and ``wharf port``: docker's network verbs."""

from __future__ import annotations

import argparse
from typing import Any

from runtime.cli.errors import client_error, command_error


def register(sub: argparse._SubParsersAction, groups: dict) -> None:
    from runtime.cli.main import management_group

    n = management_group(sub, groups, "network", "manage networks")
    p = n.add_parser("create", help="create a network")
    p.add_argument("name")
    p.add_argument("--driver", "-d", default="bridge")
    p.add_argument("--subnet")
    p.add_argument("--gateway")
    p.add_argument("--internal", action="store_true")
    p.add_argument("--label", action="append", default=[])
    p.add_argument("--opt", "-o", action="append", default=[])
    p.add_argument("--attachable", action="store_true", help="accepted; every network is")
    p.set_defaults(func=_create)
    for verb in ("ls", "list"):
        p = n.add_parser(verb, help="list networks")
        p.add_argument("--quiet", "-q", action="store_true")
        p.add_argument("--filter", "-f", action="append", default=[])
        p.add_argument("--format", help="table (default), json or a Go template")
        p.add_argument("--no-trunc", action="store_true")
        p.set_defaults(func=_ls)
    p = n.add_parser("inspect", help="show networks in detail (JSON)")
    p.add_argument("names", nargs="+")
    p.add_argument("--format", "-f", help="a Go template (default: indented JSON)")
    p.set_defaults(func=_inspect)
    for verb in ("rm", "remove"):
        p = n.add_parser(verb, help="remove networks")
        p.add_argument("names", nargs="+")
        p.add_argument("--force", "-f", action="store_true")
        p.set_defaults(func=_rm)
    p = n.add_parser("prune", help="remove every network no container uses")
    p.add_argument("--force", "-f", action="store_true")
    p.add_argument("--filter", action="append", default=[])
    p.set_defaults(func=_prune)
    p = n.add_parser("connect", help="connect a container to a network")
    p.add_argument("network")
    p.add_argument("container")
    p.add_argument("--alias", action="append", default=[])
    p.add_argument("--ip")
    p.set_defaults(func=_connect)
    p = n.add_parser("disconnect", help="disconnect a container from a network")
    p.add_argument("network")
    p.add_argument("container")
    p.add_argument("--force", "-f", action="store_true")
    p.set_defaults(func=_disconnect)

    for parser in (
        sub.add_parser("port", help="list a container's published ports"),
        management_group(sub, groups, "container", "manage containers").add_parser(
            "port", help="list a container's published ports"
        ),
    ):
        parser.add_argument("container")
        parser.add_argument("private_port", nargs="?", help="PORT[/PROTO]")
        parser.set_defaults(func=_port)


def _runtime() -> Any:
    from runtime import Runtime

    return Runtime()


def _create(args: argparse.Namespace) -> int:
    from runtime.cli.main import key_values

    with _runtime() as rt:
        net = rt.networks.create(
            args.name,
            driver=args.driver,
            subnet=args.subnet,
            gateway=args.gateway,
            internal=args.internal,
            labels=key_values(args.label, "--label"),
            options=key_values(args.opt, "--opt"),
        )
    print(net.id)
    return 0


def _matches(net: Any, filters: list[str]) -> bool:
    from runtime.cli.filters import InvalidFilter

    for f in filters:
        key, _, value = f.partition("=")
        if key == "name":
            ok = value in net.name
        elif key == "id":
            ok = net.id.startswith(value)
        elif key == "driver":
            ok = net.driver == value
        elif key == "label":
            k, has_value, v = value.partition("=")
            ok = k in net.labels and (not has_value or net.labels[k] == v)
        elif key == "type":
            ok = (value == "custom") == net.user_defined
        elif key == "scope":
            ok = value == "local"  # no swarm: every network is local
        else:
            raise InvalidFilter(f"Invalid filter '{key}'")
        if not ok:
            return False
    return True


def _ls(args: argparse.Namespace) -> int:
    from runtime.cli import formatter, listings

    with _runtime() as rt:
        nets = [n for n in rt.networks.list() if _matches(n, args.filter)]
    nets.sort(key=lambda n: listings.natural_key(n.name))
    fmt = formatter.quiet_or(args.format, args.quiet, listings.NETWORK_TABLE)
    rows = [listings.network_row(n, trunc=not args.no_trunc) for n in nets]
    formatter.write_rows(fmt, rows, listings.NETWORK_HEADERS)
    return 0


def _inspect(args: argparse.Namespace) -> int:
    from runtime.cli.images import inspect_each
    from runtime.errors import NetworkNotFound

    with _runtime() as rt:
        return inspect_each(
            args.names, rt.networks.inspect, NetworkNotFound, "network", args.format
        )


def _rm(args: argparse.Namespace) -> int:
    from runtime.errors import NetworkNotFound, WharfError

    code = 0
    with _runtime() as rt:
        for name in args.names:
            try:
                rt.networks.remove(name)
                print(name)
            except NetworkNotFound:
                if not args.force:
                    client_error(f"No such network: {name}")
                    code = 1
            except WharfError as exc:
                command_error(exc)
                code = 1
    return code


def _prune(args: argparse.Namespace) -> int:
    with _runtime() as rt:
        removed = rt.networks.prune()
    if removed:
        print("Deleted Networks:")
        for name in removed:
            print(name)
    return 0


def _connect(args: argparse.Namespace) -> int:
    with _runtime() as rt:
        rt.networks.connect(args.network, args.container, aliases=args.alias, ip=args.ip)
    return 0


def _disconnect(args: argparse.Namespace) -> int:
    with _runtime() as rt:
        rt.networks.disconnect(args.network, args.container, force=args.force)
    return 0


def _port(args: argparse.Namespace) -> int:
    from runtime.errors import InvalidArgument

    with _runtime() as rt:
        c = rt.containers.get(args.container)
        # as Docker: only a running container has ports (its mappings go when it exits)
        ports = rt.containers.ports(c.id) if c.running else {}
    if args.private_port:
        port, _, proto = args.private_port.partition("/")
        key = f"{port}/{proto or 'tcp'}"
        bindings = ports.get(key)
        if not bindings:
            raise InvalidArgument(f"no public port '{key}' published for {args.container}")
        for b in bindings:
            print(f"{b['HostIp']}:{b['HostPort']}")
        return 0
    for key in sorted(ports, key=lambda k: (int(k.split("/")[0]), k)):
        for b in ports[key] or []:
            print(f"{key} -> {b['HostIp']}:{b['HostPort']}")
    return 0
