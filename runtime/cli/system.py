"""``wharf info``: what this host has, as the fleet records it."""

from __future__ import annotations

import argparse
import json


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
