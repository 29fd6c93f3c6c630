"""``/containers/{id}/exec`` and ``/exec/{id}/...``: one more process in a container.

An exec is made by a create (kept in memory, as dockerd keeps its own, and
freed as dockerd frees them: ``runtime.engineapi.execrecords``), run by a
start over a hijacked connection (frames without a TTY, raw bytes on a pty
with one), and inspected for its exit code afterwards.
"""

from __future__ import annotations

import contextlib
import os
import select
import socket
import threading
from typing import Any

from runtime.containers.attach import DEFAULT_DETACH_KEYS, EscapeWatch, parse_detach_keys
from runtime.engineapi.containers import open_runtime
from runtime.engineapi.execrecords import ExecRecords
from runtime.engineapi.http import Hijack, HTTPError, Reply, Request, Router
from runtime.engineapi.streams import frame

router = Router()

records = ExecRecords()


def _sweep(request: Request) -> None:
    from runtime.errors import ContainerNotFound

    retention = request.handler.server.paths.config.api_exec_retention  # type: ignore[attr-defined]
    with open_runtime(request) as rt:

        def exists(ctr_id: str) -> bool:
            try:
                return bool(rt.containers.get(ctr_id))
            except ContainerNotFound:
                return False

        records.sweep(retention, exists)


def _find(request: Request) -> dict[str, Any]:
    _sweep(request)
    return records.find(request.params["id"])


@router.route("POST", "/containers/{id}/exec")
def create(request: Request) -> Reply:
    body = request.json()
    cmd = body.get("Cmd")
    if not cmd:
        raise HTTPError(400, "No exec command specified")
    with open_runtime(request) as rt:
        c = rt.containers.get(request.params["id"])
        if not c.running:
            raise HTTPError(409, f"Container {c.id} is not running")
    detach_text = body.get("DetachKeys") or ""
    detach_keys = parse_detach_keys(detach_text or DEFAULT_DETACH_KEYS)
    exec_id = os.urandom(32).hex()
    _sweep(request)
    records.add(
        {
            "ID": exec_id,
            "ContainerID": c.id,
            "Running": False,
            "ExitCode": None,
            "Pid": 0,
            "OpenStdin": bool(body.get("AttachStdin")),
            "OpenStdout": bool(body.get("AttachStdout")),
            "OpenStderr": bool(body.get("AttachStderr")),
            "ProcessConfig": {
                "tty": bool(body.get("Tty")),
                "entrypoint": cmd[0],
                "arguments": cmd[1:],
                "privileged": bool(body.get("Privileged")),
                "user": body.get("User") or "",
            },
            "_cmd": list(cmd),
            "_env": list(body.get("Env") or []),
            "_workdir": body.get("WorkingDir") or "",
            "_master": None,
            "_detach_text": detach_text,
            "_detach_keys": detach_keys,
        }
    )
    return Reply(201, {"Id": exec_id})


@router.route("GET", "/exec/{id}/json")
def inspect(request: Request) -> dict:
    record = _find(request)
    answer = {k: v for k, v in record.items() if not k.startswith("_")}
    records.inspected(record)
    return answer | {"CanRemove": False, "DetachKeys": record["_detach_text"]}


