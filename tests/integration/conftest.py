"""Fixtures for tests that need root and the real kernel.

These tests never skip: without root or a kernel feature they fail with a
message saying what is missing (a skipped integration test in CI would hide a
broken host).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from runtime import Runtime
from runtime.config import Paths


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/integration" in str(item.fspath):
            item.add_marker(pytest.mark.root)


@pytest.fixture(autouse=True)
def _needs_root() -> None:
    if os.geteuid() != 0:
        pytest.fail("integration tests need root: run them with sudo ./scripts/test.sh", pytrace=False)


@pytest.fixture
def wharf_paths() -> Iterator[Paths]:
    """A fresh, isolated Wharf host: its own root and run directories."""
    base = Path(tempfile.mkdtemp(prefix="wharf-test-", dir="/var/tmp"))
    paths = Paths.from_env(base / "root", base / "run")
    paths.ensure()
    yield paths
    shutil.rmtree(base, ignore_errors=True)


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
