"""Host facts: the cgroup layout is read from the filesystem, not guessed."""

from pathlib import Path

from runtime.hostinfo import cgroup_mode


def test_it_recognises_a_pure_v2_host(tmp_path: Path):
    (tmp_path / "cgroup.controllers").write_text("cpu memory pids\n")
    assert cgroup_mode(tmp_path) == "v2"


def test_it_recognises_a_hybrid_host(tmp_path: Path):
    (tmp_path / "unified").mkdir()
    (tmp_path / "unified" / "cgroup.procs").write_text("")
    (tmp_path / "memory").mkdir()
    assert cgroup_mode(tmp_path) == "hybrid"


def test_it_recognises_a_pure_v1_host(tmp_path: Path):
    (tmp_path / "memory").mkdir()
    assert cgroup_mode(tmp_path) == "v1"


def test_this_host_is_what_the_kernel_says():
    root = Path("/sys/fs/cgroup")
    expected = (
        "v2"
        if (root / "cgroup.controllers").exists()
        else ("hybrid" if (root / "unified" / "cgroup.procs").exists() else "v1")
    )
    assert cgroup_mode() == expected
