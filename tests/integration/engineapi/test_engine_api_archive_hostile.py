"""``PUT /containers/{id}/archive`` with a hostile tar, through docker-py: names with
``..``, absolute names, a link then a write through it, hard links out of the
container, device nodes, a sparse entry declaring a terabyte, and a directory the
container swaps for a link to the host while archives keep arriving. Every refusal
is a 400 with one message; the host canary never changes.

(``test_engine_api_archive.py`` covers links the container planted before a copy;
this file covers what the tar itself carries, and the race.)
"""

from __future__ import annotations

import io
import os
import tarfile
import time
from pathlib import Path

import pytest

from tests.integration.hostile import sparse_entry as _sparse
from tests.integration.hostile import tar_entry as _entry

CANARY_TEXT = "host canary\n"


@pytest.fixture
def canary(tmp_path: Path) -> Path:
    """A host directory holding one file no archive may reach."""
    top = tmp_path / "canary"
    top.mkdir()
    (top / "payload").write_text(CANARY_TEXT)
    return top


def _canary_state(top: Path) -> list[tuple]:
    return [
        (p.name, p.is_symlink(), p.read_text() if p.is_file() else None, p.stat().st_nlink)
        for p in sorted(top.iterdir())
    ]


def _tar(*entries: tuple) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for info, data in entries:
            tar.addfile(info, io.BytesIO(data) if data is not None else None)
    return buf.getvalue()


def _hostile(canary: Path) -> dict[str, tuple[bytes, str]]:
    payload = str(canary / "payload")
    return {
        "dotdot": (_tar(_entry(f"../../../../../../..{payload}")), "outside"),
        "dotdot-inside-a-name": (_tar(_entry(f"a/../../../../../../../..{payload}")), "outside"),
        "absolute-link-then-write": (
            _tar(_entry("l", "symlink", linkname=str(canary)), _entry("l/payload")),
            "absolute",
        ),
        "climbing-link-then-write": (
            _tar(_entry("l", "symlink", linkname="../" * 12), _entry(f"l{payload}")),
            "outside",
        ),
        "hardlink-to-a-host-path": (_tar(_entry("h", "link", linkname=payload)), "absolute"),
        "hardlink-climbing-out": (
            _tar(_entry("h", "link", linkname="../" * 12 + payload.lstrip("/"))),
            "outside",
        ),
        "char-device": (_tar(_entry("mem", "chr", devmajor=1, devminor=1)), "special"),
        "block-device": (_tar(_entry("sda", "blk", devmajor=8, devminor=0)), "special"),
        "fifo": (_tar(_entry("pipe", "fifo")), "special"),
        "sparse-terabyte": (_tar(_sparse("big", 1 << 40)), "sparse"),
        "the-destination-as-a-file": (_tar(_entry(".", data=b"x")), "not a directory"),
    }


CASES = sorted(_hostile(Path("/x")))


@pytest.mark.parametrize("case", CASES)
def test_put_archive_refuses_a_hostile_tar(client, docker, canary: Path, case: str) -> None:
    import docker as docker_py

    before = _canary_state(canary)
    docker("run", "-d", "--name", "target", "busybox", "sleep", "300")
    c = client.containers.get("target")
    docker("exec", "target", "mkdir", "-p", "/drop")
    body, match = _hostile(canary)[case]
    started = time.monotonic()
    with pytest.raises(docker_py.errors.APIError) as info:
        c.put_archive("/drop", body)
    assert time.monotonic() - started < 20
    assert info.value.status_code == 400, info.value
    assert match in info.value.explanation.lower(), info.value.explanation
    assert "\n" not in info.value.explanation.strip()
    assert _canary_state(canary) == before
    # nothing but what came before the refused entry: the container's /drop is empty
    listing = docker("exec", "target", "ls", "-A", "/drop").stdout
    assert listing == "", listing


def test_an_absolute_name_lands_inside_the_container(client, docker, canary: Path) -> None:
    """``/host/canary/payload`` is the container's own path of that name, as Docker."""
    before = _canary_state(canary)
    docker("run", "-d", "--name", "target", "busybox", "sleep", "300")
    c = client.containers.get("target")
    assert c.put_archive("/", _tar(_entry(str(canary / "payload"))))
    assert docker("exec", "target", "cat", str(canary / "payload")).stdout == "ATTACK\n"
    assert _canary_state(canary) == before


def test_a_hardlink_to_a_planted_link_links_the_link(client, docker, canary: Path) -> None:
    """The container plants ``/drop/l -> host canary``; a tar hard-linking ``h`` to ``l``
    makes a second name of the link itself, never of the host file."""
    before = _canary_state(canary)
    docker(
        "run", "-d", "--name", "target", "busybox", "sh", "-c",
        f"mkdir /drop && ln -s {canary}/payload /drop/l && sleep 300",
    )  # fmt: skip
    c = client.containers.get("target")
    deadline = time.monotonic() + 10
    while docker("exec", "target", "test", "-L", "/drop/l", check=False).returncode:
        assert time.monotonic() < deadline, "the link never appeared"
        time.sleep(0.05)
    c.put_archive("/drop", _tar(_entry("h", "link", linkname="l"), _entry("h", data=b"W\n")))
    assert _canary_state(canary) == before


def test_put_archive_while_the_container_swaps_the_dir_for_a_host_link(
    client, docker, canary: Path
) -> None:
    """The container swaps ``/drop/d`` between its own directory and a link to the host
    canary as fast as it can while 60 archives write ``d/payload``: each lands in the
    container's directory (or at the container's own path of the canary), never the host."""
    before = _canary_state(canary)
    docker(
        "run", "-d", "--name", "swapper", "busybox", "sh", "-c",
        f"mkdir -p /drop/d.real /drop/hostlink.d && ln -s {canary} /drop/hostlink"
        " && mv /drop/d.real /drop/d && touch /ready"
        " && while true; do mv /drop/d /drop/d.real; mv /drop/hostlink /drop/d;"
        " mv /drop/d /drop/hostlink; mv /drop/d.real /drop/d; done",
    )  # fmt: skip
    deadline = time.monotonic() + 10
    while docker("exec", "swapper", "test", "-e", "/ready", check=False).returncode:
        assert time.monotonic() < deadline, "the swapper never started"
        time.sleep(0.05)
    c = client.containers.get("swapper")
    import docker as docker_py

    landed = 0
    for n in range(60):
        body = _tar(
            _entry("d", "dir", mode=0o755), _entry("d/payload", data=f"ATTACK {n}\n".encode())
        )
        try:
            landed += bool(c.put_archive("/drop", body))
        except docker_py.errors.APIError as exc:
            # the directory is a link to a path the container lacks (not found), or the
            # container moved a directory in where the link was being replaced (conflict)
            assert exc.status_code in (400, 404, 409), exc.explanation
        assert _canary_state(canary) == before, f"archive {n} reached the host"
    assert landed > 0
    assert os.listdir(canary) == ["payload"]
