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
    p.add_argument("--format", "-f", default="text", help="text, json (the facts) or a Go template")
    p.set_defaults(func=_info)
    s = management_group(sub, groups, "system", "manage this host")
    p = s.add_parser("info", help="show this host's facts")
    p.add_argument("--format", "-f", default="text", help="text, json (the facts) or a Go template")
    p.set_defaults(func=_info)
    p = sub.add_parser("version", help="Show the Wharf version information")
    p.add_argument("-f", "--format", help="a Go-style template ({{.Server.Version}}) or json")
    p.set_defaults(func=cmd_version)
    p = s.add_parser("df", help="Show Wharf disk usage")
    p.add_argument("--format", help="a Go-style template ({{.Type}}) or json")
    p.add_argument("-v", "--verbose", action="store_true", help="show detailed information")
    p.set_defaults(func=cmd_df)
    p = s.add_parser("prune", help="Remove unused data")
    p.add_argument("-a", "--all", action="store_true", help="remove all unused images")
    p.add_argument("--volumes", action="store_true", help="prune volumes too")
    p.add_argument("-f", "--force", action="store_true", help="do not prompt for confirmation")
    p.add_argument(
        "--filter", action="append", help="only what matches: until=TIME, label=K[=V], label!=K"
    )
    p.set_defaults(func=cmd_prune)
    p = s.add_parser(
        "api-socket", help="Print the Docker Engine API socket's path (starting the agent)"
    )
    p.set_defaults(func=cmd_api_socket)
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


def cmd_api_socket(args: argparse.Namespace) -> int:
    """Print where the Engine API listens (``DOCKER_HOST=unix://PATH``), starting the agent."""
    from runtime.agent import client
    from runtime.config import Paths
    from runtime.engineapi.server import socket_path

    paths = Paths.from_env(args.root, args.run_dir)
    client.call(paths, "ping")
    print(socket_path(paths))
    return 0


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


DF_TABLE = "table {{.Type}}\\t{{.TotalCount}}\\t{{.Active}}\\t{{.Size}}\\t{{.Reclaimable}}"
DF_HEADERS = {
    "Type": "TYPE",
    "TotalCount": "TOTAL",
    "Active": "ACTIVE",
    "Size": "SIZE",
    "Reclaimable": "RECLAIMABLE",
}


def _percent_of(part: int, total: int) -> str:
    from runtime.images.progress import human_size

    text = human_size(part, 4)
    return f"{text} ({part * 100 // total}%)" if total > 0 else text


def cmd_df(args: argparse.Namespace) -> int:
    """``system df``: Docker's four rows (units.HumanSize: four significant digits)."""
    from runtime import Runtime
    from runtime.cli import formatter, listings
    from runtime.diskusage import disk_usage
    from runtime.images.progress import human_size

    with Runtime() as rt:
        du = disk_usage(rt)
        if args.verbose and not args.format:
            _df_verbose(rt, du)
            return 0
    ctrs, vols = du["Containers"], du["Volumes"]
    ctr_total = sum(c["SizeRw"] for c in ctrs)
    ctr_free = sum(
        c["SizeRw"] for c in ctrs if c["State"] not in ("running", "paused", "restarting")
    )
    vol_total = sum(v["UsageData"]["Size"] for v in vols)
    vol_free = sum(v["UsageData"]["Size"] for v in vols if not v["UsageData"]["RefCount"])
    img_free = du["LayersSize"] - du["UsedLayersSize"]
    records = [
        {
            "Type": "Images",
            "TotalCount": str(len(du["Images"])),
            "Active": str(sum(1 for i in du["Images"] if i["Containers"])),
            "Size": human_size(du["LayersSize"], 4),
            "Reclaimable": _percent_of(img_free, du["LayersSize"]),
        },
        {
            "Type": "Containers",
            "TotalCount": str(len(ctrs)),
            "Active": str(
                sum(1 for c in ctrs if c["State"] in ("running", "paused", "restarting"))
            ),
            "Size": human_size(ctr_total, 4),
            "Reclaimable": _percent_of(ctr_free, ctr_total),
        },
        {
            "Type": "Local Volumes",
            "TotalCount": str(len(vols)),
            "Active": str(sum(1 for v in vols if v["UsageData"]["RefCount"])),
            "Size": human_size(vol_total, 4),
            "Reclaimable": _percent_of(vol_free, vol_total),
        },
        {
            "Type": "Build Cache",
            "TotalCount": "0",
            "Active": "0",
            "Size": "0B",
            "Reclaimable": "0B",
        },
    ]
    formatter.write_rows(
        formatter.quiet_or(args.format, False, DF_TABLE),
        [listings.plain_row(r, "*formatter.diskUsageContext") for r in records],
        DF_HEADERS,
    )
    return 0


