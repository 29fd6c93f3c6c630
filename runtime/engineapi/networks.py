"""``/networks/...`` and ``/volumes/...``: the network and volume managers the CLI uses."""

from __future__ import annotations

from runtime.engineapi.containers import open_runtime
from runtime.engineapi.http import Reply, Request, Router

router = Router()


@router.route("GET", "/networks")
def list_networks(request: Request) -> list[dict]:
    from runtime.cli.networks import _matches

    items = request.filters()
    with open_runtime(request) as rt:
        return [rt.networks.inspect(n.id) for n in rt.networks.list() if _matches(n, items)]


@router.route("GET", "/networks/{id}")
def inspect_network(request: Request) -> dict:
    with open_runtime(request) as rt:
        return rt.networks.inspect(request.params["id"])


@router.route("POST", "/networks/create")
def create_network(request: Request) -> Reply:
    body = request.json()
    config = ((body.get("IPAM") or {}).get("Config") or [{}])[0] or {}
    with open_runtime(request) as rt:
        net = rt.networks.create(
            body.get("Name") or "",
            driver=body.get("Driver") or "bridge",
            subnet=config.get("Subnet"),
            gateway=config.get("Gateway"),
            internal=bool(body.get("Internal")),
            labels=dict(body.get("Labels") or {}),
            options=dict(body.get("Options") or {}),
        )
    return Reply(201, {"Id": net.id, "Warning": ""})


@router.route("DELETE", "/networks/{id}")
def remove_network(request: Request) -> Reply:
    with open_runtime(request) as rt:
        rt.networks.remove(request.params["id"])
    return Reply(204)


@router.route("POST", "/networks/{id}/connect")
def connect(request: Request) -> Reply:
    body = request.json()
    endpoint = body.get("EndpointConfig") or {}
    with open_runtime(request) as rt:
        rt.networks.connect(
            request.params["id"],
            body.get("Container") or "",
            aliases=list(endpoint.get("Aliases") or []),
            ip=(endpoint.get("IPAMConfig") or {}).get("IPv4Address") or None,
        )
    return Reply(200, b"", content_type="text/plain")


@router.route("POST", "/networks/{id}/disconnect")
def disconnect(request: Request) -> Reply:
    body = request.json()
    with open_runtime(request) as rt:
        rt.networks.disconnect(
            request.params["id"], body.get("Container") or "", force=bool(body.get("Force"))
        )
    return Reply(200, b"", content_type="text/plain")


@router.route("POST", "/networks/prune")
def prune_networks(request: Request) -> dict:
    with open_runtime(request) as rt:
        return {"NetworksDeleted": rt.networks.prune() or []}


@router.route("GET", "/volumes")
def list_volumes(request: Request) -> dict:
    from runtime.cli.filters import InvalidFilter

    kwargs: dict = {}
    for item in request.filters():
        key, _, value = item.partition("=")
        if key == "dangling":
            kwargs["dangling"] = value.lower() in ("1", "true")
        elif key in ("label", "name"):
            kwargs[key] = value
        elif key != "driver":
            raise InvalidFilter(f"Invalid filter '{key}'")
    with open_runtime(request) as rt:
        return {"Volumes": [v.inspect() for v in rt.volumes.list(**kwargs)], "Warnings": []}


@router.route("POST", "/volumes/create")
def create_volume(request: Request) -> Reply:
    body = request.json()
    with open_runtime(request) as rt:
        vol = rt.volumes.create(
            body.get("Name") or None, dict(body.get("Labels") or {}), body.get("Driver") or "local"
        )
        return Reply(201, vol.inspect())


@router.route("GET", "/volumes/{name}")
def inspect_volume(request: Request) -> dict:
    with open_runtime(request) as rt:
        return rt.volumes.get(request.params["name"]).inspect()


@router.route("DELETE", "/volumes/{name}")
def remove_volume(request: Request) -> Reply:
    with open_runtime(request) as rt:
        rt.volumes.remove(request.params["name"], force=request.flag("force"))
    return Reply(204)
