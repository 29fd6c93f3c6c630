"""Docker's legacy links (``--link NAME[:ALIAS]``) between containers on the default bridge.

A link gives the container a hosts line for the linked one (``IP\\tALIAS HOSTNAME
NAME``) and its environment: ``ALIAS_PORT_80_TCP=tcp://IP:80`` and the rest for
each exposed port, ``ALIAS_NAME=/me/alias`` and ``ALIAS_ENV_X`` for each of its
``Config.Env`` (HOME and PATH left out), as Docker 20.10's daemon
(daemon/links/links.go) writes them. A link is resolved to the linked
container's id at create (a missing one is refused then), and read again at each
start, which the linked container must be running for. On a user-defined
network there are no hosts lines or variables: the network's resolver answers
the alias, to the linking container only (``runtime.network.manager.resolve``),
as Docker's embedded DNS does; host and ``container:`` network modes refuse links.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from runtime.errors import Conflict, InvalidArgument, NotFound


@dataclass
class LinkSetup:
    """What a start adds for a container's links: hosts lines and environment."""

    hosts: str = ""
    env: list[str] | None = None


def parse_link(text: str) -> tuple[str, str]:
    """``NAME[:ALIAS]`` → (name, alias); the alias is the name when not given."""
    name, _, alias = text.partition(":")
    name = name.lstrip("/")
    if not name or (":" in text and not alias):
        raise InvalidArgument(f"invalid link format: {text!r}")
    return name, alias.lstrip("/") or name


def resolve(containers: Any, spec: Any) -> list[str]:
    """Check a new container's ``--link`` flags; return them as ``ID:ALIAS`` to record."""
    mode = spec.network or "bridge"
    if not spec.links:
        return []
    if mode == "host":
        raise InvalidArgument(
            "conflicting options: host type networking can't be used with links. "
            "This would result in undefined behavior"
        )
    if mode.startswith("container:"):
        raise InvalidArgument(
            "conflicting options: container type network can't be used with links. "
            "This would result in undefined behavior"
        )
    out = []
    for text in spec.links:
        name, alias = parse_link(text)
        try:
            child = containers.get(name)
        except NotFound as exc:
            raise InvalidArgument(f"could not get container for {name}: {exc}") from None
        if (child.spec.network or "bridge") == "host":
            raise InvalidArgument(
                "conflicting options: host type networking can't be used with links. "
                "This would result in undefined behavior"
            )
        out.append(f"{child.id}:{alias}")
    return out


def shown(containers: Any, c: Any) -> list[str] | None:
    """``HostConfig.Links`` as Docker's inspect shows them: ``/linked:/me/alias``."""
    out = []
    for entry in c.spec.links:
        child_id, _, alias = entry.partition(":")
        name = containers.names([child_id]).get(child_id)
        if name:
            out.append(f"/{name}:/{c.name}/{alias}")
    return out or None


def for_start(containers: Any, settings: Any, c: Any) -> LinkSetup:
    """The hosts lines and environment a starting container's links give it."""
    if not c.spec.links or (c.spec.network or "bridge") != "bridge":
        return LinkSetup()
    hosts, env = "", []
    for entry in c.spec.links:
        child_id, _, alias = entry.partition(":")
        child = containers.get(child_id)
        path = f"/{c.name}/{alias}"
        if child.status != "running":
            raise Conflict(f"Cannot link to a non running container: /{child.name} AS {path}")
        bridge = settings(child.id).get("Networks", {}).get("bridge") or {}
        ip = bridge.get("IPAddress") or ""
        if not ip:
            raise Conflict(f"container {child.id} not attached to default bridge network")
        names = f"{alias} {child.config['Hostname']}"
        if alias != child.name:
            names += f" {child.name}"
        hosts += f"{ip}\t{names}\n"
        env += link_env(path, ip, child.config.get("Env") or [], child.config.get("ExposedPorts"))
    return LinkSetup(hosts, env)


def link_env(path: str, ip: str, child_env: list[str], exposed: dict | None) -> list[str]:
    """The environment of one link, in Docker's order (its Link.ToEnv)."""
    alias = path.rsplit("/", 1)[-1].upper().replace("-", "_")
    ports = sorted(
        (_port(key) for key in exposed or {}),
        key=lambda p: (p[0], p[1] != "tcp"),
    )
    env = []
    if ports:
        env.append(f"{alias}_PORT={ports[0][1]}://{ip}:{ports[0][0]}")
    i = 0
    while i < len(ports):
        j = _next_contiguous(ports, i)
        if j > i + 1:
            (p, proto), (q, qproto) = ports[i], ports[j]
            key = f"{alias}_PORT_{p}_{proto.upper()}"
            env += [
                f"{key}_START={proto}://{ip}:{p}",
                f"{key}_ADDR={ip}",
                f"{key}_PROTO={proto}",
                f"{key}_PORT_START={p}",
            ]
            key_end = f"{alias}_PORT_{p}_{qproto.upper()}"
            env += [f"{key_end}_END={qproto}://{ip}:{q}", f"{key_end}_PORT_END={q}"]
            i = j + 1
        else:
            i += 1
    for p, proto in ports:
        key = f"{alias}_PORT_{p}_{proto.upper()}"
        env += [f"{key}={proto}://{ip}:{p}", f"{key}_ADDR={ip}", f"{key}_PORT={p}"]
        env.append(f"{key}_PROTO={proto}")
    env.append(f"{alias}_NAME={path}")
    for item in child_env:
        key, sep, value = item.partition("=")
        if sep and key not in ("HOME", "PATH"):
            env.append(f"{alias}_ENV_{key}={value}")
    return env


def _port(key: str) -> tuple[int, str]:
    port, _, proto = key.partition("/")
    return int(port), proto or "tcp"


def _next_contiguous(ports: list[tuple[int, str]], index: int) -> int:
    """Docker's nextContiguous: the last index of the run of consecutive ports from index."""
    if index + 1 == len(ports):
        return index
    value = ports[index][0]
    for i in range(index + 1, len(ports)):
        if ports[i][0] > value + 1:
            return i - 1
        value += 1
    return len(ports) - 1
