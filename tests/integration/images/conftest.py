"""Fixtures of the image tests: real registries (helpers live in ``image_helpers``)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from image_registries import RealRegistry  # noqa: E402

from runtime import Runtime  # noqa: E402


def _start(tmp_path: Path, auth: str) -> Iterator[RealRegistry]:
    workdir = tmp_path / f"registry-{auth}"
    workdir.mkdir()
    reg = RealRegistry(workdir, auth)
    try:
        yield reg
    finally:
        reg.stop()


@pytest.fixture
def registry(tmp_path: Path) -> Iterator[RealRegistry]:
    """An open docker-registry on 127.0.0.1."""
    yield from _start(tmp_path, "none")


@pytest.fixture
def htpasswd_registry(tmp_path: Path) -> Iterator[RealRegistry]:
    """A docker-registry wanting basic auth (user alice, password s3cret)."""
    yield from _start(tmp_path, "htpasswd")


@pytest.fixture
def token_registry(tmp_path: Path) -> Iterator[RealRegistry]:
    """A docker-registry wanting bearer tokens from the tests' token server."""
    yield from _start(tmp_path, "token")


@pytest.fixture
def other_rt(tmp_path: Path) -> Iterator[Runtime]:
    """A second, separate Wharf host (its own root)."""
    with Runtime(tmp_path / "other-root", tmp_path / "other-run") as runtime:
        yield runtime