DF_IMAGES_TABLE = (
    "table {{.Repository}}\\t{{.Tag}}\\t{{.ID}}\\t{{.CreatedSince}}\\t{{.VirtualSize}}"
    "\\t{{.SharedSize}}\\t{{.UniqueSize}}\\t{{.Containers}}"
)
DF_CONTAINERS_TABLE = (
    "table {{.ID}}\\t{{.Image}}\\t{{.Command}}\\t{{.LocalVolumes}}\\t{{.Size}}"
    "\\t{{.RunningFor}}\\t{{.Status}}\\t{{.Names}}"
)
DF_VOLUMES_TABLE = "table {{.Name}}\\t{{.Links}}\\t{{.Size}}"
DF_CACHE_TABLE = (
    "table {{.ID}}\\t{{.CacheType}}\\t{{.Size}}\\t{{.CreatedSince}}\\t{{.LastUsedSince}}"
    "\\t{{.UsageCount}}\\t{{.Shared}}"
)
DF_CACHE_HEADERS = {
    "ID": "CACHE ID",
    "CacheType": "CACHE TYPE",
    "Size": "SIZE",
    "CreatedSince": "CREATED",
    "LastUsedSince": "LAST USED",
    "UsageCount": "USAGE",
    "Shared": "SHARED",
}


def _df_verbose(rt: Any, du: dict) -> None:
    """``system df -v``: Docker's four sections, each a table of its own."""
    from runtime.cli import formatter, listings
    from runtime.cli.containers import _status_text
    from runtime.cli.images import _since, _split_tag
    from runtime.images.progress import human_size
    from runtime.timefmt import ns_to_rfc3339

    images = []
    for i in du["Images"]:
        for ref in i["RepoTags"] or ["<none>:<none>"]:
            repo, tag = _split_tag(ref)
            images.append(
                listings.plain_row(
                    {
                        "Repository": repo,
                        "Tag": tag,
                        "ID": i["Id"].removeprefix("sha256:")[:12],
                        "CreatedSince": _since(ns_to_rfc3339(i["Created"] * 10**9)),
                        "VirtualSize": human_size(i["Size"], 4),
                        "SharedSize": human_size(i["SharedSize"], 4),
                        "UniqueSize": human_size(i["Size"] - i["SharedSize"], 4),
                        "Containers": str(i["Containers"]),
                    },
                    "*formatter.imageContext",
                )
            )
    print("Images space usage:\n")
    formatter.write_rows(DF_IMAGES_TABLE, images, listings.IMAGE_HEADERS | {"VirtualSize": "SIZE"})
    sizes = {c["Id"]: c["SizeRw"] for c in du["Containers"]}
    ctrs = [
        listings.container_row(
            c,
            trunc=True,
            status=_status_text(c),
            running_for=_since(c.created),
            ports="",
            inspected=rt.containers.inspect(c.id),
            size=human_size(sizes.get(c.id, 0), 4),
        )
        for c in rt.containers.list(all=True)
    ]
    print("\nContainers space usage:\n")
    formatter.write_rows(DF_CONTAINERS_TABLE, ctrs, listings.CONTAINER_HEADERS)
    vols = [
        listings.plain_row(
            {
                "Name": v["Name"],
                "Links": str(v["UsageData"]["RefCount"]),
                "Size": human_size(v["UsageData"]["Size"], 4),
            },
            "*volume.volumeContext",
        )
        for v in du["Volumes"]
    ]
    print("\nLocal Volumes space usage:\n")
    formatter.write_rows(DF_VOLUMES_TABLE, vols, listings.VOLUME_HEADERS)
    print("\nBuild cache usage: 0B\n")
    formatter.write_rows(DF_CACHE_TABLE, [], DF_CACHE_HEADERS)


