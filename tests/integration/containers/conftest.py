"""Fixtures for container tests: the ``wharf`` CLI bound to the test's isolated host."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from runtime.config import Paths

REPO = Path(__file__).resolve().parents[3]


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


@pytest.fixture(autouse=True)
def _remove_leftover_containers(wharf_paths: Paths) -> Iterator[None]:
    """Kill and remove whatever a test left, so no shim or mount outlives its host."""
    yield
    from runtime import Runtime

    with Runtime(wharf_paths.root, wharf_paths.run) as rt:
        for c in rt.containers.list(all=True):
            rt.containers.remove(c.id, force=True)
