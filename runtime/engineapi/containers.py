"""``/containers/...``: list, create, inspect, start, stop, kill, wait, remove, logs, attach;
``/commit``.

Each route opens the root's ``Runtime`` and calls the same methods the
``wharf`` verbs call, so records, events, the bind-mount policy and limits
are the CLI's; the list's selection and status texts are ``wharf ps``'s.
"""

from __future__ import annotations

import contextlib
import json
import select
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

from runtime import Runtime
from runtime.containers.attach import DEFAULT_DETACH_KEYS, parse_detach_keys
from runtime.engineapi.http import Hijack, Reply, Request, Router
from runtime.engineapi.streams import frame, relay
from runtime.errors import Conflict, ContainerNotFound, InvalidArgument

router = Router()


class Pending:
    """Attach connections waiting for their container's start (``docker run`` attaches
    first, then starts): the start hands the shim one end, the attach relays the other."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._waiting: dict[str, list[tuple[socket.socket, threading.Event]]] = {}

    def add(self, ctr_id: str) -> tuple[socket.socket, socket.socket, threading.Event]:
        ours, theirs = socket.socketpair()
        started = threading.Event()
        with self._lock:
            self._waiting.setdefault(ctr_id, []).append((theirs, started))
        return ours, theirs, started

    def take(self, ctr_id: str) -> tuple[socket.socket, threading.Event] | None:
        with self._lock:
            waiting = self._waiting.get(ctr_id) or []
            item = waiting.pop(0) if waiting else None
            if not waiting:
                self._waiting.pop(ctr_id, None)
        return item

    def drop(self, ctr_id: str, theirs: socket.socket) -> None:
        with self._lock:
            waiting = self._waiting.get(ctr_id) or []
            self._waiting[ctr_id] = [w for w in waiting if w[0] is not theirs]


pending = Pending()


def open_runtime(request: Request) -> Runtime:
    return Runtime(request.handler.server.paths.root, request.handler.server.paths.run)  # type: ignore[attr-defined]


# --- shapes ---------------------------------------------------------------------------


def _ports_list(ports: dict | None) -> list[dict]:
    """NetworkSettings.Ports as the list's ``Ports`` (Docker's types.Port)."""
    out = []
    for key, bindings in (ports or {}).items():
        number, _, proto = key.partition("/")
        if not bindings:
            out.append({"PrivatePort": int(number), "Type": proto or "tcp"})
        for b in bindings or []:
            out.append(
                {
                    "IP": b.get("HostIp") or "0.0.0.0",  # noqa: S104 - Docker's text
                    "PrivatePort": int(number),
                    "PublicPort": int(b.get("HostPort") or 0),
                    "Type": proto or "tcp",
                }
            )
    return out


def summary(rt: Any, c: Any, doc: dict, size: bool = False) -> dict:
    """One container in ``GET /containers/json``'s shape, from its inspect document."""
    from runtime.cli.containers import _status_text
    from runtime.timefmt import rfc3339_ns

    argv = (c.config.get("Entrypoint") or []) + (c.config.get("Cmd") or [])
    command = " ".join(argv[:1] + [f"'{a}'" if " " in a else a for a in argv[1:]])
    settings = doc.get("NetworkSettings") or {}
    out = {
        "Id": c.id,
        "Names": ["/" + c.name],
        "Image": c.image,
        "ImageID": c.image_id,
        "Command": command,
        "Created": rfc3339_ns(c.created) // 10**9,
        "Ports": _ports_list(settings.get("Ports") if c.running else None),
        "Labels": c.config.get("Labels") or {},
        "State": c.status,
        "Status": _status_text(c, doc["State"].get("Health") if c.running else None),
        "HostConfig": {"NetworkMode": doc["HostConfig"].get("NetworkMode", "default")},
        "NetworkSettings": {"Networks": settings.get("Networks") or {}},
        "Mounts": doc.get("Mounts") or [],
    }
    if size:
        out["SizeRw"], out["SizeRootFs"] = rt.containers.size(c.id)
    return out


# --- routes ---------------------------------------------------------------------------


@router.route("GET", "/containers/json")
def list_containers(request: Request) -> list[dict]:
    from runtime.cli import filters
    from runtime.cli.containers import select_containers

    flt = filters.parse(request.filters(), filters.PS_KEYS)
    with open_runtime(request) as rt:
        items, inspected = select_containers(
            rt, flt, all_=request.flag("all"), limit=request.int_arg("limit", 0) or 0
        )
        return [summary(rt, c, inspected(c), request.flag("size")) for c in items]


@router.route("POST", "/containers/create")
def create(request: Request) -> Reply:
    from runtime.engineapi.create import extra_networks, spec_from_body

    body = request.json()
    spec = spec_from_body(body, request.arg("name") or "")
    with open_runtime(request) as rt:
        c = rt.containers.create(spec)
        try:
            for net, endpoint in extra_networks(body).items():
                rt.networks.connect(
                    net,
                    c.id,
                    aliases=list(endpoint.get("Aliases") or []),
                    ip=((endpoint.get("IPAMConfig") or {}).get("IPv4Address") or None),
                )
        except Exception:
            rt.containers.remove(c.id, force=True)
            raise
    return Reply(201, {"Id": c.id, "Warnings": []})


