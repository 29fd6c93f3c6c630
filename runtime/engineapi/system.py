"""``/_ping``, ``/version``, ``/info``, ``/events``, ``/auth``: the daemon's own answers.

The shapes are the ``wharf`` CLI's (``version``, ``info --format``,
``events --format '{{json .}}'``), with the Engine API's version in them.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

from runtime.engineapi.containers import open_runtime
from runtime.engineapi.http import API_VERSION, MIN_API_VERSION, Reply, Request, Router
from runtime.errors import InvalidArgument

router = Router()


@router.route("GET", "/_ping")
def ping(request: Request) -> Reply:
    return Reply(
        200,
        b"OK",
        content_type="text/plain; charset=utf-8",
        headers={"Cache-Control": "no-cache, no-store, must-revalidate", "Pragma": "no-cache"},
    )


@router.route("GET", "/version")
def version(request: Request) -> dict:
    from runtime.cli.system import version_record

    server = version_record()["Server"]
    server["ApiVersion"], server["MinAPIVersion"] = API_VERSION, MIN_API_VERSION
    for component in server["Components"]:
        if component["Name"] == "Engine":
            component["Details"]["ApiVersion"] = API_VERSION
            component["Details"]["MinAPIVersion"] = MIN_API_VERSION
    return {"GitCommit": "", "GoVersion": "", "BuildTime": "", **server}


@router.route("GET", "/info")
def info(request: Request) -> dict:
    from runtime.cli.system import docker_info
    from runtime.hostinfo import gather

    paths = request.handler.server.paths  # type: ignore[attr-defined]
    out = docker_info(gather(paths), paths)
    out.update(
        Swarm={"LocalNodeState": "inactive", "NodeID": "", "NodeAddr": ""},
        Plugins={"Volume": ["local"], "Network": ["bridge", "host", "null"], "Log": ["json-file"]},
        SecurityOptions=["name=seccomp,profile=builtin"],
        RegistryConfig={"IndexConfigs": {}, "InsecureRegistryCIDRs": [], "Mirrors": []},
        IndexServerAddress="https://index.docker.io/v1/",
        Debug=False,
        ExperimentalBuild=False,
    )
    return out


@router.route("GET", "/events")
def events(request: Request) -> Reply:
    """Docker's event stream: JSON messages, one per line, until ``until`` or the client leaves."""
    import time

    from runtime import Runtime
    from runtime.events import EventFilter
    from runtime.timefmt import parse_point_in_time

    flt = EventFilter(request.filters())
    since_text, until_text = request.arg("since"), request.arg("until")
    since = parse_point_in_time(since_text) if since_text else None
    until = parse_point_in_time(until_text) if until_text else None
    paths = request.handler.server.paths  # type: ignore[attr-defined]

    def body() -> Iterator[bytes]:
        with Runtime(paths.root, paths.run) as rt:
            cursor = rt.events.last_id() if since is None and until is None else 0
            kw = {"filters": flt, "since_nano": since, "until_nano": until}
            if until is not None and until <= time.time_ns():
                stream = rt.events.replay(cursor, **kw)
            else:
                stream = rt.events.follow(cursor, stop=request.handler.gone, **kw)  # type: ignore[attr-defined]
            for event in stream:
                yield json.dumps(event.docker()).encode() + b"\n"

    return Reply(200, stream=body())


@router.route("POST", "/auth")
def auth(request: Request) -> dict:
    """``docker login``: check the credentials against the registry. The client keeps
    them (and sends them with each pull, push or build); the host stores nothing."""
    from runtime.engineapi.images import registry_host
    from runtime.images.registry import check_login

    body = request.json()
    if not isinstance(body, dict):
        raise InvalidArgument("the body must be a JSON object")
    username, password = body.get("username"), body.get("password")
    if not isinstance(username, str) or not username or not isinstance(password, str):
        raise InvalidArgument("a username and a password are required")
    host = registry_host(str(body.get("serveraddress") or ""))
    with open_runtime(request) as rt:
        check_login(rt.paths, host, username, password)
    return {"Status": "Login Succeeded", "IdentityToken": ""}
