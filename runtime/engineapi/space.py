"""``/system/df``, ``/containers/prune``, ``/volumes/prune``: what takes space, and freeing it.

The numbers are ``wharf system df``'s (``runtime.diskusage``) and the prunes
``wharf container prune``'s and ``wharf volume prune``'s, with their filters
(``runtime.prunefilter``: ``until``, ``label``, ``label!``). The df lists carry
the same objects as ``/containers/json``, ``/images/json`` and ``/volumes``,
sized, so ``docker system df -v`` can show them.
"""

from __future__ import annotations

from typing import Any

from runtime.engineapi.containers import open_runtime
from runtime.engineapi.http import Request, Router
from runtime.errors import InvalidArgument, NotFound

router = Router()


@router.route("GET", "/system/df")
def disk_usage(request: Request) -> dict[str, Any]:
    from runtime.diskusage import disk_usage
    from runtime.engineapi.containers import summary as container_summary
    from runtime.engineapi.images import summary as image_summary

    with open_runtime(request) as rt:
        du = disk_usage(rt)
        images, containers, volumes = [], [], []
        for i in du["Images"]:
            try:
                doc = image_summary(rt.images.inspect(i["Id"]))
            except NotFound:
                continue  # removed since it was counted
            images.append(
                doc
                | {k: i[k] for k in ("Size", "SharedSize", "Containers")}
                | {"VirtualSize": i["Size"]}
            )
        for sized in du["Containers"]:
            try:
                c = rt.containers.get(sized["Id"])
                doc = container_summary(rt, c, rt.containers.inspect(c.id))
            except NotFound:
                continue
            containers.append(doc | {"SizeRw": sized["SizeRw"], "SizeRootFs": sized["SizeRootFs"]})
        for v in du["Volumes"]:
            try:
                volumes.append(rt.volumes.get(v["Name"]).inspect() | {"UsageData": v["UsageData"]})
            except NotFound:
                continue
    return {
        "LayersSize": du["LayersSize"],
        "Images": images,
        "Containers": containers,
        "Volumes": volumes,
        "BuildCache": [],
    }


@router.route("POST", "/containers/prune")
def prune_containers(request: Request) -> dict[str, Any]:
    from runtime.prunefilter import parse_prune_filters

    filters = parse_prune_filters(request.filters())
    with open_runtime(request) as rt:
        report = rt.containers.prune(filters)
    return report | {"ContainersDeleted": report["ContainersDeleted"] or None}


@router.route("POST", "/volumes/prune")
def prune_volumes(request: Request) -> dict[str, Any]:
    """Unused volumes, named ones too: API 1.41 predates ``all`` (1.42), and dockerd
    reads an older client's prune as ``all=true``."""
    from runtime.prunefilter import parse_prune_filters

    items = request.filters()
    for item in items:
        if item.partition("=")[0] not in ("label", "label!", "all"):
            raise InvalidArgument(f"Invalid filter '{item.partition('=')[0]}'")
    filters = parse_prune_filters([i for i in items if not i.startswith("all=")])
    with open_runtime(request) as rt:
        report = rt.volumes.prune(all=True, filters=filters)
    return report | {"VolumesDeleted": report["VolumesDeleted"] or None}
