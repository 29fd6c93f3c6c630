"""Flag parsing of the container verbs (no root needed: nothing runs)."""

from __future__ import annotations

import pytest

from runtime.cli.containers import parse_duration, spec_from_args
from runtime.cli.main import build_parser
from runtime.errors import InvalidArgument


def _spec(*argv: str):
    return spec_from_args(build_parser().parse_args(["run", *argv]))


def test_go_durations():
    assert parse_duration("1m30s") == 90 * 10**9
    assert parse_duration("500ms") == 5 * 10**8
    with pytest.raises(InvalidArgument, match="invalid duration"):
        parse_duration("soon")


def test_run_flags_become_the_spec():
    spec = _spec(
        "--name",
        "w",
        "-e",
        "A=1",
        "-m",
        "64m",
        "--cpus",
        "1.5",
        "--pids-limit",
        "10",
        "-p",
        "8080:80",
        "-v",
        "data:/data",
        "--network",
        "net1",
        "--rm",
        "-it",
        "--entrypoint",
        "",
        "busybox",
        "sh",
        "-c",
        "echo hi",
    )
    assert spec.name == "w" and spec.env == ["A=1"] and spec.memory == 64 << 20
    assert spec.cpus == 1.5 and spec.pids_limit == 10 and spec.ports == ["8080:80"]
    assert spec.volumes == ["data:/data"] and spec.network == "net1" and spec.auto_remove
    assert spec.tty and spec.stdin_open and spec.entrypoint == []
    assert spec.cmd == ["sh", "-c", "echo hi"]


def test_health_flags():
    spec = _spec(
        "--health-cmd", "true", "--health-interval", "2s", "--health-retries", "5", "busybox"
    )
    assert spec.healthcheck == {
        "Test": ["CMD-SHELL", "true"],
        "Interval": 2 * 10**9,
        "Timeout": 0,
        "StartPeriod": 0,
        "Retries": 5,
    }


def test_bad_values_are_named():
    with pytest.raises(InvalidArgument, match="--memory"):
        _spec("-m", "1x", "busybox")
    with pytest.raises(InvalidArgument, match="--cpus"):
        _spec("--cpus", "-1", "busybox")


def test_ports_render_like_docker_ps():
    from runtime.cli.containers import format_ports

    ports = {"80/tcp": [{"HostIp": "0.0.0.0", "HostPort": "8080"}], "443/tcp": None}
    assert format_ports(ports) == "443/tcp, 0.0.0.0:8080->80/tcp"
    assert format_ports(None) == ""
