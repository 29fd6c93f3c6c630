"""commit (upper dir → layer, deletions as whiteouts, --change), export, cp."""

from __future__ import annotations

import json
import tarfile


def test_commit_round_trip_with_changes_and_deletions(wharf):
    cid = wharf(
        "run",
        "--name",
        "src",
        "busybox",
        "sh",
        "-c",
        "echo data > /hello.txt; rm /bin/vi; mkdir -p /opt/x && echo y > /opt/x/f",
    ).stdout
    assert cid == ""
    image_id = wharf(
        "commit",
        "-m",
        "my change",
        "-c",
        "ENV FOO=bar",
        "-c",
        'CMD ["cat", "/hello.txt"]',
        "src",
        "mine:v1",
    ).stdout.strip()
    assert image_id.startswith("sha256:")
    assert wharf("run", "--rm", "mine:v1").stdout == "data\n"
    out = wharf(
        "run",
        "--rm",
        "mine:v1",
        "sh",
        "-c",
        "echo $FOO; test -e /bin/vi && echo vi || echo no-vi; cat /opt/x/f",
    )
    assert out.stdout.split() == ["bar", "no-vi", "y"]
    info = json.loads(wharf("inspect", "mine:v1").stdout)[0]
    assert info["Config"]["Cmd"] == ["cat", "/hello.txt"]


def test_commit_of_a_running_container(wharf, wait_log):
    cid = wharf(
        "run", "-d", "busybox", "sh", "-c", "echo live > /state; echo ready; sleep 60"
    ).stdout.strip()
    wait_log(cid)
    wharf("commit", cid, "snap:1")
    assert json.loads(wharf("inspect", cid).stdout)[0]["State"]["Status"] == "running"
    assert wharf("run", "--rm", "snap:1", "cat", "/state").stdout == "live\n"


def test_export_and_cp_both_ways(wharf, tmp_path):
    wharf(
        "run",
        "--name",
        "box",
        "busybox",
        "sh",
        "-c",
        "echo inside > /made.txt; mkdir /d; echo q > /d/q",
    )
    tar_path = tmp_path / "fs.tar"
    wharf("export", "-o", str(tar_path), "box")
    with tarfile.open(tar_path) as tar:
        names = tar.getnames()
        assert "made.txt" in names and "bin/busybox" in names
    wharf("cp", "box:/made.txt", str(tmp_path / "out.txt"))
    assert (tmp_path / "out.txt").read_text() == "inside\n"
    wharf("cp", "box:/d", str(tmp_path))
    assert (tmp_path / "d" / "q").read_text() == "q\n"
    (tmp_path / "in.txt").write_text("from host\n")
    wharf("cp", str(tmp_path / "in.txt"), "box:/tmp/")
    wharf("start", "-a", "box")  # re-runs its command; the copied file is there afterwards
    cid = wharf("run", "-d", "busybox", "sleep", "30").stdout.strip()
    wharf("cp", str(tmp_path / "in.txt"), f"{cid}:/in.txt")
    assert wharf("exec", cid, "cat", "/in.txt").stdout == "from host\n"
    escape = wharf("cp", str(tmp_path / "in.txt"), f"{cid}:/../../../../tmp/escaped-{cid[:8]}")
    assert escape.returncode == 0
    assert not (tmp_path.parent / f"escaped-{cid[:8]}").exists()
    assert wharf("exec", cid, "cat", f"/tmp/escaped-{cid[:8]}").stdout == "from host\n"


def test_cp_with_tar_streams_both_ways(wharf, tmp_path, wait_log):
    import io
    import subprocess
    import sys
    from pathlib import Path

    repo = Path(__file__).resolve().parents[3]
    cid = wharf(
        "run", "-d", "busybox", "sh", "-c", "mkdir /data; echo one > /data/a; echo ready; sleep 60"
    ).stdout.strip()
    wait_log(cid)
    out = subprocess.run(
        [sys.executable, "-m", "runtime.cli.main", "cp", f"{cid}:/data", "-"],
        cwd=repo,
        env=wharf.env,
        capture_output=True,
        check=True,
    ).stdout
    with tarfile.open(fileobj=io.BytesIO(out)) as tar:
        assert sorted(tar.getnames()) == ["data", "data/a"]
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        info = tarfile.TarInfo("new.txt")
        info.size = 3
        tar.addfile(info, io.BytesIO(b"hey"))
    subprocess.run(
        [sys.executable, "-m", "runtime.cli.main", "cp", "-", f"{cid}:/tmp"],
        cwd=repo,
        env=wharf.env,
        input=buf.getvalue(),
        check=True,
    )
    assert wharf("exec", cid, "cat", "/tmp/new.txt").stdout == "hey"
    evil = io.BytesIO()
    with tarfile.open(fileobj=evil, mode="w") as tar:
        info = tarfile.TarInfo("../../../../../../tmp/wharf-escape")
        info.size = 1
        tar.addfile(info, io.BytesIO(b"x"))
    bad = subprocess.run(
        [sys.executable, "-m", "runtime.cli.main", "cp", "-", f"{cid}:/tmp"],
        cwd=repo,
        env=wharf.env,
        input=evil.getvalue(),
        capture_output=True,
    )
    assert bad.returncode == 1 and b"refusing" in bad.stderr
    assert not Path("/tmp/wharf-escape").exists()


def test_commit_leaves_out_the_mount_points_wharf_binds(wharf, wharf_paths):
    wharf("run", "--name", "c1", "busybox", "sh", "-c", "echo x > /made")
    upper = (
        wharf_paths.root
        / "containers"
        / json.loads(wharf("inspect", "c1").stdout)[0]["Id"]
        / "upper"
    )
    names = {p.relative_to(upper).as_posix() for p in upper.rglob("*")}
    assert names == {"made"}
