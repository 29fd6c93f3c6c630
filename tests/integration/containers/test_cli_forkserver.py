"""The ``wharf`` script through the warm fork server behaves as the in-process CLI does.

The other CLI tests run ``runtime.cli.main`` in-process; these run the console
script's module (``runtime.cli.entry``), which hands commands to the server.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]


@pytest.fixture
def entry(wharf, wharf_paths):
    """Run ``wharf ARGS`` the way a user does (console script module), with a server up."""
    env = dict(wharf.env)
    env.pop("WHARF_FORKSERVER", None)

    def run(*args: str, check: bool = True, **kw) -> subprocess.CompletedProcess:
        kw.setdefault("cwd", REPO)
        proc = subprocess.run(
            [sys.executable, "-m", "runtime.cli.entry", *args],
            env=kw.pop("env", env),
            capture_output=True,
            text=True,
            timeout=60,
            **kw,
        )
        if check and proc.returncode != 0:
            raise AssertionError(f"wharf {' '.join(args)} exited {proc.returncode}: {proc.stderr}")
        return proc

    run.env = env  # type: ignore[attr-defined]
    run("ps")  # in-process; starts the server for the next calls
    sock = wharf_paths.run / "cli.sock"
    deadline = time.monotonic() + 30
    while not sock.exists():
        if time.monotonic() > deadline:
            log = (wharf_paths.run / "forkserver.log").read_text(errors="replace")
            raise AssertionError(f"the fork server never came up: {log[-2000:]}")
        time.sleep(0.05)
    return run


def server_pid(paths) -> int:
    return int((paths.run / "forkserver.pid").read_text())


def children_of(pid: int) -> list[int]:
    out = []
    for p in os.listdir("/proc"):
        if p.isdigit():
            try:
                stat = Path(f"/proc/{p}/stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                out.append(int(p))
    return out


def test_output_input_and_exit_codes_pass_through(entry):
    assert entry("run", "--rm", "busybox", "echo", "hello").stdout == "hello\n"
    assert entry("run", "--rm", "-i", "busybox", "cat", input="piped in\n").stdout == "piped in\n"
    assert entry("run", "--rm", "busybox", "sh", "-c", "exit 7", check=False).returncode == 7
    missing = entry("run", "--rm", "busybox", "nosuch", check=False)
    assert missing.returncode == 127 and "nosuch" in missing.stderr
    usage = entry("run", "--no-such-flag", "busybox", check=False)
    assert usage.returncode == 125
    assert usage.stderr == "unknown flag: --no-such-flag\nSee 'wharf run --help'.\n"


def test_the_callers_directory_and_environment_are_used(entry, tmp_path):
    (tmp_path / "vars.env").write_text("FROM_FILE=yes\n")
    env = dict(entry.env, FROM_CALLER="also")
    out = entry(
        "run",
        "--rm",
        "--env-file",
        "vars.env",
        "-e",
        "FROM_CALLER",
        "busybox",
        "env",
        cwd=tmp_path,
        env=env,
    ).stdout
    assert "FROM_FILE=yes" in out and "FROM_CALLER=also" in out


def test_a_command_runs_in_a_child_of_the_server_and_ctrl_c_reaches_it(entry, wharf, wharf_paths):
    cid = wharf("run", "-d", "busybox", "sh", "-c", "while true; do echo tick; sleep 0.2; done")
    cid = cid.stdout.strip()
    server = server_pid(wharf_paths)
    before = set(children_of(server))
    client = subprocess.Popen(
        [sys.executable, "-m", "runtime.cli.entry", "logs", "-f", cid],
        cwd=REPO,
        env=entry.env,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert client.stdout.readline() == "tick\n"
    (child,) = set(children_of(server)) - before  # the command runs in the server's child
    client.send_signal(signal.SIGINT)
    assert client.wait(timeout=10) == 130
    deadline = time.monotonic() + 10
    while Path(f"/proc/{child}").exists() and child in children_of(server):
        assert time.monotonic() < deadline, "the command outlived Ctrl-C"
        time.sleep(0.05)


def test_a_killed_client_takes_its_command_with_it(entry, wharf, wharf_paths):
    cid = wharf("run", "-d", "busybox", "sleep", "60").stdout.strip()
    server = server_pid(wharf_paths)
    before = set(children_of(server))
    client = subprocess.Popen(
        [sys.executable, "-m", "runtime.cli.entry", "wait", cid], cwd=REPO, env=entry.env
    )
    deadline = time.monotonic() + 10
    while not set(children_of(server)) - before:
        assert time.monotonic() < deadline, "no child of the server runs the command"
        time.sleep(0.02)
    (child,) = set(children_of(server)) - before
    client.kill()
    client.wait()
    deadline = time.monotonic() + 10
    while child in children_of(server):
        assert time.monotonic() < deadline, "the command outlived its killed client"
        time.sleep(0.05)
    assert wharf("inspect", "-f", "{{.State.Running}}", cid).stdout.strip() == "true"


def test_new_code_on_disk_replaces_the_server(wharf, wharf_paths, tmp_path):
    """A server whose code changed on disk steps down. The change is made to a copy of the
    package the test's server runs from: touching the checkout's own would replace every
    other test's server, which run meanwhile (tests run in parallel)."""
    checkout = tmp_path / "checkout"
    shutil.copytree(
        REPO / "runtime", checkout / "runtime", ignore=shutil.ignore_patterns("__pycache__")
    )
    env = dict(wharf.env, PYTHONPATH=str(checkout))
    env.pop("WHARF_FORKSERVER", None)

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "runtime.cli.entry", *args],
            cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60, check=True,
        )  # fmt: skip

    run("ps")  # starts the copy's server
    deadline = time.monotonic() + 30
    while not (wharf_paths.run / "cli.sock").exists():
        assert time.monotonic() < deadline, "the fork server never came up"
        time.sleep(0.05)
    old = server_pid(wharf_paths)
    assert _environ_paths(old) == [str(checkout)], "not the copy's server"
    source = checkout / "runtime" / "cli" / "entry.py"
    st = source.stat()
    os.utime(source, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))
    assert run("run", "--rm", "busybox", "echo", "still right").stdout == "still right\n"
    deadline = time.monotonic() + 30
    while Path(f"/proc/{old}").exists() and Path(f"/proc/{old}/stat").read_text().split()[2] != "Z":
        assert time.monotonic() < deadline, "the stale server did not exit"
        time.sleep(0.05)


def _environ_paths(pid: int) -> list[str]:
    """The PYTHONPATH a process was started with."""
    env = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    return [e.decode().partition("=")[2] for e in env if e.startswith(b"PYTHONPATH=")]


def test_a_client_ended_by_sigterm_ends_quietly(entry, wharf):
    cid = wharf("run", "-d", "busybox", "sh", "-c", "while :; do echo line; sleep 0.2; done")
    cid = cid.stdout.strip()
    for args in (["logs", "-f", cid], ["wait", cid], ["events"]):
        for module in ("runtime.cli.entry", "runtime.cli.main"):  # fork server and in-process
            env = dict(entry.env) if module.endswith("entry") else wharf.env
            proc = subprocess.Popen(
                [sys.executable, "-m", module, *args],
                cwd=REPO,
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                text=True,
            )
            time.sleep(1.5)  # let it get going (its output is not what is checked)
            proc.send_signal(signal.SIGTERM)
            _, err = proc.communicate(timeout=30)
            assert (proc.returncode, err) in ((143, ""), (-15, "")), (module, args, err)
