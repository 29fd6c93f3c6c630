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
