"""Challenges parse like Docker's; plain HTTP only where Docker allows it."""

from __future__ import annotations

from pathlib import Path

from runtime.config import Paths
from runtime.images.auth import parse_challenge


def test_it_parses_a_bearer_challenge():
    c = parse_challenge(
        'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",'
        'scope="repository:library/busybox:pull"'
    )
    assert c.scheme == "bearer"
    assert c.params == {
        "realm": "https://auth.docker.io/token",
        "service": "registry.docker.io",
        "scope": "repository:library/busybox:pull",
    }
    assert parse_challenge('Basic realm="Registry Realm"').scheme == "basic"
    assert parse_challenge("") is None


def test_plain_http_only_for_loopback_and_configured_registries(tmp_path: Path):
    from runtime.images.registry import is_insecure

    (tmp_path / "config.json").write_text(
        '{"insecure_registries": ["reg.lan:5000", "10.1.0.0/16"]}'
    )
    paths = Paths.from_env(tmp_path, tmp_path / "run")
    assert is_insecure("localhost:5000", paths) and is_insecure("127.0.0.5:80", paths)
    assert is_insecure("reg.lan:5000", paths) and is_insecure("10.1.2.3:5000", paths)
    assert not is_insecure("reg.lan:5001", paths) and not is_insecure("docker.io", paths)
    assert not is_insecure("10.2.0.1:5000", paths)
