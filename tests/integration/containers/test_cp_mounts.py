"""``cp`` reads and writes a container's volumes and binds, not the rootfs under them, as
``docker cp`` does — running or stopped — and stays confined inside each mount: a link the
container plants in a volume leads inside the volume, never to the host."""

from __future__ import annotations

import io
import os
import tarfile
from pathlib import Path

import pytest

from runtime.containers.copy import stat_path
from tests.integration.conftest import error_line


def _bind_dir(wharf, name: str) -> Path:
    """A directory where this host allows bind sources (its root's ``binds``)."""
    path = Path(wharf.env["WHARF_ROOT"]) / "binds" / name
    path.mkdir(parents=True)
    return path


def _volume_dir(wharf, name: str) -> Path:
    return Path(wharf("volume", "inspect", "-f", "{{.Mountpoint}}", name).stdout.strip())


def test_cp_into_and_out_of_a_volume_and_a_bind(wharf, tmp_path: Path) -> None:
    shared = _bind_dir(wharf, "shared")
    (shared / "from-host").write_text("bound\n")
    wharf(
        "run", "-d", "--name", "cpv", "-v", "cpdata:/data", "-v", f"{shared}:/srv/shared",
        "busybox", "sh", "-c", "echo inside > /data/made-inside; sleep 300",
    )  # fmt: skip
    src = tmp_path / "note.txt"
    src.write_text("from the host\n")
    wharf("cp", str(src), "cpv:/data/")
    assert (_volume_dir(wharf, "cpdata") / "note.txt").read_text() == "from the host\n"
    assert wharf("exec", "cpv", "cat", "/data/note.txt").stdout == "from the host\n"
    out = tmp_path / "out"
    out.mkdir()
    wharf("cp", "cpv:/data/made-inside", str(out))
    assert (out / "made-inside").read_text() == "inside\n"
    wharf("cp", "cpv:/srv/shared/from-host", str(out))
    assert (out / "from-host").read_text() == "bound\n"
    wharf("cp", str(src), "cpv:/srv/shared/")
    assert (shared / "note.txt").read_text() == "from the host\n"
    # the contents of a mount as a whole (``/.``) and a tar stream of it
    wharf("cp", "cpv:/data/.", str(tmp_path / "all"))
    assert sorted(os.listdir(tmp_path / "all")) == ["made-inside", "note.txt"]
    listing = wharf("cp", "cpv:/data", "-").stdout  # a tar of text files: readable as text
    assert "data/note.txt" in listing and "data/made-inside" in listing
    # stopped: the same mounts, as Docker's daemon mounts them for the copy
    wharf("stop", "-t", "0", "cpv")
    (tmp_path / "later.txt").write_text("while stopped\n")
    wharf("cp", str(tmp_path / "later.txt"), "cpv:/data/")
    assert (_volume_dir(wharf, "cpdata") / "later.txt").read_text() == "while stopped\n"
    wharf("rm", "cpv")
    wharf("volume", "rm", "cpdata")


def test_read_only_mounts_and_rootfs_refuse_writes(wharf, tmp_path: Path) -> None:
    ro = _bind_dir(wharf, "ro")
    wharf(
        "run", "-d", "--name", "cpro", "--read-only", "-v", "cprw:/rw", "-v", f"{ro}:/ro:ro",
        "busybox", "sleep", "300",
    )  # fmt: skip
    src = tmp_path / "f"
    src.write_text("x\n")
    proc = wharf("cp", str(src), "cpro:/ro/", check=False)
    assert proc.returncode != 0
    assert "mounted volume is marked read-only" in error_line(proc)
    assert os.listdir(ro) == []
    proc = wharf("cp", str(src), "cpro:/tmp/", check=False)
    assert proc.returncode != 0
    assert "container rootfs is marked read-only" in error_line(proc)
    wharf("cp", str(src), "cpro:/rw/")  # its volume stays writable, as in Docker
    assert wharf("exec", "cpro", "cat", "/rw/f").stdout == "x\n"
    wharf("rm", "-f", "cpro")
    wharf("volume", "rm", "cprw")


