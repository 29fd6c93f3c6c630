"""``/images/...``: list, inspect, tag, remove, pull, push, history, in the shapes of the
``wharf`` image verbs, each calling the same ``rt.images`` method."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import IO, Any

from runtime.engineapi.containers import open_runtime
from runtime.engineapi.http import Reply, Request, Router

router = Router()


def summary(doc: dict, all_tags: bool = True) -> dict[str, Any]:
    """One image in ``GET /images/json``'s shape, from its inspect document."""
    from runtime.timefmt import rfc3339_ns

    return {
        "Id": doc["Id"],
        "ParentId": doc.get("Parent") or "",
        "RepoTags": doc.get("RepoTags") or [],
        "RepoDigests": doc.get("RepoDigests") or [],
        "Created": rfc3339_ns(doc["Created"]) // 10**9,
        "Size": doc.get("Size", 0),
        "VirtualSize": doc.get("Size", 0),
        "SharedSize": -1,
        "Labels": (doc.get("Config") or {}).get("Labels") or {},
        "Containers": -1,
    }


@router.route("GET", "/images/json")
def list_images(request: Request) -> list[dict]:
    from runtime.cli import filters

    flt = filters.parse(request.filters(), filters.IMAGE_KEYS)
    dangling = flt.get("dangling")
    with open_runtime(request) as rt:
        images = rt.images.list(
            all=request.flag("all"),
            dangling=None if not dangling else dangling[-1].lower() in ("1", "true"),
            reference=(flt.get("reference") or [None])[-1],
        )
        return [summary(rt.images.inspect(img.id)) for img in images]


@router.route("GET", "/images/{name:path}/json")
def inspect(request: Request) -> dict:
    with open_runtime(request) as rt:
        return rt.images.inspect(request.params["name"])


@router.route("POST", "/images/{name:path}/tag")
def tag(request: Request) -> Reply:
    repo, tag_ = request.arg("repo") or "", request.arg("tag") or ""
    with open_runtime(request) as rt:
        rt.images.tag(request.params["name"], f"{repo}:{tag_}" if tag_ else repo)
    return Reply(201, b"", content_type="text/plain")


@router.route("DELETE", "/images/{name:path}")
def remove(request: Request) -> list[dict]:
    with open_runtime(request) as rt:
        return rt.images.remove(
            request.params["name"],
            force=request.flag("force"),
            prune_parents=not request.flag("noprune"),
        )


def _decode_header(request: Request, name: str) -> Any:
    """A base64url JSON header (``X-Registry-Auth``, ``X-Registry-Config``); None if absent or
    unreadable (dockerd then goes on without credentials)."""
    import base64
    import json

    header = request.headers.get(name)
    if not header:
        return None
    try:
        return json.loads(base64.urlsafe_b64decode(header + "=" * (-len(header) % 4)))
    except ValueError:
        return None


def _pair(data: Any) -> tuple[str, str] | None:
    if not isinstance(data, dict) or not data.get("username"):
        return None
    return str(data["username"]), str(data.get("password") or "")


def _credentials(request: Request) -> tuple[str, str] | None:
    """``X-Registry-Auth``: username and password (docker login's) for one pull or push."""
    return _pair(_decode_header(request, "X-Registry-Auth"))


def registry_credentials(request: Request) -> Callable[[str], tuple[str, str] | None]:
    """``X-Registry-Config`` (a build's): every registry's credentials, by its host as the
    client's config names it (``127.0.0.1:5000``, ``https://index.docker.io/v1/``)."""
    data = _decode_header(request, "X-Registry-Config")
    by_host: dict[str, tuple[str, str]] = {}
    for key, value in (data or {}).items() if isinstance(data, dict) else ():
        pair = _pair(value)
        if pair is not None:
            by_host[registry_host(str(key))] = pair
    return by_host.get


def registry_host(address: str) -> str:
    """A registry's host as a docker client names it (``127.0.0.1:5000``,
    ``https://index.docker.io/v1/``, nothing for Docker Hub) in Wharf's terms."""
    from runtime.images.reference import DEFAULT_DOMAIN

    host = address.removeprefix("https://").removeprefix("http://").split("/")[0]
    if host in ("", "index.docker.io", "registry-1.docker.io"):
        return DEFAULT_DOMAIN
    return host


#: the statuses whose byte counts Docker sends; a finished step has an empty progressDetail,
#: which is what the CLI prints when its output is not a terminal
_IN_FLIGHT = ("Downloading", "Extracting", "Pushing")


def _progress_message(p: Any) -> dict[str, Any]:
    """A runtime ``Progress`` as Docker's JSON message (``jsonmessage.JSONMessage``)."""
    message: dict[str, Any] = {"status": p.status}
    if p.id:
        message["id"] = p.id
        detail = p.total and p.status in _IN_FLIGHT
        message["progressDetail"] = {"current": p.current, "total": p.total} if detail else {}
    return message


def json_stream(work: Callable[[Callable[[dict], None]], None]) -> Reply:
    """Run ``work(emit)`` in a thread and answer its messages as Docker's JSON stream.

    As dockerd: a failure before the first message is the reply's own status and
    ``{"message"}`` (nothing was flushed yet); a later one ends the stream with an
    ``errorDetail`` message, which the CLI prints before exiting 1.
    """
    import json
    import queue
    import threading

    from runtime.engineapi.http import message_of

    items: queue.Queue = queue.Queue()

    def run() -> None:
        try:
            work(lambda message: items.put(("message", message)))
        except Exception as exc:
            items.put(("error", exc))
        else:
            items.put(("end", None))

    threading.Thread(target=run, daemon=True, name="engineapi-stream").start()
    first = items.get()
    if first[0] == "error":
        raise first[1]

    def body() -> Iterator[bytes]:
        kind, value = first
        while kind == "message":
            yield json.dumps(value).encode() + b"\r\n"
            kind, value = items.get()
        if kind == "error":
            text = message_of(value)
            yield json.dumps({"errorDetail": {"message": text}, "error": text}).encode() + b"\r\n"

    return Reply(200, stream=body())


