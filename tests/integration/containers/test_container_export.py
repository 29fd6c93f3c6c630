"""``export`` writes Docker's layout: relative names, lexical order, owner names, the
init layer's entries; nothing the container planted leads it outside its root."""

from __future__ import annotations

import subprocess
import tarfile
from pathlib import Path


def listing(tar_path: Path) -> list[str]:
    """The names as stored (GNU tar shows a directory's trailing slash)."""
    return subprocess.run(
        ["tar", "-tf", str(tar_path)], capture_output=True, text=True, check=True
    ).stdout.splitlines()


def test_export_is_dockers_layout(wharf, tmp_path: Path):
    wharf(
        "run", "--name", "box", "--network", "none", "busybox", "sh", "-c",
        "echo x > /made; chown 65534:65534 /made; ln -s /etc/shadow /planted",
    )  # fmt: skip
    out = tmp_path / "fs.tar"
    wharf("export", "-o", str(out), "box")
    names = listing(out)
    # Docker's first entries of a busybox export, and its init layer
    assert names[:2] == [".dockerenv", "bin/"]
    assert not [n for n in names if n.startswith(("./", "/")) or n in (".", "./")]
    for entry in ("dev/", "dev/console", "dev/pts/", "dev/shm/", "etc/mtab", "proc/", "sys/"):
        assert entry in names, entry
    assert names == sorted(names, key=lambda n: n.rstrip("/").split("/")), "lexical, dirs first"
    with tarfile.open(out) as tar:
        made = tar.getmember("made")
        assert (made.uid, made.gid, made.uname, made.gname) == (65534, 65534, "nobody", "nogroup")
        busybox = tar.getmember("bin/busybox")
        assert (busybox.uname, busybox.gname) == ("root", "root")
        mtab = tar.getmember("etc/mtab")
        assert mtab.issym() and mtab.linkname == "/proc/mounts"
        planted = tar.getmember("planted")  # archived as the link it is, never followed
        assert planted.issym() and planted.linkname == "/etc/shadow"
        assert tar.getmember(".dockerenv").size == 0
    verbose = subprocess.run(
        ["tar", "-tvf", str(out), "made"], capture_output=True, text=True, check=True
    ).stdout
    assert verbose.split()[:3] == ["-rw-r--r--", "nobody/nogroup", "2"]


def test_an_export_imports_back_and_runs(wharf, tmp_path: Path):
    wharf("run", "--name", "src", "--network", "none", "busybox", "sh", "-c", "echo kept > /k")
    out = tmp_path / "fs.tar"
    wharf("export", "-o", str(out), "src")
    wharf("import", "-c", 'CMD ["cat", "/k"]', str(out), "roundtrip:1")
    assert wharf("run", "--rm", "--network", "none", "roundtrip:1").stdout == "kept\n"