def test_a_link_planted_in_a_volume_stays_in_the_container(wharf, tmp_path: Path) -> None:
    """A link in a volume leads where it leads for the container: ``/`` and ``..`` from
    it are the container's, never the host's (the host path it names is looked up in
    the container, where it is missing)."""
    canary = tmp_path / "canary"
    canary.mkdir()
    (canary / "secret").write_text("HOST\n")
    before = sorted(os.listdir(canary))
    wharf(
        "run", "-d", "--name", "cpl", "-v", "cplinks:/data", "busybox", "sh", "-c",
        f"ln -s {canary} /data/abs; ln -s ../../../../../../../../{canary} /data/up; "
        "ln -s / /data/top; sleep 300",
    )  # fmt: skip
    deadline_ok = False
    for _ in range(100):
        if wharf("exec", "cpl", "test", "-L", "/data/top", check=False).returncode == 0:
            deadline_ok = True
            break
    assert deadline_ok, "the container never planted its links"
    src = tmp_path / "evil"
    src.write_text("EVIL\n")
    for target in ("cpl:/data/abs/", "cpl:/data/up/", "cpl:/data/top/"):
        wharf("cp", str(src), target, check=False)
    assert sorted(os.listdir(canary)) == before and (canary / "secret").read_text() == "HOST\n"
    proc = wharf("cp", "cpl:/data/abs/secret", str(tmp_path / "stolen"), check=False)
    assert proc.returncode != 0 and not (tmp_path / "stolen").exists()
    volume = _volume_dir(wharf, "cplinks")
    assert not (volume / "evil").exists()
    assert wharf("exec", "cpl", "cat", "/evil").stdout == "EVIL\n", (
        "/data/top/ is the container's /"
    )
    wharf("rm", "-f", "cpl")
    wharf("volume", "rm", "cplinks")


def test_links_lead_across_mounts_as_in_the_container(wharf, rt, tmp_path: Path) -> None:
    """``/link -> /data`` with a volume on ``/data`` is the volume, for a copy in or out
    and for the Engine API's linkTarget; a relative link out of a bind is the rootfs's
    (the container's ``..`` of the mount point), not the bind source's parent on the host."""
    shared = _bind_dir(wharf, "across")
    (shared.parent / "beside").write_text("HOST BESIDE\n")  # the bind source's host sibling
    wharf(
        "run", "-d", "--name", "cpx", "-v", "cpxdata:/data", "-v", f"{shared}:/srv/b",
        "busybox", "sh", "-c",
        "ln -s /data /link; ln -s data /rel; echo ROOTFS > /srv/beside;"
        " ln -s ../beside /srv/b/up; echo in-volume > /data/f; ln -s /data/f /file-link;"
        " echo ready; sleep 300",
    )  # fmt: skip
    for _ in range(200):
        if "ready" in wharf("logs", "cpx").stdout:
            break
    src = tmp_path / "note"
    src.write_text("through the link\n")
    wharf("cp", str(src), "cpx:/link/")
    wharf("cp", str(src), "cpx:/rel/again")
    volume = _volume_dir(wharf, "cpxdata")
    assert (volume / "note").read_text() == "through the link\n"
    assert (volume / "again").read_text() == "through the link\n"
    assert wharf("exec", "cpx", "cat", "/data/note").stdout == "through the link\n"
    out = tmp_path / "out"
    out.mkdir()
    wharf("cp", "cpx:/link/f", str(out / "f"))
    assert (out / "f").read_text() == "in-volume\n"
    wharf("cp", "-L", "cpx:/file-link", str(out / "followed"))
    assert (out / "followed").read_text() == "in-volume\n"
    wharf("cp", "cpx:/srv/b/up", str(out / "up"))  # the link itself, not followed
    assert os.readlink(out / "up") == "../beside"
    wharf("cp", "-L", "cpx:/srv/b/up", str(out / "beside"))
    assert (out / "beside").read_text() == "ROOTFS\n"  # the container's /srv/beside
    assert (shared.parent / "beside").read_text() == "HOST BESIDE\n"
    # HEAD /containers/{id}/archive: where each link finally leads, seen from the container
    targets = {p: stat_path(rt.containers, "cpx", p)[2] for p in ("/link", "/srv/b/up", "/rel")}
    assert targets == {"/link": "/data", "/srv/b/up": "/srv/beside", "/rel": "/data"}
    wharf("stop", "-t", "0", "cpx")  # stopped: the same view
    wharf("cp", "-L", "cpx:/file-link", str(out / "stopped"))
    assert (out / "stopped").read_text() == "in-volume\n"
    wharf("rm", "cpx")
    wharf("volume", "rm", "cpxdata")


