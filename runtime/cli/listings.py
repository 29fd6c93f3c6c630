"""Docker's formatter contexts: what ``{{.Field}}`` means in each list verb's ``--format``.

Each ``*_row`` builds the ``Record`` Docker's template sees for one row (fields
sorted, as Docker's ``{{json .}}`` prints them; ``Label`` as a method; the Go
type named in "can't evaluate field" errors), each ``*_HEADERS`` the column
names ``table`` formats print, each ``*_TABLE`` the verb's default table.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from typing import Any

from runtime.cli.govalues import Record, go_quote

CONTAINER_TABLE = "table {{.ID}}\\t{{.Image}}\\t{{.Command}}\\t{{.RunningFor}}\\t{{.Status}}\\t{{.Ports}}\\t{{.Names}}"
CONTAINER_HEADERS = {
    "ID": "CONTAINER ID",
    "Names": "NAMES",
    "Image": "IMAGE",
    "Command": "COMMAND",
    "CreatedAt": "CREATED AT",
    "RunningFor": "CREATED",
    "Ports": "PORTS",
    "State": "STATE",
    "Status": "STATUS",
    "Size": "SIZE",
    "Labels": "LABELS",
    "Mounts": "MOUNTS",
    "LocalVolumes": "LOCAL VOLUMES",
    "Networks": "NETWORKS",
}

IMAGE_TABLE = "table {{.Repository}}\\t{{.Tag}}\\t{{.ID}}\\t{{.CreatedSince}}\\t{{.Size}}"
IMAGE_TABLE_DIGESTS = (
    "table {{.Repository}}\\t{{.Tag}}\\t{{.Digest}}\\t{{.ID}}\\t{{.CreatedSince}}\\t{{.Size}}"
)
IMAGE_HEADERS = {
    "ID": "IMAGE ID",
    "Repository": "REPOSITORY",
    "Tag": "TAG",
    "Digest": "DIGEST",
    "CreatedSince": "CREATED",
    "CreatedAt": "CREATED AT",
    "Size": "SIZE",
    "Containers": "CONTAINERS",
    "VirtualSize": "VIRTUAL SIZE",
    "SharedSize": "SHARED SIZE",
    "UniqueSize": "UNIQUE SIZE",
}

NETWORK_TABLE = "table {{.ID}}\\t{{.Name}}\\t{{.Driver}}\\t{{.Scope}}"
NETWORK_HEADERS = {
    "ID": "NETWORK ID",
    "Name": "NAME",
    "Driver": "DRIVER",
    "Scope": "SCOPE",
    "IPv6": "IPV6",
    "Internal": "INTERNAL",
    "Labels": "LABELS",
    "CreatedAt": "CREATED AT",
}

VOLUME_TABLE = "table {{.Driver}}\\t{{.Name}}"
VOLUME_HEADERS = {
    "Name": "VOLUME NAME",
    "Driver": "DRIVER",
    "Scope": "SCOPE",
    "Mountpoint": "MOUNTPOINT",
    "Labels": "LABELS",
    "Links": "LINKS",
    "Size": "SIZE",
}

HISTORY_TABLE = "table {{.ID}}\\t{{.CreatedSince}}\\t{{.CreatedBy}}\\t{{.Size}}\\t{{.Comment}}"
HISTORY_HEADERS = {
    "ID": "IMAGE",
    "CreatedSince": "CREATED",
    "CreatedAt": "CREATED AT",
    "CreatedBy": "CREATED BY",
    "Size": "SIZE",
    "Comment": "COMMENT",
}

STATS_TABLE = (
    "table {{.ID}}\\t{{.Name}}\\t{{.CPUPerc}}\\t{{.MemUsage}}\\t{{.MemPerc}}"
    "\\t{{.NetIO}}\\t{{.BlockIO}}\\t{{.PIDs}}"
)
STATS_HEADERS = {
    "Container": "CONTAINER",
    "ID": "CONTAINER ID",
    "Name": "NAME",
    "CPUPerc": "CPU %",
    "MemUsage": "MEM USAGE / LIMIT",
    "MemPerc": "MEM %",
    "NetIO": "NET I/O",
    "BlockIO": "BLOCK I/O",
    "PIDs": "PIDS",
}


def ellipsis(text: str, width: int) -> str:
    """Docker's ``stringutils.Ellipsis``: cut to ``width`` columns, the last one ``…``."""
    cols = [2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text]
    if sum(cols) <= width:
        return text
    out, used = [], 0
    for ch, w in zip(text, cols, strict=True):
        if used + w > width - 1:
            break
        out.append(ch)
        used += w
    return "".join(out) + "…"


