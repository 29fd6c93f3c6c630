"""The image verbs of ``wharf``, run as a user would, output checked like docker's."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tarfile
from pathlib import Path

from image_helpers import make_tar

REPO = Path(__file__).resolve().parents[3]


def wharf(rt, *args: str, input: bytes | None = None, check: bool = True):
    env = {
        **os.environ,
        "WHARF_ROOT": str(rt.paths.root),
        "WHARF_RUN": str(rt.paths.run),
        "PYTHONPATH": str(REPO),
    }
    done = subprocess.run(
        [sys.executable, "-m", "runtime.cli.main", *args],
        env=env,
        input=input,
        capture_output=True,
        timeout=120,
    )
    if check:
        assert done.returncode == 0, done.stderr.decode()
    return done


def out(done) -> str:
    return done.stdout.decode()


def test_images_table_json_tag_and_rmi(rt, busybox_image):
    lines = out(wharf(rt, "images")).splitlines()
    assert lines[0].split() == ["REPOSITORY", "TAG", "IMAGE", "ID", "CREATED", "SIZE"]
    assert lines[1].split()[:3] == ["busybox", "latest", busybox_image.short_id]
    wharf(rt, "tag", "busybox", "mine/box:v1")
    rows = [json.loads(line) for line in out(wharf(rt, "images", "--format", "json")).splitlines()]
    assert {(r["Repository"], r["Tag"]) for r in rows} == {
        ("busybox", "latest"),
        ("mine/box", "v1"),
    }
    assert out(wharf(rt, "image", "ls", "-q")).split() == [busybox_image.short_id]
    assert out(wharf(rt, "rmi", "mine/box:v1")).strip() == "Untagged: mine/box:v1"
    missing = wharf(rt, "rmi", "nothere", check=False)
    assert missing.returncode == 1 and b"No such image: nothere" in missing.stderr


def test_inspect_and_history(rt, busybox_image):
    (data,) = json.loads(out(wharf(rt, "image", "inspect", "busybox")))
    assert data["Id"] == busybox_image.id and data["RepoTags"] == ["busybox:latest"]
    assert data["RootFS"]["Layers"] == busybox_image.diff_ids and data["Config"]["Cmd"] == ["sh"]
    history = out(wharf(rt, "history", "busybox")).splitlines()
    assert history[0].split()[:2] == ["IMAGE", "CREATED"] and busybox_image.short_id in history[1]
    templated = out(
        wharf(rt, "image", "inspect", "--format", "{{.Id}} {{json .Config.Cmd}}", "busybox")
    )
    assert templated.strip() == f'{busybox_image.id} ["sh"]'
    listed = out(wharf(rt, "images", "--format", "{{.Repository}}:{{.Tag}} {{.ID}}"))
    assert listed.strip() == f"busybox:latest {busybox_image.short_id}"
    bad = wharf(rt, "image", "inspect", "nope", check=False)
    assert bad.returncode == 1 and json.loads(bad.stdout) == []


def test_import_with_changes_then_save_and_load(rt, other_rt, tmp_path):
    rootfs = tmp_path / "rootfs.tar.gz"
    rootfs.write_bytes(make_tar([("hello", "file", {"data": b"hi"})], "gzip"))
    image_id = out(
        wharf(
            rt,
            "import",
            "--change",
            'CMD ["cat", "/hello"]',
            "-c",
            "ENV GREETING=hi",
            "-m",
            "from a test",
            str(rootfs),
            "imported:1",
        )
    ).strip()
    (data,) = json.loads(out(wharf(rt, "image", "inspect", "imported:1")))
    assert data["Id"] == image_id and data["Comment"] == "from a test"
    assert data["Config"]["Cmd"] == ["cat", "/hello"] and data["Config"]["Env"] == ["GREETING=hi"]
    saved = tmp_path / "saved.tar"
    wharf(rt, "save", "-o", str(saved), "imported:1")
    with tarfile.open(saved) as tar:
        assert {"manifest.json", "index.json", "oci-layout"} <= set(tar.getnames())
    assert out(wharf(other_rt, "load", "-i", str(saved))).strip() == "Loaded image: imported:1"
    assert (
        out(wharf(other_rt, "load", input=saved.read_bytes())).strip() == "Loaded image: imported:1"
    )
    bad = wharf(rt, "import", str(tmp_path / "absent.tar"), check=False)
    assert bad.returncode == 1 and b"absent.tar" in bad.stderr  # Docker's client: 1


def test_pull_push_login_logout(rt, other_rt, busybox_image, htpasswd_registry):
    host = htpasswd_registry.host
    wharf(rt, "tag", "busybox", f"{host}/cli/bb:1")
    denied = wharf(rt, "push", f"{host}/cli/bb:1", check=False)
    assert denied.returncode == 1 and b"wharf login" in denied.stderr
    wrong = wharf(rt, "login", host, "-u", "alice", "--password-stdin", input=b"bad\n", check=False)
    assert wrong.returncode == 1 and b"failed" in wrong.stderr
    ok = wharf(rt, "login", host, "-u", "alice", "--password-stdin", input=b"s3cret\n")
    assert out(ok).strip() == "Login Succeeded"
    pushed = out(wharf(rt, "push", f"{host}/cli/bb:1"))
    assert "1: digest: sha256:" in pushed
    digest = pushed.split("digest: ")[1].split()[0]
    assert out(wharf(rt, "push", "-q", f"{host}/cli/bb:1")).strip() == digest
    assert out(wharf(rt, "logout", host)).strip() == f"Removing login credentials for {host}"
    wharf(other_rt, "login", host, "-u", "alice", "-p", "s3cret")
    pulled = out(wharf(other_rt, "pull", f"{host}/cli/bb:1"))
    assert f"Digest: {digest}" in pulled and pulled.strip().endswith(f"{host}/cli/bb:1")
    assert out(wharf(other_rt, "images", "--digests")).count(digest) == 1


def test_prune_removes_dangling_images(rt, busybox_image, tmp_path):
    upper = tmp_path / "u"
    upper.mkdir()
    (upper / "x").write_text("x")
    child = rt.images.commit(busybox_image, upper, {}, tags=["tmp:1"])
    rt.images.untag("tmp:1")
    pruned = out(wharf(rt, "image", "prune", "-f"))
    assert f"deleted: {child.id}" in pruned and "Total reclaimed space: 1B" in pruned
    assert out(wharf(rt, "images", "-q", "--filter", "dangling=true")).strip() == ""