def cmd_prune(args: argparse.Namespace) -> int:
    """``system prune``: stopped containers, unused networks, dangling (-a: unused) images,
    with --volumes unused volumes; Docker's warning, sections and total."""
    from runtime import Runtime
    from runtime.errors import InvalidArgument
    from runtime.images.progress import human_size
    from runtime.prunefilter import parse_prune_filters

    if args.volumes and any(f.startswith("until=") for f in args.filter or []):
        raise InvalidArgument('ERROR: The "until" filter is not supported with "--volumes"')
    filters = parse_prune_filters(args.filter)
    if not args.force:
        warnings = ["all stopped containers", "all networks not used by at least one container"]
        if args.volumes:
            warnings.append("all volumes not used by at least one container")
        warnings.append(
            "all images without at least one container associated to them"
            if args.all
            else "all dangling images"
        )
        warnings.append("all build cache" if args.all else "all dangling build cache")
        text = "WARNING! This will remove:\n" + "".join(f"  - {w}\n" for w in warnings)
        shown = sorted(
            [f"label={v}" for v in filters.labels]
            + [f"label!={v}" for v in filters.not_labels]
            + [f for f in args.filter or [] if f.startswith("until=")]
        )
        if shown:
            text += "\n  Items to be pruned will be filtered with:\n"
            text += "".join(f"  - {f}\n" for f in shown)
        answer = input(text + "\nAre you sure you want to continue? [y/N] ")
        if answer.strip().lower() not in ("y", "yes"):
            return 0
    reclaimed = 0
    with Runtime() as rt:
        report = rt.containers.prune(filters)
        reclaimed += report["SpaceReclaimed"]
        if report["ContainersDeleted"]:
            print("Deleted Containers:\n" + "".join(f"{c}\n" for c in report["ContainersDeleted"]))
        networks = rt.networks.prune(filters)
        if networks:
            print("Deleted Networks:\n" + "".join(f"{n}\n" for n in networks))
        if args.volumes:
            report = rt.volumes.prune(all=True, filters=filters)
            reclaimed += report["SpaceReclaimed"]
            if report["VolumesDeleted"]:
                print("Deleted Volumes:\n" + "".join(f"{v}\n" for v in report["VolumesDeleted"]))
        report = rt.images.prune(all=args.all, filters=filters)
        reclaimed += report["SpaceReclaimed"]
        if report["ImagesDeleted"]:
            lines = [
                f"untagged: {r['Untagged']}" if "Untagged" in r else f"deleted: {r['Deleted']}"
                for r in report["ImagesDeleted"]
            ]
            print("Deleted Images:\n" + "".join(f"{line}\n" for line in lines))
    print(f"Total reclaimed space: {human_size(reclaimed, 4)}")
    return 0


def _info(args: argparse.Namespace) -> int:
    from runtime.hostinfo import gather

    facts = gather()
    if args.format == "json":
        print(json.dumps(facts, indent=2))
        return 0
    if args.format != "text":
        from runtime.cli import formatter

        tmpl = formatter.compile_format(args.format)
        print(formatter.execute(tmpl, formatter.as_go(docker_info(facts))))
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


