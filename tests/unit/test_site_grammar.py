"""The site's grammar (webapp.jobs.grammar) and the engine's agree on the same inputs.

The site checks a job's parameters at enqueue without loading the engine, so
the grammar is written twice; here both read the same values. What the site
accepts the engine must accept (else a job fails on its host, late), and for
references, names and sizes they must agree exactly.
"""

from __future__ import annotations

import pytest

from runtime.containers.model import parse_size
from runtime.errors import WharfError
from runtime.images.reference import parse_reference
from runtime.network.ports import parse_publish
from runtime.volumes.specs import check_volume_name, parse_volume_flag
from webapp.jobs import grammar

REFERENCES = [
    "busybox",
    "busybox:latest",
    "library/busybox:1.36",
    "127.0.0.1:5000/team/app:v1",
    "localhost/app",
    "registry.example:70000/app",
    "Busybox",
    "busybox:latеst",  # a Cyrillic e
    "busybox:",
    " busybox",
    "busybox\n",
    "a" * 256,
    "app@sha256:" + "a" * 64,
    "app@sha256:" + "A" * 64,
    "[::1]:5000/app:1",
    "bad//path",
    "a/b/c:tag.with-dots_",
    "-leading",
]
PORTS = [
    "80",
    "8080:80",
    "127.0.0.1:8080:80/tcp",
    "127.0.0.1::80",
    "8000-8001:80-81",
    "8000:80-81",
    "0:80",
    "70000:80",
    "80/udp",
    "80/sctp",
    "80/TCP",
    "1.2.3:80:80",
    "[::1]:80:80",
    "a:b",
    "1:2:3:4",
    "",
    "8001-8000:80",
]
MOUNTS = [
    "data:/data",
    "data:/data:ro",
    "/anon",
    "data:relative",
    "data:/",
    "data:/proc/x",
    "data:/sys",
    "d:/x",
    "da ta:/x",
    "data:/x:rw",
    "data:/x:zz",
    "a:b:c:d",
]
SIZES = ["512m", "1g", "1024", "1.5k", "12q", "", "m", "10MB", "3gib"]


def _accepts(func, *args) -> bool:
    try:
        func(*args)
    except (ValueError, WharfError):
        return False
    return True


@pytest.mark.parametrize("text", REFERENCES)
def test_references_are_read_alike(text):
    assert _accepts(grammar.image_reference, text) == _accepts(parse_reference, text)


@pytest.mark.parametrize("text", PORTS)
def test_ports_are_read_alike(text):
    assert _accepts(grammar.port_spec, text) == _accepts(parse_publish, text)


@pytest.mark.parametrize("text", MOUNTS)
def test_a_mount_the_site_accepts_the_engine_takes_as_a_volume(text):
    if _accepts(grammar.mount_spec, text):
        request = parse_volume_flag(text)
        assert request.type == "volume"


def test_the_site_refuses_host_paths_the_engine_would_bind():
    for text in ("/etc:/x", "/:/host", "./here:/x", "~/x:/y"):
        with pytest.raises(ValueError, match="host path"):
            grammar.mount_spec(text)


@pytest.mark.parametrize("name", ["ab", "a", "a.b-c_d", "-a", "a b", "é1"])
def test_volume_names_are_read_alike(name):
    assert _accepts(grammar.volume_name, name) == _accepts(check_volume_name, name)


@pytest.mark.parametrize("text", SIZES)
def test_sizes_are_read_alike(text):
    site = _accepts(grammar.size, text)
    assert site == _accepts(parse_size, text, "size")
    if site:
        assert grammar.size(text) == parse_size(text, "size")
