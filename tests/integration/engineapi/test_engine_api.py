"""The Docker Engine API on a Wharf root, driven by clients nobody here wrote: Debian's
``docker`` CLI and docker-py, with only DOCKER_HOST pointing at Wharf's socket."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest


def test_version_negotiates_the_api(docker) -> None:
    out = docker("version", "--format", "{{.Server.APIVersion}} {{.Client.APIVersion}}").stdout
    assert out.split() == ["1.41", "1.41"]


def test_info_counts_the_roots_images(docker) -> None:
    assert docker("info", "--format", "{{.Images}}").stdout.strip() == "1"


def test_run_detached_ps_logs_stop_rm(docker, wharf) -> None:
    cid = docker(
        "run", "-d", "--name", "api1", "busybox", "sh", "-c", "echo out; echo err >&2; sleep 60"
    ).stdout.strip()
    # the wharf CLI sees the container the API made
    assert wharf("ps", "-q", "--no-trunc").stdout.split() == [cid]
    assert docker("ps", "--format", "{{.Names}} {{.State}}").stdout.split() == ["api1", "running"]
    import time

    deadline = time.monotonic() + 15
    while "out" not in (logs := docker("logs", "api1")).stdout or "err" not in logs.stderr:
        assert time.monotonic() < deadline, "the container never logged"
        time.sleep(0.1)
    assert logs.stdout == "out\n"  # stderr apart: the stream framing was kept
    assert logs.stderr == "err\n"
    docker("stop", "-t", "1", "api1")
    assert wharf("inspect", "-f", "{{.State.Status}}", cid).stdout.strip() == "exited"
    docker("rm", "api1")
    assert wharf("ps", "-aq").stdout == ""


def test_run_attached_returns_the_exit_code(docker) -> None:
    proc = docker("run", "--name", "api2", "busybox", "sh", "-c", "echo hi; exit 3", check=False)
    assert (proc.stdout, proc.returncode) == ("hi\n", 3)


def test_run_rm_leaves_nothing(docker, wharf) -> None:
    proc = docker("run", "--rm", "busybox", "sh", "-c", "echo bye; exit 2", check=False)
    assert (proc.stdout, proc.returncode) == ("bye\n", 2)
    assert wharf("ps", "-aq").stdout == ""


def test_errors_have_dockers_status(docker) -> None:
    proc = docker("stop", "nosuch", check=False)
    assert proc.returncode == 1
    assert "nosuch" in proc.stderr


def test_docker_py_containers_run(client, wharf) -> None:
    out = client.containers.run("busybox", ["echo", "from docker-py"], name="api3")
    assert out == b"from docker-py\n"
    c = client.containers.get("api3")
    assert c.status == "exited"
    assert wharf("inspect", "-f", "{{.State.ExitCode}}", "api3").stdout.strip() == "0"
    c.remove()
    assert wharf("ps", "-aq").stdout == ""


def test_logs_asked_before_a_remove_still_read_after_it(client, wharf) -> None:
    """docker-py's ``containers.run(remove=True)`` asks for the logs, waits, removes the
    container, then reads the answer: the log read at the ask must still be there."""
    c = client.containers.run("busybox", ["echo", "still here"], detach=True)
    assert c.wait()["StatusCode"] == 0
    stream = c.logs(stream=True, follow=True)  # the answer's head is in, its body not read
    c.remove()
    assert wharf("ps", "-aq").stdout == ""
    assert b"".join(stream) == b"still here\n"
    for follow in (True, False):
        with pytest.raises(Exception, match="No such container") as info:
            client.api.logs("nosuch", stream=True, follow=follow)
        assert info.value.response.status_code == 404


def test_exec_runs_in_the_container_with_its_exit_code(docker, client) -> None:
    docker("run", "-d", "--name", "api4", "busybox", "sleep", "60")
    proc = docker("exec", "api4", "sh", "-c", "echo in; echo oops >&2; exit 5", check=False)
    assert (proc.stdout, proc.stderr, proc.returncode) == ("in\n", "oops\n", 5)
    proc = docker("exec", "-i", "api4", "cat", check=False)
    assert proc.returncode == 0
    code, out = client.containers.get("api4").exec_run(["cat", "/etc/hostname"])
    assert code == 0 and out.strip()
    docker("rm", "-f", "api4")


def test_images_list_inspect_tag_rmi(docker, wharf) -> None:
    assert docker("images", "--format", "{{.Repository}}:{{.Tag}}").stdout.split() == [
        "busybox:latest"
    ]
    docker("tag", "busybox", "example.test/team/box:v1")
    assert (
        "example.test/team/box:v1" in wharf("images", "--format", "{{.Repository}}:{{.Tag}}").stdout
    )
    image_id = docker(
        "image", "inspect", "-f", "{{.Id}}", "example.test/team/box:v1"
    ).stdout.strip()
    assert image_id == wharf("image", "inspect", "-f", "{{.Id}}", "busybox").stdout.strip()
    assert "Untagged: example.test/team/box:v1" in docker("rmi", "example.test/team/box:v1").stdout
    proc = docker("image", "inspect", "nosuch:image", check=False)
    assert proc.returncode == 1 and "nosuch" in proc.stderr.lower()


def test_networks_and_volumes(docker, wharf) -> None:
    docker("network", "create", "apinet")
    docker("volume", "create", "apivol")
    assert "apinet" in wharf("network", "ls", "--format", "{{.Name}}").stdout.split()
    assert wharf("volume", "ls", "-q").stdout.split() == ["apivol"]
    docker(
        "run",
        "-d",
        "--name",
        "srv",
        "--network",
        "apinet",
        "-v",
        "apivol:/data",
        "busybox",
        "sh",
        "-c",
        "echo kept > /data/f; sleep 60",
    )
    out = docker("run", "--rm", "--network", "apinet", "busybox", "ping", "-c1", "srv").stdout
    assert "1 packets received" in out
    assert docker("volume", "inspect", "-f", "{{.Name}}", "apivol").stdout.strip() == "apivol"
    assert "apinet" in docker("network", "ls", "--format", "{{.Name}}").stdout.split()
    docker("rm", "-f", "srv")
    docker("volume", "rm", "apivol")
    docker("network", "rm", "apinet")
    assert wharf("volume", "ls", "-q").stdout == ""


COMPOSE_FILE = """\
version: "3"
services:
  web:
    image: busybox
    command: sh -c "echo hello > /www/index.html; httpd -f -p 80 -h /www"
    ports: ["{port}:80"]
    volumes: [data:/www]
  client:
    image: busybox
    command: sh -c "until wget -qO- http://web/; do sleep 0.2; done; sleep 60"