def test_a_directory_holding_mounts_is_copied_with_their_contents(wharf, tmp_path: Path) -> None:
    """As Docker's: ``cp CTR:/srv`` takes the bind on ``/srv/b`` and the volume inside it,
    not the rootfs's empty mount points; ``docker export`` still leaves mounts out."""
    shared = _bind_dir(wharf, "held")
    (shared / "from-bind").write_text("bind\n")
    wharf(
        "run", "-d", "--name", "cph", "-v", f"{shared}:/srv/b", "-v", "cphvol:/srv/b/inner",
        "busybox", "sh", "-c", "echo vol > /srv/b/inner/v; echo root > /srv/r; echo ready; sleep 300",
    )  # fmt: skip
    for _ in range(200):
        if "ready" in wharf("logs", "cph").stdout:
            break
    out = tmp_path / "out"
    out.mkdir()
    wharf("cp", "cph:/srv", str(out))
    assert (out / "srv" / "r").read_text() == "root\n"
    assert (out / "srv" / "b" / "from-bind").read_text() == "bind\n"
    assert (out / "srv" / "b" / "inner" / "v").read_text() == "vol\n"
    wharf("cp", "cph:/srv/.", str(tmp_path / "contents"))
    assert (tmp_path / "contents" / "b" / "inner" / "v").read_text() == "vol\n"
    listing = wharf("cp", "cph:/srv", "-").stdout  # a tar of text files: readable as text
    assert "srv/b/from-bind" in listing and "srv/b/inner/v" in listing
    wharf("export", "-o", str(tmp_path / "fs.tar"), "cph")
    with tarfile.open(tmp_path / "fs.tar") as tar:
        names = set(tar.getnames())
    assert "srv/r" in names and "srv/b" in names and "srv/b/from-bind" not in names
    wharf("rm", "-f", "cph")
    wharf("volume", "rm", "cphvol")


def _wait_ready(wharf, name: str) -> None:
    for _ in range(200):
        if "ready" in wharf("logs", name).stdout:
            return
    raise AssertionError(f"container {name} never said it was ready")


