"""Clients nobody here wrote, pointed at a test root's Engine API socket: Debian's
``docker`` CLI and docker-py, with only DOCKER_HOST (and an empty config) set."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
from collections.abc import Callable, Iterator

import pytest


@pytest.fixture
def docker_host(wharf: Callable[..., subprocess.CompletedProcess]) -> str:
    """``unix://`` address of the test root's Engine API socket (``wharf system api-socket``)."""
    path = wharf("system", "api-socket").stdout.strip()
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o660
    return f"unix://{path}"


@pytest.fixture
def docker(docker_host: str) -> Callable[..., subprocess.CompletedProcess]:
    """Run Debian's ``docker`` CLI against the test root."""
    binary = shutil.which("docker")
    if binary is None:
        pytest.fail("the docker CLI is missing: apt-get install docker.io", pytrace=False)
    env = {**os.environ, "DOCKER_HOST": docker_host, "DOCKER_CONFIG": "/nonexistent-wharf"}

    def run(*args: str, check: bool = True, timeout: float = 60) -> subprocess.CompletedProcess:
        proc = subprocess.run(
            [binary, *args], env=env, capture_output=True, text=True, timeout=timeout
        )
        if check and proc.returncode != 0:
            raise AssertionError(f"docker {' '.join(args)} exited {proc.returncode}: {proc.stderr}")
        return proc

    return run


@pytest.fixture
def client(docker_host: str) -> Iterator:
    try:
        import docker as docker_py
    except ImportError:
        pytest.fail("docker-py is missing: pip install docker", pytrace=False)
    c = docker_py.DockerClient(base_url=docker_host, version="auto")
    yield c
    c.close()
