"""Calling the host agent, and starting it when it is not running."""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from runtime.agent.protocol import encode, raise_reply, socket_path
from runtime.config import Paths
from runtime.errors import HostError

START_TIMEOUT = 20.0
CALL_TIMEOUT = 60.0


def _connect(paths: Paths) -> socket.socket | None:
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        s.connect(str(socket_path(paths)))
    except OSError:
        s.close()
        return None
    return s


#: one open connection to each agent per process, reused call after call
_conns: dict[str, socket.socket] = {}
_conns_lock = threading.Lock()


def call(paths: Paths, op: str, **args: Any) -> Any:
    """Run one operation in the agent of this root (started if needed) and return its result."""
    key = str(socket_path(paths))
    with _conns_lock:
        s = _conns.pop(key, None)
        if s is not None:
            try:
                reply = _exchange(s, op, args)
            except (OSError, HostError):
                s.close()  # the agent restarted since: ask the new one (ops are idempotent)
                s = None
        attempts = 3  # an agent starting while another one is taking over may drop us
        while s is None:
            attempts -= 1
            s = _connect(paths) or _start(paths)
            try:
                reply = _exchange(s, op, args)
            except OSError:
                s.close()
                s = None
                if not attempts:
                    raise
            except BaseException:
                s.close()
                raise
        _conns[key] = s
    return raise_reply(reply)


def _exchange(s: socket.socket, op: str, args: dict) -> dict:
    s.settimeout(CALL_TIMEOUT)
    s.sendall(encode({"op": op, "args": args}))
    data = b""
    while not data.endswith(b"\n"):
        chunk = s.recv(65536)
        if not chunk:
            raise HostError(f"host agent closed the connection during {op}")
        data += chunk
    return json.loads(data)


def running(paths: Paths) -> bool:
    s = _connect(paths)
    if s is None:
        return False
    s.close()
    return True


def stop(paths: Paths) -> None:
    """Stop this root's background processes (agent, fork server) and wait for them."""
    with _conns_lock:
        cached = _conns.pop(str(socket_path(paths)), None)
    if cached is not None:
        cached.close()
    s = _connect(paths)
    if s is not None:
        with s:
            s.sendall(encode({"op": "shutdown", "args": {}}))
            with contextlib.suppress(OSError):
                s.recv(1024)
        wait_gone(paths.run / "agent.pid")
    with contextlib.suppress(OSError, ValueError):
        pid_file = paths.run / "forkserver.pid"
        os.kill(int(pid_file.read_text()), signal.SIGTERM)
        wait_gone(pid_file)


def wait_gone(pid_file: Path, timeout: float = 10.0) -> None:
    """Wait until the process in ``pid_file`` is gone (or a zombie of ours)."""
    with contextlib.suppress(OSError, ValueError):
        pid = int(pid_file.read_text())
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            stat = Path(f"/proc/{pid}/stat").read_text()
            if stat.rsplit(")", 1)[1].split()[0] == "Z":
                return
            time.sleep(0.025)


def _start(paths: Paths) -> socket.socket:
    """Start the agent detached in its own session, once (under a lock), and connect to it."""
    paths.ensure()
    with open(paths.run / "agent.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        s = _connect(paths)
        if s is not None:
            return s
        log = open(paths.run / "agent.log", "ab")  # noqa: SIM115 - handed to the child
        # the agent runs this very code (a checkout's, not whatever the venv installed)
        code = str(Path(__file__).resolve().parents[2])
        env = {
            **os.environ,
            "WHARF_ROOT": str(paths.root),
            "WHARF_RUN": str(paths.run),
            "PYTHONPATH": os.pathsep.join(filter(None, [code, os.environ.get("PYTHONPATH")])),
        }
        proc = subprocess.Popen(
            [sys.executable, "-m", "runtime.agent"],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
            env=env,
            cwd="/",
            start_new_session=True,
        )
        log.close()
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            s = _connect(paths)
            if s is not None:
                return s
            if proc.poll() is not None:
                tail = (paths.run / "agent.log").read_text(errors="replace").strip()
                raise HostError(
                    f"host agent exited with code {proc.returncode}: "
                    f"{tail.splitlines()[-1] if tail else 'no output'}"
                )
            time.sleep(0.01)
        proc.kill()
        raise HostError(f"host agent did not start within {START_TIMEOUT:.0f} s")