@router.route("GET", "/containers/{id}/json")
def inspect(request: Request) -> dict:
    with open_runtime(request) as rt:
        return rt.containers.inspect(request.params["id"], size=request.flag("size"))


@router.route("POST", "/containers/{id}/start")
def start(request: Request) -> Reply:
    with open_runtime(request) as rt:
        c = rt.containers.get(request.params["id"])
        if c.running:
            return Reply(304)
        waiting = pending.take(c.id)
        if waiting is None:
            rt.containers.start(c.id)
            return Reply(204)
        theirs, started = waiting
        try:
            rt.containers.start(c.id, attach_fd=theirs.fileno())
        finally:
            theirs.close()
            started.set()
    if c.spec.auto_remove:
        # the shim leaves --rm to the client it was started for, and here that is us
        threading.Thread(target=_remove_after_exit, args=(request, c.id), daemon=True).start()
    return Reply(204)


def _remove_after_exit(request: Request, ctr_id: str) -> None:
    with open_runtime(request) as rt, contextlib.suppress(ContainerNotFound):
        rt.containers.wait(ctr_id)
        rt.containers.remove(ctr_id, force=True)


@router.route("POST", "/containers/{id}/stop")
def stop(request: Request) -> Reply:
    with open_runtime(request) as rt:
        c = rt.containers.get(request.params["id"])
        if not c.running:
            return Reply(304)
        rt.containers.stop(c.id, request.int_arg("t"))
    return Reply(204)


@router.route("POST", "/containers/{id}/restart")
def restart(request: Request) -> Reply:
    with open_runtime(request) as rt:
        rt.containers.restart(request.params["id"], request.int_arg("t"))
    return Reply(204)


@router.route("POST", "/containers/{id}/kill")
def kill(request: Request) -> Reply:
    with open_runtime(request) as rt:
        c = rt.containers.get(request.params["id"])
        if not c.running:
            raise Conflict(f"Container {c.id} is not running")
        rt.containers.kill(c.id, request.arg("signal") or "KILL")
    return Reply(204)


@router.route("POST", "/containers/{id}/pause")
def pause(request: Request) -> Reply:
    with open_runtime(request) as rt:
        rt.containers.pause(request.params["id"])
    return Reply(204)


@router.route("POST", "/containers/{id}/unpause")
def unpause(request: Request) -> Reply:
    with open_runtime(request) as rt:
        rt.containers.unpause(request.params["id"])
    return Reply(204)


@router.route("POST", "/containers/{id}/rename")
def rename(request: Request) -> Reply:
    with open_runtime(request) as rt:
        rt.containers.rename(request.params["id"], request.arg("name") or "")
    return Reply(204)


@router.route("POST", "/containers/{id}/resize")
def resize(request: Request) -> Reply:
    with open_runtime(request) as rt:
        rt.containers.resize(
            request.params["id"], request.int_arg("h", 0) or 0, request.int_arg("w", 0) or 0
        )
    return Reply(200, b"", content_type="text/plain")


@router.route("DELETE", "/containers/{id}")
def remove(request: Request) -> Reply:
    with open_runtime(request) as rt:
        rt.containers.remove(
            request.params["id"], force=request.flag("force"), volumes=request.flag("v")
        )
    return Reply(204)


def _exit_code(rt: Any, ctr_id: str) -> int:
    """The last exit code: the record's, or its ``die`` event's once the record is gone."""
    try:
        return rt.containers.get(ctr_id).exit_code
    except ContainerNotFound:
        dies = list(rt.events.replay(filters=[f"container={ctr_id}", "event=die"]))
        return int(dies[-1].attributes.get("exitCode", 0)) if dies else 0


@router.route("POST", "/containers/{id}/wait")
def wait(request: Request) -> Reply:
    """Answer at once with the headers (the client waits for them before starting the
    container), then the exit code once the condition is met."""
    condition = request.arg("condition") or "not-running"
    if condition not in ("not-running", "next-exit", "removed"):
        raise InvalidArgument(f"invalid condition: {condition!r}")
    with open_runtime(request) as rt:
        c = rt.containers.get(request.params["id"])

    def body() -> Iterator[bytes]:
        with open_runtime(request) as rt:
            code = _wait(rt, c, condition)
        yield json.dumps({"StatusCode": code, "Error": None}).encode() + b"\n"

    return Reply(200, stream=body())