def natural_key(name: str) -> list:
    """Docker's ``sortorder.NaturalLess``: ``net2`` before ``net10``."""
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", name)]


def go_time(rfc3339: str) -> str:
    """Go's ``time.Time.String`` in UTC (``2021-03-04 10:11:12 +0000 UTC``), as Docker prints CreatedAt."""
    try:
        when = dt.datetime.fromisoformat(rfc3339.replace("Z", "+00:00"))
    except ValueError:
        return rfc3339
    return when.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S +0000 UTC")


def _labels_text(labels: dict[str, str] | None) -> str:
    return ",".join(f"{k}={v}" for k, v in (labels or {}).items())


def _record(fields: dict[str, Any], go_type: str, labels: dict[str, str] | None) -> Record:
    return Record(
        sorted(fields.items()),
        go_type=go_type,
        methods={"Label": lambda name: (labels or {}).get(name, "")},
    )


def container_row(
    c: Any,
    *,
    trunc: bool,
    status: str,
    running_for: str,
    ports: str,
    inspected: dict,
    size: str = "0B",
) -> Record:
    """``docker ps``'s ``ContainerContext`` for one container."""
    labels = c.config.get("Labels") or {}
    argv = (c.config.get("Entrypoint") or []) + (c.config.get("Cmd") or [])
    # Docker's daemon joins the arguments, those with spaces in single quotes
    command = " ".join(argv[:1] + [f"'{a}'" if " " in a else a for a in argv[1:]])
    mounts = inspected.get("Mounts") or []
    names = []
    for m in mounts:
        name = m.get("Name") or m.get("Source") or ""
        names.append(ellipsis(name, 15) if trunc else name)
    networks = list((inspected.get("NetworkSettings") or {}).get("Networks") or {})
    image = c.image
    if trunc and image.startswith("sha256:"):
        image = image.removeprefix("sha256:")[:12]
    fields = {
        "Command": go_quote(ellipsis(command, 20) if trunc else command),
        "CreatedAt": go_time(c.created),
        "ID": c.short_id if trunc else c.id,
        "Image": image,
        "Labels": _labels_text(labels),
        "LocalVolumes": str(sum(1 for m in mounts if m.get("Driver") == "local")),
        "Mounts": ",".join(names),
        "Names": c.name,
        "Networks": ",".join(networks),
        "Ports": ports,
        "RunningFor": running_for,
        "Size": size,
        "State": c.status,
        "Status": status,
    }
    return _record(fields, "*formatter.ContainerContext", labels)


def image_row(
    img: Any, repo: str, tag: str, digest: str, *, trunc: bool, since: str, size: str
) -> Record:
    """``docker images``'s ``imageContext`` for one name of an image."""
    labels = (img.config.get("config") or {}).get("Labels") or {}
    fields = {
        "Containers": "N/A",
        "CreatedAt": go_time(img.created),
        "CreatedSince": since,
        "Digest": digest,
        "ID": img.short_id if trunc else img.id,
        "Repository": repo,
        "SharedSize": "N/A",
        "Size": size,
        "Tag": tag,
        "UniqueSize": "N/A",
        "VirtualSize": size,
    }
    return _record(fields, "*formatter.imageContext", labels)


def network_row(net: Any, *, trunc: bool) -> Record:
    """``docker network ls``'s ``networkContext`` for one network."""
    fields = {
        "CreatedAt": go_time(net.created),
        "Driver": net.driver,
        "ID": net.id[:12] if trunc else net.id,
        "IPv6": "false",
        "Internal": "true" if net.internal else "false",
        "Labels": _labels_text(net.labels),
        "Name": net.name,
        "Scope": "local",
    }
    return _record(fields, "*network.networkContext", net.labels)


def volume_row(vol: Any) -> Record:
    """``docker volume ls``'s ``volumeContext`` for one volume."""
    fields = {
        "Driver": vol.driver,
        "Labels": _labels_text(vol.labels),
        "Links": "N/A",
        "Mountpoint": str(vol.mountpoint),
        "Name": vol.name,
        "Scope": "local",
        "Size": "N/A",
    }
    return _record(fields, "*volume.volumeContext", vol.labels)


def plain_row(fields: dict[str, Any], go_type: str) -> Record:
    """A context with only fields (``history``, ``stats``)."""
    return Record(sorted(fields.items()), go_type=go_type)
