"""References normalise like Docker's."""

from __future__ import annotations

import pytest

from runtime.errors import InvalidArgument
from runtime.images.reference import is_image_id, parse_reference


@pytest.mark.parametrize(
    "text,domain,path,tag,digest,familiar",
    [
        ("busybox", "docker.io", "library/busybox", "latest", None, "busybox:latest"),
        ("busybox:1.36", "docker.io", "library/busybox", "1.36", None, "busybox:1.36"),
        ("user/app", "docker.io", "user/app", "latest", None, "user/app:latest"),
        ("docker.io/library/busybox:x", "docker.io", "library/busybox", "x", None, "busybox:x"),
        ("localhost/app", "localhost", "app", "latest", None, "localhost/app:latest"),
        ("127.0.0.1:5000/a/b:t", "127.0.0.1:5000", "a/b", "t", None, "127.0.0.1:5000/a/b:t"),
        (
            "reg.example.com/x@sha256:" + "a" * 64,
            "reg.example.com",
            "x",
            None,
            "sha256:" + "a" * 64,
            "reg.example.com/x@sha256:" + "a" * 64,
        ),
    ],
)
def test_it_parses_docker_references(text, domain, path, tag, digest, familiar):
    ref = parse_reference(text)
    assert (ref.domain, ref.path, ref.tag, ref.digest) == (domain, path, tag, digest)
    assert str(ref) == familiar


def test_docker_hub_uses_its_registry_host():
    assert parse_reference("busybox").registry_host == "registry-1.docker.io"
    assert parse_reference("127.0.0.1:5000/x").registry_host == "127.0.0.1:5000"


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "Upper",
        "x/Upper",
        "a:b:c",
        "x@sha256:short",
        "-lead",
        "a//b",
        " spaced",
        "busybox:lat\u0435st",  # a Cyrillic "е" that looks like latest
        "busyb\u043ex",  # a Cyrillic "о" in the name
        "b\u0663:1",  # an Arabic-Indic digit
        "busybox:latest\n",
        "busybox\n:latest",
        "x@sha256:" + "a" * 64 + "\n",
        "localhost:99999/x",
        "localhost:0/x",
        "reg.ex\u0430mple.com/x",
        "a" * 256,
    ],
)
def test_it_refuses_malformed_references(bad):
    with pytest.raises(InvalidArgument, match="invalid reference format"):
        parse_reference(bad)


def test_image_id_prefixes():
    assert is_image_id("8fc013db3a18") and is_image_id("sha256:" + "a" * 64)
    assert not is_image_id("busybox") and not is_image_id("ab")


def test_the_longest_name_and_the_highest_port_pass():
    assert parse_reference("localhost:65535/x").domain == "localhost:65535"
    assert parse_reference("a" * 255).path == "library/" + "a" * 255
