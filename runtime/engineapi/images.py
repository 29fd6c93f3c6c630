"""``/images/...``: list, inspect, tag, remove, in the shapes of ``wharf images``/``inspect``."""

from __future__ import annotations

from typing import Any

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


def _credentials(request: Request) -> tuple[str, str] | None:
    """``X-Registry-Auth``: base64url JSON with username and password (docker login's)."""
    import base64
    import json

    header = request.headers.get("X-Registry-Auth")
    if not header:
        return None
    try:
        data = json.loads(base64.urlsafe_b64decode(header + "=" * (-len(header) % 4)))
    except ValueError:
        return None
    if not isinstance(data, dict) or not data.get("username"):
        return None
    return data["username"], data.get("password") or ""


@router.route("POST", "/images/create")
def pull(request: Request) -> Reply:
    """Pull with Docker's JSON progress messages; a failure ends the stream with an error
    message (the status is sent before the pull starts, as dockerd's)."""
    import json
    import queue
    import threading

    from runtime.engineapi.http import HTTPError, message_of

    name = request.arg("fromImage")
    if not name:
        raise HTTPError(400, "import from a source (fromSrc) is not supported; give fromImage")
    tag_ = request.arg("tag") or ""
    ref = f"{name}@{tag_}" if tag_.startswith("sha256:") else f"{name}:{tag_}" if tag_ else name
    credentials = _credentials(request)
    messages: queue.Queue = queue.Queue()

    def progress(p: Any) -> None:
        message: dict[str, Any] = {"status": p.status}
        if p.id:
            message["id"] = p.id
        if p.total:
            message["progressDetail"] = {"current": p.current, "total": p.total}
        messages.put(message)

    def work() -> None:
        try:
            with open_runtime(request) as rt:
                rt.images.pull(ref, progress=progress, credentials=credentials)
            messages.put({"status": f"Status: Image is up to date for {ref}"})
        except Exception as exc:
            text = message_of(exc)
            messages.put({"errorDetail": {"message": text}, "error": text})
        messages.put(None)

    threading.Thread(target=work, daemon=True).start()

    def body() -> Any:
        while (message := messages.get()) is not None:
            yield json.dumps(message).encode() + b"\r\n"

    return Reply(200, stream=body())
