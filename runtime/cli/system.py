"""``wharf info``: what this host has, as the fleet records it; ``wharf events``: what
happens on it (``runtime.events``), in Docker's shapes."""

from __future__ import annotations

import argparse
import contextlib
import json
from typing import Any


def register(sub: argparse._SubParsersAction, groups: dict) -> None:
    from runtime.cli.main import management_group

    p = sub.add_parser(
        "info", help="show this host's facts (kernel, cgroups, OCI runtimes, capacity)"
    )
    p.add_argument("--format", "-f", choices=["text", "json"], default="text")
    p.set_defaults(func=_info)
    s = management_group(sub, groups, "system", "manage this host")
    p = s.add_parser("info", help="show this host's facts")
    p.add_argument("--format", "-f", choices=["text", "json"], default="text")
    p.set_defaults(func=_info)
    p = sub.add_parser("version", help="Show the Wharf version information")
    p.add_argument("-f", "--format", help="a Go-style template ({{.Server.Version}}) or json")
    p.set_defaults(func=cmd_version)
    for parser in (
        sub.add_parser("events", help="Get real time events from this host"),
        s.add_parser("events", help="Get real time events from this host"),
    ):
        parser.add_argument("--since", help="show events since a timestamp or a duration ago")
        parser.add_argument("--until", help="stream events until this timestamp")
        parser.add_argument("-f", "--filter", action="append", help="type=, event=, container=, …")
        parser.add_argument("--format", help="json, or a Go-style template ({{.Action}})")
        parser.set_defaults(func=cmd_events)


API_VERSION = "1.41"  # the Docker Engine API Wharf's shapes follow
MIN_API_VERSION = "1.12"


def version_record() -> dict[str, Any]:
    """Docker's ``version`` object (Client, Server with its components), for Wharf."""
    import platform
    import sys

    from runtime.hostinfo import wharf_version

    version = wharf_version()
    arch = {"x86_64": "amd64", "aarch64": "arm64"}.get(platform.machine(), platform.machine())
    python = sys.version.split()[0]
    client = {
        "Platform": {"Name": "Wharf"},
        "Version": version,
        "ApiVersion": API_VERSION,
        "PythonVersion": python,
        "Os": "linux",
        "Arch": arch,
    }
    components = [
        {
            "Name": "Engine",
            "Version": version,
            "Details": {
                "ApiVersion": API_VERSION,
                "MinAPIVersion": MIN_API_VERSION,
                "PythonVersion": python,
                "Os": "linux",
                "Arch": arch,
                "KernelVersion": platform.release(),
            },
        }
    ]
    from runtime.config import Paths
    from runtime.errors import WharfError
    from runtime.oci.probe import choose_runtime

    with contextlib.suppress(WharfError):  # no usable runtime: the engine part still answers
        oci = choose_runtime(Paths.from_env())
        components.append({"Name": oci.name, "Version": oci.version, "Details": {}})
    server = {
        "Platform": {"Name": "Wharf Engine"},
        "Components": components,
        "Version": version,
        "ApiVersion": API_VERSION,
        "MinAPIVersion": MIN_API_VERSION,
        "Os": "linux",
        "Arch": arch,
        "KernelVersion": platform.release(),
    }
    return {"Client": client, "Server": server}


def cmd_version(args: argparse.Namespace) -> int:
    """Print versions in Docker's layout (labels padded to Docker's columns)."""
    record = version_record()
    if args.format:
        from runtime.cli import formatter

        tmpl = formatter.compile_format(args.format)
        print(formatter.execute(tmpl, formatter.as_go(record)))
        return 0
    c, srv = record["Client"], record["Server"]
    lines = [
        f"Client: {c['Platform']['Name']}",
        f" {'Version:':<19}{c['Version']}",
        f" {'API version:':<19}{c['ApiVersion']}",
        f" {'Python version:':<19}{c['PythonVersion']}",
        f" {'OS/Arch:':<19}{c['Os']}/{c['Arch']}",
        "",
        f"Server: {srv['Platform']['Name']}",
    ]
    for comp in srv["Components"]:
        lines.append(f" {comp['Name']}:")
        lines.append(f"  {'Version:':<18}{comp['Version']}")
        d = comp["Details"]
        if comp["Name"] == "Engine":
            lines += [
                f"  {'API version:':<18}{d['ApiVersion']} (minimum version {d['MinAPIVersion']})",
                f"  {'Python version:':<18}{d['PythonVersion']}",
                f"  {'OS/Arch:':<18}{d['Os']}/{d['Arch']}",
            ]
    print("\n".join(lines))
    return 0


def _info(args: argparse.Namespace) -> int:
    from runtime.hostinfo import gather

    facts = gather()
    if args.format == "json":
        print(json.dumps(facts, indent=2))
        return 0
    print(f"Kernel Version: {facts['kernel']}")
    print(f"Operating System: {facts['os']}")
    print(f"Architecture: {facts['architecture']}")
    print(f"CPUs: {facts['cpus']}")
    print(f"Total Memory: {facts['memory_bytes'] / 2**30:.2f}GiB")
    print(f"Cgroup Version: {facts['cgroup_mode']}")
    print(f"Cgroup Controllers: {', '.join(facts['cgroup_controllers'])}")
    print(f"Default Runtime: {facts['oci_runtime'] or 'none usable'}")
    for r in facts["oci_runtimes"]:
        state = "usable" if r["usable"] else f"unusable: {r['reason']}"
        print(f"  {r['name']} {r['version']} ({r['path']}): {state}")
    print(f"Wharf Root Dir: {facts['wharf_root']}")
    print(f"Disk Free: {facts['disk_free_bytes'] / 2**30:.1f}GiB")
    print(f"Wharf Version: {facts['versions']['wharf']}")
    return 0


def cmd_events(args: argparse.Namespace) -> int:
    """Print events; without --until, follow until interrupted (as ``docker events``)."""
    import time

    from runtime.events import EventFilter
    from runtime.timefmt import parse_point_in_time

    flt = EventFilter(args.filter or [])
    since = parse_point_in_time(args.since) if args.since else None
    until = parse_point_in_time(args.until) if args.until else None

    tmpl = None
    if args.format:
        from runtime.cli import formatter

        tmpl = formatter.compile_format(args.format)

    def show(event: Any) -> None:
        if tmpl is None:
            print(event.text(), flush=True)
            return
        message = formatter.as_go(event.docker())
        message.go_type = "events.Message"
        print(formatter.execute(tmpl, message), flush=True)

    from runtime import Runtime

    with Runtime() as rt:
        # as docker: without --since, only what happens from now on
        cursor = rt.events.last_id() if since is None and until is None else 0
        kw = {"filters": flt, "since_nano": since, "until_nano": until}
        if until is not None and until <= time.time_ns():
            stream = rt.events.replay(cursor, **kw)
        else:
            stream = rt.events.follow(cursor, **kw)
        for event in stream:
            show(event)
    return 0