def docker_info(facts: dict, paths: Any = None) -> dict:
    """The host's facts under the names of Docker's ``info`` (``wharf info --format`` and
    the Engine API's ``GET /info``), counting the objects of the root at ``paths``
    (a ``runtime.config.Paths``; the environment's root without one)."""
    import os
    import socket
    import threading
    import time
    import uuid

    from runtime import Runtime
    from runtime.config import Paths
    from runtime.containers.cgroups import swap_accounting
    from runtime.hostinfo import backing_filesystem, os_version, proc_flag
    from runtime.timefmt import ns_to_rfc3339

    paths = paths or Paths.from_env()
    with Runtime(paths.root, paths.run) as rt:
        containers = rt.containers.list(all=True)
        images = rt.images.list(all=True)
    states = [c.status for c in containers]
    controllers = set(facts["cgroup_controllers"])
    cpu = "cpu" in controllers
    runtimes = [r for r in facts["oci_runtimes"] if r["usable"]]
    chosen = next((r for r in runtimes if r["name"] == facts["oci_runtime"]), None)
    limits = {
        "MemoryLimit": "memory" in controllers,
        "SwapLimit": "memory" in controllers and swap_accounting(),
        "CpuCfsPeriod": cpu,
        "CpuCfsQuota": cpu,
        "CPUShares": cpu,
        "CPUSet": "cpuset" in controllers,
        "PidsLimit": "pids" in controllers,
    }
    forwarding = proc_flag("net/ipv4/ip_forward")
    # dockerd's own warnings for what this host cannot do, in its words
    warnings = [
        text
        for ok, text in (
            (limits["MemoryLimit"], "WARNING: No memory limit support"),
            (limits["SwapLimit"], "WARNING: No swap limit support"),
            (limits["CpuCfsQuota"], "WARNING: No cpu cfs quota support"),
            (limits["PidsLimit"], "WARNING: No pids limit support"),
            (forwarding, "WARNING: IPv4 forwarding is disabled"),
        )
        if not ok
    ]
    return {
        "ID": str(uuid.uuid5(uuid.NAMESPACE_URL, f"wharf:{paths.root}")).upper(),
        "Containers": len(states),
        "ContainersRunning": states.count("running"),
        "ContainersPaused": states.count("paused"),
        "ContainersStopped": len(states) - states.count("running") - states.count("paused"),
        "Images": len(images),
        "Driver": "overlay2",
        "DriverStatus": [
            ["Backing Filesystem", backing_filesystem(paths.root)],
            ["Supports d_type", "true"],
            ["Using metacopy", "false"],
            ["Native Overlay Diff", "true"],
            ["userxattr", "false"],
        ],
        **limits,
        "KernelMemory": False,
        "KernelMemoryTCP": False,
        "OomKillDisable": "memory" in controllers and facts["cgroup_mode"] != "v2",
        "IPv4Forwarding": forwarding,
        "BridgeNfIptables": proc_flag("net/bridge/bridge-nf-call-iptables"),
        "BridgeNfIp6tables": proc_flag("net/bridge/bridge-nf-call-ip6tables"),
        "NFd": len(os.listdir("/proc/self/fd")),
        "NGoroutines": threading.active_count(),
        "SystemTime": ns_to_rfc3339(time.time_ns()),
        "KernelVersion": facts["kernel"],
        "OperatingSystem": facts["os"],
        "OSVersion": os_version(),
        "OSType": "linux",
        "Architecture": facts["architecture"],
        "NCPU": facts["cpus"],
        "MemTotal": facts["memory_bytes"],
        "DockerRootDir": str(paths.root),
        "HttpProxy": os.environ.get("HTTP_PROXY") or os.environ.get("http_proxy") or "",
        "HttpsProxy": os.environ.get("HTTPS_PROXY") or os.environ.get("https_proxy") or "",
        "NoProxy": os.environ.get("NO_PROXY") or os.environ.get("no_proxy") or "",
        "Name": socket.gethostname(),
        "Labels": [],
        "ServerVersion": facts["versions"]["wharf"],
        "Runtimes": {r["name"]: {"path": r["path"]} for r in runtimes},
        "DefaultRuntime": facts["oci_runtime"] or "",
        "RuncCommit": {"ID": (chosen or {}).get("version") or "", "Expected": ""},
        "ContainerdCommit": {"ID": "", "Expected": ""},
        "InitCommit": {"ID": "", "Expected": ""},
        # Wharf writes the containers' cgroups itself (/wharf/<id>), as Docker's cgroupfs driver
        "CgroupDriver": "cgroupfs",
        "CgroupVersion": "2" if facts["cgroup_mode"] == "v2" else "1",
        "LoggingDriver": "json-file",
        "LiveRestoreEnabled": False,
        "Isolation": "",
        "Warnings": warnings,
    }


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