def _tar(*entries: tuple[str, bytes | None]) -> io.BytesIO:
    """A tar of files (bytes) and directories (None), in the order given."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for name, data in entries:
            info = tarfile.TarInfo(name)
            if data is None:
                info.type, info.mode = tarfile.DIRTYPE, 0o755
                tar.addfile(info)
            else:
                info.size, info.mode = len(data), 0o644
                tar.addfile(info, io.BytesIO(data))
    buf.seek(0)
    return buf


def test_a_bind_whose_source_another_bind_turned_into_a_link_is_refused(
    wharf, rt, tmp_path: Path
) -> None:
    """Two binds, one source below the other's: the container renames the inner source
    through the outer bind and puts a link to a host directory in its place. cp must
    never follow that link on the host: reads, writes and archives of the inner bind are
    refused, the host directory (a canary) is untouched."""
    share = _bind_dir(wharf, "share")
    (share / "cfg").mkdir()
    (share / "cfg" / "app.conf").write_text("bound\n")
    canary = tmp_path / "host-only"
    canary.mkdir()
    (canary / "app.conf").write_text("HOST SECRET\n")
    before = sorted(os.listdir(canary))
    wharf(
        "run", "-d", "--name", "cpn", "-v", f"{share}:/share", "-v", f"{share}/cfg:/cfg",
        "busybox", "sh", "-c",
        f"mv /share/cfg /share/cfg.old && ln -s {canary} /share/cfg && echo ready; sleep 300",
    )  # fmt: skip
    _wait_ready(wharf, "cpn")
    assert (share / "cfg").is_symlink()  # the swap happened on the host
    out = tmp_path / "out"
    out.mkdir()
    proc = wharf("cp", "cpn:/cfg/app.conf", str(out), check=False)
    assert proc.returncode != 0 and "replaced by a symlink" in error_line(proc)
    assert os.listdir(out) == []
    src = tmp_path / "evil"
    src.write_text("EVIL\n")
    proc = wharf("cp", str(src), "cpn:/cfg/", check=False)
    assert proc.returncode != 0 and "replaced by a symlink" in error_line(proc)
    from runtime.containers.copy import tar_from, untar_to
    from runtime.errors import InvalidArgument

    with pytest.raises(InvalidArgument, match="replaced by a symlink"):
        untar_to(rt.containers, _tar(("evil", b"EVIL\n")), "cpn", "/cfg")
    with pytest.raises(InvalidArgument, match="replaced by a symlink"):
        tar_from(rt.containers, "cpn", "/cfg", io.BytesIO())
    assert sorted(os.listdir(canary)) == before
    assert (canary / "app.conf").read_text() == "HOST SECRET\n"
    # the container's own view is the original directory, still mounted
    assert wharf("exec", "cpn", "cat", "/cfg/app.conf").stdout == "bound\n"
    wharf("rm", "-f", "cpn")


def test_dot_dot_is_taken_lexically_as_docker_does(wharf, tmp_path: Path) -> None:
    """``cp CTR:/data/sub/.. OUT`` is ``cp CTR:/data OUT``: a directory named ``data``,
    never an entry named ``..`` written beside OUT."""
    wharf(
        "run", "-d", "--name", "cpd", "-v", "cpddata:/data", "busybox", "sh", "-c",
        "mkdir /data/sub && echo f > /data/f && echo ready; sleep 300",
    )  # fmt: skip
    _wait_ready(wharf, "cpd")
    out = tmp_path / "out"
    out.mkdir()
    beside = sorted(os.listdir(tmp_path))
    wharf("cp", "cpd:/data/sub/..", str(out))
    assert sorted(os.listdir(out)) == ["data"]
    assert (out / "data" / "f").read_text() == "f\n" and (out / "data" / "sub").is_dir()
    assert sorted(os.listdir(tmp_path)) == beside
    wharf("cp", "cpd:/data/sub/../.", str(tmp_path / "contents"))  # ``/.``: the contents
    assert sorted(os.listdir(tmp_path / "contents")) == ["f", "sub"]
    wharf("rm", "-f", "cpd")
    wharf("volume", "rm", "cpddata")


def test_a_file_bind_is_never_replaced(wharf, rt, tmp_path: Path) -> None:
    """As Docker (device or resource busy): a copy onto a file bound alone would replace
    the host's file (a new inode the container never sees); it is refused, the host file
    and what the container reads stay as they were."""
    conf = _bind_dir(wharf, "files") / "one.conf"
    conf.write_text("original\n")
    inode = conf.stat().st_ino
    wharf(
        "run", "-d", "--name", "cpf", "-v", f"{conf}:/etc/one.conf", "busybox",
        "sleep", "300",
    )  # fmt: skip
    src = tmp_path / "one.conf"
    src.write_text("replacement\n")
    proc = wharf("cp", str(src), "cpf:/etc/one.conf", check=False)
    assert proc.returncode != 0 and "is a mount point" in error_line(proc)
    proc = wharf("cp", str(src), "cpf:/etc/", check=False)  # into its directory, same name
    assert proc.returncode != 0 and "is a mount point" in error_line(proc)
    from runtime.containers.copy import untar_to
    from runtime.errors import Conflict

    with pytest.raises(Conflict, match="/etc/one.conf: it is a mount point"):
        untar_to(rt.containers, _tar(("one.conf", b"replacement\n")), "cpf", "/etc")
    assert conf.read_text() == "original\n" and conf.stat().st_ino == inode
    assert wharf("exec", "cpf", "cat", "/etc/one.conf").stdout == "original\n"
    out = tmp_path / "out"
    wharf("cp", "cpf:/etc/one.conf", str(out))  # reading it is fine
    assert out.read_text() == "original\n"
    wharf("rm", "-f", "cpf")


def test_a_copy_into_a_directory_holding_mounts_writes_into_them(wharf, rt, tmp_path: Path) -> None:
    """As Docker's (it mounts them for the copy): ``cp DIR/. CTR:/`` and an archive
    extracted at ``/`` put ``data/...`` in the volume on ``/data``, follow the
    container's links across mounts, and are refused by a read-only mount inside."""
    ro = _bind_dir(wharf, "ro-inside")
    wharf(
        "run", "-d", "--name", "cpi", "-v", "cpivol:/data", "-v", f"{ro}:/srv/ro:ro",
        "busybox", "sh", "-c", "ln -s /data /link && echo ready; sleep 300",
    )  # fmt: skip
    _wait_ready(wharf, "cpi")
    tree = tmp_path / "tree"
    (tree / "data" / "deep").mkdir(parents=True)
    (tree / "data" / "deep" / "new.txt").write_text("into the volume\n")
    (tree / "top.txt").write_text("rootfs\n")
    wharf("cp", f"{tree}/.", "cpi:/")
    volume = _volume_dir(wharf, "cpivol")
    assert (volume / "deep" / "new.txt").read_text() == "into the volume\n"
    assert wharf("exec", "cpi", "cat", "/data/deep/new.txt").stdout == "into the volume\n"
    assert wharf("exec", "cpi", "cat", "/top.txt").stdout == "rootfs\n"
    from runtime.containers.copy import untar_to
    from runtime.errors import ReadOnly

    untar_to(
        rt.containers,
        _tar(("data", None), ("data/t.txt", b"tar\n"), ("link/via.txt", b"via\n")),
        "cpi",
        "/",
    )
    assert (volume / "t.txt").read_text() == "tar\n"
    assert (volume / "via.txt").read_text() == "via\n"  # /link -> /data, the container's
    assert wharf("exec", "cpi", "cat", "/data/via.txt").stdout == "via\n"
    bad = tmp_path / "bad"
    (bad / "srv" / "ro").mkdir(parents=True)
    (bad / "srv" / "ro" / "x").write_text("x\n")
    proc = wharf("cp", f"{bad}/.", "cpi:/", check=False)
    assert proc.returncode != 0 and "read-only" in error_line(proc)
    with pytest.raises(ReadOnly):
        untar_to(rt.containers, _tar(("srv/ro/y", b"y\n")), "cpi", "/")
    assert os.listdir(ro) == []
    wharf("rm", "-f", "cpi")
    wharf("volume", "rm", "cpivol")
