"""A bind source swapped for a symlink after the policy check never reaches the host.

Container A can write the parent of container B's bind source (both under the
allowed ``$WHARF_ROOT/binds``). A replaces B's source with a symlink to a host
directory outside the policy, a canary; B's next start must refuse, and no
start, even racing the swap, may mount the canary.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.conftest import set_host_config


@pytest.fixture
def canary() -> Iterator[Path]:
    """A host directory no bind may reach, with a file that must stay as it is."""
    d = Path(tempfile.mkdtemp(prefix="wharf-canary-", dir="/var/tmp"))
    (d / "canary").write_text("untouched\n")
    yield d
    shutil.rmtree(d, ignore_errors=True)


def _assert_untouched(canary: Path) -> None:
    assert sorted(p.name for p in canary.iterdir()) == ["canary"]
    assert (canary / "canary").read_text() == "untouched\n"


def _staging_mounts(wharf_paths) -> list[str]:
    staging = str(wharf_paths.run / "bindsrc")
    with open("/proc/self/mountinfo") as f:
        return [line.split()[4] for line in f if line.split()[4].startswith(staging)]


@pytest.fixture
def shared(wharf_paths) -> Path:
    d = wharf_paths.root / "binds" / "shared"
    (d / "victim").mkdir(parents=True)
    (d / "victim" / "marker").write_text("the victim's own\n")
    return d


def test_a_swapped_source_is_refused_at_start(wharf, wharf_paths, shared, canary):
    b = wharf(
        "create",
        "-v",
        f"{shared}/victim:/data",
        "busybox",
        "sh",
        "-c",
        "ls /data; echo pwned > /data/pwned",
    ).stdout.strip()
    wharf(
        "run",
        "--rm",
        "-v",
        f"{shared}:/shared",
        "busybox",
        "sh",
        "-c",
        f"rm -rf /shared/victim && ln -s {canary} /shared/victim",
    )
    assert (shared / "victim").is_symlink()
    proc = wharf("start", "-a", b, check=False)
    assert proc.returncode != 0
    assert "replaced by a symlink" in proc.stderr
    _assert_untouched(canary)
    assert _staging_mounts(wharf_paths) == []


def test_a_container_cannot_swap_its_own_source_across_a_restart(wharf, shared, canary):
    c = wharf(
        "run",
        "-d",
        "-v",
        f"{shared}:/shared",
        "-v",
        f"{shared}/victim:/data",
        "busybox",
        "sh",
        "-c",
        "cat /data/marker; sleep 30",
    ).stdout.strip()
    wharf("exec", c, "sh", "-c", f"rm -rf /shared/victim && ln -s {canary} /shared/victim")
    wharf("stop", "-t", "0", c)
    proc = wharf("start", c, check=False)
    assert proc.returncode != 0 and "replaced by a symlink" in proc.stderr
    _assert_untouched(canary)


def test_a_source_outside_the_policy_since_is_refused(wharf, wharf_paths, shared):
    """The policy is checked again at start: a source moved out of it is refused."""
    b = wharf("create", "-v", f"{shared}/victim:/data", "busybox", "true").stdout.strip()
    set_host_config(wharf_paths, allowed_bind_paths=["/var/tmp/elsewhere"])
    proc = wharf("start", b, check=False)
    assert proc.returncode != 0 and "outside the host paths" in proc.stderr


def test_starts_racing_a_swap_mount_the_victim_or_nothing(wharf, wharf_paths, shared, canary):
    """A swaps dir and symlink in a loop while B starts again and again.

    Every start either fails (a symlink was met) or mounts a real directory
    of A's (busybox ``mv`` into an existing directory nests them, so which one
    varies), whatever the timing: never the canary.
    """
    # B is made while the victim is still a directory: the race is at start, not here
    b = wharf(
        "create",
        "-v",
        f"{shared}/victim:/data",
        "busybox",
        "sh",
        "-c",
        "ls /data; echo pwned > /data/pwned",
    ).stdout.strip()
    swapper = wharf(
        "run",
        "-d",
        "-v",
        f"{shared}:/shared",
        "busybox",
        "sh",
        "-c",
        f"ln -s {canary} /shared/link; "
        "while :; do mv /shared/victim /shared/real; mv /shared/link /shared/victim; "
        "mv /shared/victim /shared/link; mv /shared/real /shared/victim; done",
    ).stdout.strip()
    for _ in range(40):
        proc = wharf("start", "-a", b, check=False)
        if proc.returncode == 0:
            assert "canary" not in proc.stdout.split(), proc.stdout
        else:
            assert "bind source" in proc.stderr, proc.stderr
    wharf("rm", "-f", swapper)
    _assert_untouched(canary)
    assert _staging_mounts(wharf_paths) == []


def test_staging_mounts_go_after_every_start(wharf, wharf_paths, shared):
    c = wharf("run", "-d", "-v", f"{shared}/victim:/data", "busybox", "sleep", "30").stdout.strip()
    assert wharf("exec", c, "cat", "/data/marker").stdout == "the victim's own\n"
    assert _staging_mounts(wharf_paths) == []
    assert not os.listdir(wharf_paths.run / "bindsrc")
