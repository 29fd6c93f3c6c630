"""Build the starter image ``busybox:latest`` from Debian's busybox-static.

No registry is needed: the rootfs is /bin/busybox, a symlink for each of its
applets (``busybox --list-full``), a minimal /etc/passwd and /etc/group (root,
a user 1000, nobody 65534) and the usual top-level dirs. Every timestamp is the
binary's mtime, so the same busybox gives the same image id on every host.

    python -m runtime.images.starter [--root DIR] [--tag busybox:latest]
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import os
import subprocess
import tarfile
from pathlib import Path
from typing import BinaryIO

from runtime.errors import HostError

BUSYBOX = Path("/bin/busybox")
PATH_ENV = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

_DIRS = {
    "bin": 0o755,
    "dev": 0o755,
    "etc": 0o755,
    "home": 0o755,
    "home/user": 0o755,
    "proc": 0o555,
    "root": 0o700,
    "sbin": 0o755,
    "sys": 0o555,
    "tmp": 0o1777,
    "usr": 0o755,
    "usr/bin": 0o755,
    "usr/sbin": 0o755,
    "var": 0o755,
    "var/tmp": 0o1777,
}
_FILES = {
    "etc/passwd": "root:x:0:0:root:/root:/bin/sh\n"
    "user:x:1000:1000:user:/home/user:/bin/sh\n"
    "nobody:x:65534:65534:nobody:/nonexistent:/bin/false\n",
    "etc/group": "root:x:0:\nuser:x:1000:\nnogroup:x:65534:\n",
    "etc/hostname": "localhost\n",
}


def _busybox() -> Path:
    if not BUSYBOX.is_file():
        raise HostError(f"{BUSYBOX} is missing: install Debian's busybox-static")
    return BUSYBOX


def applets() -> list[str]:
    """Return the applet paths busybox offers (``bin/sh``, ``usr/bin/awk``, ...)."""
    out = subprocess.run(
        [str(_busybox()), "--list-full"], capture_output=True, text=True, check=True
    ).stdout
    return sorted({line.strip().lstrip("/") for line in out.splitlines() if line.strip()})


def build_rootfs_tar(out: BinaryIO) -> int:
    """Write the starter rootfs as a plain tar; return the mtime used for every entry."""
    binary = _busybox()
    mtime = int(binary.stat().st_mtime)

    def info(name: str, kind: bytes, mode: int) -> tarfile.TarInfo:
        ti = tarfile.TarInfo(name)
        ti.type, ti.mode, ti.mtime = kind, mode, mtime
        ti.uname = ti.gname = ""
        if name == "home/user":
            ti.uid = ti.gid = 1000
        return ti

    with tarfile.open(fileobj=out, mode="w|", format=tarfile.PAX_FORMAT) as tar:
        for name, mode in sorted(_DIRS.items()):
            tar.addfile(info(name, tarfile.DIRTYPE, mode))
        bb = info("bin/busybox", tarfile.REGTYPE, 0o755)
        bb.size = binary.stat().st_size
        with open(binary, "rb") as f:
            tar.addfile(bb, f)
        for name, text in sorted(_FILES.items()):
            data = text.encode()
            ti = info(name, tarfile.REGTYPE, 0o644)
            ti.size = len(data)
            tar.addfile(ti, io.BytesIO(data))
        for applet in applets():
            if applet == "bin/busybox" or applet.split("/", 1)[0] not in ("bin", "sbin", "usr"):
                continue
            link = info(applet, tarfile.SYMTYPE, 0o777)
            link.linkname = "/bin/busybox"
            tar.addfile(link)
    return mtime


def install(store, ref: str = "busybox:latest", tar_path: Path | None = None):  # noqa: ANN001
    """Import the starter image into ``store`` (an ImageStore) under ``ref``; return it."""
    if tar_path is None:
        buf = io.BytesIO()
        mtime = build_rootfs_tar(buf)
        buf.seek(0)
        source: BinaryIO = buf
    else:
        mtime = int(_busybox().stat().st_mtime)
        source = open(tar_path, "rb")  # noqa: SIM115 - closed below
    created = dt.datetime.fromtimestamp(mtime, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    try:
        return store.import_rootfs(
            source,
            ref,
            config={"Env": [PATH_ENV], "Cmd": ["sh"]},
            created=created,
            created_by="wharf starter image from Debian busybox-static",
        )
    finally:
        source.close()


def main(argv: list[str] | None = None) -> int:
    """Import busybox:latest into the store of this host (or of --root)."""
    from runtime import Runtime

    parser = argparse.ArgumentParser(prog="python -m runtime.images.starter")
    parser.add_argument("--root", help="Wharf root (default $WHARF_ROOT or /var/lib/wharf)")
    parser.add_argument("--tag", default="busybox:latest")
    args = parser.parse_args(argv)
    with Runtime(args.root or os.environ.get("WHARF_ROOT")) as rt:
        image = install(rt.images, args.tag)
    print(f"{args.tag} {image.id}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
