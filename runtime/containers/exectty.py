"""Run one more process in a container on a terminal of its own (``exec -t``).

runc hands a new pty's master over ``--console-socket`` only when it detaches,
and a detached process is re-parented to the nearest child subreaper. So a
small helper process (this module run with ``python -m``) becomes a subreaper,
starts ``runc exec -d --tty``, passes the master to its caller over a socket
pair, waits for the process and sends its exit status — the caller itself
never has to adopt orphans.
"""

from __future__ import annotations

import ctypes
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

PR_SET_CHILD_SUBREAPER = 36


class TtyExec:
    """A process running on its own pty: ``master`` is the pty, ``wait()`` its exit code."""

    def __init__(self, master: int, channel: socket.socket, helper: subprocess.Popen) -> None:
        self.master = master
        self._channel = channel
        self._helper = helper
        #: called once with the exit code (the exec_die event)
        self.on_exit: Callable[[int], None] | None = None

    def wait(self, timeout: float | None = None) -> int:
        self._channel.settimeout(timeout)
        data = b""
        while not data.endswith(b"\n"):
            chunk = self._channel.recv(64)
            if not chunk:
                break
            data += chunk
        self._channel.close()
        self._helper.wait()
        code = int(data.strip() or 255)
        if self.on_exit is not None:
            self.on_exit(code)
            self.on_exit = None
        return code


def start(argv_prefix: list[str], process: dict, ctr_id: str) -> TtyExec:
    """Start the helper; ``argv_prefix`` is the runtime with its ``--root``."""
    ours, theirs = socket.socketpair()
    request = json.dumps({"runtime": argv_prefix, "process": process, "id": ctr_id})
    helper = subprocess.Popen(
        [sys.executable, "-m", "runtime.containers.exectty", str(theirs.fileno())],
        pass_fds=[theirs.fileno()],
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        cwd=str(Path(__file__).resolve().parents[2]),
    )
    theirs.close()
    assert helper.stdin is not None
    helper.stdin.write(request.encode())
    helper.stdin.close()
    msg, fds, _flags, _addr = socket.recv_fds(ours, 4096, 1)
    if not fds:
        helper.wait()
        err = helper.stderr.read().decode(errors="replace").strip() if helper.stderr else ""
        from runtime.oci.runc import classify_start_error

        raise classify_start_error(msg.decode(errors="replace") or err or "exec failed")
    return TtyExec(fds[0], ours, helper)


def _helper(channel_fd: int) -> int:
    channel = socket.socket(fileno=channel_fd)
    request = json.loads(sys.stdin.read())
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    tmp = Path(tempfile.mkdtemp(prefix="wharf-tty-", dir="/tmp"))  # unix paths: 108 bytes
    try:
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        listener.bind(str(tmp / "s"))
        listener.listen(1)
        (tmp / "p.json").write_text(json.dumps(request["process"]))
        proc = subprocess.run(
            [
                *request["runtime"],
                "exec",
                "-d",
                "--tty",
                "--console-socket",
                str(tmp / "s"),
                "--pid-file",
                str(tmp / "pid"),
                "--process",
                str(tmp / "p.json"),
                request["id"],
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        if proc.returncode != 0:
            lines = proc.stderr.decode(errors="replace").strip().splitlines()
            channel.sendall((lines[-1] if lines else "exec failed").encode())
            return 1
        listener.settimeout(10)
        conn, _ = listener.accept()
        with conn:
            _msg, fds, _f, _a = socket.recv_fds(conn, 4096, 1)
        pid = int((tmp / "pid").read_text())
    finally:
        import shutil

        shutil.rmtree(tmp, ignore_errors=True)
    socket.send_fds(channel, [b"ok"], fds)
    for fd in fds:
        os.close(fd)
    while True:
        try:
            _, status = os.waitpid(pid, 0)
            break
        except ChildProcessError:  # not ours after all: poll until it is gone
            time.sleep(0.1)
            if not os.path.exists(f"/proc/{pid}"):
                status = 255 << 8
                break
    code = os.waitstatus_to_exitcode(status)
    channel.sendall(f"{code if code >= 0 else 128 - code}\n".encode())
    return 0


if __name__ == "__main__":
    sys.exit(_helper(int(sys.argv[1])))