def _wait(rt: Any, first: Any, condition: str) -> int:
    current = first
    if condition == "next-exit":
        # the next exit: after a start newer than what the container was when asked
        while current.started_at == first.started_at and not current.running:
            time.sleep(0.02)
            try:
                current = rt.containers.get(first.id)
            except ContainerNotFound:
                return _exit_code(rt, first.id)
    with contextlib.suppress(ContainerNotFound):
        rt.containers.wait(first.id)
    if condition == "removed":
        # the code is read once the record is gone, from its last ``die`` event: a run
        # that starts, exits and is removed between two looks here is never seen
        # stopped, and the created state's code (0) is not the run's
        while True:
            try:
                c = rt.containers.get(first.id)
            except ContainerNotFound:
                break
            if c.running:
                with contextlib.suppress(ContainerNotFound):
                    rt.containers.wait(first.id)
            else:
                time.sleep(0.02)
    return _exit_code(rt, first.id)


@router.route("GET", "/containers/{id}/logs")
def logs(request: Request) -> Reply:
    from runtime.timefmt import ns_to_rfc3339, parse_point_in_time

    def point(name: str) -> str | None:
        text = request.arg(name)
        if not text or text == "0":
            return None
        return ns_to_rfc3339(parse_point_in_time(text))

    stdout, stderr = request.flag("stdout"), request.flag("stderr")
    if not (stdout or stderr):
        raise InvalidArgument("Bad parameters: you must choose at least one stream")
    tail_text = request.arg("tail") or "all"
    try:
        tail = None if tail_text == "all" else int(tail_text)
    except ValueError:
        tail = None  # Docker reads a bad tail as all
    since, until = point("since"), point("until")
    timestamps = request.flag("timestamps")
    rt = open_runtime(request)
    try:
        c = rt.containers.get(request.params["id"])
        records = rt.containers.logs(
            c.id, follow=request.flag("follow"), tail=tail, since=since, until=until
        )
    except BaseException:
        rt.close()
        raise

    def body() -> Iterator[bytes]:
        try:
            for rec in records:
                is_err = rec["stream"] == "stderr"
                if not (stderr if is_err else stdout):
                    continue
                text = rec["log"]
                if timestamps:
                    text = f"{rec['time']} {text}"
                data = text.encode()
                yield data if c.spec.tty else frame(2 if is_err else 1, data)
        finally:
            rt.close()

    return Reply(200, stream=body(), content_type="application/vnd.docker.raw-stream")


@router.route("POST", "/containers/{id}/attach")
def attach(request: Request) -> Hijack:
    """Relay the container's stdio over the hijacked connection; a container not yet
    started is relayed from its start (the attach comes first in ``docker run``)."""
    want_stdin = request.flag("stdin")
    stdout, stderr = request.flag("stdout"), request.flag("stderr")
    detach_keys = parse_detach_keys(request.arg("detachKeys") or DEFAULT_DETACH_KEYS)
    with open_runtime(request) as rt:
        c = rt.containers.get(request.params["id"])
        if c.running:
            shim = rt.containers.attach_socket(c.id)
            waiting = None
        else:
            shim, theirs, started = pending.add(c.id)
            waiting = (theirs, started)

    def run(client: socket.socket) -> None:
        if waiting is not None:
            theirs, started = waiting
            # the start hands the shim our socket's other end; a client that leaves first
            # gives it back
            while not started.wait(0.5):
                if _gone(client):
                    pending.drop(c.id, theirs)
                    theirs.close()
                    shim.close()
                    return
        relay(
            client,
            shim,
            tty=c.spec.tty,
            stdin=want_stdin and c.spec.stdin_open,
            stdout=stdout,
            stderr=stderr,
            detach_keys=detach_keys,
        )

    return Hijack(run)


def _gone(client: socket.socket) -> bool:
    """True when the client closed its connection both ways.

    ``docker run`` without ``-i`` half-closes its side (CloseWrite) as soon as it is
    attached, so an end of input is not a departure: only the hang-up (both
    directions shut, which a unix socket reports as POLLHUP) is. Taking the half-close
    for a departure lost a slow start's whole output."""
    poller = select.poll()
    poller.register(client, select.POLLIN | select.POLLRDHUP)
    return any(events & (select.POLLHUP | select.POLLERR) for _, events in poller.poll(0))


@router.route("POST", "/commit")
def commit(request: Request) -> Reply:
    """``docker commit``: a new image of the container's changes, as ``wharf commit``
    makes it (``changes`` are Dockerfile instructions, one per parameter or line)."""
    repo, tag = request.arg("repo") or "", request.arg("tag") or ""
    if tag and not repo:
        raise InvalidArgument("a tag needs a repository")
    changes = [
        line for value in request.query.get("changes", []) for line in value.splitlines() if line
    ]
    with open_runtime(request) as rt:
        c = rt.containers.get(request.arg("container") or "")
        image = rt.containers.commit(
            c.id,
            f"{repo}:{tag}" if tag else repo,
            message=request.arg("comment") or "",
            author=request.arg("author") or "",
            changes=changes,
            pause=request.flag("pause", True),
        )
    return Reply(201, {"Id": image.id})
