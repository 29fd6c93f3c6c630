"""Bad network input: one clear line, Docker's exit code, nothing half-made on the host."""

from __future__ import annotations

import json
from pathlib import Path

from tests.integration.conftest import error_line


def links(rt=None) -> set[str]:
    """The machine's network links; with RT, only that Wharf root's (other tests' come and go)."""
    names = {p.name for p in Path("/sys/class/net").iterdir()}
    if rt is None:
        return names
    return {n for n in names if n.startswith(f"wh{rt.networks.tag}-")}


def test_bad_subnets_and_gateways_are_refused_without_a_bridge(wharf, rt):
    wharf("network", "create", "--subnet", "10.241.0.0/24", "first")
    before = links(rt)
    cases = {
        ("--subnet", "10.241.0.0/25"): "overlaps",
        ("--subnet", "10.241.0.0/16"): "overlaps",
        ("--subnet", "10.241.300.0/24"): "10.241.300.0/24",
        ("--subnet", "not-a-subnet"): "not-a-subnet",
        ("--subnet", "10.242.0.0/24", "--gateway", "10.243.0.1"): "10.243.0.1",
        ("--gateway", "10.242.0.1"): "--subnet",
        ("--driver", "overlay"): "overlay",
    }
    for flags, expected in cases.items():
        out = wharf("network", "create", *flags, "second", check=False)
        assert out.returncode == 1, flags
        assert expected in error_line(out), (flags, out.stderr)
    assert links(rt) == before
    assert "second" not in wharf("network", "ls").stdout
    dup = wharf("network", "create", "first", check=False)
    assert dup.returncode == 1 and "already exists" in error_line(dup)


def test_an_unknown_network_is_refused_before_any_container_exists(wharf):
    out = wharf("run", "--network", "nowhere", "busybox", "true", check=False)
    assert out.returncode == 125
    assert "network nowhere not found" in error_line(out)
    assert wharf("ps", "-aq").stdout.strip() == ""
    gone = wharf("network", "inspect", "nowhere", check=False)
    assert (gone.returncode, gone.stderr) == (1, "Error: No such network: nowhere\n")


def test_a_network_in_use_cannot_be_removed(wharf):
    wharf("network", "create", "busy")
    wharf("create", "--name", "user", "--network", "busy", "busybox", "true")
    out = wharf("network", "rm", "busy", check=False)
    assert out.returncode == 1 and "user" in error_line(out)
    assert "busy" in wharf("network", "ls").stdout
    wharf("rm", "user")
    assert wharf("network", "rm", "busy").stdout.strip() == "busy"
    pre = wharf("network", "rm", "bridge", check=False)
    assert pre.returncode == 1 and "pre-defined" in error_line(pre)


def test_a_taken_ip_is_refused_clearly(wharf):
    wharf("network", "create", "--subnet", "10.244.0.0/24", "fixed")
    wharf("run", "-d", "--network", "fixed", "--ip", "10.244.0.10", "busybox", "sleep", "60")
    out = wharf(
        "run", "-d", "--network", "fixed", "--ip", "10.244.0.10", "busybox", "true", check=False
    )
    assert out.returncode == 125 and "10.244.0.10" in error_line(out)
    outside = wharf(
        "create", "--network", "fixed", "--ip", "10.9.0.1", "busybox", "true", check=False
    )
    assert outside.returncode == 125 and "10.9.0.1" in error_line(outside)
    on_default = wharf("create", "--ip", "172.30.0.9", "busybox", "true", check=False)
    assert on_default.returncode == 125 and "user defined networks" in error_line(on_default)


def test_bad_port_and_dns_flags(wharf):
    for flags, expected in (
        (("-p", "99999:80"), "99999"),
        (("-p", "80:http"), "http"),
        (("--dns", "not-an-ip"), "not-an-ip"),
        (("--add-host", "db:nowhere"), "nowhere"),
        (("--network", "none", "-p", "80:80"), "conflicting options"),
    ):
        out = wharf("create", *flags, "busybox", "true", check=False)
        assert out.returncode == 125, flags
        assert expected in error_line(out), (flags, out.stderr)
    assert wharf("ps", "-aq").stdout.strip() == ""


def test_connect_errors(wharf):
    wharf("network", "create", "c1")
    wharf("run", "-d", "--name", "solo", "--network", "none", "busybox", "sleep", "60")
    out = wharf("network", "connect", "c1", "solo", check=False)
    assert out.returncode == 1 and "cannot be connected" in error_line(out)
    wharf("run", "-d", "--name", "twice", "--network", "c1", "busybox", "sleep", "60")
    again = wharf("network", "connect", "c1", "twice", check=False)
    assert again.returncode == 1 and "already exists" in error_line(again)
    nets = json.loads(wharf("inspect", "twice").stdout)[0]["NetworkSettings"]["Networks"]
    assert list(nets) == ["c1"]
    off = wharf("network", "disconnect", "bridge", "twice", check=False)
    assert off.returncode == 1 and "not connected" in error_line(off)