@router.route("POST", "/exec/{id}/resize")
def resize(request: Request) -> Reply:
    import fcntl
    import struct
    import termios

    record = _find(request)
    master = record.get("_master")
    if master is not None:
        rows, cols = request.int_arg("h", 0) or 0, request.int_arg("w", 0) or 0
        with contextlib.suppress(OSError):
            fcntl.ioctl(master, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
    return Reply(201, b"", content_type="text/plain")


@router.route("POST", "/exec/{id}/start")
def start(request: Request) -> Any:
    record = _find(request)
    body = request.json()
    if record["Running"] or record["ExitCode"] is not None:
        raise HTTPError(409, f"exec {record['ID']} has already run")
    record["Running"] = True
    tty = bool(body.get("Tty", record["ProcessConfig"]["tty"]))
    options = {
        "user": record["ProcessConfig"]["user"],
        "workdir": record["_workdir"],
        "env": record["_env"],
        "privileged": record["ProcessConfig"]["privileged"],
    }

    def finish(code: int) -> None:
        record["ExitCode"], record["Running"] = code, False
        ExecRecords.ended(record)

    if body.get("Detach"):
        with open_runtime(request) as rt:
            try:
                finish(
                    rt.containers.exec(
                        record["ContainerID"], record["_cmd"], detach=True, **options
                    )
                )
            except BaseException:
                finish(126)
                raise
        return Reply(200, b"", content_type="text/plain")

    def run(client: socket.socket) -> None:
        with open_runtime(request) as rt:
            try:
                if tty:
                    _run_tty(rt, record, client, options, finish)
                else:
                    _run_piped(rt, record, client, options, finish)
            finally:
                if record["Running"]:
                    finish(126)
                with contextlib.suppress(OSError):
                    client.shutdown(socket.SHUT_RDWR)

    return Hijack(run)


def _run_piped(rt: Any, record: dict, client: socket.socket, options: dict, finish: Any) -> None:
    out_r, out_w = os.pipe()
    err_r, err_w = os.pipe()
    in_r, in_w = os.pipe() if record["OpenStdin"] else (os.open(os.devnull, os.O_RDONLY), None)
    result: dict[str, Any] = {}

    def execute() -> None:
        try:
            result["code"] = rt.containers.exec(
                record["ContainerID"],
                record["_cmd"],
                stdin=in_r,
                stdout=out_w,
                stderr=err_w,
                **options,
            )
        except Exception as exc:
            result["error"] = exc
        finally:
            for fd in (out_w, err_w, in_r):
                os.close(fd)

    worker = threading.Thread(target=execute, daemon=True)
    worker.start()
    if in_w is not None:
        threading.Thread(target=_pump_to_fd, args=(client, in_w), daemon=True).start()
    streams = {out_r: 1, err_r: 2}
    try:
        while streams:
            ready, _, _ = select.select(list(streams), [], [])
            for fd in ready:
                data = os.read(fd, 65536)
                if not data:
                    del streams[fd]
                    continue
                wanted = record["OpenStdout"] if streams[fd] == 1 else record["OpenStderr"]
                if wanted:
                    client.sendall(frame(streams[fd], data))
    finally:
        os.close(out_r)
        os.close(err_r)
        worker.join()
    if "error" in result:
        client.sendall(frame(2, f"{result['error']}\n".encode()))
        finish(getattr(result["error"], "exit_code", 126))
        return
    finish(result["code"])


def _run_tty(rt: Any, record: dict, client: socket.socket, options: dict, finish: Any) -> None:
    handle = rt.containers.exec_tty(record["ContainerID"], record["_cmd"], **options)
    master = handle.master
    record["_master"] = master
    attached = threading.Event()
    attached.set()
    if record["OpenStdin"]:
        threading.Thread(
            target=_pump_tty,
            args=(client, master, record["_detach_keys"], attached),
            daemon=True,
        ).start()
    try:
        while True:
            try:
                data = os.read(master, 65536)
            except OSError:  # EIO: the last holder of the pty's other side is gone
                break
            if not data:
                break
            if attached.is_set():  # once detached, the output is read and dropped
                try:
                    client.sendall(data)
                except OSError:
                    attached.clear()
    finally:
        record["_master"] = None
        finish(handle.wait())
        with contextlib.suppress(OSError):
            os.close(master)


def _pump_tty(
    client: socket.socket, master: int, detach_keys: bytes, attached: threading.Event
) -> None:
    """Typed bytes to the exec's terminal until the detach keys or the client's end
    of input: either ends this attach only (Docker's), the process runs on."""
    watch = EscapeWatch(detach_keys)
    try:
        while data := client.recv(65536):
            data, hit = watch.feed(data)
            if data:
                os.write(master, data)
            if hit:
                break
    except OSError:
        pass
    attached.clear()
    with contextlib.suppress(OSError):
        client.shutdown(socket.SHUT_RDWR)


def _pump_to_fd(client: socket.socket, fd: int) -> None:
    """The client's bytes to a piped exec's stdin; its end of input closes that stdin."""
    try:
        while data := client.recv(65536):
            os.write(fd, data)
    except OSError:
        return
    finally:
        with contextlib.suppress(OSError):
            os.close(fd)
