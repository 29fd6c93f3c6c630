"""``cp -L`` follows the source link (inside the container's root only) and ``cp -a``
keeps owners, both ways, as Docker's cp does."""

from __future__ import annotations

import os
from pathlib import Path


def test_follow_link_copies_the_target_under_the_links_name(wharf, tmp_path: Path):
    canary = tmp_path / "host-canary"
    canary.write_text("HOST\n")
    wharf(
        "run", "--name", "box", "--network", "none", "busybox", "sh", "-c",
        f"echo inside > /target.txt; ln -s /target.txt /link; ln -s ../../../..{canary} /esc",
    )  # fmt: skip
    wharf("cp", "box:/link", str(tmp_path / "plain"))
    assert os.readlink(tmp_path / "plain") == "/target.txt", "without -L a link stays a link"
    wharf("cp", "-L", "box:/link", str(tmp_path / "followed"))
    followed = tmp_path / "followed"
    assert not followed.is_symlink() and followed.read_text() == "inside\n"
    (tmp_path / "into").mkdir()
    wharf("cp", "--follow-link", "box:/link", str(tmp_path / "into"))
    assert (tmp_path / "into" / "link").read_text() == "inside\n"
    # the link leads to the container's own path of that name, which is not there
    r = wharf("cp", "-L", "box:/esc", str(tmp_path / "escaped"), check=False)
    assert r.returncode != 0 and r.stderr == "Error: No such container:path: box:/esc\n"
    assert not os.path.lexists(tmp_path / "escaped") and canary.read_text() == "HOST\n"


def test_follow_link_on_the_host_side(wharf, tmp_path: Path):
    (tmp_path / "real.txt").write_text("from host\n")
    (tmp_path / "ln").symlink_to(tmp_path / "real.txt")
    cid = wharf("run", "-d", "--network", "none", "busybox", "sleep", "60").stdout.strip()
    wharf("cp", "-L", str(tmp_path / "ln"), f"{cid}:/copied")
    assert wharf("exec", cid, "cat", "/copied").stdout == "from host\n"
    wharf("rm", "-f", cid)


def test_archive_keeps_owners_both_ways(wharf, tmp_path: Path):
    wharf(
        "run", "--name", "own", "--network", "none", "busybox", "sh", "-c",
        "mkdir /d; echo x > /d/f; chown -R 1234:5678 /d",
    )  # fmt: skip
    wharf("cp", "-a", "own:/d", str(tmp_path / "kept"))
    for p in (tmp_path / "kept", tmp_path / "kept" / "f"):
        assert (p.stat().st_uid, p.stat().st_gid) == (1234, 5678), p
    wharf("cp", "own:/d", str(tmp_path / "plain"))
    assert (tmp_path / "plain" / "f").stat().st_uid == 0, "without -a the copier owns the copy"

    host = tmp_path / "h.txt"
    host.write_text("h\n")
    os.chown(host, 4321, 8765)
    cid = wharf("run", "-d", "--network", "none", "busybox", "sleep", "60").stdout.strip()
    wharf("cp", "-a", str(host), f"{cid}:/kept.txt")
    wharf("cp", str(host), f"{cid}:/plain.txt")
    r = wharf("exec", cid, "stat", "-c", "%n %u:%g", "/kept.txt", "/plain.txt")
    assert r.stdout.splitlines() == ["/kept.txt 4321:8765", "/plain.txt 0:0"]
    wharf("rm", "-f", cid)
