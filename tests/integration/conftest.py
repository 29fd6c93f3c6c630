"""Fixtures for tests that need root and the real kernel.

These tests never skip: without root or a kernel feature they fail with a
message saying what is missing (a skipped integration test in CI would hide a
broken host).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from runtime import Runtime
from runtime.config import Paths
from tests.hosttags import claim_tag, release_tag

REPO = Path(__file__).resolve().parents[2]


def own_container_cgroups(paths: Paths) -> list[str]:
    """Return the cgroup dirs (v1 or v2 layout) of every container this root ever made.

    The cgroup tree is the machine's: other roots' containers come and go in it
    while a test runs, so a leak check looks only at this root's, known by the
    ``create`` events in its log (a create undone half-way has one too).
    """
    from runtime.containers.cgroups import container_cgroups

    with Runtime(paths.root, paths.run) as rt:
        ids = {e.actor_id for e in rt.events.replay(filters=["type=container", "event=create"])}
    return [str(p) for p in container_cgroups() if p.name in ids]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/integration" in str(item.fspath):
            item.add_marker(pytest.mark.root)


@pytest.fixture(autouse=True)
def _needs_root() -> None:
    if os.geteuid() != 0:
        pytest.fail(
            "integration tests need root: run them with sudo ./scripts/test.sh", pytrace=False
        )


def address_pool() -> dict[str, Any]:
    """This test process's own address pool for its hosts' networks.

    Tests run in parallel (pytest-xdist) and each test host picks its subnets
    before its bridges exist, so two hosts on Docker's shared pools could both
    take 172.17.0.0/16; each worker process gets a /16 of its own instead, away
    from the subnets tests name themselves (10.23x) and the e2e stack's hosts
    (Docker's pools).
    """
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw")
    n = int(worker[2:] or 99) if worker.startswith("gw") else 99
    return {"base": f"10.{100 + n}.0.0/16", "size": 24}


def set_host_config(paths: Paths, **settings: Any) -> None:
    """Put ``settings`` into the test host's config file, keeping what is there
    (its address pool among them)."""
    path = paths.root / "config.json"
    config = json.loads(path.read_text()) if path.exists() else {}
    config.update(settings)
    path.write_text(json.dumps(config))


@pytest.fixture
def wharf_paths() -> Iterator[Paths]:
    """A fresh, isolated Wharf host: its own root and run directories."""
    while True:  # a root whose host tag no live root has (tests/hosttags.py)
        base = Path(tempfile.mkdtemp(prefix="wharf-test-", dir="/var/tmp"))
        if claim_tag(base / "root"):
            break
        shutil.rmtree(base)
    paths = Paths.from_env(base / "root", base / "run")
    paths.ensure()
    set_host_config(paths, default_address_pools=[address_pool()])
    yield paths
    try:
        release_host_network(paths)
    finally:
        shutil.rmtree(base, ignore_errors=True)
        release_tag(base / "root")


def release_host_network(paths: Paths) -> None:
    """Take this test host's bridges, namespaces and nftables table off the machine.

    Every test root is a host of its own (its own agent, bridge names and
    table): what it made must not outlive it, nor disturb the next test.
    """
    from runtime.agent import client

    if paths.db.exists():
        with Runtime(paths.root, paths.run) as runtime:
            for c in runtime.containers.list(all=True):
                runtime.containers.remove(c.id, force=True)
            if client.running(paths) or runtime.networks.firewall.exists():
                runtime.networks.reset()
    client.stop(paths)  # the agent and the fork server


@pytest.fixture
def rt(wharf_paths: Paths) -> Iterator[Runtime]:
    """A Runtime on a fresh isolated root."""
    with Runtime(wharf_paths.root, wharf_paths.run) as runtime:
        yield runtime


@pytest.fixture(scope="session")
def busybox_rootfs_tar(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The starter image's rootfs tar, built once per test session."""
    from runtime.images import starter

    path = tmp_path_factory.mktemp("busybox") / "rootfs.tar"
    with open(path, "wb") as out:
        starter.build_rootfs_tar(out)
    return path


@pytest.fixture
def busybox_image(rt: Runtime, busybox_rootfs_tar: Path):
    """``busybox:latest`` imported into the test's own store; returns the Image."""
    from runtime.images import starter

    return starter.install(rt.images, "busybox:latest", busybox_rootfs_tar)


@pytest.fixture
def wharf(
    wharf_paths: Paths, busybox_image
) -> Iterator[Callable[..., subprocess.CompletedProcess]]:
    """Run ``wharf ARGS`` against the test's host; returns the completed process (text)."""
    env = dict(os.environ, WHARF_ROOT=str(wharf_paths.root), WHARF_RUN=str(wharf_paths.run))

    def run(
        *args: str, check: bool = True, timeout: float = 60, **kw
    ) -> subprocess.CompletedProcess:
        proc = subprocess.run(
            [sys.executable, "-m", "runtime.cli.main", *args],
            cwd=REPO,
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
            **kw,
        )
        if check and proc.returncode != 0:
            raise AssertionError(f"wharf {' '.join(args)} exited {proc.returncode}: {proc.stderr}")
        return proc

    run.env = env  # type: ignore[attr-defined]
    return run


@pytest.fixture
def wait_log(wharf: Callable[..., subprocess.CompletedProcess]) -> Callable[..., None]:
    """Wait until a container's log holds a text (a script says "ready" once set up)."""
    import time

    def wait(cid: str, text: str = "ready", timeout: float = 15) -> None:
        deadline = time.monotonic() + timeout
        while text not in wharf("logs", cid).stdout:
            if time.monotonic() > deadline:
                raise AssertionError(f"container {cid[:12]} never logged {text!r}")
            time.sleep(0.05)

    return wait


def error_line(proc: subprocess.CompletedProcess) -> str:
    """The one error line of a failed wharf command, as Docker's client prints it.

    ``run``'s and ``create``'s own refusals are followed by Docker's hint
    (``See 'wharf run --help'.``), which is checked and left out.
    """
    lines = proc.stderr.strip().splitlines()
    verb = proc.args[3] if len(proc.args) > 3 else ""
    if len(lines) == 2 and verb in ("run", "create") and lines[0].startswith("wharf: "):
        assert lines[1] == f"See 'wharf {verb} --help'.", proc.stderr
        lines = lines[:1]
    assert len(lines) == 1, proc.stderr
    return lines[0]


@pytest.fixture
def terminal(wharf) -> Iterator[Callable[[], Any]]:
    """Real terminals (tmux, ``tests.integration.terminal``) on the test's host:
    ``terminal()`` opens one; every one is closed after the test."""
    from tests.integration.terminal import Terminal

    if shutil.which("tmux") is None:
        pytest.fail("these tests need tmux: apt-get install tmux (scripts/setup.sh does)")
    made: list[Terminal] = []

    def new() -> Terminal:
        made.append(Terminal(wharf.env))
        return made[-1]

    yield new
    for term in made:
        term.close()
