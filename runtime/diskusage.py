"""What Wharf's objects take on disk, in the shape of Docker's ``GET /system/df``.

``system df`` shows it; an image layer shared by several images counts once,
and what could be freed is what no container uses: images no container was
made from, the writable layers of containers that are not running, volumes no
container mounts.
"""

from __future__ import annotations

from typing import Any

from runtime.timefmt import rfc3339_ns


def disk_usage(rt: Any) -> dict[str, Any]:
    """Return Docker's disk-usage report: LayersSize, Images, Containers, Volumes, BuildCache."""
    layers = rt.images.layer_usage()
    containers = rt.containers.list(all=True)
    users: dict[str, int] = {}
    for c in containers:
        users[c.image_id] = users.get(c.image_id, 0) + 1
    counts: dict[str, int] = {}
    for chains in layers.values():
        for chain in chains:
            counts[chain] = counts.get(chain, 0) + 1
    sizes = {chain: size for chains in layers.values() for chain, size in chains.items()}
    images = []
    for img in rt.images.list():
        own = layers.get(img.id, {})
        images.append(
            {
                "Id": img.id,
                "RepoTags": img.repo_tags,
                "Created": rfc3339_ns(img.created) // 10**9,
                "Size": img.size,
                "SharedSize": sum(size for chain, size in own.items() if counts[chain] > 1),
                "Containers": users.get(img.id, 0),
            }
        )
    used_layers = {chain for image_id in users for chain in layers.get(image_id, {})}
    ctrs = []
    for c in containers:
        rw, rootfs = rt.containers.size(c.id)
        ctrs.append(
            {"Id": c.id, "Names": [c.name], "State": c.status, "SizeRw": rw, "SizeRootFs": rootfs}
        )
    used_volumes = {v.name for v in rt.volumes.list(dangling=False)}
    volumes = [
        {
            "Name": v.name,
            "UsageData": {"Size": rt.volumes.size(v.name), "RefCount": int(v.name in used_volumes)},
        }
        for v in rt.volumes.list()
    ]
    return {
        "LayersSize": sum(sizes.values()),
        "UsedLayersSize": sum(sizes[chain] for chain in used_layers),
        "Images": images,
        "Containers": ctrs,
        "Volumes": volumes,
        "BuildCache": [],
    }
