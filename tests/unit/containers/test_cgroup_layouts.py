"""Wharf finds its containers' cgroups in both layouts (the repair and the leak tests use it).

The trees are fakes in tmp: this host is cgroup v1 hybrid, and a v2 host's
``ROOT/wharf/<id>`` must be found as surely as v1's ``ROOT/<controller>/wharf/<id>``.
"""

from __future__ import annotations

from pathlib import Path

from runtime.containers.cgroups import container_cgroups

A, B = "a" * 64, "b" * 64


def make(root: Path, *dirs: str, files: tuple[str, ...] = ()) -> None:
    for d in dirs:
        (root / d).mkdir(parents=True)
    for f in files:
        (root / f).write_text("")


def test_it_finds_a_v2_hosts_container_cgroups(tmp_path):
    make(tmp_path, f"wharf/{A}", f"wharf/{B}", "system.slice/x", files=("cgroup.controllers",))
    (tmp_path / "wharf" / "cgroup.procs").write_text("")
    assert container_cgroups(tmp_path) == [tmp_path / "wharf" / A, tmp_path / "wharf" / B]


def test_it_finds_every_controllers_cgroup_on_a_v1_host(tmp_path):
    make(tmp_path, f"memory/wharf/{A}", f"pids/wharf/{A}", f"unified/wharf/{A}", "cpu/other")
    (tmp_path / "memory" / "wharf" / "memory.limit_in_bytes").write_text("")
    assert container_cgroups(tmp_path) == [
        tmp_path / "memory" / "wharf" / A,
        tmp_path / "pids" / "wharf" / A,
        tmp_path / "unified" / "wharf" / A,
    ]


def test_it_leaves_what_is_not_a_containers_cgroup(tmp_path):
    make(tmp_path, "wharf/not-an-id", f"wharf/{A.upper()}", "memory/wharf/build")
    (tmp_path / "wharf" / B).write_text("")  # a file, not a cgroup
    assert container_cgroups(tmp_path) == []


def test_a_host_without_wharf_cgroups_has_none(tmp_path):
    assert container_cgroups(tmp_path) == []
