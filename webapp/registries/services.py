"""Check, then do: registries a team adds, changes and removes; the one reader of credentials.

Credentials go in sealed (``crypto``) and come out in one place only,
``credentials_for_job``: the host API's answer to a host that has just
claimed a push job of its own.
"""

from __future__ import annotations

from django.db import IntegrityError, transaction

from webapp.accounts.models import Team
from webapp.errors import Forbidden, Invalid
from webapp.jobs import grammar
from webapp.permissions import RUN, is_fleet_admin, permits
from webapp.registries.models import Registry

#: what ``team`` is when a request leaves it out: the requester's first team that may run jobs
DEFAULT = object()


def check_host(host: str) -> str:
    """``host[:port]`` as image references name registries (``registry.example.com:5000``)."""
    try:
        grammar.registry_host(host)
    except ValueError as exc:
        raise Invalid(str(exc), field="host") from None
    return host


def _owner(user: object, team: object) -> Team | None:
    if team is DEFAULT:
        team = Team.objects.for_user(user, RUN).order_by("name").first()
        if team is None:
            raise Forbidden("you are in no team that may add registries (viewers may only watch)")
        return team
    if team is None and not is_fleet_admin(user):
        raise Invalid("only fleet admins add fleet-wide registries: name your team", field="team")
    return team


def check_change(user: object, registry: Registry) -> None:
    """A team's owners and members change its registries; fleet admins change fleet-wide ones."""
    if not permits(user, registry, RUN):
        whose = (
            "fleet-wide registries are the fleet admins'"
            if registry.fleet_wide
            else (f"your role in team {registry.team} may not change its registries")
        )
        raise Forbidden(f"you may not change registry {registry.name!r}: {whose}")


def save_registry(
    user: object,
    registry: Registry | None,
    *,
    team: object = DEFAULT,
    name: str | None = None,
    host: str | None = None,
    username: str | None = None,
    password: str | None = None,
) -> Registry:
    """Add a registry (REGISTRY None) or change one; credentials replace the old ones.

    A username or password left out keeps what was stored.
    """
    if registry is None:
        registry = Registry(team=_owner(user, team))
    else:
        check_change(user, registry)
        if team is not DEFAULT and team != registry.team:
            raise Invalid("a registry stays with its team: add it anew to another", field="team")
    if name is not None:
        registry.name = name
    if host is not None:
        moved = registry.pk is not None and check_host(host) != registry.host
        registry.host = check_host(host)
        if moved and username is None and password is None:
            # credentials were given for the old host: never hand them to a new one
            registry.set_credentials("", "")
    if username is not None or password is not None:
        old_user, old_password = registry.open_credentials() or ("", "")
        registry.set_credentials(
            old_user if username is None else username,
            old_password if password is None else password,
        )
    taken = Registry.objects.filter(team=registry.team, name=registry.name).exclude(pk=registry.pk)
    if taken.exists():
        raise Invalid(f"there is a registry named {registry.name!r} already", field="name")
    try:
        with transaction.atomic():
            registry.save()
    except IntegrityError:  # a twin request won the race
        raise Invalid(
            f"there is a registry named {registry.name!r} already", field="name"
        ) from None
    return registry


def remove_registry(user: object, registry: Registry) -> None:
    check_change(user, registry)
    registry.delete()


def registry_for(team: Team, host: str) -> Registry | None:
    """The registry whose credentials a push of TEAM to HOST uses: its own, else fleet-wide."""
    return Registry.objects.usable_by(team).filter(host=host).first()


def credentials_for_job(job: object) -> dict | None:
    """The credentials a claimed push job carries to its host, opened now and only here."""
    registry_id = (job.params or {}).get("registry")
    if not registry_id:
        return None
    registry = Registry.objects.usable_by(job.team).filter(pk=registry_id).first()
    if registry is None or not _pushes_to(job.params.get("target", ""), registry.host):
        return None  # credentials go to the registry they were given for, nowhere else
    opened = registry.open_credentials()
    if opened is None:
        return None
    return {"username": opened[0], "password": opened[1]}


def _pushes_to(target: str, host: str) -> bool:
    """Whether a push of TARGET goes to the registry at HOST (Docker Hub by any of its names)."""
    from webapp.inventory.operations import HUB_HOSTS
    from webapp.jobs import grammar

    domain = grammar.reference_registry(target) or "docker.io"
    if domain in HUB_HOSTS:
        return host in HUB_HOSTS
    return domain == host
