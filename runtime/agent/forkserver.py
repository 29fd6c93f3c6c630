"""The fork server: a warm, single-threaded Python that runs ``wharf`` commands.

A ``wharf`` call spends more time starting Python and importing the runtime
(~100 ms here) than running a container. The fork server imports everything
once and waits on a root-only unix socket (``run/cli.sock``); the thin client
(``runtime.cli.entry``) sends it the command line, working directory,
environment and its own stdin/stdout/stderr (SCM_RIGHTS). For each command
the server forks; the child takes over those descriptors and runs the very
same ``runtime.cli.main.main`` a cold ``wharf`` runs, so both paths behave
alike by construction. The client forwards its signals to the child and exits
with the child's status.

It is single-threaded on purpose: forking a process with other threads can
copy a lock some thread holds. It exits when the code it loaded changes on
disk (it would run stale code), when its root or its code is removed, or on
SIGTERM.

The wire format is in ``runtime.cli.wire``.
"""

from __future__ import annotations

import array
import contextlib
import fcntl
import importlib
import os
import select
import signal
import socket
import struct
import sys
import threading
from pathlib import Path

from runtime.cli import wire
from runtime.config import Paths

#: what a command may need, imported once here instead of in every call
PRELOAD = (
    "runtime.cli.main",
    "runtime.containers.manager",
    "runtime.containers.inspect",
    "runtime.containers.logs",
    "runtime.images.store",
    "runtime.network.manager",
    "runtime.volumes",
    "runtime.oci.spec",
    "runtime.agent.client",
    "runtime.build.builder",
    "runtime.build.context",
    "runtime.images.registry",
    "runtime.images.archive",
    "sqlite3",
)
PACKAGE_DIR = Path(__file__).resolve().parents[1]


def socket_path(paths: Paths) -> Path:
    return paths.run / "cli.sock"


def code_fingerprint(package: Path = PACKAGE_DIR) -> tuple[int, int]:
    """(number of .py files, sum of their mtimes) of the runtime package: changes with the code."""
    count, total = 0, 0
    stack = [str(package)]
    while stack:
        with os.scandir(stack.pop()) as it:
            for entry in it:
                if entry.is_dir(follow_symlinks=False):
                    if entry.name != "__pycache__":
                        stack.append(entry.path)
                elif entry.name.endswith(".py"):
                    count += 1
                    total += entry.stat().st_mtime_ns
    return count, total


def recv_request(conn: socket.socket) -> tuple[dict, list[int]]:
    """Read one request (``runtime.cli.wire``) and the descriptors that came with it."""
    fds = array.array("i")
    data = b""
    want = wire.HEADER.size
    while len(data) < want:
        msg, ancdata, _flags, _addr = conn.recvmsg(65536, socket.CMSG_SPACE(3 * fds.itemsize))
        if not msg:
            raise ConnectionError("client went away before its request was complete")
        for level, kind, payload in ancdata:
            if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
                fds.frombytes(payload[: len(payload) - (len(payload) % fds.itemsize)])
        data += msg
        if len(data) >= wire.HEADER.size:
            want = wire.HEADER.size + wire.HEADER.unpack_from(data)[0]
            if want > wire.MAX_REQUEST:
                raise ValueError("request too large")
    return wire.decode_request(data[wire.HEADER.size : want]), list(fds)


def _send(conn: socket.socket, line: str) -> None:
    with contextlib.suppress(OSError):
        conn.sendall(line.encode() + b"\n")