volumes:
  data:
"""


def test_docker_compose_up_ps_logs_down(docker_host, docker, wharf, tmp_path) -> None:
    import socket
    import time
    import urllib.request

    binary = shutil.which("docker-compose")
    if binary is None:
        pytest.fail("docker-compose is missing: apt-get install docker-compose", pytrace=False)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    (tmp_path / "docker-compose.yml").write_text(COMPOSE_FILE.format(port=port))
    project = f"wh{os.getpid()}"
    env = {**os.environ, "DOCKER_HOST": docker_host}

    def compose(*args: str) -> subprocess.CompletedProcess:
        proc = subprocess.run(
            [binary, "-p", project, *args],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert proc.returncode == 0, f"docker-compose {' '.join(args)}: {proc.stderr}"
        return proc

    compose("up", "-d")
    try:
        assert "Up" in compose("ps").stdout
        deadline = time.monotonic() + 30
        while "hello" not in compose("logs", "client").stdout:  # web reached by its name
            assert time.monotonic() < deadline, "the client never reached web by name"
            time.sleep(0.2)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=10) as reply:
            assert reply.read() == b"hello\n"  # the published port, on the named volume
    finally:
        compose("down", "-v")
    assert wharf("ps", "-aq").stdout == ""
    assert wharf("volume", "ls", "-q").stdout == ""
    assert f"{project}_default" not in wharf("network", "ls", "--format", "{{.Name}}").stdout


def test_pull_from_a_local_registry(docker, wharf) -> None:
    sys_path = str(Path(__file__).resolve().parents[1] / "images")
    sys.path.insert(0, sys_path)
    from image_registries import RealRegistry

    workdir = Path(tempfile.mkdtemp(prefix="wharf-engineapi-registry-"))
    reg = RealRegistry(workdir, "none")
    try:
        ref = f"{reg.host}/team/box:v1"
        wharf("tag", "busybox", ref)
        wharf("push", ref)
        wharf("rmi", ref)
        out = docker("pull", ref).stdout
        assert ref in out
        assert docker("image", "inspect", "-f", "{{.Id}}", ref).stdout.strip() == (
            wharf("image", "inspect", "-f", "{{.Id}}", "busybox").stdout.strip()
        )
        proc = docker("pull", f"{reg.host}/team/nosuch:v1", check=False)
        assert proc.returncode == 1 and "nosuch" in proc.stderr
    finally:
        reg.stop()
        shutil.rmtree(workdir, ignore_errors=True)


def test_docker_commit_with_changes(docker, client, wharf) -> None:
    docker("run", "-d", "--name", "tocommit", "busybox", "sh", "-c", "echo made > /made; sleep 60")
    import time

    deadline = time.monotonic() + 15
    while docker("exec", "tocommit", "cat", "/made", check=False).returncode != 0:
        assert time.monotonic() < deadline, "the container never wrote /made"
        time.sleep(0.1)
    image_id = docker(
        "commit", "-m", "by the API", "-a", "tester", "-c", "ENV MADE=yes",
        "-c", 'CMD ["cat", "/made"]', "tocommit", "committed:1",
    ).stdout.strip()  # fmt: skip
    assert image_id.startswith("sha256:")
    assert docker("run", "--rm", "committed:1").stdout == "made\n"
    assert "MADE=yes" in docker("inspect", "-f", "{{.Config.Env}}", "committed:1").stdout
    assert wharf("image", "inspect", "-f", "{{.Comment}} {{.Author}}", "committed:1").stdout == (
        "by the API tester\n"
    )
    committed = client.containers.get("tocommit").commit("committed", "2", changes="LABEL x=y")
    assert committed.labels.get("x") == "y"
    assert docker("commit", "nosuch", check=False).returncode == 1
    docker("rm", "-f", "tocommit")
