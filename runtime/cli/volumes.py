"""``wharf volume …``: docker's volume verbs."""

from __future__ import annotations

import argparse

from runtime.cli.errors import command_error


def register(sub: argparse._SubParsersAction, groups: dict) -> None:
    from runtime.cli.main import management_group

    v = management_group(sub, groups, "volume", "manage volumes")
    p = v.add_parser("create", help="create a volume")
    p.add_argument("name", nargs="?")
    p.add_argument("--label", "-l", action="append", default=[])
    p.add_argument("--driver", "-d", default="local")
    p.set_defaults(func=_create)
    for verb in ("ls", "list"):
        p = v.add_parser(verb, help="list volumes")
        p.add_argument("--quiet", "-q", action="store_true")
        p.add_argument("--filter", "-f", action="append", default=[])
        p.add_argument("--format", help="table (default), json or a Go template")
        p.set_defaults(func=_ls)
    p = v.add_parser("inspect", help="show volumes in detail (JSON)")
    p.add_argument("names", nargs="+")
    p.add_argument("--format", "-f", help="a Go template (default: indented JSON)")
    p.set_defaults(func=_inspect)
    for verb in ("rm", "remove"):
        p = v.add_parser(verb, help="remove volumes")
        p.add_argument("names", nargs="+")
        p.add_argument("--force", "-f", action="store_true")
        p.set_defaults(func=_rm)
    p = v.add_parser("prune", help="remove unused anonymous volumes (-a: all unused)")
    p.add_argument("--all", "-a", action="store_true")
    p.add_argument("--force", "-f", action="store_true")
    p.add_argument("--filter", action="append", default=[])
    p.set_defaults(func=_prune)


def _manager():
    from runtime import Runtime

    return Runtime()


def _create(args: argparse.Namespace) -> int:
    from runtime.cli.main import key_values

    with _manager() as rt:
        print(rt.volumes.create(args.name, key_values(args.label, "--label"), args.driver).name)
    return 0


def _ls(args: argparse.Namespace) -> int:
    from runtime.cli import formatter, listings
    from runtime.cli.filters import InvalidFilter

    kwargs: dict = {}
    drivers: list[str] = []
    for f in args.filter:
        key, _, value = f.partition("=")
        if key == "dangling":
            kwargs["dangling"] = value.lower() in ("1", "true")
        elif key in ("label", "name"):
            kwargs[key] = value
        elif key == "driver":
            drivers.append(value)
        else:
            raise InvalidFilter(f"Invalid filter '{key}'")
    with _manager() as rt:
        vols = [v for v in rt.volumes.list(**kwargs) if not drivers or v.driver in drivers]
    vols.sort(key=lambda v: listings.natural_key(v.name))
    fmt = formatter.quiet_or(args.format, False, listings.VOLUME_TABLE)
    if args.quiet:
        fmt = "{{.Name}}"
    formatter.write_rows(fmt, [listings.volume_row(v) for v in vols], listings.VOLUME_HEADERS)
    return 0


def _inspect(args: argparse.Namespace) -> int:
    from runtime.cli.images import inspect_each
    from runtime.errors import VolumeNotFound

    with _manager() as rt:
        return inspect_each(
            args.names,
            lambda name: rt.volumes.get(name).inspect(),
            VolumeNotFound,
            "volume",
            args.format,
        )


def _rm(args: argparse.Namespace) -> int:
    from runtime.errors import WharfError

    code = 0
    with _manager() as rt:
        for name in args.names:
            try:
                rt.volumes.remove(name, force=args.force)
                print(name)
            except WharfError as exc:
                command_error(exc, missing_said_by_client=True)
                code = 1
    return code


def _prune(args: argparse.Namespace) -> int:
    with _manager() as rt:
        report = rt.volumes.prune(all=args.all)
    if report["VolumesDeleted"]:
        print("Deleted Volumes:")
        for name in report["VolumesDeleted"]:
            print(name)
        print()
    print(f"Total reclaimed space: {report['SpaceReclaimed']}B")
    return 0