def _run_child(conn: socket.socket, request: dict, fds: list[int]) -> int:
    """In the forked child: become the client's command and run it; return its exit code."""
    for sig in (signal.SIGCHLD, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    for target, fd in enumerate(fds[:3]):
        os.dup2(fd, target, inheritable=True)
    for fd in fds:
        if fd > 2:
            os.close(fd)
    os.chdir(request["cwd"])
    os.umask(int(request.get("umask", 0o022)))
    os.environ.clear()
    os.environ.update(request["env"])
    sys.stdin = open(0, closefd=False)  # noqa: SIM115 - the process's own stdio
    line = 1 if os.isatty(1) else -1  # as Python decides at start-up
    sys.stdout = open(1, "w", buffering=line, closefd=False)  # noqa: SIM115
    sys.stderr = open(2, "w", buffering=1, closefd=False, errors="backslashreplace")  # noqa: SIM115
    sys.argv = ["wharf", *request["argv"]]

    def hang_up_with_the_client() -> None:
        # the client never writes after its request: EOF means it is gone
        with contextlib.suppress(OSError):
            conn.recv(1)
        os.kill(os.getpid(), signal.SIGHUP)

    threading.Thread(target=hang_up_with_the_client, daemon=True).start()
    from runtime.cli.main import main

    try:
        code = main(request["argv"])
    except SystemExit as exc:  # argparse's usage errors
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except KeyboardInterrupt:
        code = 130
    except BaseException:
        import traceback

        traceback.print_exc()
        code = 1
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    return int(code or 0)


def serve(paths: Paths) -> None:
    """Accept commands until SIGTERM, a code change or the root's removal."""
    paths.ensure()
    lock = open(paths.run / "forkserver.lock", "w")  # noqa: SIM115 - held for life
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return  # another server runs or is starting
    for name in PRELOAD:
        importlib.import_module(name)
    from runtime.cli.main import warm_parsers

    warm_parsers()
    fingerprint = code_fingerprint()
    sock_path = socket_path(paths)
    with contextlib.suppress(FileNotFoundError):
        sock_path.unlink()  # we hold the lock: a file here is a dead server's
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    old_umask = os.umask(0o177)
    try:
        listener.bind(str(sock_path))
    finally:
        os.umask(old_umask)
    listener.listen(64)
    pid_file = paths.run / "forkserver.pid"
    pid_file.write_text(str(os.getpid()))
    stopping = False

    def stop(*_: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGCHLD, lambda *_: _reap())
    try:
        while not stopping and paths.root.is_dir() and PACKAGE_DIR.is_dir():
            try:
                ready, _, _ = select.select([listener], [], [], 2.0)
            except InterruptedError:
                continue
            if ready and not _serve_one(listener, fingerprint):
                break  # new code on disk: the next call starts a fresh server
    finally:
        for path in (sock_path, pid_file):
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
        listener.close()


def _serve_one(listener: socket.socket, fingerprint: tuple[int, int]) -> bool:
    """Fork a child for one command; False when this server's code is stale."""
    conn, _ = listener.accept()
    fds: list[int] = []
    try:
        uid = struct.unpack("3i", conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, 12))[1]
        if uid != os.getuid():
            return True  # the socket is root-only; refuse anyone else all the same
        if code_fingerprint() != fingerprint:
            _send(conn, "stale")  # asked first: new code may speak another wire format
            return False
        conn.settimeout(10)
        request, fds = recv_request(conn)
        conn.settimeout(None)
        if len(fds) != 3 or request.get("package") != str(PACKAGE_DIR):
            _send(conn, "stale")  # another checkout's client: it runs its own code
            return True
        pid = os.fork()
        if pid == 0:
            code = 1
            try:
                listener.close()
                _send(conn, f"pid {os.getpid()}")
                code = _run_child(conn, request, fds)
            finally:
                _send(conn, f"exit {code}")
                os._exit(code)
    except (OSError, ValueError, ConnectionError) as exc:
        print(f"fork server: bad request: {exc}", file=sys.stderr, flush=True)
    finally:
        for fd in fds:
            with contextlib.suppress(OSError):
                os.close(fd)
        conn.close()
    return True


def _reap() -> None:
    with contextlib.suppress(ChildProcessError):
        while os.waitpid(-1, os.WNOHANG)[0]:
            pass


if __name__ == "__main__":
    serve(Paths.from_env())