@router.route("POST", "/images/create")
def pull(request: Request) -> Reply:
    """Pull with Docker's JSON progress messages."""
    from runtime.engineapi.http import HTTPError

    name = request.arg("fromImage")
    if not name:
        raise HTTPError(400, "import from a source (fromSrc) is not supported; give fromImage")
    tag_ = request.arg("tag") or ""
    ref = f"{name}@{tag_}" if tag_.startswith("sha256:") else f"{name}:{tag_}" if tag_ else name
    credentials = _credentials(request)

    def work(emit: Callable[[dict], None]) -> None:
        with open_runtime(request) as rt:
            rt.images.pull(
                ref, progress=lambda p: emit(_progress_message(p)), credentials=credentials
            )

    return json_stream(work)


_PUSHED = re.compile(r"^(?P<tag>\S+): digest: (?P<digest>sha256:[0-9a-f]{64}) size: (?P<size>\d+)$")


@router.route("POST", "/images/{name:path}/push")
def push(request: Request) -> Reply:
    """Push ``name:tag`` (no tag: every tag of the repository, as ``push --all-tags``), with
    Docker's progress and, per tag, the ``aux`` record of its digest and size."""
    from runtime.errors import ImageNotFound
    from runtime.images.reference import parse_reference

    name, tag_ = request.params["name"], request.arg("tag") or ""
    credentials = _credentials(request)

    def work(emit: Callable[[dict], None]) -> None:
        with open_runtime(request) as rt:
            if tag_:
                refs = [f"{name}@{tag_}" if tag_.startswith("sha256:") else f"{name}:{tag_}"]
            else:
                repo = parse_reference(name).name
                refs = sorted(
                    t
                    for img in rt.images.list()
                    for t in img.repo_tags
                    if parse_reference(t).name == repo
                )
                if not refs:
                    raise ImageNotFound(f"An image does not exist locally with the tag: {name}")
            for ref in refs:
                rt.images.get(ref)  # a missing tag is the reply's 404, before any message

            def progress(p: Any) -> None:
                emit(_progress_message(p))
                done = _PUSHED.match(p.status) if not p.id else None
                if done:
                    aux = {
                        "Tag": done["tag"],
                        "Digest": done["digest"],
                        "Size": int(done["size"]),
                    }
                    emit({"progressDetail": {}, "aux": aux})

            for ref in refs:
                rt.images.push(ref, progress=progress, credentials=credentials)

    return json_stream(work)


@router.route("GET", "/images/{name:path}/history")
def history(request: Request) -> list[dict]:
    """``docker history``: the store's entries, newest first, with Unix-second times."""
    from runtime.timefmt import rfc3339_ns

    with open_runtime(request) as rt:
        entries = rt.images.history(request.params["name"])
    return [
        {**e, "Created": rfc3339_ns(e["Created"]) // 10**9 if e["Created"] else 0} for e in entries
    ]


# --- save, load, prune ----------------------------------------------------------------


def _save(request: Request, names: list[str]) -> Reply:
    """``docker save``: ``wharf save``'s tar, streamed; a missing image is a 404 first."""
    from runtime.engineapi.archive import tar_reply
    from runtime.engineapi.http import HTTPError

    if not names:
        raise HTTPError(400, "no images to save: give names=")
    with open_runtime(request) as rt:
        for name in names:
            rt.images.get(name)

    def write(out: IO[bytes]) -> None:
        with open_runtime(request) as rt:
            rt.images.save(names, out)

    return tar_reply(write)


@router.route("GET", "/images/get")
def save_many(request: Request) -> Reply:
    return _save(request, request.query.get("names") or [])


@router.route("GET", "/images/{name:path}/get")
def save_one(request: Request) -> Reply:
    return _save(request, [request.params["name"]])


@router.route("POST", "/images/load")
def load(request: Request) -> Reply:
    """``docker load``: the body (a docker-save or OCI archive, maybe compressed) read as it
    arrives into ``rt.images.load``; ``Loaded image: …`` lines as ``stream`` messages, the
    layers' progress too unless ``quiet``."""

    quiet = request.flag("quiet")

    def work(emit: Callable[[dict], None]) -> None:
        def progress(p: Any) -> None:
            if not p.id:
                emit({"stream": p.status + "\n"})
            elif not quiet:
                emit(_progress_message(p))

        source = request.body_file()
        with open_runtime(request) as rt:
            rt.images.load(source, progress=progress)

    return json_stream(work)


@router.route("POST", "/images/prune")
def prune(request: Request) -> dict:
    """``docker image prune``: ``dangling=false`` (``-a``) takes every unused image;
    ``until`` and ``label`` are the prunes' own filter (``runtime.prunefilter``)."""
    from runtime.engineapi.http import HTTPError
    from runtime.prunefilter import parse_prune_filters

    items = request.filters()
    dangling = [i.partition("=")[2] for i in items if i.partition("=")[0] == "dangling"]
    all_ = False
    for value in dangling:
        if value.lower() not in ("true", "1", "false", "0"):
            raise HTTPError(400, f"invalid filter 'dangling={value}'")
        all_ = value.lower() in ("false", "0")
    filters = parse_prune_filters([i for i in items if i.partition("=")[0] != "dangling"])
    with open_runtime(request) as rt:
        report = rt.images.prune(all=all_, filters=filters)
    return {
        "ImagesDeleted": report["ImagesDeleted"] or None,
        "SpaceReclaimed": report["SpaceReclaimed"],
    }
